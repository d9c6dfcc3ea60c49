//! Plain words for syntax errors (E001): what the grammar expected at the failing
//! position, as a marketer would say it, never as a grammar rule name.
//!
//! pest reports the rules it tried at the furthest position it reached; [`WORDS`] maps
//! each rule of `nudge.pest` to a phrase, in the order phrases are listed in a message.
//! Every rule pest can report has a phrase; a unit test checks it, so a new grammar rule
//! needs a line here.

use crate::diagnostic::Diagnostic;
use crate::parser::lex;
use crate::parser::Rule;
use crate::span::{FileId, Span};

/// Rules and how they read, in the order a message lists them.
const WORDS: &[(&[Rule], &str)] = &[
    (
        &[
            Rule::type_name,
            Rule::types,
            Rule::type_ident,
            Rule::weighted_type,
        ],
        "an event type name",
    ),
    (
        &[
            Rule::field_name,
            Rule::ident,
            Rule::record_field,
            Rule::field_decl,
            Rule::feature,
        ],
        "a field name",
    ),
    (&[Rule::decl_name], "a name"),
    (&[Rule::alias], "a name for the step"),
    (&[Rule::agg_name], "an aggregate such as `count` or `sum`"),
    (
        &[Rule::feature_arg, Rule::arg_name],
        "an event type or a field",
    ),
    (
        &[Rule::field_type],
        "a field type (`string`, `int`, `float`, `bool` or `list`)",
    ),
    (
        &[
            Rule::expr,
            Rule::expr_only,
            Rule::primary,
            Rule::op_not,
            Rule::op_neg,
            Rule::name_expr,
            Rule::paren,
            Rule::list,
            Rule::record,
            Rule::lit_true,
            Rule::lit_false,
            Rule::lit_null,
        ],
        "an expression",
    ),
    (&[Rule::duration], "a duration such as 15m"),
    (&[Rule::count], "a whole number such as 20"),
    (&[Rule::number, Rule::float, Rule::integer], "a number"),
    (&[Rule::string, Rule::quoted], "a text in double quotes"),
    (&[Rule::kw_type, Rule::type_field_clause], "`type field`"),
    (&[Rule::kw_time, Rule::time_field_clause], "`time field`"),
    (&[Rule::kw_field], "`field`"),
    (&[Rule::kw_seconds], "`seconds`"),
    (&[Rule::kw_lateness, Rule::lateness_clause], "`lateness`"),
    (&[Rule::kw_idle, Rule::idle_clause], "`idle`"),
    (&[Rule::kw_url, Rule::url_clause], "`url`"),
    (&[Rule::kw_timeout, Rule::timeout_clause], "`timeout`"),
    (
        &[Rule::kw_concurrency, Rule::concurrency_clause],
        "`concurrency`",
    ),
    (&[Rule::kw_fallback, Rule::fallback_clause], "`fallback`"),
    (&[Rule::kw_per, Rule::per_clause], "`per`"),
    (&[Rule::kw_of, Rule::of_clause, Rule::trending_of], "`of`"),
    (&[Rule::kw_weight], "`weight`"),
    (&[Rule::kw_gap, Rule::gap_clause], "`gap`"),
    (&[Rule::kw_items, Rule::items_clause], "`items`"),
    (&[Rule::kw_last], "`last`"),
    (
        &[Rule::kw_from, Rule::from_clause, Rule::covisit_from],
        "`from`",
    ),
    (&[Rule::kw_refresh, Rule::refresh_clause], "`refresh`"),
    (&[Rule::kw_item], "`item`"),
    (&[Rule::kw_by, Rule::by_clause], "`by`"),
    (&[Rule::kw_over, Rule::over_clause], "`over`"),
    (&[Rule::kw_every, Rule::every_clause], "`every`"),
    (&[Rule::kw_top, Rule::top_clause], "`top`"),
    (&[Rule::kw_features, Rule::features_clause], "`features`"),
    (&[Rule::kw_sink, Rule::sink_clause], "`sink`"),
    (&[Rule::kw_redis], "`redis`"),
    (
        &[Rule::kw_when, Rule::when_step, Rule::when_step_loose],
        "`when`",
    ),
    (&[Rule::kw_next], "`next`"),
    (&[Rule::kw_not], "`not`"),
    (&[Rule::kw_or], "`or`"),
    (&[Rule::kw_in], "`in`"),
    (
        &[Rule::quant, Rule::quant_sym],
        "a quantifier such as `{2}`",
    ),
    (&[Rule::kw_as, Rule::as_clause], "`as`"),
    (&[Rule::kw_where, Rule::where_clause], "`where`"),
    (&[Rule::kw_within, Rule::within_clause], "`within`"),
    (
        &[Rule::kw_then, Rule::then_step, Rule::then_step_loose],
        "`then`",
    ),
    (&[Rule::kw_window, Rule::window_clause], "`window`"),
    (&[Rule::kw_cooldown, Rule::cooldown_clause], "`cooldown`"),
    (&[Rule::kw_after, Rule::after_clause], "`after match`"),
    (&[Rule::kw_match], "`match`"),
    (&[Rule::kw_skip], "`skip`"),
    (&[Rule::kw_keep, Rule::keep_clause], "`keep`"),
    (&[Rule::kw_all], "`all`"),
    (
        &[Rule::kw_emit, Rule::emit_clause, Rule::trending_emit],
        "`emit`",
    ),
    (&[Rule::kw_into], "`into`"),
    (&[Rule::kw_key, Rule::key_clause], "`key`"),
    (&[Rule::lbrace, Rule::schema, Rule::emit_fields], "`{`"),
    (&[Rule::lparen], "`(`"),
    (&[Rule::lbrack], "`[`"),
    (&[Rule::colon], "`:`"),
    (&[Rule::dot], "`.`"),
    (&[Rule::comma], "`,`"),
    (&[Rule::rparen], "`)`"),
    (&[Rule::rbrack], "`]`"),
    (&[Rule::rbrace], "`}`"),
    (
        &[
            Rule::op_or,
            Rule::op_and,
            Rule::op_not_in,
            Rule::op_in,
            Rule::op_eq,
            Rule::op_ne,
            Rule::op_le,
            Rule::op_lt,
            Rule::op_ge,
            Rule::op_gt,
            Rule::op_add,
            Rule::op_sub,
            Rule::op_mul,
            Rule::op_div,
            Rule::op_rem,
            Rule::field_access,
            Rule::index,
            Rule::call,
        ],
        OPERATOR,
    ),
    (
        &[
            Rule::kw_input,
            Rule::kw_event,
            Rule::kw_table,
            Rule::kw_vectors,
            Rule::kw_model,
            Rule::kw_session,
            Rule::kw_covisit,
            Rule::kw_trending,
            Rule::kw_profile,
            Rule::kw_pattern,
            Rule::input_decl,
            Rule::input_loose,
            Rule::event_decl,
            Rule::table_decl,
            Rule::table_loose,
            Rule::vectors_decl,
            Rule::vectors_loose,
            Rule::model_decl,
            Rule::model_loose,
            Rule::session_decl,
            Rule::session_loose,
            Rule::covisit_decl,
            Rule::covisit_loose,
            Rule::trending_decl,
            Rule::trending_loose,
            Rule::profile_decl,
            Rule::profile_loose,
            Rule::pattern_decl,
            Rule::pattern_loose,
            Rule::file,
            Rule::file_loose,
        ],
        DECLARATION,
    ),
    (&[Rule::EOI], END),
];

const OPERATOR: &str = "an operator";
const DECLARATION: &str = "a declaration such as `pattern` or `event`";
const END: &str = "the end of the file";

/// Words that cannot be bare event type names (LANGUAGE.md §1).
const RESERVED_TYPES: &[&str] = &[
    "when", "then", "next", "not", "as", "where", "within", "window", "cooldown", "after", "emit",
    "or",
];

/// Clause words that an expression may have read as a name just before the error.
const CLAUSE_WORDS: &[&str] = &[
    "as", "where", "within", "then", "window", "cooldown", "after", "emit", "when",
];

/// The phrases for a set of expected rules, deduplicated, in message order.
pub(crate) fn phrases(positives: &[Rule]) -> Vec<&'static str> {
    let mut found: Vec<&'static str> = WORDS
        .iter()
        .filter(|(rules, _)| rules.iter().any(|r| positives.contains(r)))
        .map(|(_, phrase)| *phrase)
        .collect();
    // After an expression, `.`, `[`, `(` and the `not` of `not in` are operators too.
    if found.contains(&OPERATOR) {
        found.retain(|p| !matches!(*p, "`.`" | "`[`" | "`(`" | "`not`"));
    }
    // A new declaration or the end of the file: the declaration says it.
    if found.contains(&DECLARATION) {
        found.retain(|p| *p != END);
    }
    found
}

/// `a`, `a or b`, `a, b or c`.
fn join(phrases: &[&str]) -> String {
    match phrases {
        [] => "something else".to_string(),
        [one] => one.to_string(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

/// The E001 diagnostic for a failure at byte `pos` where `positives` were expected.
pub(crate) fn syntax_error(file: FileId, text: &str, pos: usize, positives: &[Rule]) -> Diagnostic {
    let (start, end) = lex::token_at(text, pos);
    let token = &text[start..end];
    let found = if token.is_empty() {
        "end of file".to_string()
    } else {
        format!("`{}`", shorten(token))
    };
    let phrases = phrases(positives);
    let span = Span::new(file, start, end);
    let label = match phrases.len() {
        1..=3 => format!("expected {} here", join(&phrases)),
        _ if token.is_empty() => "the file ends here".to_string(),
        _ => "not allowed here".to_string(),
    };
    let diag = Diagnostic::error(
        "E001",
        format!("expected {}, found {found}", join(&phrases)),
        span,
        label,
    );
    match help(text, start, token, positives, &phrases) {
        Some(h) => diag.with_help(h),
        None => diag,
    }
}

/// A hint for common slips, if one fits.
fn help(
    text: &str,
    start: usize,
    token: &str,
    positives: &[Rule],
    phrases: &[&str],
) -> Option<String> {
    let wants_type = phrases.contains(&"an event type name");
    if wants_type && RESERVED_TYPES.contains(&token) {
        return Some(format!("quote a type spelled like a keyword: \"{token}\""));
    }
    if positives.contains(&Rule::duration) && token.starts_with(|c: char| c.is_ascii_digit()) {
        return Some(if token.bytes().all(|b| b.is_ascii_digit()) {
            format!("a duration needs a unit (ms, s, m, h or d), such as {token}s or {token}m")
        } else {
            "a duration is numbers with units (ms, s, m, h, d), largest first, such as 1h30m"
                .to_string()
        });
    }
    if token == "=" {
        return Some("compare with `==`".to_string());
    }
    let word = token
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if word && !token.is_empty() {
        let keyword = phrases
            .iter()
            .filter_map(|p| p.strip_prefix('`').and_then(|p| p.strip_suffix('`')))
            .filter(|k| k.chars().all(|c| c.is_ascii_alphabetic() || c == ' '))
            .filter_map(|k| {
                let first = k.split(' ').next().unwrap_or(k);
                let d = edit_distance(first, token);
                (first.len() >= 3 && (1..=2).contains(&d)).then_some((d, k))
            })
            .min_by_key(|(d, _)| *d)
            .map(|(_, k)| k);
        if let Some(k) = keyword {
            return Some(format!("did you mean `{k}`?"));
        }
    }
    if phrases.contains(&OPERATOR) {
        let before = previous_word(text, start);
        if CLAUSE_WORDS.contains(&before) {
            return Some(format!(
                "`{before}` was read as a name in the expression before it: is something \
                 missing before `{before}`?"
            ));
        }
    }
    None
}

/// The word just before byte `pos` (after skipping blanks), or "".
fn previous_word(text: &str, pos: usize) -> &str {
    let before = text[..pos].trim_end();
    let start = before
        .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .map_or(0, |i| i + 1);
    &before[start..]
}

/// At most 30 characters of a token, for the message.
fn shorten(token: &str) -> String {
    if token.chars().count() <= 30 {
        token.to_string()
    } else {
        token.chars().take(29).collect::<String>() + "…"
    }
}

/// Levenshtein distance, for "did you mean".
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = if ca == *cb {
                prev
            } else {
                1 + prev.min(row[j]).min(cur)
            };
            prev = cur;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joins() {
        assert_eq!(join(&["a"]), "a");
        assert_eq!(join(&["a", "b"]), "a or b");
        assert_eq!(join(&["a", "b", "c"]), "a, b or c");
    }

    /// Silent rules: pest never reports them.
    const SILENT: &[Rule] = &[
        Rule::WHITESPACE,
        Rule::COMMENT,
        Rule::ident_char,
        Rule::ident_raw,
        Rule::reserved_type,
        Rule::reserved_expr,
        Rule::str_char,
        Rule::exponent,
        Rule::prefix,
        Rule::infix,
        Rule::postfix,
        Rule::step_part,
        Rule::decl,
        Rule::decl_loose,
        Rule::bom,
    ];

    #[test]
    fn every_reportable_rule_has_words() {
        let missing: Vec<_> = Rule::all_rules()
            .iter()
            .filter(|r| !SILENT.contains(r))
            .filter(|r| !WORDS.iter().any(|(rules, _)| rules.contains(r)))
            .collect();
        assert!(
            missing.is_empty(),
            "rules without words in WORDS: {missing:?}"
        );
    }

    #[test]
    fn distance() {
        assert_eq!(edit_distance("window", "windw"), 1);
        assert_eq!(edit_distance("then", "then"), 0);
        assert_eq!(edit_distance("emit", "omit"), 1);
    }

    #[test]
    fn previous() {
        assert_eq!(previous_word("where then B", 11), "then");
        assert_eq!(previous_word("x", 0), "");
    }
}
