//! Snapshots of the text, dot, mermaid and json exports of a small hand-made program.

use crate::nfa::{fmt_duration, to_dot, to_json, to_mermaid, to_text};
use crate::plan::*;
use nudge_grammar::ast::{BinOp, FieldType, UnOp};

fn schema(names: &[&str], all: &[&str]) -> Vec<SchemaField> {
    names
        .iter()
        .map(|n| SchemaField {
            name: n.to_string(),
            id: FieldId(all.iter().position(|f| f == n).unwrap() as u32),
            ty: FieldType::String,
        })
        .collect()
}

fn step(types: &[u32], min: u32, max: Option<u32>, binding: Option<u32>) -> StepPlan {
    StepPlan {
        types: types.iter().map(|&t| TypeId(t)).collect(),
        min,
        max,
        strict: false,
        binding: binding.map(BindingId),
        cond: None,
        within_ms: None,
        reads: Projection::default(),
    }
}

fn bind(name: &str, step: u32, group: bool) -> BindingPlan {
    BindingPlan {
        name: name.into(),
        step: StepId(step),
        group,
    }
}

fn bin(op: BinOp, l: Expr, r: Expr) -> Expr {
    Expr::Binary(op, Box::new(l), Box::new(r))
}

fn base(name: &str) -> PatternPlan {
    PatternPlan {
        name: name.into(),
        place: 0,
        key: FieldId(0),
        steps: vec![],
        guards: vec![],
        trailing: None,
        window_ms: None,
        cooldown_ms: None,
        keep_all: false,
        bindings: vec![],
        emit: EmitPlan {
            into: None,
            fields: vec![],
        },
        states: vec![],
        types: vec![],
    }
}

/// VIEW = 0, ADD_TO_CART = 1, PURCHASE = 2, "add-to-cart" = 3.
fn program() -> Plan {
    let all = [
        "user_id",
        "product_id",
        "price",
        "category",
        "total",
        "product-id",
    ];
    let mut plan = super::plan();
    plan.fields = all.iter().map(|f| f.to_string()).collect();
    let event = |name: &str, fields: &[&str]| EventPlan {
        name: name.into(),
        fields: schema(fields, &all),
        slot_of: all
            .iter()
            .map(|f| fields.iter().position(|g| g == f).map(|s| s as u32))
            .collect(),
    };
    plan.events = vec![
        event("VIEW", &["user_id", "product_id", "price", "category"]),
        event("ADD_TO_CART", &["user_id", "product_id", "price"]),
        event("PURCHASE", &["user_id", "total"]),
        event("add-to-cart", &["user_id", "product-id"]),
    ];
    plan.tables = vec![TablePlan {
        name: "products".into(),
        path: "data/products.csv".into(),
        columns: vec![
            ("product_id".into(), "string".into()),
            ("name".into(), "string".into()),
        ],
        key: 0,
    }];

    // when ADD_TO_CART as cart then not PURCHASE within 15m cooldown 24h
    let mut cart = base("cart_abandonment");
    cart.steps = vec![step(&[1], 1, Some(1), Some(0))];
    cart.bindings = vec![bind("cart", 0, false)];
    cart.guards = vec![GuardPlan {
        types: vec![TypeId(2)],
        cond: None,
        before: StepId(1),
    }];
    cart.trailing = Some(TrailingPlan {
        within_ms: Some(900_000),
    });
    cart.cooldown_ms = Some(86_400_000);
    let cart_field = |f| Expr::BoundField(BindingId(0), FieldId(f));
    cart.emit.fields = vec![
        ("user_id".into(), cart_field(0)),
        ("product_id".into(), cart_field(1)),
        (
            "name".into(),
            Expr::Member(
                Box::new(Expr::TableRow(TableId(0), Box::new(cart_field(1)))),
                "name".into(),
            ),
        ),
        ("offer".into(), Expr::Const(Const::Str("COMEBACK10".into()))),
    ];

    // when VIEW{3,} as views where category == "shoes" then not PURCHASE where total > 0
    // then next (ADD_TO_CART or "add-to-cart") as cart where product_id in views.product_id
    // within 10m window 1h30m after match keep all
    let mut browse = base("shoes_then_cart");
    let mut views = step(&[0], 3, None, Some(0));
    views.cond = Some(bin(
        BinOp::Eq,
        Expr::Field(FieldId(3)),
        Expr::Const(Const::Str("sho\"es".into())),
    ));
    let mut add = step(&[1, 3], 1, Some(1), Some(1));
    add.strict = true;
    add.within_ms = Some(600_000);
    add.cond = Some(bin(
        BinOp::In,
        Expr::Field(FieldId(1)),
        Expr::GroupField(BindingId(0), FieldId(1)),
    ));
    browse.steps = vec![views, add];
    browse.bindings = vec![bind("views", 0, true), bind("cart", 1, false)];
    browse.guards = vec![GuardPlan {
        types: vec![TypeId(2)],
        cond: Some(bin(
            BinOp::Gt,
            Expr::Field(FieldId(4)),
            Expr::Const(Const::Int(0)),
        )),
        before: StepId(1),
    }];
    browse.window_ms = Some(5_400_000);
    browse.keep_all = true;
    browse.emit.into = Some("offers".into());
    browse.emit.fields = vec![
        (
            "seen".into(),
            Expr::Call(Func::Count, vec![Expr::Bound(BindingId(0))]),
        ),
        (
            "score".into(),
            bin(
                BinOp::Mul,
                bin(
                    BinOp::Add,
                    Expr::Unary(UnOp::Neg, Box::new(Expr::Field(FieldId(2)))),
                    Expr::Const(Const::Float(1.0)),
                ),
                Expr::Const(Const::Int(2)),
            ),
        ),
        (
            "ok".into(),
            Expr::Unary(
                UnOp::Not,
                Box::new(bin(BinOp::Or, Expr::Key, Expr::Pseudo(Pseudo::Ts))),
            ),
        ),
    ];

    // when VIEW as v then ADD_TO_CART? (the optional step can never match)
    let mut lonely = base("lonely_optional");
    lonely.steps = vec![
        step(&[0], 1, Some(1), Some(0)),
        step(&[1], 0, Some(1), None),
    ];
    lonely.bindings = vec![bind("v", 0, false)];
    lonely.emit.fields = vec![(
        "product-id".into(),
        Expr::BoundField(BindingId(0), FieldId(1)),
    )];

    plan.patterns = vec![cart, browse, lonely];
    plan
}

#[test]
fn durations_read_like_the_language() {
    assert_eq!(fmt_duration(0), "0s");
    assert_eq!(fmt_duration(250), "250ms");
    assert_eq!(fmt_duration(900_000), "15m");
    assert_eq!(fmt_duration(5_400_000), "1h30m");
    assert_eq!(fmt_duration(86_400_000), "24h");
    assert_eq!(fmt_duration(7 * 86_400_000), "7d");
    assert_eq!(fmt_duration(1_500), "1s500ms");
}

#[test]
fn text() {
    insta::assert_snapshot!(to_text(&program()));
}

#[test]
fn dot() {
    insta::assert_snapshot!(to_dot(&program()));
}

#[test]
fn mermaid() {
    insta::assert_snapshot!(to_mermaid(&program()));
}

#[test]
fn json() {
    let json = to_json(&program());
    let value: serde_json::Value = serde_json::from_str(&json).expect("valid json");
    assert_eq!(value["patterns"].as_array().map(Vec::len), Some(3));
    insta::assert_snapshot!(json);
}
