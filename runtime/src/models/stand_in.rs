//! [`StandIn`]: a model caller that answers at once from fixed values, for scenario tests
//! (`model NAME returns VALUE`) and for runs that must not touch the network.

use super::{Call, ModelCaller, Outcome, Reply};
use crate::value::Value;
use std::collections::HashMap;
use std::sync::Mutex;

/// Answers every call of a model with the value given for it. A call of a model that has
/// no value gets the model's fallback (counted as an error) and is recorded, so a test
/// runner can fail with a clear message ([`StandIn::missing`]).
///
/// ```
/// use nudge_runtime::models::StandIn;
/// use nudge_runtime::value::Value;
/// let stand_in = StandIn::new([("ranker", Value::list(vec![Value::str("p2")]))]);
/// assert!(stand_in.missing().is_empty());
/// ```
#[derive(Debug, Default)]
pub struct StandIn {
    replies: HashMap<String, Value>,
    log: Mutex<Log>,
}

#[derive(Debug, Default)]
struct Log {
    calls: Vec<(String, Value)>,
    missing: Vec<String>,
}

impl StandIn {
    /// A stand-in answering each named model with its value.
    pub fn new<K: Into<String>>(replies: impl IntoIterator<Item = (K, Value)>) -> StandIn {
        StandIn {
            replies: replies.into_iter().map(|(k, v)| (k.into(), v)).collect(),
            log: Mutex::default(),
        }
    }

    /// Every call made so far: the model's name and the argument, in call order.
    pub fn calls(&self) -> Vec<(String, Value)> {
        self.log.lock().expect("stand-in log").calls.clone()
    }

    /// The models called that had no stand-in value, each once, in the order of their
    /// first call.
    pub fn missing(&self) -> Vec<String> {
        self.log.lock().expect("stand-in log").missing.clone()
    }
}

impl ModelCaller for StandIn {
    fn call(&self, call: Call<'_>, reply: Reply) {
        let name = &call.spec.name;
        let mut log = self.log.lock().expect("stand-in log");
        log.calls.push((name.clone(), call.arg.clone()));
        match self.replies.get(name) {
            Some(v) => reply.send(Outcome::Ok(v.clone())),
            None => {
                if !log.missing.contains(name) {
                    log.missing.push(name.clone());
                }
                reply.send(Outcome::Error(format!("no stand-in for model `{name}`")));
            }
        }
    }
}
