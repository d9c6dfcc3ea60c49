//! Lowers one pattern to its NFA graph: step fragments patched together, Thompson-style.
//!
//! The shape is SASE's and FlinkCEP's: a start state, one loop state per positive step
//! (the run is taking events of that step, with a counter `c`), an accept state and a
//! dead state. Each step is lowered to a [`Frag`]; the builder patches the open exits of
//! the chain so far (Russ Cox's "dangling arrows") to the next fragment's start, and a
//! negation hangs `kill` edges on those same exits. A finishing pass adds what depends on
//! the whole chain: `ignore` edges, the strict-contiguity kill, and the deadlines.

use crate::plan::{PatternPlan, StepId};
use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::visit::EdgeRef;
use petgraph::Direction;

/// A state of the NFA.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    /// No run yet: an event of the first step starts one.
    Start,
    /// The run is taking events of `step` (with a counter of the events taken there).
    Step {
        step: StepId,
        /// The timers that end (or complete) a run waiting here.
        deadlines: Vec<Deadline>,
    },
    /// The run is complete: a match.
    Accept,
    /// The run is discarded.
    Dead,
}

/// A timer on a state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deadline {
    /// While under the minimum: dies at `prev + ms` (the step's own `within`; `prev` is
    /// the last event taken before the step began).
    BelowMin(u64),
    /// At the minimum: dies at `last + ms`, the `within` of the nearest required `step`.
    AtMin { ms: u64, step: StepId },
    /// The pattern's `window`: dies at `first + ms`.
    Window(u64),
    /// A trailing negation: completes at `last + ms`; `None`: at the window's end.
    Completes(Option<u64>),
}

/// A transition of the NFA.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Edge {
    /// Take an event of `step`: the run's first event (from the start state), or one
    /// more on a growing step's loop (while its counter is under the maximum).
    Take { step: StepId },
    /// Once the source step has its minimum: take an event of `step` as its first.
    Proceed { step: StepId },
    /// Once the source step has its minimum, the run is complete: at once, or at the
    /// trailing negation's deadline when `timed`.
    Complete { timed: bool },
    /// An event the run passes over (skip-till-next-match); only while the step is under
    /// its minimum when `below_min`.
    Ignore { below_min: bool },
    /// The run dies: on an event of negation `guard` (an index into
    /// [`PatternPlan::guards`]), or on any event it does not take (`then next`) if `None`.
    Kill { guard: Option<u32> },
}

impl Edge {
    /// The edge's kind as exported: `take`, `proceed`, `ignore` or `kill`.
    pub fn kind(&self) -> &'static str {
        match self {
            Edge::Take { .. } => "take",
            Edge::Proceed { .. } | Edge::Complete { .. } => "proceed",
            Edge::Ignore { .. } => "ignore",
            Edge::Kill { .. } => "kill",
        }
    }

    /// Export order within one state: takes, proceeds, completion, ignores, kills.
    pub(crate) fn rank(&self) -> u8 {
        match self {
            Edge::Take { .. } => 0,
            Edge::Proceed { .. } => 1,
            Edge::Complete { .. } => 2,
            Edge::Ignore { .. } => 3,
            Edge::Kill { .. } => 4,
        }
    }
}

/// The NFA of one pattern.
#[derive(Debug, Clone)]
pub struct Nfa {
    pub graph: DiGraph<Node, Edge>,
    pub start: NodeIndex,
    /// The state of each positive step; `StepId` indexes it.
    pub steps: Vec<NodeIndex>,
    pub accept: NodeIndex,
    /// Present when some edge kills a run.
    pub dead: Option<NodeIndex>,
}

impl Nfa {
    /// The state's outgoing edges, in export order (by kind, then target).
    pub fn out_edges(&self, node: NodeIndex) -> Vec<(Edge, NodeIndex)> {
        let mut out: Vec<_> = self
            .graph
            .edges_directed(node, Direction::Outgoing)
            .map(|e| (*e.weight(), e.target(), e.id()))
            .collect();
        out.sort_by_key(|(e, t, id)| (e.rank(), *t, *id));
        out.into_iter().map(|(e, t, _)| (e, t)).collect()
    }

    /// The deadlines of a step's state.
    pub fn deadlines(&self, step: StepId) -> &[Deadline] {
        match &self.graph[self.steps[step.index()]] {
            Node::Step { deadlines, .. } => deadlines,
            _ => &[],
        }
    }

    /// Whether the state can complete the run (every later step is optional).
    pub fn accepting(&self, node: NodeIndex) -> bool {
        self.out_edges(node)
            .iter()
            .any(|(e, _)| matches!(e, Edge::Complete { .. }))
    }

    /// The step a state stands for, if it is a step state.
    pub fn step_of(&self, node: NodeIndex) -> Option<StepId> {
        match self.graph[node] {
            Node::Step { step, .. } => Some(step),
            _ => None,
        }
    }
}

/// A lowered step: where the chain enters it and where it leaves once it has its
/// minimum (`None` when it can never reach its minimum).
#[derive(Debug, Clone, Copy)]
struct Frag {
    start: NodeIndex,
    end: Option<NodeIndex>,
    /// `min == 0`: the chain may pass it by.
    skippable: bool,
    /// The step can take at least one event (`max > 0`).
    enterable: bool,
}

/// One item of a pattern's chain, in source order.
#[derive(Debug, Clone, Copy)]
enum Piece {
    Step(StepId),
    Not(u32),
    End,
}

/// The chain of a pattern: negations sit before the step they stand before.
fn pieces(p: &PatternPlan) -> Vec<Piece> {
    let mut out = Vec::new();
    for k in 0..=p.steps.len() {
        for (g, guard) in p.guards.iter().enumerate() {
            if guard.before.index() == k {
                out.push(Piece::Not(g as u32));
            }
        }
        if k < p.steps.len() {
            out.push(Piece::Step(StepId(k as u32)));
        }
    }
    out.push(Piece::End);
    out
}

/// Builds the NFA of a pattern.
pub fn build(pattern: &PatternPlan) -> Nfa {
    let mut graph = DiGraph::new();
    let start = graph.add_node(Node::Start);
    let mut b = Builder {
        p: pattern,
        graph,
        start,
        steps: Vec::new(),
        dead: None,
        accept: None,
    };
    let mut exits = vec![start];
    for piece in pieces(pattern) {
        exits = b.c(piece, exits);
    }
    b.finish();
    Nfa {
        graph: b.graph,
        start,
        steps: b.steps,
        accept: b.accept.expect("the chain ends with Piece::End"),
        dead: b.dead,
    }
}

struct Builder<'p> {
    p: &'p PatternPlan,
    graph: DiGraph<Node, Edge>,
    start: NodeIndex,
    steps: Vec<NodeIndex>,
    dead: Option<NodeIndex>,
    accept: Option<NodeIndex>,
}

impl Builder<'_> {
    /// Lowers one piece, given the open exits of the chain so far; returns the new exits.
    fn c(&mut self, piece: Piece, exits: Vec<NodeIndex>) -> Vec<NodeIndex> {
        match piece {
            Piece::Step(i) => {
                let frag = self.c_step(i);
                self.patch(exits, frag)
            }
            Piece::Not(g) => {
                let watchers: Vec<NodeIndex> =
                    exits.iter().copied().filter(|&e| e != self.start).collect();
                for e in watchers {
                    let dead = self.dead();
                    self.graph.add_edge(e, dead, Edge::Kill { guard: Some(g) });
                }
                exits
            }
            Piece::End => {
                let accept = self.graph.add_node(Node::Accept);
                self.accept = Some(accept);
                let timed = self.p.trailing.is_some();
                for &e in exits.iter().filter(|&&e| e != self.start) {
                    self.graph.add_edge(e, accept, Edge::Complete { timed });
                }
                Vec::new()
            }
        }
    }

    /// A step's loop state, with its `take` self-edge when it can grow.
    fn c_step(&mut self, step: StepId) -> Frag {
        let s = &self.p.steps[step.index()];
        let node = self.graph.add_node(Node::Step {
            step,
            deadlines: Vec::new(),
        });
        self.steps.push(node);
        let enterable = s.max != Some(0);
        let reaches_min = !matches!(s.max, Some(m) if m < s.min.max(1));
        let grows = !matches!(s.max, Some(m) if m <= 1);
        if enterable && grows {
            self.graph.add_edge(node, node, Edge::Take { step });
        }
        Frag {
            start: node,
            end: reaches_min.then_some(node),
            skippable: s.min == 0,
            enterable,
        }
    }

    /// Points every open exit at `frag`; returns the exits after it.
    fn patch(&mut self, exits: Vec<NodeIndex>, frag: Frag) -> Vec<NodeIndex> {
        let step = self.step_of(frag.start);
        if frag.enterable {
            for &e in &exits {
                let edge = if e == self.start {
                    Edge::Take { step }
                } else {
                    Edge::Proceed { step }
                };
                self.graph.add_edge(e, frag.start, edge);
            }
        }
        let mut next = if frag.skippable { exits } else { Vec::new() };
        next.extend(frag.end.filter(|_| frag.enterable));
        next
    }

    fn step_of(&self, node: NodeIndex) -> StepId {
        match self.graph[node] {
            Node::Step { step, .. } => step,
            _ => unreachable!("fragments start at step states"),
        }
    }

    fn dead(&mut self) -> NodeIndex {
        *self
            .dead
            .get_or_insert_with(|| self.graph.add_node(Node::Dead))
    }

    /// Adds `ignore` edges, strict-contiguity kills and deadlines, which depend on
    /// where each state may advance.
    fn finish(&mut self) {
        for i in 0..self.steps.len() {
            let node = self.steps[i];
            let step = &self.p.steps[i];
            let mut advance: Vec<StepId> = self
                .graph
                .edges_directed(node, Direction::Outgoing)
                .filter_map(|e| match e.weight() {
                    Edge::Proceed { step } => Some(*step),
                    _ => None,
                })
                .collect();
            advance.sort();
            let accepting = self
                .graph
                .edges_directed(node, Direction::Outgoing)
                .any(|e| matches!(e.weight(), Edge::Complete { .. }));
            // A run that completes as soon as it has its minimum never waits here at it.
            let immediate = accepting && self.p.trailing.is_none();
            let strict =
                !advance.is_empty() && advance.iter().all(|a| self.p.steps[a.index()].strict);
            if step.min > 1 && (strict || immediate) {
                self.graph
                    .add_edge(node, node, Edge::Ignore { below_min: true });
            }
            if !immediate && !strict {
                self.graph
                    .add_edge(node, node, Edge::Ignore { below_min: false });
            }
            if !immediate && strict {
                let dead = self.dead();
                self.graph.add_edge(node, dead, Edge::Kill { guard: None });
            }
            let deadlines = self.deadlines(StepId(i as u32), &advance, accepting);
            if let Node::Step { deadlines: d, .. } = &mut self.graph[node] {
                *d = deadlines;
            }
        }
    }

    fn deadlines(&self, step: StepId, advance: &[StepId], accepting: bool) -> Vec<Deadline> {
        let p = self.p;
        let mut out = Vec::new();
        if let Some(ms) = p.steps[step.index()].within_ms {
            out.push(Deadline::BelowMin(ms));
        }
        if !accepting {
            let required = advance.iter().find(|a| p.steps[a.index()].min >= 1);
            if let Some(&a) = required {
                if let Some(ms) = p.steps[a.index()].within_ms {
                    out.push(Deadline::AtMin { ms, step: a });
                }
            }
        }
        if let Some(ms) = p.window_ms {
            out.push(Deadline::Window(ms));
        }
        if accepting {
            if let Some(t) = &p.trailing {
                out.push(Deadline::Completes(t.within_ms));
            }
        }
        out
    }
}
