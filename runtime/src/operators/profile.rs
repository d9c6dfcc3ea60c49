//! `profile` (LANGUAGE.md §8): per key, a live record of features, each an aggregate of
//! the key's events, all-time or `over D`.
//!
//! - **All-time** features keep O(1) state (a count, a sum, a value), except
//!   `count_distinct`, which keeps the set of values seen.
//! - **`over D`** features keep up to 60 buckets of `D/60` ms aligned to the epoch,
//!   oldest first, only the buckets that saw a value. The window at time t is the 60
//!   buckets ending with t's bucket: `over 1h` at 10:30:20 holds events from 09:31:00
//!   on. D/60 is rounded down to whole milliseconds (at least 1), so for a D that is not
//!   a multiple of 60 ms the window is up to 59 ms shorter than D. A windowed
//!   `count_distinct` keeps each value with the last bucket it was seen in.
//!
//! Nulls are skipped by every aggregate (`count(TYPE)` counts events); `first`/`last`
//! are the first and last non-null values in processing order.

use super::{Cx, Operator};
use crate::eval::compare;
use crate::event::Event;
use crate::value::Value;
use nudge_compiler::plan::{Agg, FeaturePlan, FieldType, Operand, Plan, ProfilePlan};
use rustc_hash::{FxHashMap, FxHashSet};
use std::cmp::Ordering;
use std::collections::VecDeque;

/// Buckets of an `over D` window.
const BUCKETS: i64 = 60;

/// One key's profile: one state per feature, in feature order.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct ProfileState {
    features: Box<[Feature]>,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
enum Feature {
    AllTime(Acc),
    AllTimeDistinct(FxHashSet<Value>),
    /// (bucket number, partial aggregate), oldest first; at most 60 within any window.
    Window(VecDeque<(i64, Acc)>),
    /// Value → the last bucket it was seen in.
    WindowDistinct(FxHashMap<Value, i64>),
}

/// A partial aggregate of some events' values.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
enum Acc {
    Count(u64),
    /// An integer sum until a float arrives.
    SumInt(i64),
    SumFloat(f64),
    Avg(f64, u64),
    Min(Value),
    Max(Value),
    First(Value),
    Last(Value),
}

impl Acc {
    fn empty(agg: Agg) -> Acc {
        match agg {
            Agg::Count | Agg::CountDistinct => Acc::Count(0),
            Agg::Sum => Acc::SumInt(0),
            Agg::Avg => Acc::Avg(0.0, 0),
            Agg::Min => Acc::Min(Value::Null),
            Agg::Max => Acc::Max(Value::Null),
            Agg::First => Acc::First(Value::Null),
            Agg::Last => Acc::Last(Value::Null),
        }
    }

    /// Adds one value (never null; `count(TYPE)` adds the event itself).
    fn add(&mut self, v: &Value) {
        match self {
            Acc::Count(n) => *n += 1,
            Acc::SumInt(s) => match v {
                Value::Int(i) => *s = s.saturating_add(*i),
                other => {
                    if let Some(f) = other.as_f64() {
                        *self = Acc::SumFloat(*s as f64 + f);
                    }
                }
            },
            Acc::SumFloat(s) => *s += v.as_f64().unwrap_or(0.0),
            Acc::Avg(s, n) => {
                if let Some(f) = v.as_f64() {
                    *s += f;
                    *n += 1;
                }
            }
            Acc::Min(m) => keep(m, v, Ordering::Less),
            Acc::Max(m) => keep(m, v, Ordering::Greater),
            Acc::First(f) => {
                if f.is_null() {
                    *f = v.clone();
                }
            }
            Acc::Last(l) => *l = v.clone(),
        }
    }

    /// Folds in the partial of a later bucket.
    fn merge(&mut self, later: &Acc) {
        match (&mut *self, later) {
            (Acc::Count(a), Acc::Count(b)) => *a += b,
            (Acc::SumInt(a), Acc::SumInt(b)) => *a = a.saturating_add(*b),
            (Acc::SumInt(a), Acc::SumFloat(b)) => *self = Acc::SumFloat(*a as f64 + b),
            (Acc::SumFloat(a), Acc::SumInt(b)) => *a += *b as f64,
            (Acc::SumFloat(a), Acc::SumFloat(b)) => *a += b,
            (Acc::Avg(s, n), Acc::Avg(t, m)) => {
                *s += t;
                *n += m;
            }
            (Acc::Min(_) | Acc::Max(_) | Acc::First(_) | Acc::Last(_), b) => {
                if let Acc::Min(v) | Acc::Max(v) | Acc::First(v) | Acc::Last(v) = b {
                    if !v.is_null() {
                        self.add(v);
                    }
                }
            }
            _ => {}
        }
    }

    fn is_empty(&self) -> bool {
        match self {
            Acc::Count(n) | Acc::Avg(_, n) => *n == 0,
            Acc::SumInt(s) => *s == 0,
            Acc::SumFloat(_) => false,
            Acc::Min(v) | Acc::Max(v) | Acc::First(v) | Acc::Last(v) => v.is_null(),
        }
    }

    fn value(&self, int_sum: bool) -> Value {
        match self {
            Acc::Count(n) => Value::Int((*n).min(i64::MAX as u64) as i64),
            Acc::SumInt(s) if int_sum => Value::Int(*s),
            Acc::SumInt(s) => Value::Float(*s as f64),
            Acc::SumFloat(s) => Value::Float(*s),
            Acc::Avg(_, 0) => Value::Null,
            Acc::Avg(s, n) => Value::Float(s / *n as f64),
            Acc::Min(v) | Acc::Max(v) | Acc::First(v) | Acc::Last(v) => v.clone(),
        }
    }
}

/// Replaces `m` by `v` when `v` is further in the `want` direction (or `m` is null).
fn keep(m: &mut Value, v: &Value, want: Ordering) {
    if m.is_null() || compare(v, m) == Some(want) {
        *m = v.clone();
    }
}

/// The bucket width of an `over D` window (D/60, whole ms, at least 1).
fn width(over_ms: u64) -> i64 {
    ((over_ms / BUCKETS as u64).max(1)).min(i64::MAX as u64) as i64
}

/// The first bucket of the window that ends with `t`'s bucket.
fn window_start(over_ms: u64, t: i64) -> i64 {
    t.div_euclid(width(over_ms)) - (BUCKETS - 1)
}

/// Whether a `sum` feature adds integers: its value is an `int` field wherever it is
/// declared (or `ts`). Otherwise sums are floats (`0.0` for nothing).
fn int_sum(plan: &Plan, f: &FeaturePlan) -> bool {
    use nudge_compiler::plan::Pseudo;
    match f.value {
        Some(Operand::Pseudo(p)) => p == Pseudo::Ts,
        Some(Operand::Field(id)) => {
            let mut types = plan
                .events
                .iter()
                .enumerate()
                .filter(|(t, _)| f.of.is_none_or(|o| o.index() == *t))
                .filter_map(|(_, e)| e.fields.iter().find(|sf| sf.id == id));
            let first = types.next();
            first.is_some_and(|sf| sf.ty == FieldType::Int)
                && types.all(|sf| sf.ty == FieldType::Int)
        }
        None => true,
    }
}

impl ProfileState {
    /// A key's profile before its first event.
    pub fn new(plan: &ProfilePlan) -> ProfileState {
        let features = plan
            .features
            .iter()
            .map(|f| match (f.agg, f.over_ms) {
                (Agg::CountDistinct, None) => Feature::AllTimeDistinct(FxHashSet::default()),
                (Agg::CountDistinct, Some(_)) => Feature::WindowDistinct(FxHashMap::default()),
                (agg, None) => Feature::AllTime(Acc::empty(agg)),
                (_, Some(_)) => Feature::Window(VecDeque::new()),
            })
            .collect();
        ProfileState { features }
    }

    /// Feature `i` at time `t` (`customer.views_1h`).
    pub fn read(&self, plan: &Plan, profile: &ProfilePlan, i: usize, t: i64) -> Value {
        let f = &profile.features[i];
        let int = f.agg == Agg::Sum && int_sum(plan, f);
        match &self.features[i] {
            Feature::AllTime(acc) => acc.value(int),
            Feature::AllTimeDistinct(set) => Value::Int(set.len() as i64),
            Feature::Window(buckets) => {
                let lo = window_start(f.over_ms.unwrap_or(0), t);
                let mut acc = Acc::empty(f.agg);
                for (_, part) in buckets.iter().filter(|(b, _)| *b >= lo) {
                    acc.merge(part);
                }
                acc.value(int)
            }
            Feature::WindowDistinct(seen) => {
                let lo = window_start(f.over_ms.unwrap_or(0), t);
                Value::Int(seen.values().filter(|b| **b >= lo).count() as i64)
            }
        }
    }

    /// What feature `i` reads for a key without a profile.
    pub fn empty(plan: &Plan, profile: &ProfilePlan, i: usize) -> Value {
        let f = &profile.features[i];
        Acc::empty(f.agg).value(f.agg == Agg::Sum && int_sum(plan, f))
    }

    /// Whether every feature is empty at time `t`.
    fn is_empty_at(&self, profile: &ProfilePlan, t: i64) -> bool {
        self.features
            .iter()
            .zip(&profile.features)
            .all(|(s, f)| match s {
                Feature::AllTime(acc) => acc.is_empty(),
                Feature::AllTimeDistinct(set) => set.is_empty(),
                Feature::Window(buckets) => buckets
                    .back()
                    .is_none_or(|(b, _)| *b < window_start(f.over_ms.unwrap_or(0), t)),
                Feature::WindowDistinct(seen) => {
                    let lo = window_start(f.over_ms.unwrap_or(0), t);
                    seen.values().all(|b| *b < lo)
                }
            })
    }
}

impl Operator for ProfileState {
    fn on_event(&mut self, cx: Cx<'_>, event: &Event) {
        let profile = &cx.plan.profiles[cx.id];
        for (state, f) in self.features.iter_mut().zip(&profile.features) {
            if f.of.is_some_and(|t| t != event.ty) {
                continue;
            }
            let pseudo;
            let v = match f.value {
                None => &Value::Null,
                Some(Operand::Field(id)) => event.field(cx.plan, id),
                Some(Operand::Pseudo(p)) => {
                    pseudo = event.pseudo(cx.plan, p);
                    &pseudo
                }
            };
            // `count(TYPE)` counts the event; every other aggregate skips nulls.
            if v.is_null() && f.value.is_some() {
                continue;
            }
            let over = f.over_ms.unwrap_or(0);
            match state {
                Feature::AllTime(acc) => acc.add(v),
                Feature::AllTimeDistinct(set) => {
                    if !set.contains(v) {
                        set.insert(v.clone());
                    }
                }
                Feature::Window(buckets) => {
                    let b = event.ts.div_euclid(width(over));
                    let lo = b - (BUCKETS - 1);
                    while buckets.front().is_some_and(|(old, _)| *old < lo) {
                        buckets.pop_front();
                    }
                    match buckets.back_mut() {
                        Some((last, acc)) if *last == b => acc.add(v),
                        _ => {
                            let mut acc = Acc::empty(f.agg);
                            acc.add(v);
                            buckets.push_back((b, acc));
                        }
                    }
                }
                Feature::WindowDistinct(seen) => {
                    let b = event.ts.div_euclid(width(over));
                    match seen.get_mut(v) {
                        Some(last) => *last = b,
                        None => {
                            seen.insert(v.clone(), b);
                            // Forget values out of the window each time the map has
                            // doubled, so it holds at most twice the window's values.
                            if seen.len() >= 8 && seen.len().is_power_of_two() {
                                let lo = b - (BUCKETS - 1);
                                seen.retain(|_, last| *last >= lo);
                            }
                        }
                    }
                }
            }
        }
    }

    /// A profile whose features are all windowed and all empty holds nothing.
    fn on_watermark(&mut self, cx: Cx<'_>, t: i64) -> bool {
        !self.is_empty_at(&cx.plan.profiles[cx.id], t)
    }

    /// When the last windowed value leaves every window; never while an all-time
    /// feature holds a value; at once (`i64::MIN`) when nothing holds a value (events
    /// whose values were all null), so that an empty profile is freed.
    fn next_due(&self, cx: Cx<'_>) -> Option<i64> {
        let profile = &cx.plan.profiles[cx.id];
        let mut due: Option<i64> = None;
        for (s, f) in self.features.iter().zip(&profile.features) {
            let w = width(f.over_ms.unwrap_or(0));
            let last = match s {
                Feature::AllTime(acc) if acc.is_empty() => continue,
                Feature::AllTimeDistinct(set) if set.is_empty() => continue,
                Feature::AllTime(_) | Feature::AllTimeDistinct(_) => return None,
                Feature::Window(buckets) => buckets.back().map(|(b, _)| *b),
                Feature::WindowDistinct(seen) => seen.values().max().copied(),
            };
            if let Some(b) = last {
                let end = b.saturating_add(BUCKETS).saturating_mul(w);
                due = Some(due.map_or(end, |d| d.max(end)));
            }
        }
        Some(due.unwrap_or(i64::MIN))
    }
}
