//! What changed between two compiled programs, so state can outlive a program change.
//!
//! A running service swaps in a new program (live reload) or restores a checkpoint that an
//! older program wrote. Whatever did not change may keep its state: a pattern its runs
//! and cooldowns, a session or profile its per-key values. This module says, by
//! declaration name, what may be kept ([`ProgramDiff::between`]) and gives each stateful
//! part a fingerprint to store beside its state in a checkpoint
//! ([`schema_fingerprint`], [`pattern_fingerprint`], [`session_fingerprint`],
//! [`profile_fingerprint`]).
//!
//! The comparison is deliberately conservative: a part counts as unchanged only when its
//! compiled form serializes to the same bytes, hashed together with the schema (`input`,
//! the global field numbering and every event type), because state holds field ids, type
//! ids and slots that only mean the same thing under the same schema. Indices are part of
//! the compiled form, so edits that only renumber count as changes too: reordering steps
//! or bindings, or a declaration added before a session, table or profile that a pattern
//! reads (its `SessionId`, `TableId`, `ProfileId` shift). Losing a little state on such an
//! edit is cheap; keeping state under a different meaning would emit wrong actions.
//!
//! One thing is left out on purpose: a pattern's or trending's `place` (its position
//! among all declarations). It only orders output records of one `ts` and no state
//! depends on it, so adding a declaration in front of a pattern keeps the pattern's runs.
//!
//! A pattern that reads a changed operator (a session whose `gap` was edited) stays
//! unchanged: its runs hold events, not the operator's values, and read the operator
//! afresh on every event.
//!
//! Fingerprints hash the `serde_json` text of the plan with FNV-1a 64, written here, not
//! std's `DefaultHasher`, whose output may change between Rust releases: the same program
//! text gives the same numbers on every machine and build, as long as the [`Plan`]'s
//! serialization stays the same (and when that changes, the state layout may have too).

use crate::plan::{PatternPlan, Plan, TrendingPlan};
use serde::Serialize;
use std::fmt;

/// The fingerprint of the parts of a program that the state of everything depends on:
/// `input`, the field numbering and the event types.
pub fn schema_fingerprint(plan: &Plan) -> u64 {
    let mut h = Fnv1a::new();
    h.value(&(&plan.input, &plan.fields, &plan.events));
    h.finish()
}

/// The fingerprint of pattern `index` (its compiled form, without its `place`) under the
/// program's schema.
///
/// # Panics
/// When `index` is not a pattern of `plan`.
pub fn pattern_fingerprint(plan: &Plan, index: usize) -> u64 {
    pattern_fp(schema_fingerprint(plan), &plan.patterns[index])
}

/// The fingerprint of session `index` under the program's schema.
///
/// # Panics
/// When `index` is not a session of `plan`.
pub fn session_fingerprint(plan: &Plan, index: usize) -> u64 {
    with_schema("session", schema_fingerprint(plan), &plan.sessions[index])
}

/// The fingerprint of profile `index` under the program's schema.
///
/// # Panics
/// When `index` is not a profile of `plan`.
pub fn profile_fingerprint(plan: &Plan, index: usize) -> u64 {
    with_schema("profile", schema_fingerprint(plan), &plan.profiles[index])
}

/// What changed from one program to the next, by declaration name.
///
/// Patterns, sessions and profiles are the parts whose state a reload or restore can
/// keep; the other declarations are reported so the log says what the new program does
/// differently, but their state (covisit counts, trending windows) starts fresh or is
/// reloaded (tables, vectors) either way.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ProgramDiff {
    /// `input`, fields or event types differ: no state can be kept, and everything
    /// present in both programs is listed as changed.
    pub schema_changed: bool,
    pub patterns: Changes,
    pub sessions: Changes,
    pub profiles: Changes,
    pub covisits: Changes,
    pub trendings: Changes,
    pub tables: Changes,
    pub vectors: Changes,
    pub models: Changes,
}

/// The declarations of one kind, sorted by what happened to them. Names in the old
/// program's order, `added` in the new program's order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Changes {
    /// In both programs with the same fingerprint: their state may be kept.
    pub unchanged: Vec<String>,
    /// In both programs, but compiled differently (or under another schema).
    pub changed: Vec<String>,
    /// Only in the new program.
    pub added: Vec<String>,
    /// Only in the old program.
    pub removed: Vec<String>,
}

impl Changes {
    /// Nothing changed, was added or was removed (unchanged names may exist).
    pub fn is_empty(&self) -> bool {
        self.changed.is_empty() && self.added.is_empty() && self.removed.is_empty()
    }

    /// Whether the state of `name` may be carried into the new program.
    pub fn keeps(&self, name: &str) -> bool {
        self.unchanged.iter().any(|n| n == name)
    }
}

impl ProgramDiff {
    /// Compares every declaration of `old` with the one of the same name in `new`.
    pub fn between(old: &Plan, new: &Plan) -> ProgramDiff {
        let schemas = (schema_fingerprint(old), schema_fingerprint(new));
        let schema_changed = schemas.0 != schemas.1;
        let cx = Compare {
            schema_changed,
            schemas,
        };
        ProgramDiff {
            schema_changed,
            patterns: cx.run(&old.patterns, &new.patterns, |p| &p.name, pattern_fp),
            sessions: cx.run(
                &old.sessions,
                &new.sessions,
                |s| &s.name,
                |h, s| with_schema("session", h, s),
            ),
            profiles: cx.run(
                &old.profiles,
                &new.profiles,
                |p| &p.name,
                |h, p| with_schema("profile", h, p),
            ),
            covisits: cx.run(
                &old.covisits,
                &new.covisits,
                |c| &c.name,
                |h, c| with_schema("covisit", h, c),
            ),
            trendings: cx.run(&old.trendings, &new.trendings, |t| &t.name, trending_fp),
            tables: cx.run(
                &old.tables,
                &new.tables,
                |t| &t.name,
                |h, t| with_schema("table", h, t),
            ),
            vectors: cx.run(
                &old.vectors,
                &new.vectors,
                |v| &v.name,
                |h, v| with_schema("vectors", h, v),
            ),
            models: cx.run(
                &old.models,
                &new.models,
                |m| &m.name,
                |h, m| with_schema("model", h, m),
            ),
        }
    }

    /// Nothing changed at all: the new program can take over every piece of state.
    pub fn is_empty(&self) -> bool {
        !self.schema_changed && self.kinds().iter().all(|(_, c)| c.is_empty())
    }

    /// Every kind with its plural name, in the order the log line lists them.
    fn kinds(&self) -> [(&'static str, &Changes); 8] {
        [
            ("patterns", &self.patterns),
            ("sessions", &self.sessions),
            ("profiles", &self.profiles),
            ("covisits", &self.covisits),
            ("trendings", &self.trendings),
            ("tables", &self.tables),
            ("vectors", &self.vectors),
            ("models", &self.models),
        ]
    }
}

/// One log line: `patterns: changed a; added b; kept 3 unchanged | profiles: changed c`.
/// Kinds without a change are left out; under a schema change only what was added or
/// removed is listed, since everything else starts fresh anyway.
impl fmt::Display for ProgramDiff {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut kinds = Vec::new();
        if self.schema_changed {
            kinds.push("schema changed: all state starts fresh".to_string());
        }
        for (kind, c) in self.kinds() {
            let mut parts = Vec::new();
            let mut list = |verb: &str, names: &[String]| {
                if !names.is_empty() {
                    parts.push(format!("{verb} {}", names.join(", ")));
                }
            };
            if !self.schema_changed {
                list("changed", &c.changed);
            }
            list("added", &c.added);
            list("removed", &c.removed);
            if parts.is_empty() {
                continue;
            }
            if !self.schema_changed && !c.unchanged.is_empty() {
                parts.push(format!("kept {} unchanged", c.unchanged.len()));
            }
            kinds.push(format!("{kind}: {}", parts.join("; ")));
        }
        if kinds.is_empty() {
            return f.write_str("no change");
        }
        f.write_str(&kinds.join(" | "))
    }
}

/// The comparison of one kind of declaration, given both schemas' fingerprints.
struct Compare {
    schema_changed: bool,
    schemas: (u64, u64),
}

impl Compare {
    /// Matches `old` and `new` declarations by name and sorts them into [`Changes`].
    fn run<T>(
        &self,
        old: &[T],
        new: &[T],
        name: impl Fn(&T) -> &String,
        fingerprint: impl Fn(u64, &T) -> u64,
    ) -> Changes {
        let mut out = Changes::default();
        for o in old {
            let Some(n) = new.iter().find(|n| name(n) == name(o)) else {
                out.removed.push(name(o).clone());
                continue;
            };
            let same = !self.schema_changed
                && fingerprint(self.schemas.0, o) == fingerprint(self.schemas.1, n);
            let to = if same {
                &mut out.unchanged
            } else {
                &mut out.changed
            };
            to.push(name(o).clone());
        }
        for n in new {
            if !old.iter().any(|o| name(o) == name(n)) {
                out.added.push(name(n).clone());
            }
        }
        out
    }
}

/// A pattern's fingerprint without its `place`, which no state depends on (module doc).
fn pattern_fp(schema: u64, pattern: &PatternPlan) -> u64 {
    let placeless = PatternPlan {
        place: 0,
        ..pattern.clone()
    };
    with_schema("pattern", schema, &placeless)
}

/// A trending's fingerprint without its `place`, like [`pattern_fp`].
fn trending_fp(schema: u64, trending: &TrendingPlan) -> u64 {
    let placeless = TrendingPlan {
        place: 0,
        ..trending.clone()
    };
    with_schema("trending", schema, &placeless)
}

/// The fingerprint of one declaration of `kind` under the schema with fingerprint
/// `schema`. The kind keeps a session and a profile that happen to serialize alike apart.
fn with_schema<T: Serialize + fmt::Debug>(kind: &str, schema: u64, value: &T) -> u64 {
    let mut h = Fnv1a::new();
    h.bytes(kind.as_bytes());
    h.bytes(&[0]);
    h.bytes(&schema.to_le_bytes());
    h.value(value);
    h.finish()
}

/// FNV-1a, 64 bits: tiny, and the same everywhere, unlike std's hashers.
struct Fnv1a(u64);

impl Fnv1a {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;

    fn new() -> Fnv1a {
        Fnv1a(Self::OFFSET)
    }

    fn bytes(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(Self::PRIME);
        }
    }

    /// Hashes the value's JSON text. Serializing a plan fails only on a path that is not
    /// UTF-8 (a table's file); its debug text, which escapes such bytes, stands in then,
    /// so two different paths still hash apart.
    fn value<T: Serialize + fmt::Debug>(&mut self, value: &T) {
        if let Err(e) = serde_json::to_writer(&mut *self, value) {
            self.bytes(format!("\0{e}\0{value:?}").as_bytes());
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// Lets `serde_json` stream into the hash without building the text.
impl std::io::Write for Fnv1a {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.bytes(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compile_str;

    const PROGRAM: &str = r#"
input
  key user_id

event VIEW        { user_id: string, product_id: string, price: float }
event ADD_TO_CART { user_id: string, product_id: string, price: float }
event PURCHASE    { user_id: string, total: float }

session browsing
  of VIEW, ADD_TO_CART
  gap 30m
  items product_id last 20

profile customer
  features {
    views_1h:  count(VIEW) over 1h,
    spend_30d: sum(PURCHASE.total) over 30d,
  }

pattern cart_abandon
  when ADD_TO_CART as cart
  then not PURCHASE within 15m
  emit { product_id: cart.product_id }

pattern second_look
  when VIEW as first
  then VIEW where product_id == first.product_id within 1h
  emit { product_id: product_id, seen: len(browsing.items), views: customer.views_1h }
"#;

    const PRICE_DROP: &str = r#"
pattern price_drop
  when VIEW as seen
  then VIEW where product_id == seen.product_id and price < seen.price within 1d
  emit { product_id: product_id }
"#;

    fn plan(text: &str) -> Plan {
        let compiled = compile_str("test.nudge", text);
        match compiled.plan {
            Some(plan) if !compiled.has_errors() => plan,
            _ => panic!("does not compile: {:#?}", compiled.diagnostics),
        }
    }

    /// The program with `from` replaced by `to`, which must occur in it.
    fn edit(from: &str, to: &str) -> String {
        assert!(PROGRAM.contains(from), "`{from}` is not in the program");
        PROGRAM.replacen(from, to, 1)
    }

    fn names(names: &[&str]) -> Vec<String> {
        names.iter().map(|n| n.to_string()).collect()
    }

    #[test]
    fn fnv1a_matches_the_reference_values() {
        let hash = |s: &str| {
            let mut h = Fnv1a::new();
            h.bytes(s.as_bytes());
            h.finish()
        };
        assert_eq!(hash(""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(hash("a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(hash("foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn identical_programs_differ_in_nothing() {
        let diff = ProgramDiff::between(&plan(PROGRAM), &plan(PROGRAM));
        assert!(diff.is_empty());
        assert_eq!(
            diff.patterns.unchanged,
            names(&["cart_abandon", "second_look"])
        );
        assert_eq!(diff.sessions.unchanged, names(&["browsing"]));
        assert_eq!(diff.profiles.unchanged, names(&["customer"]));
        assert!(diff.patterns.keeps("cart_abandon"));
        assert_eq!(diff.to_string(), "no change");
    }

    #[test]
    fn fingerprints_are_stable_across_compilations() {
        let (a, b) = (plan(PROGRAM), plan(PROGRAM));
        assert_eq!(schema_fingerprint(&a), schema_fingerprint(&b));
        for i in 0..a.patterns.len() {
            assert_eq!(pattern_fingerprint(&a, i), pattern_fingerprint(&b, i));
        }
        assert_eq!(session_fingerprint(&a, 0), session_fingerprint(&b, 0));
        assert_eq!(profile_fingerprint(&a, 0), profile_fingerprint(&b, 0));
        assert_ne!(pattern_fingerprint(&a, 0), pattern_fingerprint(&a, 1));
    }

    #[test]
    fn an_edited_within_changes_that_pattern_only() {
        let new = plan(&edit("within 15m", "within 30m"));
        let diff = ProgramDiff::between(&plan(PROGRAM), &new);
        assert!(!diff.schema_changed);
        assert_eq!(diff.patterns.changed, names(&["cart_abandon"]));
        assert_eq!(diff.patterns.unchanged, names(&["second_look"]));
        assert!(diff.sessions.is_empty() && diff.profiles.is_empty());
        assert!(!diff.is_empty());
        assert_eq!(
            diff.to_string(),
            "patterns: changed cart_abandon; kept 1 unchanged"
        );
    }

    #[test]
    fn an_added_pattern_is_added_even_in_front() {
        let old = plan(PROGRAM);
        let appended = plan(&format!("{PROGRAM}{PRICE_DROP}"));
        // In front of every declaration: the others' `place` moves, their state does not.
        let in_front = plan(&edit(
            "session browsing",
            &format!("{PRICE_DROP}\nsession browsing"),
        ));
        let place =
            |p: &Plan, name: &str| p.patterns.iter().find(|x| x.name == name).map(|x| x.place);
        assert_ne!(
            place(&old, "cart_abandon"),
            place(&in_front, "cart_abandon")
        );
        for new in [appended, in_front] {
            let diff = ProgramDiff::between(&old, &new);
            assert_eq!(diff.patterns.added, names(&["price_drop"]));
            assert_eq!(
                diff.patterns.unchanged,
                names(&["cart_abandon", "second_look"])
            );
            assert!(diff.patterns.changed.is_empty() && diff.patterns.removed.is_empty());
            assert_eq!(
                diff.to_string(),
                "patterns: added price_drop; kept 2 unchanged"
            );
        }
    }

    #[test]
    fn a_removed_pattern_is_removed() {
        let Some((kept, _)) = PROGRAM.split_once("pattern second_look") else {
            panic!("second_look is not in the program");
        };
        let diff = ProgramDiff::between(&plan(PROGRAM), &plan(kept));
        assert_eq!(diff.patterns.removed, names(&["second_look"]));
        assert_eq!(diff.patterns.unchanged, names(&["cart_abandon"]));
        assert_eq!(
            diff.to_string(),
            "patterns: removed second_look; kept 1 unchanged"
        );
    }

    #[test]
    fn a_new_event_field_changes_the_schema() {
        let new = plan(&edit("total: float }", "total: float, order_id: string }"));
        let diff = ProgramDiff::between(&plan(PROGRAM), &new);
        assert!(diff.schema_changed);
        assert!(!diff.is_empty());
        assert_eq!(
            diff.patterns.changed,
            names(&["cart_abandon", "second_look"])
        );
        assert_eq!(diff.sessions.changed, names(&["browsing"]));
        assert_eq!(diff.profiles.changed, names(&["customer"]));
        assert!(diff.patterns.unchanged.is_empty());
        assert_eq!(diff.to_string(), "schema changed: all state starts fresh");
    }

    #[test]
    fn a_schema_change_still_lists_what_came_and_went() {
        let text = edit("total: float }", "total: float, order_id: string }");
        let new = plan(&format!("{text}{PRICE_DROP}"));
        let diff = ProgramDiff::between(&plan(PROGRAM), &new);
        assert_eq!(diff.patterns.added, names(&["price_drop"]));
        assert_eq!(
            diff.to_string(),
            "schema changed: all state starts fresh | patterns: added price_drop"
        );
    }

    #[test]
    fn a_new_profile_feature_changes_the_profile_only() {
        let new = plan(&edit(
            "spend_30d: sum(PURCHASE.total) over 30d,",
            "spend_30d: sum(PURCHASE.total) over 30d,\n    carts_24h: count(ADD_TO_CART) over 24h,",
        ));
        let diff = ProgramDiff::between(&plan(PROGRAM), &new);
        assert!(!diff.schema_changed);
        assert_eq!(diff.profiles.changed, names(&["customer"]));
        assert_eq!(
            diff.patterns.unchanged,
            names(&["cart_abandon", "second_look"])
        );
        assert!(diff.sessions.is_empty());
        assert_eq!(diff.to_string(), "profiles: changed customer");
    }

    #[test]
    fn kinds_are_listed_side_by_side() {
        let text = edit("gap 30m", "gap 45m").replacen("within 15m", "within 20m", 1);
        let diff = ProgramDiff::between(&plan(PROGRAM), &plan(&format!("{text}{PRICE_DROP}")));
        assert_eq!(diff.sessions.changed, names(&["browsing"]));
        assert_eq!(
            diff.to_string(),
            "patterns: changed cart_abandon; added price_drop; kept 1 unchanged \
             | sessions: changed browsing"
        );
    }
}
