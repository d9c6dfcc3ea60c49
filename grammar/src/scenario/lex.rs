//! The tokens of a scenario line (blanks, comments, names, durations, clock times,
//! strings) and the parse failure type, for the nom parsers of the line forms.

use nom::branch::alt;
use nom::bytes::complete::{tag, take_while, take_while1};
use nom::character::complete::{char, digit1};
use nom::combinator::{opt, recognize};
use nom::error::{ErrorKind, ParseError};
use nom::sequence::{pair, preceded};
use nom::{IResult, Offset};

use super::{Name, Time, TimeKind};
use crate::diagnostic::Diagnostic;
use crate::span::{FileId, Span};

/// A parse failure: where (a slice of the line), how much to underline, and what to say.
#[derive(Debug, Clone)]
pub(super) struct Fail<'a> {
    pub at: &'a str,
    /// Bytes to underline (0: the token at `at`).
    pub len: usize,
    pub code: &'static str,
    pub message: String,
    pub label: String,
    pub help: Option<String>,
}

impl<'a> Fail<'a> {
    /// An S001: something other than what the line allows, at `at`.
    pub fn syntax(at: &'a str, message: impl Into<String>, label: impl Into<String>) -> Fail<'a> {
        Fail {
            at,
            len: 0,
            code: "S001",
            message: message.into(),
            label: label.into(),
            help: None,
        }
    }

    /// An S002: a literal that cannot be read (a time of day that does not exist, ...).
    pub fn literal(at: &'a str, len: usize, message: impl Into<String>) -> Fail<'a> {
        Fail {
            at,
            len,
            code: "S002",
            message: message.into(),
            label: "cannot be read".into(),
            help: None,
        }
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Fail<'a> {
        self.help = Some(help.into());
        self
    }

    pub fn with_label(mut self, label: impl Into<String>) -> Fail<'a> {
        self.label = label.into();
        self
    }

    /// The diagnostic, with its span in `text` (the whole file `at` is a slice of).
    pub fn into_diagnostic(self, file: FileId, text: &str) -> Diagnostic {
        let start = text.offset(self.at);
        let len = if self.len > 0 {
            self.len
        } else {
            token_len(self.at)
        };
        let d = Diagnostic::error(
            self.code,
            self.message,
            Span::new(file, start, start + len),
            self.label,
        );
        match self.help {
            Some(h) => d.with_help(h),
            None => d,
        }
    }
}

impl<'a> ParseError<&'a str> for Fail<'a> {
    fn from_error_kind(input: &'a str, _kind: ErrorKind) -> Self {
        Fail::syntax(input, "this line cannot be read", "unexpected here")
    }

    fn append(_input: &'a str, _kind: ErrorKind, other: Self) -> Self {
        other
    }
}

/// The result of a scenario parser.
pub(super) type PResult<'a, T> = IResult<&'a str, T, Fail<'a>>;

/// The length of the word at the start of `s` (at least one character, 0 at the end).
fn token_len(s: &str) -> usize {
    let word = s
        .char_indices()
        .find(|&(_, c)| c.is_whitespace())
        .map_or(s.len(), |(i, _)| i);
    if word > 0 {
        word
    } else {
        s.chars().next().map_or(0, char::len_utf8)
    }
}

/// Turns a recoverable error of `p` into a failure saying what was expected here; a
/// failure from inside `p` (more precise) is kept.
pub(super) fn expect<'a, O>(
    p: impl FnMut(&'a str) -> PResult<'a, O>,
    make: impl Fn(&'a str) -> Fail<'a>,
) -> impl FnMut(&'a str) -> PResult<'a, O> {
    let mut p = p;
    move |i| match p(i) {
        Err(nom::Err::Error(_)) => Err(nom::Err::Failure(make(i))),
        other => other,
    }
}

/// Maps file offsets to spans.
pub(super) struct Ctx<'a> {
    pub file: FileId,
    pub text: &'a str,
}

impl<'a> Ctx<'a> {
    /// The span from `start` (a slice of the text) to `rest` (what is left after it).
    pub fn span(&self, start: &str, rest: &str) -> Span {
        Span::new(self.file, self.text.offset(start), self.text.offset(rest))
    }
}

/// Spaces and tabs (possibly none).
pub(super) fn blanks(i: &str) -> PResult<'_, &str> {
    take_while(|c| c == ' ' || c == '\t')(i)
}

/// Spaces and tabs (at least one).
pub(super) fn blanks1(i: &str) -> PResult<'_, &str> {
    take_while1(|c| c == ' ' || c == '\t')(i)
}

/// Whether the rest of the line is blank or a comment.
pub(super) fn at_end(i: &str) -> bool {
    let rest = i.trim_start_matches([' ', '\t']);
    rest.is_empty() || rest.starts_with('#')
}

/// An identifier: `[A-Za-z_][A-Za-z0-9_]*`.
pub(super) fn ident(i: &str) -> PResult<'_, &str> {
    recognize(pair(
        take_while1(|c: char| c.is_ascii_alphabetic() || c == '_'),
        take_while(|c: char| c.is_ascii_alphanumeric() || c == '_'),
    ))(i)
}

/// A keyword as a whole word (`only`, but not `only_this`).
pub(super) fn keyword<'a>(word: &'static str) -> impl FnMut(&'a str) -> PResult<'a, &'a str> {
    move |i: &'a str| {
        let (rest, w) = ident(i)?;
        if w == word {
            Ok((rest, w))
        } else {
            Err(nom::Err::Error(Fail::from_error_kind(i, ErrorKind::Tag)))
        }
    }
}

/// A name: an identifier or a double-quoted string (`"add-to-cart"`).
pub(super) fn name<'a>(cx: &Ctx<'a>, i: &'a str) -> PResult<'a, Name> {
    if i.starts_with('"') {
        let (rest, text) = string(i)?;
        return Ok((
            rest,
            Name {
                text,
                span: cx.span(i, rest),
                quoted: true,
            },
        ));
    }
    let (rest, text) = ident(i)?;
    Ok((
        rest,
        Name {
            text: text.to_string(),
            span: cx.span(i, rest),
            quoted: false,
        },
    ))
}

/// A double-quoted string on one line, escapes `\" \\ \n \t` resolved.
pub(super) fn string(i: &str) -> PResult<'_, String> {
    let (mut rest, _) = char('"')(i)?;
    let mut out = String::new();
    loop {
        let mut chars = rest.chars();
        match chars.next() {
            None => {
                return Err(nom::Err::Failure(Fail {
                    at: i,
                    len: i.len(),
                    code: "S003",
                    message: "this text is not closed on its line".into(),
                    label: "the closing `\"` is missing".into(),
                    help: Some("end the text with `\"` on the same line".into()),
                }))
            }
            Some('"') => return Ok((chars.as_str(), out)),
            Some('\\') => {
                let escaped = match chars.next() {
                    Some('"') => '"',
                    Some('\\') => '\\',
                    Some('n') => '\n',
                    Some('t') => '\t',
                    other => {
                        let len = 1 + other.map_or(0, char::len_utf8);
                        return Err(nom::Err::Failure(
                            Fail::literal(
                                rest,
                                len,
                                format!("unknown escape `{}` in a text", &rest[..len]),
                            )
                            .with_label("not an escape nudge knows")
                            .with_help(
                                "the escapes are \\\" (quote), \\\\ (backslash), \\n (new line) and \\t (tab)",
                            ),
                        ));
                    }
                };
                out.push(escaped);
            }
            Some(c) => out.push(c),
        }
        rest = chars.as_str();
    }
}

/// A duration such as `15m`, `1h30m` or `250ms`, in milliseconds: units largest first,
/// each at most once, as in pattern files.
pub(super) fn duration(i: &str) -> PResult<'_, u64> {
    const UNITS: [(&str, u64); 5] = [
        ("d", 86_400_000),
        ("h", 3_600_000),
        ("ms", 1),
        ("m", 60_000),
        ("s", 1_000),
    ];
    // Rank of each unit, largest first (`ms` is tried before `m`, but ranks last).
    let rank = |u: &str| ["d", "h", "m", "s", "ms"].iter().position(|x| *x == u);
    let (rest, text) = recognize(nom::multi::many1(pair(
        digit1,
        alt((tag("d"), tag("h"), tag("ms"), tag("m"), tag("s"))),
    )))(i)?;
    if rest.starts_with(|c: char| c.is_ascii_alphanumeric()) {
        return Err(nom::Err::Error(Fail::from_error_kind(i, ErrorKind::Tag)));
    }
    let too_long = || {
        nom::Err::Failure(Fail::literal(
            i,
            text.len(),
            format!("the duration `{text}` is too long"),
        ))
    };
    let mut total: u64 = 0;
    let mut last: Option<usize> = None;
    let mut part = text;
    while !part.is_empty() {
        let digits = part.bytes().take_while(u8::is_ascii_digit).count();
        let (num, after) = part.split_at(digits);
        let (unit, factor) = UNITS
            .iter()
            .find(|(u, _)| after.starts_with(u))
            .expect("recognized above");
        let r = rank(unit).expect("a known unit");
        if last.is_some_and(|l| r <= l) {
            return Err(nom::Err::Failure(
                Fail::literal(
                    i,
                    text.len(),
                    format!("the parts of the duration `{text}` are out of order"),
                )
                .with_label("units must go from largest to smallest, each once")
                .with_help(
                    "write the largest unit first, each unit once: 1h30m, 1s500ms, or just 90s",
                ),
            ));
        }
        last = Some(r);
        let n: u64 = num.parse().map_err(|_| too_long())?;
        let ms = n.checked_mul(*factor).ok_or_else(too_long)?;
        total = total.checked_add(ms).ok_or_else(too_long)?;
        part = &after[unit.len()..];
    }
    Ok((rest, total))
}

/// A clock time `HH:MM` or `HH:MM:SS`, in milliseconds after midnight.
pub(super) fn clock(i: &str) -> PResult<'_, u64> {
    let two = |s| nom::bytes::complete::take_while_m_n(1, 2, |c: char| c.is_ascii_digit())(s);
    let exact = |s| nom::bytes::complete::take_while_m_n(2, 2, |c: char| c.is_ascii_digit())(s);
    let (rest, (h, m, s)) = nom::sequence::tuple((
        two,
        preceded(char(':'), exact),
        opt(preceded(char(':'), exact)),
    ))(i)?;
    if rest.starts_with(|c: char| c.is_ascii_alphanumeric() || c == ':' || c == '.') {
        return Err(nom::Err::Error(Fail::from_error_kind(i, ErrorKind::Tag)));
    }
    let num = |t: &str| t.parse::<u64>().expect("digits");
    let (h, m, s) = (num(h), num(m), s.map_or(0, num));
    if h > 23 || m > 59 || s > 59 {
        return Err(nom::Err::Failure(
            Fail::literal(
                i,
                i.len() - rest.len(),
                format!("there is no time of day `{}`", &i[..i.len() - rest.len()]),
            )
            .with_label("hours go from 00 to 23, minutes and seconds from 00 to 59"),
        ));
    }
    Ok((rest, ((h * 60 + m) * 60 + s) * 1_000))
}

/// A time: `+D` (after the line before) or `HH:MM[:SS]` (clock time on the start's date).
pub(super) fn time<'a>(cx: &Ctx<'a>, i: &'a str) -> PResult<'a, Time> {
    if let Some(after) = i.strip_prefix('+') {
        let (rest, ms) = expect(duration, |at| {
            Fail::syntax(
                at,
                "expected a duration after `+`",
                "a duration such as 5m goes here",
            )
            .with_help("durations are a number and a unit: +30s, +5m, +1h30m, +2d")
        })(after)?;
        let kind = TimeKind::After(ms);
        return Ok((
            rest,
            Time {
                kind,
                span: cx.span(i, rest),
            },
        ));
    }
    let (rest, ms) = clock(i)?;
    Ok((
        rest,
        Time {
            kind: TimeKind::Clock(ms),
            span: cx.span(i, rest),
        },
    ))
}
