//! `trending` (LANGUAGE.md §7): the top items of the whole shop over a sliding window.
//!
//! Windows end at every multiple of `every` since the epoch; the window ending at b holds
//! the events with `b - over <= ts < b`, and an item's score is the sum of its events'
//! weights. State is one bucket per `every` period (item → summed weight), kept only for
//! the `over / every` periods a future window can still cover, so memory follows the
//! distinct items per period, not the events. At each boundary the window is summed from
//! its buckets (in bucket order, so float sums are exact to reproduce) and published as a
//! [`TrendingWindow`]; with `emit`, a non-empty window also writes
//! `{"rule": NAME, "ts": b, "items": [{"id": ..., "score": ...}, ...]}`.
//!
//! Scores are integers when every weight of the declaration is a whole number (the
//! default weight 1 included), floats otherwise.

use super::global::{Shared, Timeline};
use super::{ranked, top_k, Cx, Operator};
use crate::engine::Output;
use crate::event::Event;
use crate::value::{write_json_str, Value};
use nudge_compiler::plan::{Plan, TrendingPlan};
use rustc_hash::FxHashMap;
use std::collections::VecDeque;
use std::fmt::Write as _;
use std::sync::{Arc, Mutex};

/// One published window: every item's score, and the top list.
#[derive(Debug, Default)]
pub struct TrendingWindow {
    /// The window's end b (it holds `b - over <= ts < b`).
    pub end: i64,
    scores: FxHashMap<Value, f64>,
    /// The top n ids with score > 0, best first (`hot.items`), built once.
    items: Value,
    /// Scores of `items`, in the same order.
    top: Vec<f64>,
    int: bool,
}

impl TrendingWindow {
    /// `hot.items`: the top ids, best first.
    pub fn items(&self) -> Value {
        self.items.clone()
    }

    /// `hot.score(x)`: x's score in this window, also outside the top n; 0 when absent.
    pub fn score(&self, item: &Value) -> Value {
        score_value(self.scores.get(item).copied().unwrap_or(0.0), self.int)
    }

    /// The window's list as written by `emit` (`[{"id": .., "score": ..}, ..]`).
    fn write_items(&self, out: &mut String, plan: &Plan) {
        out.push('[');
        let ids = match &self.items {
            Value::List(ids) => &ids[..],
            _ => &[],
        };
        for (i, (id, s)) in ids.iter().zip(&self.top).enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            out.push_str("{\"id\": ");
            id.write_json(out, plan);
            out.push_str(", \"score\": ");
            score_value(*s, self.int).write_json(out, plan);
            out.push('}');
        }
        out.push(']');
    }
}

/// A score as a value: an integer under whole-number weights.
pub fn score_value(s: f64, int: bool) -> Value {
    if int {
        Value::Int(s as i64)
    } else {
        Value::Float(s)
    }
}

/// The running state of one `trending` declaration.
pub struct Trending {
    /// Per `every` period (bucket number = ts / every): item → summed weight, oldest
    /// first.
    buckets: VecDeque<(i64, FxHashMap<Value, f64>)>,
    /// The last boundary whose window is published (`i64::MIN`: none yet).
    done: i64,
    /// Whether the last published window was empty (so the next empty one is skipped).
    last_empty: bool,
    /// Per event type: its weight, if it is one of `of`.
    weights: Vec<Option<f64>>,
    int: bool,
    timeline: Shared<TrendingWindow>,
    outputs: Vec<Output>,
}

impl Trending {
    pub fn new(plan: &Plan, id: usize) -> Trending {
        let p = &plan.trendings[id];
        let mut weights = vec![None; plan.events.len()];
        for &(t, w) in &p.of {
            weights[t.index()] = Some(w);
        }
        Trending {
            buckets: VecDeque::new(),
            done: i64::MIN,
            last_empty: true,
            weights,
            int: p.of.iter().all(|&(_, w)| w.fract() == 0.0),
            timeline: Arc::new(Mutex::new(Timeline::default())),
            outputs: Vec::new(),
        }
    }

    /// The timeline its windows are published to.
    pub fn timeline(&self) -> Shared<TrendingWindow> {
        self.timeline.clone()
    }

    /// Moves the `emit` records written so far into `out`.
    pub fn drain_outputs_into(&mut self, out: &mut Vec<Output>) {
        out.append(&mut self.outputs);
    }

    /// Publishes the windows of every boundary in (done, t].
    fn close_windows(&mut self, cx: Cx<'_>, t: i64) {
        let p = &cx.plan.trendings[cx.id];
        let every = period(p.every_ms);
        let target = t.div_euclid(every).saturating_mul(every);
        while self.done < target {
            if self.buckets.is_empty() {
                // Nothing can enter a window before the next event: one empty window
                // ends the last list, then time jumps.
                if !self.last_empty {
                    self.publish(cx, self.done + every, FxHashMap::default());
                }
                self.done = target;
                return;
            }
            // `done` is a real boundary here: an event was bucketed after advancing.
            let b = self.done + every;
            let periods = (p.over_ms / p.every_ms.max(1)).max(1) as i64;
            let lo = b / every - periods;
            while self.buckets.front().is_some_and(|(n, _)| *n < lo) {
                self.buckets.pop_front();
            }
            let mut scores: FxHashMap<Value, f64> = FxHashMap::default();
            for (_, bucket) in &self.buckets {
                for (item, w) in bucket {
                    *scores.entry(item.clone()).or_insert(0.0) += *w;
                }
            }
            self.publish(cx, b, scores);
            self.done = b;
        }
    }

    fn publish(&mut self, cx: Cx<'_>, b: i64, scores: FxHashMap<Value, f64>) {
        let p = &cx.plan.trendings[cx.id];
        let mut top: Vec<(Value, f64)> = scores
            .iter()
            .filter(|(_, s)| **s > 0.0)
            .map(|(v, s)| (v.clone(), *s))
            .collect();
        top_k(&mut top, p.top as usize, ranked);
        self.last_empty = top.is_empty();
        let (ids, top): (Vec<Value>, Vec<f64>) = top.into_iter().unzip();
        let window = TrendingWindow {
            end: b,
            scores,
            items: Value::list(ids),
            top,
            int: self.int,
        };
        if let (Some(into), false) = (&p.emit, self.last_empty) {
            self.outputs
                .push(emit_record(cx.plan, p, &window, into.as_deref()));
        }
        super::global::lock(&self.timeline).publish(b, Arc::new(window));
    }
}

fn period(ms: u64) -> i64 {
    ms.clamp(1, i64::MAX as u64) as i64
}

/// `{"rule": NAME, "ts": b, "items": [...]}`, ordered by `ts` then the declaration's
/// place (§9.1).
fn emit_record(plan: &Plan, p: &TrendingPlan, w: &TrendingWindow, into: Option<&str>) -> Output {
    let mut json = String::with_capacity(64 + 48 * w.top.len());
    json.push_str("{\"rule\": ");
    write_json_str(&mut json, &p.name);
    let _ = write!(json, ", \"ts\": {}, \"items\": ", w.end);
    w.write_items(&mut json, plan);
    json.push('}');
    Output {
        ts: w.end,
        place: p.place,
        key: String::new(),
        seq: 0,
        into: into.map(Arc::from),
        id: format!("{}::{}", p.name, w.end),
        json,
        ..Output::default()
    }
}

impl Operator for Trending {
    fn on_event(&mut self, cx: Cx<'_>, event: &Event) {
        // Every boundary ≤ ts closes before the event counts (its windows end at or
        // before its ts, so they cannot hold it).
        self.close_windows(cx, event.ts);
        let Some(w) = self.weights[event.ty.index()] else {
            return;
        };
        let p = &cx.plan.trendings[cx.id];
        let item = event.field(cx.plan, p.by);
        if item.is_null() {
            return;
        }
        let n = event.ts.div_euclid(period(p.every_ms));
        if self.buckets.back().is_none_or(|(last, _)| *last != n) {
            self.buckets.push_back((n, FxHashMap::default()));
        }
        let bucket = &mut self.buckets.back_mut().expect("pushed").1;
        match bucket.get_mut(item) {
            Some(s) => *s += w,
            None => {
                bucket.insert(item.clone(), w);
            }
        }
    }

    fn on_watermark(&mut self, cx: Cx<'_>, t: i64) -> bool {
        self.close_windows(cx, t);
        true
    }
}
