//! Event time across inputs: per-input watermarks, late events, and release in
//! processing order (LANGUAGE.md §9).
//!
//! Each input's watermark is the greatest ts it has delivered minus the lateness
//! (+infinity once it ends); the program's watermark is the minimum over inputs. An event
//! below its own input's watermark on arrival is late. Accepted events wait in a buffer
//! and are released in (ts, input, offset) order once their ts is below the program's
//! watermark, so that no later arrival can precede them: the order never depends on how
//! the inputs were read or batched.

use crate::event::Event;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::Arc;

/// Watermark "not started": no event seen on some input yet.
pub const MIN_WATERMARK: i64 = i64::MIN;
/// Watermark once every input has ended.
pub const MAX_WATERMARK: i64 = i64::MAX;

/// The clock of one input.
#[derive(Debug, Clone, Copy)]
struct InputClock {
    max_ts: Option<i64>,
    ended: bool,
    /// Extra advance in live mode (the `idle` rule).
    idle_advance: i64,
    /// Whether it counts in the program's watermark (live mode: a Kafka partition this
    /// process owns, and that has delivered an event or is not idle).
    active: bool,
}

impl InputClock {
    fn watermark(&self, lateness: i64) -> i64 {
        if self.ended {
            return MAX_WATERMARK;
        }
        match self.max_ts {
            None => MIN_WATERMARK,
            Some(t) => t.saturating_sub(lateness).saturating_add(self.idle_advance),
        }
    }
}

/// A waiting event with its order key inline, so that the heap compares without
/// following the pointer; ordered as events are processed: (ts, input, offset).
pub(crate) struct Pending((i64, u32, u64), Arc<Event>);

impl Pending {
    pub(crate) fn new(event: Arc<Event>) -> Pending {
        Pending((event.ts, event.input, event.offset), event)
    }

    pub(crate) fn ts(&self) -> i64 {
        self.0 .0
    }

    pub(crate) fn into_event(self) -> Arc<Event> {
        self.1
    }

    fn order(&self) -> (i64, u32, u64) {
        self.0
    }
}

impl PartialEq for Pending {
    fn eq(&self, other: &Self) -> bool {
        self.order() == other.order()
    }
}
impl Eq for Pending {}
impl PartialOrd for Pending {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Pending {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.order().cmp(&other.order())
    }
}

/// The reorder stage in front of the engines.
pub struct Reorder {
    lateness: i64,
    inputs: Vec<InputClock>,
    buffer: BinaryHeap<Reverse<Pending>>,
}

impl Reorder {
    /// A stage for `inputs` inputs with `lateness_ms` of bounded out-of-orderness.
    pub fn new(inputs: usize, lateness_ms: u64) -> Reorder {
        Reorder {
            lateness: lateness_ms.min(i64::MAX as u64) as i64,
            inputs: vec![
                InputClock {
                    max_ts: None,
                    ended: false,
                    idle_advance: 0,
                    active: true,
                };
                inputs
            ],
            buffer: BinaryHeap::new(),
        }
    }

    /// Whether an event with this ts from `input` would be late now.
    pub fn is_late(&self, input: u32, ts: i64) -> bool {
        ts < self.inputs[input as usize].watermark(self.lateness)
    }

    /// Accepts an event, or returns it back when it is late (it then changes nothing).
    pub fn offer(&mut self, event: Arc<Event>) -> Result<(), Arc<Event>> {
        if self.is_late(event.input, event.ts) {
            return Err(event);
        }
        let clock = &mut self.inputs[event.input as usize];
        clock.max_ts = Some(clock.max_ts.map_or(event.ts, |m| m.max(event.ts)));
        clock.idle_advance = 0;
        self.buffer.push(Reverse(Pending::new(event)));
        Ok(())
    }

    /// Marks an input as ended (bounded input exhausted).
    pub fn end_input(&mut self, input: u32) {
        self.inputs[input as usize].ended = true;
    }

    /// Live mode: moves an idle input's watermark forward by `ms` more.
    pub fn idle_advance(&mut self, input: u32, ms: i64) {
        let clock = &mut self.inputs[input as usize];
        clock.idle_advance = clock.idle_advance.saturating_add(ms);
    }

    /// Live mode: whether `input` counts in the program's watermark. An inactive input
    /// still has its own watermark (its late events are still late).
    pub fn set_active(&mut self, input: u32, active: bool) {
        self.inputs[input as usize].active = active;
    }

    /// Whether any input counts in the program's watermark.
    pub fn any_active(&self) -> bool {
        self.inputs.iter().any(|c| c.active)
    }

    /// The input's own watermark.
    pub fn input_watermark(&self, input: u32) -> i64 {
        self.inputs[input as usize].watermark(self.lateness)
    }

    /// The program's watermark: the minimum over the active inputs.
    pub fn watermark(&self) -> i64 {
        self.inputs
            .iter()
            .filter(|c| c.active)
            .map(|c| c.watermark(self.lateness))
            .min()
            .unwrap_or(MAX_WATERMARK)
    }

    /// The next event that can be processed (ts below the watermark), in order.
    pub fn pop_ready(&mut self, watermark: i64) -> Option<Arc<Event>> {
        match self.buffer.peek() {
            Some(Reverse(p)) if p.ts() < watermark || watermark == MAX_WATERMARK => {
                self.buffer.pop().map(|Reverse(p)| p.1)
            }
            _ => None,
        }
    }

    /// Live mode: the events still waiting, per input (in no particular order), in one
    /// pass over the buffer.
    pub fn buffered_by_input(&self) -> Vec<Vec<Arc<Event>>> {
        let mut by_input = vec![Vec::new(); self.inputs.len()];
        for Reverse(p) in &self.buffer {
            by_input[p.0 .1 as usize].push(p.1.clone());
        }
        by_input
    }

    /// Live mode: removes the waiting events of `inputs` (a partition moving away) and
    /// forgets their clocks.
    pub fn remove_inputs(&mut self, inputs: &[u32]) {
        self.buffer.retain(|Reverse(p)| !inputs.contains(&p.0 .1));
        for &i in inputs {
            let clock = &mut self.inputs[i as usize];
            clock.max_ts = None;
            clock.idle_advance = 0;
        }
    }

    /// Live mode: takes every waiting event out (a reload that changes the event
    /// declarations decodes them again).
    pub fn take_all(&mut self) -> Vec<Arc<Event>> {
        std::mem::take(&mut self.buffer)
            .into_iter()
            .map(|Reverse(p)| p.1)
            .collect()
    }

    /// Live mode: a new program's lateness (a reload).
    pub fn set_lateness(&mut self, lateness_ms: u64) {
        self.lateness = lateness_ms.min(i64::MAX as u64) as i64;
    }

    /// Live mode: the greatest ts `input` has delivered (what its watermark is made of).
    pub fn max_ts(&self, input: u32) -> Option<i64> {
        self.inputs[input as usize].max_ts
    }

    /// Live mode: gives `input` the clock of a restored checkpoint.
    pub fn restore_max_ts(&mut self, input: u32, max_ts: Option<i64>) {
        let clock = &mut self.inputs[input as usize];
        clock.max_ts = max_ts;
        clock.idle_advance = 0;
    }

    /// Live mode: puts a restored waiting event back, without the lateness check (it
    /// was accepted before).
    pub fn restore_event(&mut self, event: Arc<Event>) {
        self.buffer.push(Reverse(Pending::new(event)));
    }

    /// Events waiting in the buffer.
    pub fn buffered(&self) -> usize {
        self.buffer.len()
    }
}
