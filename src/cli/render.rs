//! Rendering diagnostics like rustc: `file:line:col`, the line, carets, a help line.

use ariadne::{CharSet, Config, IndexType, Label, Report, ReportKind};
use nudge_compiler::{Diagnostic, Severity, Sources};
use std::io::{self, IsTerminal, Write};

/// Writes every diagnostic to stderr, then a count line.
pub fn eprint_all(sources: &Sources, diagnostics: &[Diagnostic]) {
    let color = io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let mut out = Vec::new();
    write_all(&mut out, sources, diagnostics, color);
    let _ = io::stderr().write_all(&out);
}

/// Writes every diagnostic and the count line to `out`.
pub fn write_all(out: &mut dyn Write, sources: &Sources, diagnostics: &[Diagnostic], color: bool) {
    for d in diagnostics {
        write_one(out, sources, d, color);
    }
    let errors = diagnostics.iter().filter(|d| d.is_error()).count();
    let warnings = diagnostics.len() - errors;
    if !diagnostics.is_empty() {
        let _ = writeln!(
            out,
            "{} error{}, {} warning{}",
            errors,
            if errors == 1 { "" } else { "s" },
            warnings,
            if warnings == 1 { "" } else { "s" }
        );
    }
}

fn write_one(out: &mut dyn Write, sources: &Sources, d: &Diagnostic, color: bool) {
    let span = d.span();
    let file = sources.get(span.file);
    let kind = match d.severity {
        Severity::Error => ReportKind::Error,
        Severity::Warning => ReportKind::Warning,
    };
    let id = file.path.clone();
    let mut report = Report::build(kind, id, span.start as usize)
        .with_config(
            Config::default()
                .with_color(color)
                .with_char_set(CharSet::Ascii)
                .with_index_type(IndexType::Byte),
        )
        .with_code(d.code)
        .with_message(&d.message);
    for (i, label) in d.labels.iter().enumerate() {
        let l = sources.get(label.span.file);
        let mut range = label.span.range();
        if range.is_empty() {
            range.end = (range.start + 1).min(l.text.len().max(range.start));
        }
        report = report.with_label(
            Label::new((l.path.clone(), range))
                .with_message(&label.message)
                .with_order(i as i32),
        );
    }
    if let Some(help) = &d.help {
        report = report.with_help(help);
    }
    if !d.notes.is_empty() {
        report = report.with_note(d.notes.join("\n"));
    }
    let cache = ariadne::sources(
        sources
            .iter()
            .map(|(_, f)| (f.path.clone(), f.text.clone()))
            .collect::<Vec<_>>(),
    );
    let _ = report.finish().write(cache, &mut *out);
}
