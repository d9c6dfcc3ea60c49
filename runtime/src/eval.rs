//! Evaluation of compiled expressions (LANGUAGE.md §5) with the null rules.
//!
//! Expressions read the current event, a run's bindings, the key and the read-only
//! [`World`] (tables, operators). Evaluation never fails: a value that cannot be computed
//! (a null operand, a division by zero) is `null`.

use crate::event::Event;
use crate::time;
use crate::value::Value;
use nudge_compiler::plan::{
    BinOp, BindingId, CovisitId, Expr, Func, Plan, ProfileId, SessionAttr, SessionId, TableId,
    TrendingId, UnOp, VectorsId,
};

use std::borrow::Cow;
use std::cmp::Ordering;
use std::sync::Arc;

/// What a run has bound to a step name.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub enum Bound {
    /// Not (yet) bound.
    #[default]
    None,
    One(Arc<Event>),
    Group(Vec<Arc<Event>>),
}

/// Read-only state outside the run: tables, vectors and operators, as of the evaluation
/// time. Models are not in it: their calls are made outside the engine.
pub trait World {
    /// `table[key]`: the row as a record, or null.
    fn table_row(&self, table: TableId, key: &Value) -> Value;
    /// `session.items` / `.count` / `.start` for this key.
    fn session(&self, _session: SessionId, _attr: SessionAttr, _key: &Value) -> Value {
        Value::Null
    }
    /// `hot.items`.
    fn trending_items(&self, _trending: TrendingId) -> Value {
        Value::list(Vec::new())
    }
    /// `hot.score(x)`.
    fn trending_score(&self, _trending: TrendingId, _item: &Value) -> Value {
        Value::Int(0)
    }
    /// `customer.feature` for this key.
    fn profile(&self, _profile: ProfileId, _feature: u32, _key: &Value) -> Value {
        Value::Null
    }
    /// `similar(vectors, x, k)`.
    fn similar(&self, _vectors: VectorsId, _item: &Value, _k: usize) -> Value {
        Value::list(Vec::new())
    }
    /// `recommend(covisit, items, k)`.
    fn recommend(&self, _covisit: CovisitId, _items: &Value, _k: usize) -> Value {
        Value::list(Vec::new())
    }
}

/// Everything an expression may read.
pub struct Scope<'a> {
    pub plan: &'a Plan,
    /// The candidate event in a `where`; the last taken event in `emit`.
    pub current: Option<&'a Event>,
    pub bindings: &'a [Bound],
    /// In a single step's `where`, its own name reads the candidate event.
    pub own: Option<BindingId>,
    pub key: &'a Value,
    pub world: &'a dyn World,
}

impl<'a> Scope<'a> {
    fn bound_event(&self, b: BindingId) -> Option<&'a Event> {
        if self.own == Some(b) {
            return self.current;
        }
        match self.bindings.get(b.index()) {
            Some(Bound::One(e)) => Some(e),
            _ => None,
        }
    }

    fn group(&self, b: BindingId) -> &'a [Arc<Event>] {
        match self.bindings.get(b.index()) {
            Some(Bound::Group(g)) => g,
            _ => &[],
        }
    }
}

/// Evaluates `expr` in `scope`.
pub fn eval(expr: &Expr, s: &Scope) -> Value {
    match expr {
        Expr::Const(c) => Value::from_const(c),
        Expr::Field(f) => s
            .current
            .map_or(Value::Null, |e| e.field(s.plan, *f).clone()),
        Expr::Pseudo(p) => s.current.map_or(Value::Null, |e| e.pseudo(s.plan, *p)),
        Expr::Key => s.key.clone(),
        Expr::Bound(b) => {
            if s.own == Some(*b) {
                return s
                    .current
                    .map_or(Value::Null, |e| Value::Event(Arc::new(e.clone())));
            }
            match s.bindings.get(b.index()) {
                Some(Bound::One(e)) => Value::Event(e.clone()),
                Some(Bound::Group(g)) => {
                    Value::list(g.iter().map(|e| Value::Event(e.clone())).collect())
                }
                _ => Value::Null,
            }
        }
        Expr::BoundField(b, f) => s
            .bound_event(*b)
            .map_or(Value::Null, |e| e.field(s.plan, *f).clone()),
        Expr::BoundPseudo(b, p) => s
            .bound_event(*b)
            .map_or(Value::Null, |e| e.pseudo(s.plan, *p)),
        Expr::GroupField(b, f) => Value::list(
            s.group(*b)
                .iter()
                .map(|e| e.field(s.plan, *f).clone())
                .collect(),
        ),
        Expr::GroupPseudo(b, p) => {
            Value::list(s.group(*b).iter().map(|e| e.pseudo(s.plan, *p)).collect())
        }
        Expr::Unary(op, e) => unary(*op, eval(e, s)),
        Expr::Binary(BinOp::And, a, b) => Value::Bool(eval(a, s).is_true() && eval(b, s).is_true()),
        Expr::Binary(BinOp::Or, a, b) => Value::Bool(eval(a, s).is_true() || eval(b, s).is_true()),
        Expr::Binary(op, a, b) => binary(*op, &operand(a, s), &operand(b, s)),
        Expr::Call(f, args) => {
            let args: Vec<Value> = args.iter().map(|a| eval(a, s)).collect();
            call(*f, &args)
        }
        Expr::List(items) => Value::list(items.iter().map(|e| eval(e, s)).collect()),
        Expr::Record(fields) => Value::Record(Arc::new(
            fields
                .iter()
                .map(|(k, e)| (Arc::from(k.as_str()), eval(e, s)))
                .collect(),
        )),
        Expr::Member(e, name) => member(&eval(e, s), name, s.plan),
        Expr::Index(e, i) => index(&eval(e, s), &eval(i, s)),
        Expr::TableRow(t, k) => s.world.table_row(*t, &eval(k, s)),
        Expr::Session(id, attr) => s.world.session(*id, *attr, s.key),
        Expr::TrendingItems(id) => s.world.trending_items(*id),
        Expr::TrendingScore(id, x) => s.world.trending_score(*id, &eval(x, s)),
        Expr::Profile(id, f) => s.world.profile(*id, *f, s.key),
        Expr::Similar(id, x, k) => match count_arg(&eval(k, s)) {
            Some(k) => s.world.similar(*id, &eval(x, s), k),
            None => Value::Null,
        },
        Expr::Recommend(id, items, k) => match count_arg(&eval(k, s)) {
            Some(k) => s.world.recommend(*id, &eval(items, s), k),
            None => Value::Null,
        },
        // A model call is the whole value of an emit field (E406, E411): emit evaluates
        // its argument and hands the call to the runner. It never reaches `eval`.
        Expr::Model(..) => Value::Null,
    }
}

/// Evaluates an operand, borrowing field values instead of cloning them (the hot path
/// of `where` conditions).
fn operand<'a>(expr: &Expr, s: &Scope<'a>) -> Cow<'a, Value> {
    match expr {
        Expr::Field(f) => match s.current {
            Some(e) => Cow::Borrowed(e.field(s.plan, *f)),
            None => Cow::Owned(Value::Null),
        },
        Expr::BoundField(b, f) => match s.bound_event(*b) {
            Some(e) => Cow::Borrowed(e.field(s.plan, *f)),
            None => Cow::Owned(Value::Null),
        },
        Expr::Key => Cow::Borrowed(s.key),
        _ => Cow::Owned(eval(expr, s)),
    }
}

fn count_arg(v: &Value) -> Option<usize> {
    match v {
        Value::Int(i) => Some((*i).max(0) as usize),
        Value::Float(f) if f.is_finite() => Some(f.max(0.0) as usize),
        _ => None,
    }
}

/// `where` and negation conditions: null and non-booleans are false.
pub fn holds(expr: &Expr, s: &Scope) -> bool {
    eval(expr, s).is_true()
}

fn unary(op: UnOp, v: Value) -> Value {
    match (op, v) {
        (UnOp::Not, v) => Value::Bool(!v.is_true()),
        (UnOp::Neg, Value::Int(i)) => i.checked_neg().map_or(Value::Null, Value::Int),
        (UnOp::Neg, Value::Float(f)) => Value::Float(-f),
        (UnOp::Neg, _) => Value::Null,
    }
}

/// Orders two values for `<`-style comparisons and `min`/`max`: numbers with numbers,
/// strings with strings, booleans with booleans; anything else (null included) is
/// unordered.
pub fn compare(a: &Value, b: &Value) -> Option<Ordering> {
    match (a, b) {
        (Value::Int(x), Value::Int(y)) => Some(x.cmp(y)),
        (Value::Str(x), Value::Str(y)) => Some(x.cmp(y)),
        (Value::Bool(x), Value::Bool(y)) => Some(x.cmp(y)),
        _ => match (a.as_f64(), b.as_f64()) {
            (Some(x), Some(y)) => x.partial_cmp(&y),
            _ => None,
        },
    }
}

fn binary(op: BinOp, a: &Value, b: &Value) -> Value {
    use BinOp::*;
    match op {
        Eq => Value::Bool(a == b),
        Ne => Value::Bool(a != b),
        Lt => Value::Bool(compare(a, b) == Some(Ordering::Less)),
        Le => Value::Bool(matches!(
            compare(a, b),
            Some(Ordering::Less | Ordering::Equal)
        )),
        Gt => Value::Bool(compare(a, b) == Some(Ordering::Greater)),
        Ge => Value::Bool(matches!(
            compare(a, b),
            Some(Ordering::Greater | Ordering::Equal)
        )),
        In => Value::Bool(contains(b, a)),
        NotIn => Value::Bool(!contains(b, a)),
        Add | Sub | Mul | Div | Rem => arith(op, a, b),
        And | Or => unreachable!("short-circuit operators are evaluated in eval"),
    }
}

/// `x in container`: list membership, or substring; `x in null` is false.
fn contains(container: &Value, x: &Value) -> bool {
    match (container, x) {
        (Value::List(items), x) => items.iter().any(|v| v == x),
        (Value::Str(s), Value::Str(t)) => s.contains(&**t),
        _ => false,
    }
}

fn arith(op: BinOp, a: &Value, b: &Value) -> Value {
    use BinOp::*;
    match (a, b) {
        (Value::Str(x), Value::Str(y)) if op == Add => {
            let mut s = String::with_capacity(x.len() + y.len());
            s.push_str(x);
            s.push_str(y);
            Value::Str(Arc::from(s))
        }
        (Value::Int(x), Value::Int(y)) => match op {
            Add => x.checked_add(*y).map_or(Value::Null, Value::Int),
            Sub => x.checked_sub(*y).map_or(Value::Null, Value::Int),
            Mul => x.checked_mul(*y).map_or(Value::Null, Value::Int),
            Div if *y == 0 => Value::Null,
            Div => Value::Float(*x as f64 / *y as f64),
            Rem => x.checked_rem(*y).map_or(Value::Null, Value::Int),
            _ => Value::Null,
        },
        _ => match (a.as_f64(), b.as_f64()) {
            (Some(x), Some(y)) => match op {
                Add => Value::Float(x + y),
                Sub => Value::Float(x - y),
                Mul => Value::Float(x * y),
                Div | Rem if y == 0.0 => Value::Null,
                Div => Value::Float(x / y),
                Rem => Value::Float(x % y),
                _ => Value::Null,
            },
            _ => Value::Null,
        },
    }
}

fn member(v: &Value, name: &str, plan: &Plan) -> Value {
    match v {
        Value::Record(fields) => fields
            .iter()
            .find(|(k, _)| &**k == name)
            .map_or(Value::Null, |(_, v)| v.clone()),
        Value::Event(e) => match name {
            "type" => Value::str(&plan.events[e.ty.index()].name),
            "ts" => Value::Int(e.ts),
            "source" => Value::Str(e.source.clone()),
            _ => plan
                .field_id(name)
                .map_or(Value::Null, |f| e.field(plan, f).clone()),
        },
        _ => Value::Null,
    }
}

fn index(v: &Value, i: &Value) -> Value {
    match (v, i) {
        (Value::List(items), Value::Int(i)) => {
            let n = items.len() as i64;
            let at = if *i < 0 { n + i } else { *i };
            if (0..n).contains(&at) {
                items[at as usize].clone()
            } else {
                Value::Null
            }
        }
        (Value::Record(fields), Value::Str(k)) => fields
            .iter()
            .find(|(name, _)| name == k)
            .map_or(Value::Null, |(_, v)| v.clone()),
        _ => Value::Null,
    }
}

/// The elements of a list argument; an empty slice for anything else.
fn items(v: &Value) -> &[Value] {
    match v {
        Value::List(items) => items,
        _ => &[],
    }
}

fn call(f: Func, args: &[Value]) -> Value {
    let arg = |i: usize| args.get(i).unwrap_or(&Value::Null);
    let non_null = || items(arg(0)).iter().filter(|v| !v.is_null());
    match f {
        Func::Count => match arg(0) {
            Value::List(items) => Value::Int(items.len() as i64),
            _ => Value::Null,
        },
        Func::Sum => {
            let mut int_sum: Option<i64> = Some(0);
            let mut float_sum = 0.0;
            for v in non_null() {
                match v {
                    Value::Int(i) => {
                        int_sum = int_sum.and_then(|s| s.checked_add(*i));
                        float_sum += *i as f64;
                    }
                    Value::Float(x) => {
                        int_sum = None;
                        float_sum += x;
                    }
                    _ => {}
                }
            }
            let all_int = non_null().all(|v| matches!(v, Value::Int(_)));
            match int_sum {
                Some(s) if all_int => Value::Int(s),
                _ => Value::Float(float_sum),
            }
        }
        Func::Avg => {
            let nums: Vec<f64> = non_null().filter_map(Value::as_f64).collect();
            if nums.is_empty() {
                Value::Null
            } else {
                Value::Float(nums.iter().sum::<f64>() / nums.len() as f64)
            }
        }
        Func::Min => extreme(non_null(), Ordering::Less),
        Func::Max => extreme(non_null(), Ordering::Greater),
        Func::CountDistinct => {
            let mut seen: Vec<&Value> = Vec::new();
            for v in non_null() {
                if !seen.contains(&v) {
                    seen.push(v);
                }
            }
            Value::Int(seen.len() as i64)
        }
        Func::First => non_null().next().cloned().unwrap_or_default(),
        Func::Last => non_null().next_back().cloned().unwrap_or_default(),
        Func::Len => match arg(0) {
            Value::List(items) => Value::Int(items.len() as i64),
            Value::Str(s) => Value::Int(s.chars().count() as i64),
            _ => Value::Null,
        },
        Func::Take => match (arg(0), count_arg(arg(1))) {
            (Value::List(items), Some(n)) => Value::list(items.iter().take(n).cloned().collect()),
            _ => Value::Null,
        },
        Func::Unique => match arg(0) {
            Value::List(list) => {
                let mut out: Vec<Value> = Vec::new();
                for v in list.iter() {
                    if !out.contains(v) {
                        out.push(v.clone());
                    }
                }
                Value::list(out)
            }
            _ => Value::Null,
        },
        Func::Lower => map_str(arg(0), str::to_lowercase),
        Func::Upper => map_str(arg(0), str::to_uppercase),
        Func::Contains => match (arg(0), arg(1)) {
            (Value::Str(s), Value::Str(t)) => Value::Bool(s.contains(&**t)),
            (Value::List(items), x) => Value::Bool(items.iter().any(|v| v == x)),
            _ => Value::Null,
        },
        Func::StartsWith => match (arg(0), arg(1)) {
            (Value::Str(s), Value::Str(t)) => Value::Bool(s.starts_with(&**t)),
            _ => Value::Null,
        },
        Func::Abs => match arg(0) {
            Value::Int(i) => i.checked_abs().map_or(Value::Null, Value::Int),
            Value::Float(x) => Value::Float(x.abs()),
            _ => Value::Null,
        },
        Func::Round => round(arg(0), arg(1)),
        Func::Least => pick(arg(0), arg(1), Ordering::Less),
        Func::Greatest => pick(arg(0), arg(1), Ordering::Greater),
        Func::HourOfDay | Func::DayOfWeek => {
            let Value::Int(ts) = arg(0) else {
                return Value::Null;
            };
            let zone = match arg(1) {
                Value::Null => None,
                Value::Str(z) => Some(&**z),
                _ => return Value::Null,
            };
            let r = if f == Func::HourOfDay {
                time::hour_of_day(*ts, zone)
            } else {
                time::day_of_week(*ts, zone)
            };
            r.map_or(Value::Null, Value::Int)
        }
    }
}

fn extreme<'a>(values: impl Iterator<Item = &'a Value>, want: Ordering) -> Value {
    let mut best: Option<&Value> = None;
    for v in values {
        best = match best {
            None => Some(v),
            Some(b) if compare(v, b) == Some(want) => Some(v),
            keep => keep,
        };
    }
    best.cloned().unwrap_or_default()
}

fn pick(a: &Value, b: &Value, want: Ordering) -> Value {
    match compare(a, b) {
        Some(o) if o == want => a.clone(),
        Some(_) => b.clone(),
        None => Value::Null,
    }
}

fn map_str(v: &Value, f: impl Fn(&str) -> String) -> Value {
    match v {
        Value::Str(s) => Value::Str(Arc::from(f(s))),
        _ => Value::Null,
    }
}

/// `round(x, digits)`: half away from zero; an int with digits ≥ 0 stays an int.
fn round(x: &Value, digits: &Value) -> Value {
    let digits = match digits {
        Value::Null => 0,
        Value::Int(d) => (*d).clamp(-15, 15) as i32,
        _ => return Value::Null,
    };
    match x {
        Value::Int(i) if digits >= 0 => Value::Int(*i),
        _ => match x.as_f64() {
            Some(v) => {
                let scale = 10f64.powi(digits);
                let scaled = v * scale;
                // Correct representation error (2.675 * 100 = 267.49999...) before
                // rounding half away from zero.
                let fixed: f64 = format!("{scaled:.9}").parse().unwrap_or(scaled);
                let r = fixed.round() / scale;
                match x {
                    Value::Int(_) => Value::Int(r as i64),
                    _ => Value::Float(r),
                }
            }
            None => Value::Null,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn null_rules() {
        assert_eq!(
            binary(BinOp::Lt, &Value::Null, &Value::Int(1)),
            Value::Bool(false)
        );
        assert_eq!(
            binary(BinOp::Eq, &Value::Null, &Value::Null),
            Value::Bool(true)
        );
        assert_eq!(arith(BinOp::Add, &Value::Null, &Value::Int(1)), Value::Null);
        assert_eq!(unary(UnOp::Not, Value::Null), Value::Bool(true));
        assert_eq!(
            binary(BinOp::In, &Value::Int(1), &Value::Null),
            Value::Bool(false)
        );
    }

    #[test]
    fn division_and_remainder() {
        assert_eq!(
            arith(BinOp::Div, &Value::Int(7), &Value::Int(2)),
            Value::Float(3.5)
        );
        assert_eq!(
            arith(BinOp::Div, &Value::Int(7), &Value::Int(0)),
            Value::Null
        );
        assert_eq!(
            arith(BinOp::Rem, &Value::Int(-7), &Value::Int(3)),
            Value::Int(-1)
        );
        assert_eq!(
            arith(BinOp::Rem, &Value::Int(7), &Value::Int(0)),
            Value::Null
        );
    }

    #[test]
    fn group_functions_skip_nulls() {
        let l = Value::list(vec![Value::Int(2), Value::Null, Value::Int(3)]);
        let one = std::slice::from_ref(&l);
        assert_eq!(call(Func::Count, one), Value::Int(3));
        assert_eq!(call(Func::Sum, one), Value::Int(5));
        assert_eq!(call(Func::Avg, one), Value::Float(2.5));
        assert_eq!(call(Func::Min, one), Value::Int(2));
        let empty = Value::list(vec![]);
        let none = std::slice::from_ref(&empty);
        assert_eq!(call(Func::Sum, none), Value::Int(0));
        assert_eq!(call(Func::Avg, none), Value::Null);
        assert_eq!(call(Func::First, &[empty]), Value::Null);
    }

    #[test]
    fn round_half_away_from_zero() {
        assert_eq!(round(&Value::Float(2.5), &Value::Int(0)), Value::Float(3.0));
        assert_eq!(
            round(&Value::Float(-2.5), &Value::Int(0)),
            Value::Float(-3.0)
        );
        assert_eq!(
            round(&Value::Float(2.675), &Value::Int(2)),
            Value::Float(2.68)
        );
    }
}
