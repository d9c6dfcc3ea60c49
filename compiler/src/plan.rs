//! The Plan: the compiled program, the only thing the runtime sees.
//!
//! Everything is resolved to indices: event types to [`TypeId`], field names to
//! [`FieldId`] (one global numbering; each event type maps a `FieldId` to its slot),
//! declarations to their own ids, step names to [`BindingId`]. Nothing at run time looks
//! a name up. Each pattern carries both its step table (what the engine executes) and the
//! state table derived from its NFA graph.

pub use nudge_grammar::ast::{BinOp, FieldType, UnOp};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

macro_rules! id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub struct $name(pub u32);
        impl $name {
            /// The id as an index into its table.
            pub fn index(self) -> usize {
                self.0 as usize
            }
        }
    };
}

id!(
    /// An event type: index into [`Plan::events`].
    TypeId
);
id!(
    /// A field name, numbered across all event types: index into [`Plan::fields`].
    FieldId
);
id!(
    /// A step binding (`as x`) of one pattern: index into [`PatternPlan::bindings`].
    BindingId
);
id!(
    /// Index into [`Plan::tables`].
    TableId
);
id!(
    /// Index into [`Plan::vectors`].
    VectorsId
);
id!(
    /// Index into [`Plan::models`].
    ModelId
);
id!(
    /// Index into [`Plan::sessions`].
    SessionId
);
id!(
    /// Index into [`Plan::covisits`].
    CovisitId
);
id!(
    /// Index into [`Plan::trendings`].
    TrendingId
);
id!(
    /// Index into [`Plan::profiles`].
    ProfileId
);
id!(
    /// Index into [`PatternPlan::steps`] (positive steps only).
    StepId
);

/// The whole compiled program.
#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    pub input: InputPlan,
    /// Every field name of every event type, once; `FieldId` indexes it.
    pub fields: Vec<String>,
    pub events: Vec<EventPlan>,
    pub tables: Vec<TablePlan>,
    pub vectors: Vec<VectorsPlan>,
    pub models: Vec<ModelPlan>,
    pub sessions: Vec<SessionPlan>,
    pub covisits: Vec<CovisitPlan>,
    pub trendings: Vec<TrendingPlan>,
    pub profiles: Vec<ProfilePlan>,
    /// In program order (files in path order, declarations in file order).
    pub patterns: Vec<PatternPlan>,
}

impl Plan {
    /// The event type with this exact name.
    pub fn type_id(&self, name: &str) -> Option<TypeId> {
        self.events
            .iter()
            .position(|e| e.name == name)
            .map(|i| TypeId(i as u32))
    }

    /// The field id of this exact name.
    pub fn field_id(&self, name: &str) -> Option<FieldId> {
        self.fields
            .iter()
            .position(|f| f == name)
            .map(|i| FieldId(i as u32))
    }
}

/// `input` with defaults applied.
#[derive(Debug, Clone, Serialize)]
pub struct InputPlan {
    pub type_field: String,
    pub time_field: String,
    /// Integer times are epoch seconds, not milliseconds.
    pub time_seconds: bool,
    pub lateness_ms: u64,
    pub idle_ms: u64,
    /// The input `key`, if declared.
    pub key: Option<FieldId>,
}

/// The schema of one event type.
#[derive(Debug, Clone, Serialize)]
pub struct EventPlan {
    pub name: String,
    /// Declared fields in declaration order; an event's values are in this order.
    pub fields: Vec<SchemaField>,
    /// For every `FieldId` of the program, this type's slot for it, if it declares it.
    pub slot_of: Vec<Option<u32>>,
}

impl EventPlan {
    /// This type's slot for a field, if it declares it.
    pub fn slot(&self, field: FieldId) -> Option<usize> {
        self.slot_of
            .get(field.index())
            .copied()
            .flatten()
            .map(|s| s as usize)
    }
}

/// One declared field of a schema.
#[derive(Debug, Clone, Serialize)]
pub struct SchemaField {
    pub name: String,
    pub id: FieldId,
    #[serde(serialize_with = "ser_field_type")]
    pub ty: FieldType,
}

fn ser_field_type<S: serde::Serializer>(ty: &FieldType, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(ty.as_str())
}

/// `table`: rows loaded from a file, looked up by key.
#[derive(Debug, Clone, Serialize)]
pub struct TablePlan {
    pub name: String,
    /// Resolved relative to the declaring file's folder.
    pub path: PathBuf,
    /// Columns in declaration order (name, type).
    pub columns: Vec<(String, String)>,
    /// Index of the key column in `columns`.
    pub key: usize,
}

/// `vectors`: item vectors from a JSON-lines file.
#[derive(Debug, Clone, Serialize)]
pub struct VectorsPlan {
    pub name: String,
    pub path: PathBuf,
    /// The JSON field holding the item id.
    pub key: String,
}

/// `model`: a remote HTTP model.
#[derive(Debug, Clone, Serialize)]
pub struct ModelPlan {
    pub name: String,
    pub url: String,
    /// Default 1000 ms.
    pub timeout_ms: u64,
    /// Default 64.
    pub concurrency: u32,
    /// Default `null`.
    pub fallback: Const,
}

/// `session`.
#[derive(Debug, Clone, Serialize)]
pub struct SessionPlan {
    pub name: String,
    pub key: FieldId,
    /// The member types (all declared types when `of` is absent).
    pub of: Vec<TypeId>,
    pub gap_ms: u64,
    pub items: FieldId,
    pub last: u32,
}

/// `covisit`.
#[derive(Debug, Clone, Serialize)]
pub struct CovisitPlan {
    pub name: String,
    pub session: SessionId,
    /// Default 60 000 ms.
    pub refresh_ms: u64,
    /// Co-counts kept per item; default 100.
    pub keep: u32,
}

/// `trending`.
#[derive(Debug, Clone, Serialize)]
pub struct TrendingPlan {
    pub name: String,
    /// The declaration's place in the program (its index among all declarations, files
    /// in path order): with `emit`, its records sort by it after `ts` (LANGUAGE.md §9.1).
    pub place: u32,
    /// Member types with their weights.
    pub of: Vec<(TypeId, f64)>,
    pub by: FieldId,
    pub over_ms: u64,
    pub every_ms: u64,
    pub top: u32,
    /// `Some(output)` when the declaration has `emit`; the output is `None` for the main
    /// output, or the `into` name.
    pub emit: Option<Option<String>>,
}

/// `profile`.
#[derive(Debug, Clone, Serialize)]
pub struct ProfilePlan {
    pub name: String,
    pub key: FieldId,
    pub features: Vec<FeaturePlan>,
    /// The Redis key template (`"customer:{key}"`).
    pub sink_redis: Option<String>,
}

/// One profile feature.
#[derive(Debug, Clone, Serialize)]
pub struct FeaturePlan {
    pub name: String,
    pub agg: Agg,
    /// Only events of this type count; `None`: all events of the key.
    pub of: Option<TypeId>,
    /// The value aggregated; `None` for `count(TYPE)`.
    pub value: Option<Operand>,
    /// `None`: all time.
    pub over_ms: Option<u64>,
}

/// Profile aggregates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Agg {
    Count,
    Sum,
    Avg,
    Min,
    Max,
    Last,
    First,
    CountDistinct,
}

/// A value read from an event: a declared field or a pseudo-field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Operand {
    Field(FieldId),
    Pseudo(Pseudo),
}

/// The pseudo-fields every event has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Pseudo {
    /// The event type name (string).
    Type,
    /// Event time, epoch ms (int).
    Ts,
    /// The input it came from (string).
    Source,
}

/// One compiled pattern.
#[derive(Debug, Clone, Serialize)]
pub struct PatternPlan {
    pub name: String,
    /// The declaration's place in the program (its index among all declarations, files
    /// in path order): records of one `ts` sort by it (LANGUAGE.md §9.1).
    pub place: u32,
    /// The partition key field.
    pub key: FieldId,
    /// Positive steps in order; `StepId` indexes it.
    pub steps: Vec<StepPlan>,
    /// Negations, in order.
    pub guards: Vec<GuardPlan>,
    /// `Some` when the chain ends in a negation.
    pub trailing: Option<TrailingPlan>,
    pub window_ms: Option<u64>,
    pub cooldown_ms: Option<u64>,
    /// `after match keep all`.
    pub keep_all: bool,
    pub bindings: Vec<BindingPlan>,
    pub emit: EmitPlan,
    /// The runtime automaton: one state per positive step, derived from the NFA graph.
    pub states: Vec<StatePlan>,
    /// The event types any step or guard of this pattern names (sorted, deduplicated).
    pub types: Vec<TypeId>,
}

/// A positive step.
#[derive(Debug, Clone, Serialize)]
pub struct StepPlan {
    /// The step's types (one, or several for `(A or B)`).
    pub types: Vec<TypeId>,
    pub min: u32,
    /// `None`: unbounded.
    pub max: Option<u32>,
    /// `then next`: the step's first event must be the key's very next event.
    pub strict: bool,
    /// `as x`; a group when the step has a written quantifier.
    pub binding: Option<BindingId>,
    /// The `where`, evaluated with the candidate event as the current event.
    pub cond: Option<Expr>,
    /// `within D`: the step's events must have `ts < prev + D` (prev: the run's last
    /// taken event before this step began).
    pub within_ms: Option<u64>,
    /// The fields of this step's events that later expressions read (projection).
    pub reads: Projection,
}

/// Which parts of a bound event later expressions read.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Projection {
    /// The whole event is read (it is emitted as an object).
    pub whole: bool,
    pub fields: Vec<FieldId>,
    pub pseudo: Vec<Pseudo>,
}

/// A negation (`then not TYPES [where ...] [within D]`).
#[derive(Debug, Clone, Serialize)]
pub struct GuardPlan {
    pub types: Vec<TypeId>,
    pub cond: Option<Expr>,
    /// The positive step it stands before; `steps.len()` for a trailing negation.
    pub before: StepId,
}

/// The deadline of a trailing negation.
#[derive(Debug, Clone, Serialize)]
pub struct TrailingPlan {
    /// `within` on the negation; `None` means the window's end is the deadline.
    pub within_ms: Option<u64>,
}

/// A name bound by `as`.
#[derive(Debug, Clone, Serialize)]
pub struct BindingPlan {
    pub name: String,
    pub step: StepId,
    /// A list of events (the step has a written quantifier) rather than one.
    pub group: bool,
}

/// `emit [into "NAME"] { ... }`.
#[derive(Debug, Clone, Serialize)]
pub struct EmitPlan {
    /// `None`: the main output.
    pub into: Option<String>,
    /// In the order written; bare fields read the match's last taken event.
    pub fields: Vec<(String, Expr)>,
}

/// A runtime state: "the run is taking events of step `step`" (with a counter `c` of the
/// events it took there). Derived from the NFA graph by the lowering.
#[derive(Debug, Clone, Serialize)]
pub struct StatePlan {
    pub step: StepId,
    /// Once the step has its minimum: the steps an event may advance the run to, nearest
    /// first (the next step, and past it while the steps skipped are optional).
    pub advance: Vec<StepId>,
    /// Once the step has its minimum: the negations watched (those standing before any
    /// `advance` target, and the trailing ones when `accepting`).
    pub guards: Vec<u32>,
    /// Once the step has its minimum, every later positive step is optional: the run is
    /// complete (or, with a trailing negation, waits for its deadline).
    pub accepting: bool,
    /// Once the step has its minimum, the run dies on any event it does not take (every
    /// `advance` target is strict and the step cannot grow on it).
    pub strict: bool,
    /// While under the minimum: the run dies at `prev + within` of this step.
    pub deadline_below_min: Option<u64>,
    /// Once at the minimum (and not accepting): the run dies at `last + within` of the
    /// nearest required later step, if that step has a `within`.
    pub deadline_at_min: Option<u64>,
}

/// A compile-time constant.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Const {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(std::sync::Arc<str>),
    List(Vec<Const>),
    Record(Vec<(String, Const)>),
}

/// A compiled expression. Fields are read by id, never by name.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum Expr {
    Const(Const),
    /// A field of the current event (the candidate in a `where`, the last taken event in
    /// `emit`).
    Field(FieldId),
    /// A pseudo-field of the current event.
    Pseudo(Pseudo),
    /// The current partition key.
    Key,
    /// A bound event (single) or group (list of events), as a value.
    Bound(BindingId),
    /// A field of a bound single event.
    BoundField(BindingId, FieldId),
    /// A pseudo-field of a bound single event.
    BoundPseudo(BindingId, Pseudo),
    /// The list of a bound group's values of a field (`g.f`).
    GroupField(BindingId, FieldId),
    /// The list of a bound group's pseudo-field values (`g.ts`).
    GroupPseudo(BindingId, Pseudo),
    Unary(UnOp, Box<Expr>),
    Binary(BinOp, Box<Expr>, Box<Expr>),
    Call(Func, Vec<Expr>),
    List(Vec<Expr>),
    Record(Vec<(String, Expr)>),
    /// `.name` of a record-like value (a table row, a model reply, a record).
    Member(Box<Expr>, String),
    /// `e[i]` of a list (0-based, negative from the end) or record (string key).
    Index(Box<Expr>, Box<Expr>),
    /// `table[key]`: the row (a record in column order) or null.
    TableRow(TableId, Box<Expr>),
    /// `browsing.items`, `.count`, `.start`.
    Session(SessionId, SessionAttr),
    /// `hot.items`.
    TrendingItems(TrendingId),
    /// `hot.score(x)`.
    TrendingScore(TrendingId, Box<Expr>),
    /// `customer.feature` (index into the profile's features).
    Profile(ProfileId, u32),
    /// `similar(vectors, x, k)`.
    Similar(VectorsId, Box<Expr>, Box<Expr>),
    /// `recommend(covisit, items, k)`.
    Recommend(CovisitId, Box<Expr>, Box<Expr>),
    /// `model(arg)`; only in `emit`.
    Model(ModelId, Box<Expr>),
}

impl Expr {
    /// Calls `f` on this expression and every expression inside it, parents first.
    pub fn walk(&self, f: &mut impl FnMut(&Expr)) {
        f(self);
        match self {
            Expr::Unary(_, a)
            | Expr::Member(a, _)
            | Expr::TableRow(_, a)
            | Expr::TrendingScore(_, a)
            | Expr::Model(_, a) => a.walk(f),
            Expr::Binary(_, a, b)
            | Expr::Index(a, b)
            | Expr::Similar(_, a, b)
            | Expr::Recommend(_, a, b) => {
                a.walk(f);
                b.walk(f);
            }
            Expr::Call(_, args) | Expr::List(args) => args.iter().for_each(|a| a.walk(f)),
            Expr::Record(fields) => fields.iter().for_each(|(_, a)| a.walk(f)),
            Expr::Const(_)
            | Expr::Field(_)
            | Expr::Pseudo(_)
            | Expr::Key
            | Expr::Bound(_)
            | Expr::BoundField(..)
            | Expr::BoundPseudo(..)
            | Expr::GroupField(..)
            | Expr::GroupPseudo(..)
            | Expr::Session(..)
            | Expr::TrendingItems(_)
            | Expr::Profile(..) => {}
        }
    }
}

/// What a session exposes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SessionAttr {
    Items,
    Count,
    Start,
}

/// Built-in functions of LANGUAGE.md §5.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Func {
    Count,
    Sum,
    Avg,
    Min,
    Max,
    CountDistinct,
    First,
    Last,
    Len,
    Take,
    Unique,
    Lower,
    Upper,
    Contains,
    StartsWith,
    Abs,
    Round,
    Least,
    Greatest,
    HourOfDay,
    DayOfWeek,
}
