//! Prints a compiled [`Expr`] back in the language's own syntax (`cart.product_id`,
//! `count(v) >= 3`), with the names of bindings, fields and declarations restored.

use crate::plan::{Const, Expr, Func, PatternPlan, Plan, SessionAttr};
use nudge_grammar::ast::{BinOp, UnOp};

/// Prints expressions of one pattern.
pub struct ExprFmt<'a> {
    pub plan: &'a Plan,
    pub pattern: &'a PatternPlan,
}

/// Binding strength, loosest first (LANGUAGE.md §5).
const OR: u8 = 1;
const AND: u8 = 2;
const NOT: u8 = 3;
const CMP: u8 = 4;
const ADD: u8 = 5;
const MUL: u8 = 6;
const NEG: u8 = 7;
const POSTFIX: u8 = 8;

fn prec(op: BinOp) -> u8 {
    match op {
        BinOp::Or => OR,
        BinOp::And => AND,
        BinOp::Eq
        | BinOp::Ne
        | BinOp::Lt
        | BinOp::Le
        | BinOp::Gt
        | BinOp::Ge
        | BinOp::In
        | BinOp::NotIn => CMP,
        BinOp::Add | BinOp::Sub => ADD,
        BinOp::Mul | BinOp::Div | BinOp::Rem => MUL,
    }
}

impl ExprFmt<'_> {
    /// The expression as written in a pattern file.
    pub fn expr(&self, e: &Expr) -> String {
        self.at(e, 0)
    }

    /// Prints `e` where an operand of strength `min` is expected, in parentheses if it
    /// binds more loosely.
    fn at(&self, e: &Expr, min: u8) -> String {
        let (s, p) = self.raw(e);
        if p < min {
            format!("({s})")
        } else {
            s
        }
    }

    fn raw(&self, e: &Expr) -> (String, u8) {
        let plan = self.plan;
        let bind = |b: &crate::plan::BindingId| self.pattern.bindings[b.index()].name.clone();
        let field = |f: &crate::plan::FieldId| name(&plan.fields[f.index()]);
        let s = match e {
            Expr::Const(c @ (Const::Int(_) | Const::Float(_))) => {
                let s = fmt_const(c);
                let p = if s.starts_with('-') { NEG } else { POSTFIX };
                return (s, p);
            }
            Expr::Const(c) => fmt_const(c),
            Expr::Field(f) => field(f),
            Expr::Pseudo(p) => pseudo(*p).to_string(),
            Expr::Key => "key".to_string(),
            Expr::Bound(b) => bind(b),
            Expr::BoundField(b, f) | Expr::GroupField(b, f) => format!("{}.{}", bind(b), field(f)),
            Expr::BoundPseudo(b, p) | Expr::GroupPseudo(b, p) => {
                format!("{}.{}", bind(b), pseudo(*p))
            }
            Expr::Unary(UnOp::Not, x) => return (format!("not {}", self.at(x, NOT)), NOT),
            Expr::Unary(UnOp::Neg, x) => return (format!("-{}", self.at(x, POSTFIX)), NEG),
            Expr::Binary(op, l, r) => {
                let p = prec(*op);
                let left = self.at(l, if p == CMP { p + 1 } else { p });
                let right = self.at(r, p + 1);
                return (format!("{left} {} {right}", op.as_str()), p);
            }
            Expr::Call(f, args) => format!("{}({})", func_name(*f), self.list(args)),
            Expr::List(items) => format!("[{}]", self.list(items)),
            Expr::Record(fields) => {
                let fields: Vec<String> = fields
                    .iter()
                    .map(|(k, v)| format!("{}: {}", name(k), self.expr(v)))
                    .collect();
                format!("{{ {} }}", fields.join(", "))
            }
            Expr::Member(x, m) => format!("{}.{}", self.at(x, POSTFIX), name(m)),
            Expr::Index(x, i) => format!("{}[{}]", self.at(x, POSTFIX), self.expr(i)),
            Expr::TableRow(t, k) => format!("{}[{}]", plan.tables[t.index()].name, self.expr(k)),
            Expr::Session(s, attr) => {
                let attr = match attr {
                    SessionAttr::Items => "items",
                    SessionAttr::Count => "count",
                    SessionAttr::Start => "start",
                };
                format!("{}.{attr}", plan.sessions[s.index()].name)
            }
            Expr::TrendingItems(t) => format!("{}.items", plan.trendings[t.index()].name),
            Expr::TrendingScore(t, x) => {
                format!("{}.score({})", plan.trendings[t.index()].name, self.expr(x))
            }
            Expr::Profile(p, i) => {
                let profile = &plan.profiles[p.index()];
                format!(
                    "{}.{}",
                    profile.name,
                    name(&profile.features[*i as usize].name)
                )
            }
            Expr::Similar(v, x, k) => format!(
                "similar({}, {}, {})",
                plan.vectors[v.index()].name,
                self.expr(x),
                self.expr(k)
            ),
            Expr::Recommend(c, x, k) => format!(
                "recommend({}, {}, {})",
                plan.covisits[c.index()].name,
                self.expr(x),
                self.expr(k)
            ),
            Expr::Model(m, x) => format!("{}({})", plan.models[m.index()].name, self.expr(x)),
        };
        (s, POSTFIX)
    }

    fn list(&self, items: &[Expr]) -> String {
        let items: Vec<String> = items.iter().map(|e| self.expr(e)).collect();
        items.join(", ")
    }
}

/// A field or record key: bare when it is an identifier, else a quoted string.
pub fn name(s: &str) -> String {
    let mut chars = s.chars();
    let ident = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    if ident {
        s.to_string()
    } else {
        quote(s)
    }
}

/// A string literal with the language's escapes.
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A constant as a literal.
pub fn fmt_const(c: &Const) -> String {
    match c {
        Const::Null => "null".to_string(),
        Const::Bool(b) => b.to_string(),
        Const::Int(i) => i.to_string(),
        Const::Float(f) => format!("{f:?}"),
        Const::Str(s) => quote(s),
        Const::List(items) => {
            let items: Vec<String> = items.iter().map(fmt_const).collect();
            format!("[{}]", items.join(", "))
        }
        Const::Record(fields) => {
            let fields: Vec<String> = fields
                .iter()
                .map(|(k, v)| format!("{}: {}", name(k), fmt_const(v)))
                .collect();
            format!("{{ {} }}", fields.join(", "))
        }
    }
}

fn pseudo(p: crate::plan::Pseudo) -> &'static str {
    match p {
        crate::plan::Pseudo::Type => "type",
        crate::plan::Pseudo::Ts => "ts",
        crate::plan::Pseudo::Source => "source",
    }
}

/// A built-in function's name as written.
pub fn func_name(f: Func) -> &'static str {
    match f {
        Func::Count => "count",
        Func::Sum => "sum",
        Func::Avg => "avg",
        Func::Min => "min",
        Func::Max => "max",
        Func::CountDistinct => "count_distinct",
        Func::First => "first",
        Func::Last => "last",
        Func::Len => "len",
        Func::Take => "take",
        Func::Unique => "unique",
        Func::Lower => "lower",
        Func::Upper => "upper",
        Func::Contains => "contains",
        Func::StartsWith => "starts_with",
        Func::Abs => "abs",
        Func::Round => "round",
        Func::Least => "least",
        Func::Greatest => "greatest",
        Func::HourOfDay => "hour_of_day",
        Func::DayOfWeek => "day_of_week",
    }
}
