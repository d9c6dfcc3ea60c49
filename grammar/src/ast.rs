//! The spanned syntax tree of a pattern file: what the parser produces and the checker reads.
//!
//! Every node carries a [`Span`] into its source file. The tree is deliberately close to
//! the text: it keeps clauses the language forbids in some places (`as` on a negation,
//! `within` on the first step, ...) so that the checker can point at them with a precise
//! diagnostic instead of the parser failing with a vague one.

use crate::span::Span;

/// A name as written: an identifier, or a double-quoted string (`"add-to-cart"`).
#[derive(Debug, Clone, PartialEq)]
pub struct Name {
    /// The name's text, without quotes and with escapes resolved.
    pub text: String,
    pub span: Span,
    /// Whether it was written as a quoted string.
    pub quoted: bool,
}

/// A duration literal such as `15m` or `1h30m`, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Duration {
    pub ms: u64,
    pub span: Span,
}

/// A string literal (`"data/products.csv"`), escapes resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct StrLit {
    pub value: String,
    pub span: Span,
}

/// An unsigned integer written in a clause (`top 20`, `last 20`, `concurrency 64`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Count {
    pub value: u64,
    pub span: Span,
}

/// One parsed file: its declarations in file order.
#[derive(Debug, Clone, PartialEq)]
pub struct File {
    pub decls: Vec<Decl>,
}

/// A top-level declaration.
#[derive(Debug, Clone, PartialEq)]
pub enum Decl {
    Input(InputDecl),
    Event(EventDecl),
    Table(TableDecl),
    Vectors(VectorsDecl),
    Model(ModelDecl),
    Session(SessionDecl),
    Covisit(CovisitDecl),
    Trending(TrendingDecl),
    Profile(ProfileDecl),
    Pattern(PatternDecl),
}

impl Decl {
    /// The declared name; `None` for `input`, which has none.
    pub fn name(&self) -> Option<&Name> {
        match self {
            Decl::Input(_) => None,
            Decl::Event(d) => Some(&d.name),
            Decl::Table(d) => Some(&d.name),
            Decl::Vectors(d) => Some(&d.name),
            Decl::Model(d) => Some(&d.name),
            Decl::Session(d) => Some(&d.name),
            Decl::Covisit(d) => Some(&d.name),
            Decl::Trending(d) => Some(&d.name),
            Decl::Profile(d) => Some(&d.name),
            Decl::Pattern(d) => Some(&d.name),
        }
    }

    /// The whole declaration's span.
    pub fn span(&self) -> Span {
        match self {
            Decl::Input(d) => d.span,
            Decl::Event(d) => d.span,
            Decl::Table(d) => d.span,
            Decl::Vectors(d) => d.span,
            Decl::Model(d) => d.span,
            Decl::Session(d) => d.span,
            Decl::Covisit(d) => d.span,
            Decl::Trending(d) => d.span,
            Decl::Profile(d) => d.span,
            Decl::Pattern(d) => d.span,
        }
    }

    /// The keyword that starts it (`"pattern"`, `"event"`, ...), for messages.
    pub fn keyword(&self) -> &'static str {
        match self {
            Decl::Input(_) => "input",
            Decl::Event(_) => "event",
            Decl::Table(_) => "table",
            Decl::Vectors(_) => "vectors",
            Decl::Model(_) => "model",
            Decl::Session(_) => "session",
            Decl::Covisit(_) => "covisit",
            Decl::Trending(_) => "trending",
            Decl::Profile(_) => "profile",
            Decl::Pattern(_) => "pattern",
        }
    }
}

/// `input` — how events are read (LANGUAGE.md §2). Absent clauses take their defaults.
#[derive(Debug, Clone, PartialEq)]
pub struct InputDecl {
    pub span: Span,
    /// `type field NAME`
    pub type_field: Option<Name>,
    /// `time field NAME [seconds]`
    pub time_field: Option<TimeField>,
    /// `lateness D`
    pub lateness: Option<Duration>,
    /// `idle D`
    pub idle: Option<Duration>,
    /// `key NAME`
    pub key: Option<Name>,
}

/// `time field NAME [seconds]`
#[derive(Debug, Clone, PartialEq)]
pub struct TimeField {
    pub name: Name,
    /// `Some` when the `seconds` word was written.
    pub seconds: Option<Span>,
}

/// `event NAME { field: TYPE, ... }`
#[derive(Debug, Clone, PartialEq)]
pub struct EventDecl {
    pub span: Span,
    pub name: Name,
    pub fields: Vec<FieldDecl>,
}

/// `field: TYPE` inside an `event` or `table` schema.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldDecl {
    pub name: Name,
    pub ty: FieldType,
    pub ty_span: Span,
}

/// The field types of a schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FieldType {
    String,
    Int,
    Float,
    Bool,
    List,
}

impl FieldType {
    /// The keyword spelling (`string`, `int`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            FieldType::String => "string",
            FieldType::Int => "int",
            FieldType::Float => "float",
            FieldType::Bool => "bool",
            FieldType::List => "list",
        }
    }
}

/// `table NAME { ... } from "PATH" key FIELD`
#[derive(Debug, Clone, PartialEq)]
pub struct TableDecl {
    pub span: Span,
    pub name: Name,
    pub fields: Vec<FieldDecl>,
    pub from: StrLit,
    pub key: Name,
}

/// `vectors NAME from "PATH" key FIELD`
#[derive(Debug, Clone, PartialEq)]
pub struct VectorsDecl {
    pub span: Span,
    pub name: Name,
    pub from: StrLit,
    pub key: Name,
}

/// `model NAME url "..." [timeout D] [concurrency N] [fallback EXPR]`
#[derive(Debug, Clone, PartialEq)]
pub struct ModelDecl {
    pub span: Span,
    pub name: Name,
    pub url: StrLit,
    pub timeout: Option<Duration>,
    pub concurrency: Option<Count>,
    pub fallback: Option<Expr>,
}

/// `session NAME [per F] [of T, ...] gap D items F last N`
#[derive(Debug, Clone, PartialEq)]
pub struct SessionDecl {
    pub span: Span,
    pub name: Name,
    pub per: Option<Name>,
    /// The `of` types; empty means all declared types.
    pub of: Vec<Name>,
    pub gap: Duration,
    /// `items FIELD last N`
    pub items: Name,
    pub last: Count,
}

/// `covisit NAME from SESSION [refresh D] [keep N per item]`
#[derive(Debug, Clone, PartialEq)]
pub struct CovisitDecl {
    pub span: Span,
    pub name: Name,
    pub from: Name,
    pub refresh: Option<Duration>,
    pub keep: Option<Count>,
}

/// `trending NAME of T [weight W], ... by F over D every D top N [emit [into "NAME"]]`
#[derive(Debug, Clone, PartialEq)]
pub struct TrendingDecl {
    pub span: Span,
    pub name: Name,
    pub of: Vec<WeightedType>,
    pub by: Name,
    pub over: Duration,
    pub every: Duration,
    pub top: Count,
    pub emit: Option<TrendingEmit>,
}

/// One `TYPE [weight W]` of a trending `of` list.
#[derive(Debug, Clone, PartialEq)]
pub struct WeightedType {
    pub ty: Name,
    /// The weight as written (an integer or a float); `None` means 1.
    pub weight: Option<(f64, Span)>,
}

/// `emit [into "NAME"]` on a trending declaration.
#[derive(Debug, Clone, PartialEq)]
pub struct TrendingEmit {
    pub span: Span,
    pub into: Option<StrLit>,
}

/// `profile NAME [per F] features { ... } [sink redis "TEMPLATE"]`
#[derive(Debug, Clone, PartialEq)]
pub struct ProfileDecl {
    pub span: Span,
    pub name: Name,
    pub per: Option<Name>,
    pub features: Vec<Feature>,
    /// The key template of `sink redis "customer:{key}"`.
    pub sink_redis: Option<StrLit>,
}

/// `name: AGG(ARG) [over D]` inside `features { ... }`.
#[derive(Debug, Clone, PartialEq)]
pub struct Feature {
    pub span: Span,
    pub name: Name,
    /// The aggregate function (`count`, `sum`, `last`, ...), not yet checked.
    pub agg: Name,
    /// The argument: `TYPE`, `TYPE.field`, or a field / pseudo-field name. Whether the
    /// first name is a type or a field is decided by the checker.
    pub arg: Name,
    pub arg_field: Option<Name>,
    pub over: Option<Duration>,
}

/// `pattern NAME ...` (LANGUAGE.md §4).
#[derive(Debug, Clone, PartialEq)]
pub struct PatternDecl {
    pub span: Span,
    pub name: Name,
    pub per: Option<Name>,
    /// The `when` step first, then every `then` step in order.
    pub steps: Vec<Step>,
    pub window: Option<Duration>,
    pub cooldown: Option<Duration>,
    pub after_match: Option<AfterMatch>,
    pub emit: Emit,
}

/// How a step is introduced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Link {
    /// `when` (the first step).
    When,
    /// `then` (relaxed: other events may come between).
    Then,
    /// `then next` (strict contiguity).
    ThenNext,
}

/// One step, positive or negated, exactly as written. The checker enforces where each
/// clause may appear.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    pub span: Span,
    pub link: Link,
    /// The span of the `when` / `then` / `then next` words.
    pub link_span: Span,
    /// `Some(span of the word not)` for a negation.
    pub not: Option<Span>,
    /// One type, or several for `(A or B)`.
    pub types: Vec<Name>,
    pub quant: Option<Quant>,
    pub alias: Option<Name>,
    pub where_: Option<Expr>,
    pub within: Option<Duration>,
}

impl Step {
    /// Whether this step is a negation (`not TYPES`).
    pub fn is_negation(&self) -> bool {
        self.not.is_some()
    }
}

/// A quantifier: `{n}`, `{n,}`, `{n,m}`, `+`, `*`, `?`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quant {
    pub span: Span,
    pub min: u32,
    /// `None` for unbounded (`{n,}`, `+`, `*`).
    pub max: Option<u32>,
}

/// `after match skip` or `after match keep all`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AfterMatch {
    pub span: Span,
    pub keep_all: bool,
}

/// `emit [into "NAME"] { field: EXPR, ... }`
#[derive(Debug, Clone, PartialEq)]
pub struct Emit {
    pub span: Span,
    pub into: Option<StrLit>,
    pub fields: Vec<(Name, Expr)>,
}

/// An expression with its span.
#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

/// Expression forms (LANGUAGE.md §5).
#[derive(Debug, Clone, PartialEq)]
pub enum ExprKind {
    Lit(Lit),
    /// A bare identifier: a binding, a declaration, `key`, a pseudo-field or a field.
    Name(Name),
    /// `e.field` (the field may be quoted: `cart."product-id"`).
    Field(Box<Expr>, Name),
    /// `e[index]`
    Index(Box<Expr>, Box<Expr>),
    /// `callee(args)`; the callee is a `Name` (`lower(x)`) or a `Field` (`hot.score(x)`).
    Call(Box<Expr>, Vec<Expr>),
    Unary(UnOp, Box<Expr>),
    Binary(BinOp, Box<Expr>, Box<Expr>),
    List(Vec<Expr>),
    Record(Vec<(Name, Expr)>),
}

/// Literal values. A duration literal is its number of milliseconds.
#[derive(Debug, Clone, PartialEq)]
pub enum Lit {
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    Null,
    Duration(u64),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub enum UnOp {
    /// `not e`
    Not,
    /// `-e`
    Neg,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub enum BinOp {
    Or,
    And,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    In,
    NotIn,
    Add,
    Sub,
    Mul,
    Div,
    Rem,
}

impl BinOp {
    /// The operator as written.
    pub fn as_str(self) -> &'static str {
        match self {
            BinOp::Or => "or",
            BinOp::And => "and",
            BinOp::Eq => "==",
            BinOp::Ne => "!=",
            BinOp::Lt => "<",
            BinOp::Le => "<=",
            BinOp::Gt => ">",
            BinOp::Ge => ">=",
            BinOp::In => "in",
            BinOp::NotIn => "not in",
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::Rem => "%",
        }
    }
}
