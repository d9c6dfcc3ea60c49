//! The NFA graph: its edges, deadlines, and the steps that can never match.

use super::{ids, pattern};
use crate::nfa::graph::{build, Deadline, Edge, Node};
use crate::nfa::never_match;
use crate::plan::StepId;

fn edges_of(chain: &str, step: u32) -> Vec<Edge> {
    let nfa = build(&pattern(chain));
    nfa.out_edges(nfa.steps[step as usize])
        .into_iter()
        .map(|(e, _)| e)
        .collect()
}

#[test]
fn one_state_per_step_and_a_start_and_accept() {
    let nfa = build(&pattern("A then B+ then C"));
    assert_eq!(nfa.steps.len(), 3);
    assert_eq!(nfa.graph[nfa.start], Node::Start);
    assert_eq!(nfa.graph[nfa.accept], Node::Accept);
    assert!(
        nfa.dead.is_none(),
        "nothing kills a run of A then B+ then C"
    );
    let start = nfa.out_edges(nfa.start);
    assert_eq!(start, vec![(Edge::Take { step: StepId(0) }, nfa.steps[0])]);
}

#[test]
fn growing_steps_loop_and_skip_till_next_match_ignores() {
    assert_eq!(
        edges_of("A then B+ then C", 1),
        vec![
            Edge::Take { step: StepId(1) },
            Edge::Proceed { step: StepId(2) },
            Edge::Ignore { below_min: false },
        ]
    );
    assert_eq!(
        edges_of("A then B then C", 0),
        vec![
            Edge::Proceed { step: StepId(1) },
            Edge::Ignore { below_min: false }
        ]
    );
}

#[test]
fn strict_next_has_no_ignore_at_the_minimum() {
    assert_eq!(
        edges_of("A+ then next B", 0),
        vec![
            Edge::Take { step: StepId(0) },
            Edge::Proceed { step: StepId(1) },
            Edge::Kill { guard: None },
        ]
    );
    let e = edges_of("A{3} then next B", 0);
    assert!(e.contains(&Edge::Ignore { below_min: true }));
    assert!(!e.contains(&Edge::Ignore { below_min: false }));
}

#[test]
fn optional_steps_can_be_proceeded_past() {
    let e = edges_of("A then B? then C", 0);
    assert!(e.contains(&Edge::Proceed { step: StepId(1) }));
    assert!(e.contains(&Edge::Proceed { step: StepId(2) }));
}

#[test]
fn negations_kill_from_the_states_that_watch_them() {
    let nfa = build(&pattern("A{2} then not X then C"));
    let dead = nfa.dead.expect("a dead state");
    let kills: Vec<_> = nfa
        .out_edges(nfa.steps[0])
        .into_iter()
        .filter(|(e, _)| matches!(e, Edge::Kill { .. }))
        .collect();
    assert_eq!(kills, vec![(Edge::Kill { guard: Some(0) }, dead)]);
}

#[test]
fn trailing_negation_completes_at_its_deadline() {
    let nfa = build(&pattern("A then B then not X within 15m"));
    let b = nfa.out_edges(nfa.steps[1]);
    assert!(b.contains(&(Edge::Complete { timed: true }, nfa.accept)));
    assert_eq!(
        nfa.deadlines(StepId(1)),
        &[Deadline::Completes(Some(900_000))]
    );
    let nfa = build(&pattern("A then not X; window 1h"));
    assert_eq!(
        nfa.deadlines(StepId(0)),
        &[Deadline::Window(3_600_000), Deadline::Completes(None)]
    );
}

#[test]
fn deadlines_of_within_and_window() {
    let nfa = build(&pattern(
        "A then B{2} within 5m then C within 1m; window 1h",
    ));
    assert_eq!(
        nfa.deadlines(StepId(0)),
        &[
            Deadline::AtMin {
                ms: 300_000,
                step: StepId(1)
            },
            Deadline::Window(3_600_000)
        ]
    );
    assert_eq!(
        nfa.deadlines(StepId(1)),
        &[
            Deadline::BelowMin(300_000),
            Deadline::AtMin {
                ms: 60_000,
                step: StepId(2)
            },
            Deadline::Window(3_600_000)
        ]
    );
}

#[test]
fn every_step_of_a_plain_chain_can_match() {
    for chain in [
        "A then B",
        "A+ then next B",
        "A then B? then C",
        "A{2} then not B then C",
        "A then B* then not X within 5m",
        "A then B+",
    ] {
        assert_eq!(never_match(&pattern(chain)), ids(&[]), "{chain}");
    }
}

#[test]
fn a_final_optional_step_can_never_match() {
    assert_eq!(never_match(&pattern("A then B?")), ids(&[1]));
    assert_eq!(never_match(&pattern("A then B* then C?")), ids(&[1, 2]));
}

#[test]
fn a_step_that_takes_nothing_can_never_match() {
    assert_eq!(never_match(&pattern("A then B{0,0} then C")), ids(&[1]));
    // No run ever completes, so no step is ever part of a match.
    assert_eq!(
        never_match(&pattern("A then B{3,2} then C")),
        ids(&[0, 1, 2])
    );
}
