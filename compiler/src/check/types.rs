//! The checker's small type lattice and the typing rules of unary and binary operators.
//!
//! Every value may be `null` at run time, so types are "nullable" throughout; `Null` is the
//! type of the `null` literal only. `Any` is both "not known at compile time" (model
//! replies, list elements of unknown origin) and the type of an expression that already
//! failed to check, so that one mistake is reported once.

use crate::plan::TypeId;
use nudge_grammar::ast::{BinOp, FieldType, UnOp};

/// The type of an expression.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Ty {
    Any,
    Null,
    Bool,
    Int,
    Float,
    Str,
    /// A list with its element type (`Any` when unknown).
    List(Box<Ty>),
    /// A record, with its fields when known (a table row, a record literal).
    Record(Option<Vec<(String, Ty)>>),
    /// One bound event of one of these types.
    Event(Vec<TypeId>),
    /// A group of bound events (a quantified step's binding).
    Group(Vec<TypeId>),
}

impl Ty {
    /// The type of a schema field.
    pub(crate) fn of_field(ty: FieldType) -> Ty {
        match ty {
            FieldType::String => Ty::Str,
            FieldType::Int => Ty::Int,
            FieldType::Float => Ty::Float,
            FieldType::Bool => Ty::Bool,
            FieldType::List => Ty::List(Box::new(Ty::Any)),
        }
    }

    /// A list of any elements.
    pub(crate) fn list_any() -> Ty {
        Ty::List(Box::new(Ty::Any))
    }

    /// Not known at compile time (`Any` or `Null`): every use is accepted.
    pub(crate) fn is_open(&self) -> bool {
        matches!(self, Ty::Any | Ty::Null)
    }

    pub(crate) fn is_number(&self) -> bool {
        matches!(self, Ty::Int | Ty::Float)
    }

    /// A number, or not known.
    pub(crate) fn may_be_number(&self) -> bool {
        self.is_number() || self.is_open()
    }

    /// A string, or not known.
    pub(crate) fn may_be_str(&self) -> bool {
        matches!(self, Ty::Str) || self.is_open()
    }

    /// A boolean, or not known.
    pub(crate) fn may_be_bool(&self) -> bool {
        matches!(self, Ty::Bool) || self.is_open()
    }

    /// A list (or group), or not known.
    pub(crate) fn may_be_list(&self) -> bool {
        matches!(self, Ty::List(_) | Ty::Group(_)) || self.is_open()
    }

    /// The least type covering both (`Int` and `Float` give `Float`; `null` gives way).
    pub(crate) fn join(&self, other: &Ty) -> Ty {
        match (self, other) {
            (a, b) if a == b => a.clone(),
            (Ty::Null, b) => b.clone(),
            (a, Ty::Null) => a.clone(),
            (Ty::Int, Ty::Float) | (Ty::Float, Ty::Int) => Ty::Float,
            (Ty::List(a), Ty::List(b)) => Ty::List(Box::new(a.join(b))),
            _ => Ty::Any,
        }
    }

    /// "a string", "a number", ... for messages.
    pub(crate) fn describe(&self) -> &'static str {
        match self {
            Ty::Any => "a value",
            Ty::Null => "null",
            Ty::Bool => "a true/false value",
            Ty::Int | Ty::Float => "a number",
            Ty::Str => "a string",
            Ty::List(_) => "a list",
            Ty::Record(_) => "a record",
            Ty::Event(_) => "an event",
            Ty::Group(_) => "a group of events",
        }
    }

    /// Same family for `==`: both numbers, or the same kind of value.
    fn same_family(&self, other: &Ty) -> bool {
        (self.is_number() && other.is_number())
            || matches!(
                (self, other),
                (Ty::Bool, Ty::Bool)
                    | (Ty::Str, Ty::Str)
                    | (Ty::List(_) | Ty::Group(_), Ty::List(_) | Ty::Group(_))
                    | (Ty::Record(_), Ty::Record(_))
                    | (Ty::Event(_), Ty::Event(_))
            )
    }
}

/// Why an operator does not apply: a diagnostic code and a sentence.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct OpError {
    pub code: &'static str,
    pub message: String,
    pub help: Option<&'static str>,
}

impl OpError {
    /// The short label under the offending expression.
    pub(crate) fn label(&self) -> &'static str {
        match self.code {
            "E401" => "these cannot be compared",
            "E402" => "no arithmetic on this",
            _ => "not a condition",
        }
    }
}

fn op_err(code: &'static str, message: String, help: Option<&'static str>) -> OpError {
    OpError {
        code,
        message,
        help,
    }
}

/// The type of `op e`.
pub(crate) fn unary(op: UnOp, ty: &Ty) -> Result<Ty, OpError> {
    match op {
        UnOp::Not if ty.may_be_bool() => Ok(Ty::Bool),
        UnOp::Not => Err(op_err(
            "E409",
            format!("`not` needs a condition, but this is {}", ty.describe()),
            Some("compare it with something, like `x == 0`"),
        )),
        UnOp::Neg if ty.is_number() => Ok(ty.clone()),
        UnOp::Neg if ty.is_open() => Ok(Ty::Any),
        UnOp::Neg => Err(op_err(
            "E402",
            format!("cannot negate {}", ty.describe()),
            None,
        )),
    }
}

/// The type of `l op r`.
pub(crate) fn binary(op: BinOp, l: &Ty, r: &Ty) -> Result<Ty, OpError> {
    use BinOp::*;
    match op {
        And | Or => {
            let bad = if !l.may_be_bool() { l } else { r };
            if l.may_be_bool() && r.may_be_bool() {
                Ok(Ty::Bool)
            } else {
                Err(op_err(
                    "E409",
                    format!(
                        "`{}` joins conditions, but one side is {}",
                        op.as_str(),
                        bad.describe()
                    ),
                    Some("compare it with something, like `x > 0`"),
                ))
            }
        }
        Eq | Ne => {
            if l.is_open() || r.is_open() || l.same_family(r) {
                Ok(Ty::Bool)
            } else {
                Err(cannot_compare(op, l, r))
            }
        }
        Lt | Le | Gt | Ge => {
            let orderable = |t: &Ty| t.is_number() || matches!(t, Ty::Str) || t.is_open();
            let fits =
                orderable(l) && orderable(r) && (l.is_open() || r.is_open() || l.same_family(r));
            if fits {
                Ok(Ty::Bool)
            } else {
                Err(cannot_compare(op, l, r))
            }
        }
        In | NotIn => {
            if r.may_be_list() {
                Ok(Ty::Bool)
            } else {
                Err(op_err(
                    "E401",
                    format!(
                        "`{}` looks for a value in a list, but the right side is {}",
                        op.as_str(),
                        r.describe()
                    ),
                    Some("use `==` to compare two single values"),
                ))
            }
        }
        Add if matches!((l, r), (Ty::Str, Ty::Str))
            || (matches!(l, Ty::Str) && r.is_open())
            || (l.is_open() && matches!(r, Ty::Str)) =>
        {
            Ok(Ty::Str)
        }
        Add | Sub | Mul | Div | Rem => arithmetic(op, l, r),
    }
}

fn arithmetic(op: BinOp, l: &Ty, r: &Ty) -> Result<Ty, OpError> {
    for side in [l, r] {
        if !side.may_be_number() {
            let help = match (op, side) {
                (BinOp::Add, Ty::Str) => Some("`+` joins two strings; both sides must be strings"),
                (_, Ty::Str) => Some("only `+` works on strings (it joins them)"),
                _ => None,
            };
            return Err(op_err(
                "E402",
                format!("cannot use `{}` on {}", op.as_str(), side.describe()),
                help,
            ));
        }
    }
    Ok(match op {
        BinOp::Div => Ty::Float,
        _ if l.is_open() || r.is_open() => {
            if l.is_number() && r.is_open() {
                l.clone()
            } else if r.is_number() && l.is_open() {
                r.clone()
            } else {
                Ty::Any
            }
        }
        _ => l.join(r),
    })
}

fn cannot_compare(op: BinOp, l: &Ty, r: &Ty) -> OpError {
    op_err(
        "E401",
        format!(
            "cannot compare {} with {} using `{}`",
            l.describe(),
            r.describe(),
            op.as_str()
        ),
        match (l, r) {
            (Ty::Str, t) | (t, Ty::Str) if t.is_number() => {
                Some("write the number as a string (\"42\") or compare with a number field")
            }
            _ => None,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arithmetic_and_comparison() {
        assert_eq!(binary(BinOp::Add, &Ty::Int, &Ty::Float), Ok(Ty::Float));
        assert_eq!(binary(BinOp::Add, &Ty::Str, &Ty::Str), Ok(Ty::Str));
        assert_eq!(binary(BinOp::Div, &Ty::Int, &Ty::Int), Ok(Ty::Float));
        assert_eq!(binary(BinOp::Rem, &Ty::Int, &Ty::Int), Ok(Ty::Int));
        assert_eq!(
            binary(BinOp::Sub, &Ty::Str, &Ty::Int).unwrap_err().code,
            "E402"
        );
        assert_eq!(
            binary(BinOp::Lt, &Ty::Str, &Ty::Int).unwrap_err().code,
            "E401"
        );
        assert_eq!(binary(BinOp::Eq, &Ty::Str, &Ty::Null), Ok(Ty::Bool));
        assert_eq!(
            binary(BinOp::Eq, &Ty::Bool, &Ty::Int).unwrap_err().code,
            "E401"
        );
        assert_eq!(
            binary(BinOp::And, &Ty::Int, &Ty::Bool).unwrap_err().code,
            "E409"
        );
        assert_eq!(binary(BinOp::In, &Ty::Str, &Ty::list_any()), Ok(Ty::Bool));
        assert_eq!(
            binary(BinOp::In, &Ty::Str, &Ty::Str).unwrap_err().code,
            "E401"
        );
    }
}
