//! The state table of LANGUAGE.md §4.1, case by case and against the spelled-out rules.

use super::{ids, pattern};
use crate::nfa::lower;
use crate::plan::{PatternPlan, StatePlan, StepId};
use proptest::prelude::*;

fn row(p: &PatternPlan, i: usize) -> StatePlan {
    lower(p)[i].clone()
}

#[test]
fn a_then_b() {
    let p = pattern("A then B");
    let s = lower(&p);
    assert_eq!(s.len(), 2);
    assert_eq!(s[0].step, StepId(0));
    assert_eq!(s[0].advance, ids(&[1]));
    assert!(!s[0].accepting && !s[0].strict);
    assert!(s[0].guards.is_empty());
    assert_eq!(s[1].advance, ids(&[]));
    assert!(s[1].accepting && !s[1].strict);
}

#[test]
fn a_plus_then_next_b() {
    let p = pattern("A+ then next B");
    let a = row(&p, 0);
    assert_eq!(a.advance, ids(&[1]));
    assert!(
        a.strict,
        "at its minimum the run dies on anything but A or B"
    );
    assert!(!a.accepting);
    assert!(!row(&p, 1).strict);
}

#[test]
fn optional_step_in_the_middle() {
    let p = pattern("A then B? then C");
    assert_eq!(row(&p, 0).advance, ids(&[1, 2]), "nearest first");
    assert_eq!(row(&p, 1).advance, ids(&[2]));
    assert!(!row(&p, 0).accepting);
    assert!(row(&p, 2).accepting);
}

#[test]
fn strict_only_when_every_target_is_strict() {
    let p = pattern("A then B? then next C");
    assert!(!row(&p, 0).strict);
    assert!(row(&p, 1).strict);
    let p = pattern("A then next B? then next C");
    assert!(row(&p, 0).strict);
}

#[test]
fn middle_negation_guards() {
    let p = pattern("A{2} then not B then C");
    let a = row(&p, 0);
    assert_eq!(a.guards, vec![0]);
    assert_eq!(a.advance, ids(&[1]));
    assert!(row(&p, 1).guards.is_empty());
}

#[test]
fn negations_around_an_optional_step() {
    let p = pattern("A then not X then B? then not Y then C");
    assert_eq!(
        row(&p, 0).guards,
        vec![0, 1],
        "A watches X and, skipping B, Y"
    );
    assert_eq!(row(&p, 1).guards, vec![1]);
    assert!(row(&p, 2).guards.is_empty());
}

#[test]
fn trailing_negation() {
    let p = pattern("A then B then not X within 15m");
    let b = row(&p, 1);
    assert!(b.accepting);
    assert_eq!(b.guards, vec![0]);
    assert!(!b.strict);
    assert!(row(&p, 0).guards.is_empty());
}

#[test]
fn trailing_negation_after_an_optional_step() {
    let p = pattern("A then B* then not X within 15m");
    assert!(row(&p, 0).accepting);
    assert_eq!(row(&p, 0).guards, vec![0]);
    assert_eq!(row(&p, 0).advance, ids(&[1]));
    assert_eq!(row(&p, 1).guards, vec![0]);
}

#[test]
fn accepting_after_a_when_the_rest_is_optional() {
    let p = pattern("A then B*");
    let a = row(&p, 0);
    assert!(a.accepting);
    assert_eq!(a.advance, ids(&[1]));
    assert_eq!(a.deadline_at_min, None);
}

#[test]
fn within_deadlines() {
    let p = pattern("A then B{3} within 5m then C? within 1m then A within 10m; window 1h");
    let s = lower(&p);
    assert_eq!(s[0].deadline_below_min, None);
    assert_eq!(
        s[0].deadline_at_min,
        Some(300_000),
        "B is the nearest required step"
    );
    assert_eq!(s[1].deadline_below_min, Some(300_000));
    assert_eq!(s[1].advance, ids(&[2, 3]));
    assert_eq!(
        s[1].deadline_at_min,
        Some(600_000),
        "C is optional: the last step's within"
    );
    assert_eq!(s[2].deadline_at_min, Some(600_000));
    assert_eq!(s[3].deadline_at_min, None, "accepting");
}

#[test]
fn lower_plan_fills_every_pattern() {
    let mut plan = super::plan();
    plan.patterns = vec![pattern("A then B"), pattern("A then C+")];
    crate::nfa::lower_plan(&mut plan);
    assert_eq!(plan.patterns[0].states.len(), 2);
    assert_eq!(plan.patterns[1].states.len(), 2);
}

/// The rules of the brief, spelled out independently of the graph.
fn reference(p: &PatternPlan) -> Vec<StatePlan> {
    let n = p.steps.len();
    (0..n)
        .map(|i| {
            let mut advance = Vec::new();
            for j in i + 1..n {
                advance.push(StepId(j as u32));
                if p.steps[j].min >= 1 {
                    break;
                }
            }
            let accepting = p.steps[i + 1..].iter().all(|s| s.min == 0);
            let last = advance.last().map_or(i, |a| a.index());
            let guards = (p.guards.iter().enumerate())
                .filter(|(_, g)| {
                    let b = g.before.index();
                    (b > i && b <= last && b < n) || (accepting && b == n)
                })
                .map(|(g, _)| g as u32)
                .collect();
            let strict = !advance.is_empty() && advance.iter().all(|a| p.steps[a.index()].strict);
            let deadline_at_min = if accepting {
                None
            } else {
                (advance.iter())
                    .find(|a| p.steps[a.index()].min >= 1)
                    .and_then(|a| p.steps[a.index()].within_ms)
            };
            StatePlan {
                step: StepId(i as u32),
                advance,
                guards,
                accepting,
                strict,
                deadline_below_min: p.steps[i].within_ms,
                deadline_at_min,
            }
        })
        .collect()
}

fn fmt_state(s: &StatePlan) -> String {
    format!("{s:?}")
}

prop_compose! {
    fn part(first: bool)(
        kind in 0..8u32,
        min in 0..3u32,
        extra in 0..3u32,
        unbounded in any::<bool>(),
        next in any::<bool>(),
        within in prop::option::of(1..4u64),
    ) -> String {
        let min = if first { min.max(1) } else { min };
        let quant = if unbounded { format!("{{{min},}}") } else { format!("{{{min},{}}}", (min + extra).max(1)) };
        let within = within.filter(|_| !first).map(|w| format!(" within {w}m")).unwrap_or_default();
        if kind == 0 && !first {
            "not X".to_string()
        } else {
            format!("{}A{quant}{within}", if next && !first { "next " } else { "" })
        }
    }
}

fn chain() -> impl Strategy<Value = String> {
    (
        part(true),
        prop::collection::vec(part(false), 0..5),
        prop::option::of(1..3u64),
    )
        .prop_map(|(first, rest, trailing)| {
            let mut parts = vec![first];
            parts.extend(rest);
            if let Some(t) = trailing {
                parts.push(format!("not Y within {t}m"));
            }
            parts.join(" then ")
        })
}

proptest! {
    #[test]
    fn graph_agrees_with_the_rules(c in chain()) {
        let p = pattern(&c);
        let got: Vec<String> = lower(&p).iter().map(fmt_state).collect();
        let want: Vec<String> = reference(&p).iter().map(fmt_state).collect();
        prop_assert_eq!(got, want, "{}", c);
    }
}
