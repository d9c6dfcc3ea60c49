//! Model calls (LANGUAGE.md §6 `model`): made outside the engine, resolved before the
//! record is written.
//!
//! A model call is the whole value of an emit field (`ranked: ranker({...})`, E411). When
//! a match completes, the engine evaluates the argument (operators as of the completion
//! time) and emits an [`Output`] that carries a [`PendingCall`] instead of that field's
//! value. The runner hands each pending call to a [`ModelCaller`], which replies later
//! through a [`Reply`] handle (a channel); [`Calls`] keeps the books: replies per record,
//! fallbacks, counters. The runner writes a record only once all its calls are resolved,
//! and the records after it in file order wait behind it, so model calls never change the
//! output order (§9.1). The engine never waits: it goes on with other events while calls
//! are in flight.
//!
//! Two callers: [`HttpCaller`] POSTs to the model's URL on a tokio runtime it owns (per
//! model a semaphore of `concurrency` permits, `timeout` per request), and [`StandIn`]
//! answers at once from fixed values (scenario tests: `model NAME returns VALUE`).

mod http;
mod stand_in;

pub use http::HttpCaller;
pub use stand_in::StandIn;

use crate::engine::{Output, PendingCall};
use crate::value::Value;
use nudge_compiler::plan::{ModelId, ModelPlan, Plan};
use rustc_hash::FxHashMap;
use std::fmt;
use std::sync::mpsc;
use std::sync::Arc;
use std::time::Duration;

/// Makes model calls. A caller must deliver exactly one [`Outcome`] per call through its
/// [`Reply`], now or later, from any thread; a `Reply` dropped unanswered counts as an
/// error. Calls must not block the caller of [`ModelCaller::call`] for long: the runner
/// calls it from its main loop.
pub trait ModelCaller: Send + Sync + fmt::Debug {
    /// Starts one call.
    fn call(&self, call: Call<'_>, reply: Reply);
}

/// One call to make.
#[derive(Debug)]
pub struct Call<'a> {
    pub model: ModelId,
    /// The model's declaration (name, url, timeout, concurrency, fallback).
    pub spec: &'a ModelPlan,
    /// The argument as a value.
    pub arg: &'a Value,
    /// The argument as JSON text (the request body).
    pub body: String,
}

/// How a call ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// A JSON reply: the value of the field.
    Ok(Value),
    /// No complete reply within the model's `timeout`.
    Timeout,
    /// No reply: connection refused, an error status, a stand-in missing, ...
    Error(String),
    /// A reply that is not JSON.
    BadJson,
}

/// Which call of which record a reply is for.
type Ticket = (u64, u32);

/// Where a caller delivers the outcome of one call.
pub struct Reply {
    ticket: Ticket,
    tx: Option<mpsc::Sender<(Ticket, Outcome)>>,
}

impl Reply {
    /// Delivers the outcome.
    pub fn send(mut self, outcome: Outcome) {
        if let Some(tx) = self.tx.take() {
            // The run may have ended (an error); then nobody waits for the reply.
            let _ = tx.send((self.ticket, outcome));
        }
    }
}

impl Drop for Reply {
    fn drop(&mut self) {
        if let Some(tx) = self.tx.take() {
            let _ = tx.send((
                self.ticket,
                Outcome::Error("the call was dropped unanswered".into()),
            ));
        }
    }
}

impl fmt::Debug for Reply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Reply")
            .field("ticket", &self.ticket)
            .finish()
    }
}

/// The counters of one model.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ModelStats {
    pub name: String,
    /// Calls started.
    pub calls: u64,
    /// Calls answered with JSON.
    pub ok: u64,
    /// Calls that got the fallback because of the timeout.
    pub timeouts: u64,
    /// Calls that got the fallback because of an error (refused, error status, ...).
    pub errors: u64,
    /// Calls that got the fallback because the reply was not JSON.
    pub bad_json: u64,
}

/// The replies of one record.
struct Open {
    models: Vec<ModelId>,
    replies: Vec<Option<Value>>,
    waiting: usize,
}

/// The runner's books of model calls: starts the calls of records, collects replies
/// (the fallback in place of a failed one), counts outcomes per model.
pub struct Calls {
    plan: Arc<Plan>,
    caller: Arc<dyn ModelCaller>,
    tx: mpsc::Sender<(Ticket, Outcome)>,
    rx: mpsc::Receiver<(Ticket, Outcome)>,
    next: u64,
    open: FxHashMap<u64, Open>,
    in_flight: usize,
    stats: Vec<ModelStats>,
}

impl Calls {
    pub fn new(plan: Arc<Plan>, caller: Arc<dyn ModelCaller>) -> Calls {
        let (tx, rx) = mpsc::channel();
        let stats = plan
            .models
            .iter()
            .map(|m| ModelStats {
                name: m.name.clone(),
                ..ModelStats::default()
            })
            .collect();
        Calls {
            plan,
            caller,
            tx,
            rx,
            next: 0,
            open: FxHashMap::default(),
            in_flight: 0,
            stats,
        }
    }

    /// Starts the calls of a pending record; returns the ticket to redeem it with.
    pub fn start(&mut self, out: &Output) -> u64 {
        let id = self.next;
        self.next += 1;
        self.open.insert(
            id,
            Open {
                models: out.pending.iter().map(|c| c.model).collect(),
                replies: vec![None; out.pending.len()],
                waiting: out.pending.len(),
            },
        );
        for (i, call) in out.pending.iter().enumerate() {
            self.start_one(id, i as u32, call);
        }
        id
    }

    fn start_one(&mut self, id: u64, i: u32, call: &PendingCall) {
        let spec = &self.plan.models[call.model.index()];
        self.stats[call.model.index()].calls += 1;
        self.in_flight += 1;
        let mut body = String::new();
        call.arg.write_json(&mut body, &self.plan);
        let reply = Reply {
            ticket: (id, i),
            tx: Some(self.tx.clone()),
        };
        self.caller.call(
            Call {
                model: call.model,
                spec,
                arg: &call.arg,
                body,
            },
            reply,
        );
    }

    /// Calls started and not yet answered.
    pub fn in_flight(&self) -> usize {
        self.in_flight
    }

    /// Takes in the replies that have arrived. With `wait`, first waits (up to `wait`)
    /// for one to arrive when calls are in flight.
    pub fn collect(&mut self, wait: Option<Duration>) {
        if let (Some(d), true) = (wait, self.in_flight > 0) {
            if let Ok((ticket, outcome)) = self.rx.recv_timeout(d) {
                self.take(ticket, outcome);
            }
        }
        while let Ok((ticket, outcome)) = self.rx.try_recv() {
            self.take(ticket, outcome);
        }
    }

    fn take(&mut self, (id, i): Ticket, outcome: Outcome) {
        let Some(open) = self.open.get_mut(&id) else {
            return;
        };
        let slot = &mut open.replies[i as usize];
        if slot.is_some() {
            return;
        }
        let model = open.models[i as usize];
        let stats = &mut self.stats[model.index()];
        let value = match outcome {
            Outcome::Ok(v) => {
                stats.ok += 1;
                v
            }
            failed => {
                match failed {
                    Outcome::Timeout => stats.timeouts += 1,
                    Outcome::BadJson => stats.bad_json += 1,
                    _ => stats.errors += 1,
                }
                Value::from_const(&self.plan.models[model.index()].fallback)
            }
        };
        *slot = Some(value);
        open.waiting -= 1;
        self.in_flight -= 1;
    }

    /// Whether every call of the record is answered.
    pub fn is_done(&self, id: u64) -> bool {
        match self.open.get(&id) {
            Some(open) => open.waiting == 0,
            None => true,
        }
    }

    /// Writes the replies into the record (which must be done).
    pub fn finish(&mut self, id: u64, out: &mut Output) {
        if let Some(open) = self.open.remove(&id) {
            let replies: Vec<Value> = open
                .replies
                .into_iter()
                .map(Option::unwrap_or_default)
                .collect();
            out.resolve(&replies, &self.plan);
        }
    }

    /// The counters, in the program's model order.
    pub fn stats(&self) -> Vec<ModelStats> {
        self.stats.clone()
    }
}
