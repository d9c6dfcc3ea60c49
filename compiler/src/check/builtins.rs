//! Built-in functions (LANGUAGE.md §5): their arities and the types of their arguments
//! (E405) and results.

use super::expr::Typed;
use super::types::Ty;
use super::Checker;
use crate::plan::Func;
use nudge_grammar::{Diagnostic, Span};

/// Built-in functions: name, function, fewest and most arguments.
pub(crate) const BUILTINS: [(&str, Func, usize, usize); 21] = [
    ("count", Func::Count, 1, 1),
    ("sum", Func::Sum, 1, 1),
    ("avg", Func::Avg, 1, 1),
    ("min", Func::Min, 1, 1),
    ("max", Func::Max, 1, 1),
    ("count_distinct", Func::CountDistinct, 1, 1),
    ("first", Func::First, 1, 1),
    ("last", Func::Last, 1, 1),
    ("len", Func::Len, 1, 1),
    ("take", Func::Take, 2, 2),
    ("unique", Func::Unique, 1, 1),
    ("lower", Func::Lower, 1, 1),
    ("upper", Func::Upper, 1, 1),
    ("contains", Func::Contains, 2, 2),
    ("starts_with", Func::StartsWith, 2, 2),
    ("abs", Func::Abs, 1, 1),
    ("round", Func::Round, 1, 2),
    ("least", Func::Least, 2, 2),
    ("greatest", Func::Greatest, 2, 2),
    ("hour_of_day", Func::HourOfDay, 1, 2),
    ("day_of_week", Func::DayOfWeek, 1, 2),
];

/// One compiled argument with where it was written.
pub(crate) struct Arg {
    pub t: Typed,
    pub span: Span,
}

impl Checker<'_> {
    /// E405 when `ok` is false.
    pub(crate) fn need(
        &mut self,
        name: &str,
        a: &Arg,
        ok: bool,
        wanted: &str,
        help: Option<String>,
    ) {
        if ok || a.t.ty.is_open() {
            return;
        }
        let mut d = Diagnostic::error(
            "E405",
            format!("`{name}` needs {wanted}, but this is {}", a.t.ty.describe()),
            a.span,
            format!("this is {}", a.t.ty.describe()),
        );
        if let Some(help) = help {
            d = d.with_help(help);
        }
        self.diags.push(d);
    }

    pub(crate) fn builtin_type(&mut self, name: &str, f: Func, args: &[Arg]) -> Ty {
        use Func::*;
        let a = &args[0];
        let ty = &a.t.ty;
        let elem = match ty {
            Ty::List(e) => Some((**e).clone()),
            _ => None,
        };
        let group_help = |f: &str| {
            Some(format!(
                "`{f}` works on one field of a group, like `{f}(views.price)`"
            ))
        };
        match f {
            Count => {
                let help = matches!(ty, Ty::Event(_)).then(|| {
                    "a step without a quantifier binds one event; give it one (like `VIEW+ as views`) to count its events".to_string()
                });
                self.need(
                    name,
                    a,
                    ty.may_be_list(),
                    "a group of events or a list",
                    help,
                );
                Ty::Int
            }
            Sum | Avg => {
                let ok = elem.as_ref().is_some_and(|e| e.may_be_number());
                self.need(name, a, ok, "a list of numbers", group_help(name));
                match (f, elem) {
                    (Sum, Some(Ty::Int)) => Ty::Int,
                    _ => Ty::Float,
                }
            }
            Min | Max => {
                let ok = elem
                    .as_ref()
                    .is_some_and(|e| e.may_be_number() || *e == Ty::Str);
                self.need(
                    name,
                    a,
                    ok,
                    "a list of numbers or strings",
                    group_help(name),
                );
                elem.filter(|e| !e.is_open()).unwrap_or(Ty::Any)
            }
            CountDistinct => {
                self.need(name, a, elem.is_some(), "a list", group_help(name));
                Ty::Int
            }
            First | Last => {
                self.need(
                    name,
                    a,
                    ty.may_be_list(),
                    "a group of events or a list",
                    None,
                );
                match ty {
                    Ty::Group(types) => Ty::Event(types.clone()),
                    Ty::List(e) => (**e).clone(),
                    _ => Ty::Any,
                }
            }
            Len => {
                self.need(
                    name,
                    a,
                    ty.may_be_list() || *ty == Ty::Str,
                    "a list or a string",
                    None,
                );
                Ty::Int
            }
            Take | Unique => {
                self.need(name, a, ty.may_be_list(), "a list", None);
                if f == Take {
                    self.need(
                        name,
                        &args[1],
                        args[1].t.ty == Ty::Int,
                        "a whole number of items",
                        None,
                    );
                }
                if ty.is_open() {
                    Ty::list_any()
                } else {
                    ty.clone()
                }
            }
            Lower | Upper => {
                self.need(name, a, ty.may_be_str(), "a string", None);
                Ty::Str
            }
            Contains | StartsWith => {
                for arg in args {
                    self.need(name, arg, arg.t.ty.may_be_str(), "strings", None);
                }
                Ty::Bool
            }
            Abs | Round => {
                self.need(name, a, ty.may_be_number(), "a number", None);
                if let Some(digits) = args.get(1) {
                    self.need(
                        name,
                        digits,
                        digits.t.ty == Ty::Int,
                        "a whole number of digits",
                        None,
                    );
                }
                match (f, ty) {
                    (Abs, t) if t.is_number() => t.clone(),
                    (Round, Ty::Int) => Ty::Int,
                    (Round, _) => Ty::Float,
                    _ => Ty::Any,
                }
            }
            Least | Greatest => {
                let b = &args[1];
                let joined = ty.join(&b.t.ty);
                let ok = joined.may_be_number() || joined == Ty::Str;
                self.need(
                    name,
                    b,
                    ok,
                    &format!(
                        "two numbers or two strings (the first is {})",
                        ty.describe()
                    ),
                    None,
                );
                if ok {
                    joined
                } else {
                    Ty::Any
                }
            }
            HourOfDay | DayOfWeek => {
                self.need(
                    name,
                    a,
                    *ty == Ty::Int,
                    "a time in epoch milliseconds, like `ts`",
                    None,
                );
                if let Some(zone) = args.get(1) {
                    let help = Some("give a time zone name, like \"Europe/Berlin\"".to_string());
                    self.need(name, zone, zone.t.ty.may_be_str(), "a time zone name", help);
                }
                Ty::Int
            }
        }
    }
}
