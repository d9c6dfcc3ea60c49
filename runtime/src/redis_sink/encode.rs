//! How a profile becomes a Redis hash (docs/language.md, "Profile sinks").
//!
//! - The hash's name is the template with every `{key}` replaced by the key's text: a
//!   string key as it is (`customer:u1`), any other key as JSON text (`customer:42`).
//! - One field per feature, named like the feature, plus `updated_ts` (the event's ts,
//!   epoch ms). Strings are written as they are; integers bare (`3`); floats always with
//!   a fraction (`250.0`, the JSON output form); booleans `true`/`false`; lists and
//!   records as JSON text. A null feature (a `last` of nothing, an `avg` of nothing) has
//!   no field: it is deleted.

use crate::engine::ProfileUpdate;
use crate::value::Value;
use nudge_compiler::plan::Plan;

/// The hash name of `key` under `template`.
pub fn hash_name(template: &str, key: &Value, plan: &Plan) -> String {
    let text = match key {
        Value::Str(s) => s.to_string(),
        other => {
            let mut out = String::new();
            other.write_json(&mut out, plan);
            out
        }
    };
    template.replace("{key}", &text)
}

/// A feature's field value; `None` for null (and non-finite floats, which JSON writes
/// as null): the field is deleted.
pub fn field_text(v: &Value, plan: &Plan) -> Option<String> {
    match v {
        Value::Null => None,
        Value::Float(f) if !f.is_finite() => None,
        Value::Str(s) => Some(s.to_string()),
        other => {
            let mut out = String::new();
            other.write_json(&mut out, plan);
            Some(out)
        }
    }
}

/// One update as Redis commands: the fields to set (always with `updated_ts`) and the
/// fields to delete.
pub struct HashWrite {
    pub name: String,
    pub set: Vec<(String, String)>,
    pub delete: Vec<String>,
}

impl HashWrite {
    pub fn of(update: &ProfileUpdate, plan: &Plan) -> HashWrite {
        let profile = &plan.profiles[update.profile.index()];
        let template = profile.sink_redis.as_deref().unwrap_or("{key}");
        let mut set = Vec::with_capacity(update.features.len() + 1);
        let mut delete = Vec::new();
        for (f, v) in profile.features.iter().zip(update.features.iter()) {
            match field_text(v, plan) {
                Some(text) => set.push((f.name.clone(), text)),
                None => delete.push(f.name.clone()),
            }
        }
        set.push(("updated_ts".to_string(), update.ts.to_string()));
        HashWrite {
            name: hash_name(template, &update.key, plan),
            set,
            delete,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nudge_compiler::plan::ProfileId;

    fn plan() -> Plan {
        let program = "input key user_id\n\
                       event VIEW { user_id: string, category: string, price: float }\n\
                       profile customer per user_id features {\n\
                         last_category: last(VIEW.category),\n\
                         views: count(VIEW),\n\
                         avg_price: avg(VIEW.price),\n\
                       } sink redis \"customer:{key}\"\n";
        nudge_compiler::compile_str("p.nudge", program)
            .plan
            .expect("valid")
    }

    #[test]
    fn a_profile_is_a_hash_of_text_fields() {
        let plan = plan();
        let update = ProfileUpdate {
            profile: ProfileId(0),
            key: Value::str("u1"),
            ts: 1_700_000_000_000,
            features: vec![Value::str("shoes"), Value::Int(3), Value::Float(40.0)].into(),
            partition: 0,
        };
        let w = HashWrite::of(&update, &plan);
        assert_eq!(w.name, "customer:u1");
        let set: Vec<(&str, &str)> = w.set.iter().map(|(a, b)| (&**a, &**b)).collect();
        assert_eq!(
            set,
            [
                ("last_category", "shoes"),
                ("views", "3"),
                ("avg_price", "40.0"),
                ("updated_ts", "1700000000000")
            ]
        );
        assert!(w.delete.is_empty());
    }

    #[test]
    fn nulls_are_deleted_and_other_keys_are_json() {
        let plan = plan();
        let update = ProfileUpdate {
            profile: ProfileId(0),
            key: Value::Int(42),
            ts: 5,
            features: vec![Value::Null, Value::Int(1), Value::Float(f64::NAN)].into(),
            partition: 0,
        };
        let w = HashWrite::of(&update, &plan);
        assert_eq!(w.name, "customer:42");
        assert_eq!(w.delete, ["last_category", "avg_price"]);
        assert_eq!(w.set.len(), 2);
        let list = Value::list(vec![Value::str("a"), Value::Int(1)]);
        assert_eq!(field_text(&list, &plan).as_deref(), Some(r#"["a", 1]"#));
        assert_eq!(
            field_text(&Value::Bool(true), &plan).as_deref(),
            Some("true")
        );
    }
}
