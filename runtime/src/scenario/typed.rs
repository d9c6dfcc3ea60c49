//! Values of scenario lines as JSON (typed by the event's schema) and as run-time values
//! (model stand-ins).
//!
//! The schema decides what a written value becomes: where a field is a `string`, a
//! number or `true` is the text as written (`session=0` is `"0"`); where it is an `int` or
//! a `float`, a number is a number. A value that does not fit its field (`price=cheap`)
//! is written as it is, so that the decoder sends the event to the dead letters with
//! reason `wrong_type`, as it would in production.

use crate::value::{write_float, write_json_str, Value};
use nudge_compiler::plan::FieldType;
use nudge_grammar::scenario::{Value as Written, ValueKind};
use nudge_grammar::Diagnostic;
use std::sync::Arc;

/// Appends the JSON of a value for a field of type `ty`.
pub fn field_json(v: &Written, ty: FieldType, out: &mut String) -> Result<(), Diagnostic> {
    match (&v.kind, ty) {
        (ValueKind::Number(t) | ValueKind::Word(t) | ValueKind::Text(t), FieldType::String) => {
            write_json_str(out, t);
        }
        (ValueKind::Bool(b), FieldType::String) => {
            write_json_str(out, if *b { "true" } else { "false" });
        }
        _ => json(v, out)?,
    }
    Ok(())
}

/// Appends the JSON of a value as written: numbers as numbers, words and texts as
/// strings.
pub fn json(v: &Written, out: &mut String) -> Result<(), Diagnostic> {
    match &v.kind {
        ValueKind::Null => out.push_str("null"),
        ValueKind::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        ValueKind::Number(t) => match number(t, v)? {
            Value::Int(i) => out.push_str(&i.to_string()),
            Value::Float(f) => write_float(out, f),
            _ => unreachable!("numbers are ints or floats"),
        },
        ValueKind::Text(t) | ValueKind::Word(t) => write_json_str(out, t),
        ValueKind::List(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                json(item, out)?;
            }
            out.push(']');
        }
        ValueKind::Record(fields) => {
            out.push('{');
            for (i, (name, item)) in fields.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_json_str(out, &name.text);
                out.push_str(": ");
                json(item, out)?;
            }
            out.push('}');
        }
    }
    Ok(())
}

/// The run-time value of a model's stand-in reply.
pub fn value(v: &Written) -> Result<Value, Diagnostic> {
    Ok(match &v.kind {
        ValueKind::Null => Value::Null,
        ValueKind::Bool(b) => Value::Bool(*b),
        ValueKind::Number(t) => number(t, v)?,
        ValueKind::Text(t) | ValueKind::Word(t) => Value::str(t),
        ValueKind::List(items) => Value::list(items.iter().map(value).collect::<Result<_, _>>()?),
        ValueKind::Record(fields) => Value::Record(Arc::new(
            fields
                .iter()
                .map(|(n, item)| Ok((Arc::from(n.text.as_str()), value(item)?)))
                .collect::<Result<_, Diagnostic>>()?,
        )),
    })
}

/// A number as written: an integer when it has no fraction or exponent and fits, else a
/// float; a float too large to hold is an error (S002).
fn number(text: &str, v: &Written) -> Result<Value, Diagnostic> {
    let integral = !text.contains(['.', 'e', 'E']);
    if integral {
        if let Ok(i) = text.parse::<i64>() {
            return Ok(Value::Int(i));
        }
    }
    match text.parse::<f64>() {
        Ok(f) if f.is_finite() => Ok(Value::Float(f)),
        _ => Err(
            Diagnostic::error("S002", "this number is too large", v.span, "too large")
                .with_help("a number must fit in a 64-bit float"),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nudge_grammar::{parse_scenario, FileId};

    /// The JSON of each field of the scenario line `+0s E <fields>` for type `ty`.
    fn typed(fields: &str, ty: FieldType) -> Vec<String> {
        let s = parse_scenario(FileId(0), &format!("+0s E {fields}")).unwrap();
        s.events[0]
            .fields
            .iter()
            .map(|f| {
                let mut out = String::new();
                field_json(&f.value, ty, &mut out).unwrap();
                out
            })
            .collect()
    }

    #[test]
    fn strings_keep_the_text_as_written() {
        assert_eq!(
            typed(
                "a=0 b=007 c=19.90 d=true e=u1 f=\"x y\" g=null",
                FieldType::String
            ),
            [
                "\"0\"",
                "\"007\"",
                "\"19.90\"",
                "\"true\"",
                "\"u1\"",
                "\"x y\"",
                "null"
            ]
        );
    }

    #[test]
    fn numbers_are_numbers_where_the_schema_says_so() {
        assert_eq!(
            typed(
                "a=49 b=19.99 c=1e3 d=-0 e=99999999999999999999",
                FieldType::Float
            ),
            ["49", "19.99", "1000.0", "0", "100000000000000000000.0"]
        );
        // A value that does not fit stays as written: the decoder makes it `wrong_type`.
        assert_eq!(
            typed("a=two b=\"3\" c=true d=2.5", FieldType::Int),
            ["\"two\"", "\"3\"", "true", "2.5"]
        );
        assert_eq!(typed("a=true b=yes", FieldType::Bool), ["true", "\"yes\""]);
        assert_eq!(
            typed("a=[1, x, \"y\", [true]] b=x", FieldType::List),
            ["[1, \"x\", \"y\", [true]]", "\"x\""]
        );
    }

    #[test]
    fn too_large_a_number_is_an_error() {
        let s = parse_scenario(FileId(0), "+0s E a=1e999").unwrap();
        let err = field_json(
            &s.events[0].fields[0].value,
            FieldType::Float,
            &mut String::new(),
        )
        .unwrap_err();
        assert_eq!(err.code, "S002");
    }

    #[test]
    fn stand_in_values() {
        let s = parse_scenario(
            FileId(0),
            "model m returns { picks: [p1, \"p2\"], score: 0.5, n: 3, ok: true, none: null }",
        )
        .unwrap();
        let v = value(&s.stand_ins[0].value).unwrap();
        let Value::Record(fields) = &v else {
            panic!("a record")
        };
        assert_eq!(&*fields[0].0, "picks");
        assert_eq!(
            fields[0].1,
            Value::list(vec![Value::str("p1"), Value::str("p2")])
        );
        assert_eq!(fields[1].1, Value::Float(0.5));
        assert_eq!(fields[2].1, Value::Int(3));
        assert_eq!(fields[3].1, Value::Bool(true));
        assert_eq!(fields[4].1, Value::Null);
    }
}
