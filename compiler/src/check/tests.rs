//! Unit tests of the checker: valid programs check clean and yield the expected Plan.

use super::check;
use crate::plan::*;
use nudge_grammar::{parse_file, Diagnostic, Sources};

/// Parses and checks files given as (path, text); panics on a parse error.
fn run_files(files: &[(&str, &str)]) -> (Option<Plan>, Vec<Diagnostic>) {
    let mut sources = Sources::new();
    let mut parsed = Vec::new();
    for (path, text) in files {
        let id = sources.add(*path, *text);
        let file = parse_file(id, text).unwrap_or_else(|d| panic!("parse error: {d:?}"));
        parsed.push((id, file));
    }
    check(&sources, &parsed)
}

fn run(text: &str) -> (Option<Plan>, Vec<Diagnostic>) {
    run_files(&[("patterns/test.nudge", text)])
}

fn codes(diags: &[Diagnostic]) -> Vec<&'static str> {
    diags.iter().map(|d| d.code).collect()
}

/// Checks a program that must be free of errors and warnings, and returns its plan.
fn clean(text: &str) -> Plan {
    let (plan, diags) = run(text);
    let shown: Vec<String> = diags
        .iter()
        .map(|d| format!("{} {}", d.code, d.message))
        .collect();
    assert!(diags.is_empty(), "unexpected diagnostics: {shown:#?}");
    plan.expect("a plan")
}

/// Every example declaration of LANGUAGE.md, and patterns that read all of them.
const SPEC: &str = include_str!("tests/spec.nudge");

const SHOP: &str = "input key user_id
event VIEW { user_id: string, product_id: string, category: string, price: float }
event ADD_TO_CART { user_id: string, product_id: string, price: float, qty: int }
event PURCHASE { user_id: string, order_id: string, total: float }
";

fn field(plan: &Plan, name: &str) -> FieldId {
    plan.field_id(name).unwrap()
}

fn ty(plan: &Plan, name: &str) -> TypeId {
    plan.type_id(name).unwrap()
}

#[test]
fn spec_program_checks_clean_with_ids_and_slots() {
    let plan = clean(SPEC);
    assert_eq!(
        plan.fields,
        [
            "user_id",
            "product_id",
            "category",
            "price",
            "qty",
            "order_id",
            "total"
        ]
    );
    let cart = &plan.events[ty(&plan, "ADD_TO_CART").index()];
    assert_eq!(cart.slot(field(&plan, "qty")), Some(3));
    assert_eq!(cart.slot(field(&plan, "price")), Some(2));
    assert_eq!(cart.slot(field(&plan, "total")), None);
    assert_eq!(cart.slot_of.len(), plan.fields.len());
    assert_eq!(plan.input.lateness_ms, 5000);
    assert_eq!(plan.input.idle_ms, 30_000);
    assert_eq!(plan.input.key, Some(field(&plan, "user_id")));
    assert_eq!(
        plan.tables[0].path,
        std::path::Path::new("patterns/data/products.csv")
    );
    assert_eq!(plan.tables[0].key, 0);
    assert_eq!(plan.models[0].timeout_ms, 200);
    assert_eq!(plan.models[0].fallback, Const::List(vec![]));
    assert_eq!(
        plan.sessions[0].of,
        [ty(&plan, "VIEW"), ty(&plan, "ADD_TO_CART")]
    );
    assert_eq!(plan.sessions[0].items, field(&plan, "product_id"));
    assert_eq!(plan.covisits[0].session, SessionId(0));
    assert_eq!(plan.trendings[0].of[2], (ty(&plan, "PURCHASE"), 5.0));
    assert_eq!(plan.trendings[0].emit, None);
    let features = &plan.profiles[0].features;
    assert_eq!(features[1].agg, Agg::Count);
    assert_eq!(features[1].of, Some(ty(&plan, "VIEW")));
    assert_eq!(features[1].value, None);
    assert_eq!(features[3].value, Some(Operand::Pseudo(Pseudo::Source)));
    assert_eq!(features[3].of, None);
    assert_eq!(features[2].over_ms, Some(30 * 24 * 3_600_000));
}

#[test]
fn cart_abandonment_has_a_trailing_guard_and_projects_what_emit_reads() {
    let plan = clean(SPEC);
    let p = &plan.patterns[0];
    assert_eq!(p.name, "cart_abandonment");
    assert_eq!(p.key, field(&plan, "user_id"));
    assert_eq!(p.steps.len(), 1);
    assert_eq!((p.steps[0].min, p.steps[0].max), (1, Some(1)));
    assert_eq!(p.guards.len(), 1);
    assert_eq!(p.guards[0].before, StepId(1));
    assert_eq!(p.guards[0].types, [ty(&plan, "PURCHASE")]);
    assert_eq!(p.trailing.as_ref().unwrap().within_ms, Some(900_000));
    assert_eq!(p.cooldown_ms, Some(86_400_000));
    assert!(!p.keep_all);
    assert_eq!(p.bindings[0].name, "cart");
    assert!(!p.bindings[0].group);
    let reads = &p.steps[0].reads;
    assert_eq!(
        reads.fields,
        [field(&plan, "user_id"), field(&plan, "product_id")]
    );
    assert!(!reads.whole);
    assert_eq!(p.types, [ty(&plan, "ADD_TO_CART"), ty(&plan, "PURCHASE")]);
    assert!(p.states.is_empty());
}

#[test]
fn browse_then_buy_compiles_every_kind_of_expression() {
    let plan = clean(SPEC);
    let p = &plan.patterns[1];
    let names: Vec<(&str, bool)> = p
        .bindings
        .iter()
        .map(|b| (b.name.as_str(), b.group))
        .collect();
    assert_eq!(names, [("views", true), ("act", false), ("again", true)]);
    assert_eq!(p.steps[0].max, None);
    assert_eq!(
        p.steps[1].types,
        [ty(&plan, "ADD_TO_CART"), ty(&plan, "PURCHASE")]
    );
    assert_eq!(p.steps[1].within_ms, Some(3_600_000));
    assert!(p.steps[2].strict);
    assert_eq!(p.window_ms, Some(7_200_000));
    assert!(p.keep_all);
    // `views` is counted and emitted through `first(views)`: whole; `views.price` summed.
    assert!(p.steps[0].reads.whole);
    assert_eq!(p.steps[0].reads.fields, [field(&plan, "price")]);
    // `act.ts` in a later where, `act.product_id` in emit, `act` emitted whole.
    assert!(p.steps[1].reads.whole);
    assert_eq!(p.steps[1].reads.pseudo, [Pseudo::Ts]);
    // The last step is the last taken event: bare `price` and `ts` of emit read it.
    assert_eq!(p.steps[2].reads.fields, [field(&plan, "price")]);
    assert_eq!(p.steps[2].reads.pseudo, [Pseudo::Ts]);
    let emit: Vec<&str> = p.emit.fields.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(emit[..3], ["n", "spent", "first_view"]);
    let get = |n: &str| &p.emit.fields.iter().find(|(f, _)| f == n).unwrap().1;
    assert_eq!(
        get("n"),
        &Expr::Call(Func::Count, vec![Expr::Bound(BindingId(0))])
    );
    assert_eq!(
        get("spent"),
        &Expr::Call(
            Func::Sum,
            vec![Expr::GroupField(BindingId(0), field(&plan, "price"))]
        )
    );
    assert_eq!(get("views_1h"), &Expr::Profile(ProfileId(0), 1));
    assert_eq!(get("price"), &Expr::Field(field(&plan, "price")));
    assert!(matches!(get("ranked"), Expr::Model(ModelId(0), _)));
    assert!(matches!(get("recs"), Expr::Recommend(CovisitId(0), _, _)));
    assert!(matches!(get("similar"), Expr::Similar(VectorsId(0), _, _)));
    assert!(matches!(
        get("score"),
        Expr::TrendingScore(TrendingId(0), _)
    ));
}

#[test]
fn defaults_without_input_and_optional_clauses() {
    let plan = clean(
        "event VIEW { user_id: string, product_id: string }
model ranker url \"http://x\"
session browsing per user_id gap 30m items product_id last 5
covisit also from browsing
pattern p
  per user_id
  when VIEW as v
  emit { r: ranker(v.product_id), recs: recommend(also, browsing.items, 3) }
",
    );
    assert_eq!(plan.input.type_field, "type");
    assert_eq!(plan.input.time_field, "ts");
    assert!(!plan.input.time_seconds);
    assert_eq!((plan.input.lateness_ms, plan.input.idle_ms), (0, 30_000));
    assert_eq!(plan.input.key, None);
    let m = &plan.models[0];
    assert_eq!(
        (m.timeout_ms, m.concurrency, &m.fallback),
        (1000, 64, &Const::Null)
    );
    assert_eq!(
        (plan.covisits[0].refresh_ms, plan.covisits[0].keep),
        (60_000, 100)
    );
    assert_eq!(plan.sessions[0].of, [TypeId(0)], "no `of`: every type");
}

#[test]
fn own_binding_reads_the_candidate_and_middle_guards_stand_before_their_step() {
    let plan = clean(&format!(
        "{SHOP}
pattern p
  when VIEW as v where v.price > 10 and v.ts > 0
  then not PURCHASE where total > v.price
  then ADD_TO_CART as c within 1h
  emit {{ product_id: c.product_id }}
"
    ));
    let p = &plan.patterns[0];
    let price = field(&plan, "price");
    let cond = p.steps[0].cond.as_ref().unwrap();
    let Expr::Binary(_, left, right) = cond else {
        panic!("{cond:?}")
    };
    assert!(matches!(&**left, Expr::Binary(_, a, _) if **a == Expr::Field(price)));
    assert!(matches!(&**right, Expr::Binary(_, a, _) if **a == Expr::Pseudo(Pseudo::Ts)));
    assert_eq!(p.guards[0].before, StepId(1));
    assert!(p.trailing.is_none());
    // The guard reads `v.price`: kept on the first step.
    assert_eq!(p.steps[0].reads.fields, [price]);
}

#[test]
fn emit_bare_fields_count_for_every_step_that_can_be_last() {
    let (plan, diags) = run(&format!(
        "{SHOP}
pattern p
  when VIEW as v
  then ADD_TO_CART{{0,2}} as c within 1h
  then PURCHASE{{0,1}} within 1h
  emit {{ product_id: product_id, total: total, when_ts: ts }}
"
    ));
    // Both optional final steps draw W003; warnings do not stop the plan.
    assert_eq!(codes(&diags), ["W003", "W003"]);
    let plan = plan.expect("warnings only");
    let p = &plan.patterns[0];
    let (pid, total) = (field(&plan, "product_id"), field(&plan, "total"));
    assert_eq!(p.steps[0].reads.fields, [pid]);
    assert_eq!(p.steps[1].reads.fields, [pid]);
    assert_eq!(p.steps[2].reads.fields, [total]);
    assert!(p.steps.iter().all(|s| s.reads.pseudo == [Pseudo::Ts]));
}

#[test]
fn names_are_global_across_files_and_diagnostics_are_sorted_by_file() {
    let (plan, diags) = run_files(&[
        (
            "a.nudge",
            "input key user_id\nevent VIEW { user_id: string }\n",
        ),
        (
            "b.nudge",
            "event VIEW { user_id: string }\npattern p when VIEWS as v emit { x: 1 }\n",
        ),
    ]);
    assert!(plan.is_none());
    assert_eq!(codes(&diags), ["E101", "E102"]);
    assert_eq!(diags[0].labels[0].span.file.0, 1);
    assert_eq!(
        diags[0].labels[1].span.file.0, 0,
        "points at the first place too"
    );
    assert_eq!(diags[1].help.as_deref(), Some("did you mean `VIEW`?"));
}

#[test]
fn table_paths_resolve_from_the_declaring_file() {
    let (plan, _) = run_files(&[(
        "shop/patterns/catalog.nudge",
        "table products { product_id: string } from \"../data/p.csv\" key product_id
vectors v from \"/abs/v.jsonl\" key product_id",
    )]);
    let plan = plan.unwrap();
    assert_eq!(
        plan.tables[0].path,
        std::path::Path::new("shop/patterns/../data/p.csv")
    );
    assert_eq!(plan.vectors[0].path, std::path::Path::new("/abs/v.jsonl"));
}

#[test]
fn operator_values_are_typed() {
    let (_, diags) = run(&format!(
        "{SHOP}
profile customer features {{ last_category: last(VIEW.category), views: count(VIEW) over 1h }}
trending hot of VIEW by product_id over 10m every 1m top 5
pattern p
  when VIEW as v where customer.views > 3 and hot.score(product_id) > 1.5
                   and product_id in hot.items and customer.last_category > 2
  emit {{ x: 1 }}
"
    ));
    assert_eq!(codes(&diags), ["E401"]);
}

#[test]
fn every_error_of_a_program_is_reported_in_one_pass() {
    let (_, diags) = run(&format!(
        "{SHOP}
pattern a when PURCHSE as p emit {{ t: p.total }}
pattern b when VIEW as v where prize > 1 emit {{ x: lower(v.price) }}
pattern c when VIEW as v then not PURCHASE emit {{ rule: 1 }}
"
    ));
    assert_eq!(codes(&diags), ["E102", "E103", "E405", "E202", "E301"]);
}

#[test]
fn never_panics_on_programs_with_a_piece_missing() {
    let tokens: Vec<&str> = SPEC.split_inclusive(char::is_whitespace).collect();
    for skip in 0..tokens.len() {
        let text: String = tokens
            .iter()
            .enumerate()
            .filter(|&(i, _)| i != skip)
            .map(|(_, t)| *t)
            .collect();
        let mut sources = Sources::new();
        let id = sources.add("p.nudge", text.as_str());
        if let Ok(file) = parse_file(id, &text) {
            let (plan, diags) = check(&sources, &[(id, file)]);
            assert_eq!(plan.is_some(), !diags.iter().any(Diagnostic::is_error));
        }
    }
}
