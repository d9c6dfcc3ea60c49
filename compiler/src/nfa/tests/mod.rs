//! Test helpers: plans and patterns built by hand from a tiny chain syntax.

mod exports;
mod reach;
mod states;

use crate::plan::*;
use nudge_grammar::ast::FieldType;

/// A plan with event types A, B, C, X, Y (fields `user_id`, `price`) and no patterns.
pub fn plan() -> Plan {
    let fields = vec!["user_id".to_string(), "price".to_string()];
    let events = ["A", "B", "C", "X", "Y"]
        .iter()
        .map(|name| EventPlan {
            name: name.to_string(),
            fields: vec![
                SchemaField {
                    name: "user_id".into(),
                    id: FieldId(0),
                    ty: FieldType::String,
                },
                SchemaField {
                    name: "price".into(),
                    id: FieldId(1),
                    ty: FieldType::Float,
                },
            ],
            slot_of: vec![Some(0), Some(1)],
        })
        .collect();
    Plan {
        input: InputPlan {
            type_field: "type".into(),
            time_field: "ts".into(),
            time_seconds: false,
            lateness_ms: 0,
            idle_ms: 30_000,
            key: Some(FieldId(0)),
        },
        fields,
        events,
        tables: vec![],
        vectors: vec![],
        models: vec![],
        sessions: vec![],
        covisits: vec![],
        trendings: vec![],
        profiles: vec![],
        patterns: vec![],
    }
}

/// A duration of the test syntax: `5m`, `30s`, `2h`.
fn ms(d: &str) -> u64 {
    let (n, unit) = d.split_at(d.len() - 1);
    let n: u64 = n.parse().expect("a number");
    n * match unit {
        "s" => 1000,
        "m" => 60_000,
        "h" => 3_600_000,
        _ => panic!("unit of {d}"),
    }
}

/// A pattern from a chain such as `A+ as a then next B within 5m then not X then C?`,
/// optionally followed by `; window 1h`. Types are A, B, C, X, Y of [`plan`]; a
/// quantifier is `+ * ? {n} {n,} {n,m}`.
pub fn pattern(chain: &str) -> PatternPlan {
    let (chain, window) = match chain.split_once("; window ") {
        Some((c, w)) => (c, Some(ms(w))),
        None => (chain, None),
    };
    let mut p = PatternPlan {
        name: "t".into(),
        place: 0,
        key: FieldId(0),
        steps: vec![],
        guards: vec![],
        trailing: None,
        window_ms: window,
        cooldown_ms: None,
        keep_all: false,
        bindings: vec![],
        emit: EmitPlan {
            into: None,
            fields: vec![],
        },
        states: vec![],
        types: vec![],
    };
    let parts: Vec<&str> = chain.split(" then ").collect();
    for (i, part) in parts.iter().enumerate() {
        let mut words: Vec<&str> = part.split_whitespace().collect();
        let within = match words.iter().position(|w| *w == "within") {
            Some(at) => {
                let d = ms(words[at + 1]);
                words.truncate(at);
                Some(d)
            }
            None => None,
        };
        let strict = words[0] == "next";
        let negated = words[0] == "not";
        if strict || negated {
            words.remove(0);
        }
        let spec = words[0];
        let ty = TypeId(
            ["A", "B", "C", "X", "Y"]
                .iter()
                .position(|t| spec.starts_with(t))
                .unwrap() as u32,
        );
        if negated {
            let before = StepId(p.steps.len() as u32);
            p.guards.push(GuardPlan {
                types: vec![ty],
                cond: None,
                before,
            });
            if i == parts.len() - 1 {
                p.trailing = Some(TrailingPlan { within_ms: within });
            }
            continue;
        }
        let (min, max) = match &spec[1..] {
            "" => (1, Some(1)),
            "+" => (1, None),
            "*" => (0, None),
            "?" => (0, Some(1)),
            q => {
                let q = q.trim_start_matches('{').trim_end_matches('}');
                match q.split_once(',') {
                    None => (q.parse().unwrap(), Some(q.parse().unwrap())),
                    Some((n, "")) => (n.parse().unwrap(), None),
                    Some((n, m)) => (n.parse().unwrap(), Some(m.parse().unwrap())),
                }
            }
        };
        let binding = (words.len() >= 3 && words[1] == "as").then(|| {
            p.bindings.push(BindingPlan {
                name: words[2].to_string(),
                step: StepId(p.steps.len() as u32),
                group: spec.len() > 1,
            });
            BindingId(p.bindings.len() as u32 - 1)
        });
        p.steps.push(StepPlan {
            types: vec![ty],
            min,
            max,
            strict,
            binding,
            cond: None,
            within_ms: within,
            reads: Projection::default(),
        });
    }
    let mut types: Vec<TypeId> = p.steps.iter().flat_map(|s| s.types.clone()).collect();
    types.extend(p.guards.iter().flat_map(|g| g.types.clone()));
    types.sort();
    types.dedup();
    p.types = types;
    p
}

/// Step ids from numbers.
pub fn ids(v: &[u32]) -> Vec<StepId> {
    v.iter().map(|&i| StepId(i)).collect()
}
