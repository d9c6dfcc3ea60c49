//! Projection: which parts of each step's events later expressions read, so a run keeps
//! only those (DESIGN.md, "Compiling a pattern").

use crate::plan::{
    BindingPlan, EmitPlan, EventPlan, Expr, FieldId, GuardPlan, Pseudo, StepPlan, TypeId,
};

/// Fills `reads` of every step from the steps' and guards' conditions and the emit.
///
/// A bound step's fields are read through its binding (`x.f`, `g.f`, or `x` whole). In
/// `emit`, bare fields read the match's last taken event: they count for every positive
/// step that can be the last one to take an event (the last step, and each earlier one
/// when every step after it is optional), if one of its types declares the field.
pub(crate) fn project(
    steps: &mut [StepPlan],
    bindings: &[BindingPlan],
    guards: &[GuardPlan],
    emit: &EmitPlan,
    events: &[EventPlan],
) {
    let mut uses = Vec::new();
    for cond in steps.iter().filter_map(|s| s.cond.as_ref()) {
        cond.walk(&mut |e| uses.push(e.clone()));
    }
    for cond in guards.iter().filter_map(|g| g.cond.as_ref()) {
        cond.walk(&mut |e| uses.push(e.clone()));
    }
    let mut last_uses = Vec::new();
    for (_, e) in &emit.fields {
        e.walk(&mut |e| match e {
            Expr::Field(_) | Expr::Pseudo(_) => last_uses.push(e.clone()),
            _ => uses.push(e.clone()),
        });
    }
    for e in uses {
        match e {
            Expr::Bound(b) => steps[bindings[b.index()].step.index()].reads.whole = true,
            Expr::BoundField(b, f) | Expr::GroupField(b, f) => {
                steps[bindings[b.index()].step.index()].reads.fields.push(f)
            }
            Expr::BoundPseudo(b, p) | Expr::GroupPseudo(b, p) => {
                steps[bindings[b.index()].step.index()].reads.pseudo.push(p)
            }
            _ => {}
        }
    }
    let first_last = steps.iter().rposition(|s| s.min > 0).unwrap_or(0);
    for step in &mut steps[first_last..] {
        for e in &last_uses {
            match e {
                Expr::Field(f) if declares(events, &step.types, *f) => step.reads.fields.push(*f),
                Expr::Pseudo(p) => step.reads.pseudo.push(*p),
                _ => {}
            }
        }
    }
    for step in steps {
        step.reads.fields.sort();
        step.reads.fields.dedup();
        step.reads.pseudo.sort_by_key(|p| rank(*p));
        step.reads.pseudo.dedup();
    }
}

/// Whether one of these types declares the field.
fn declares(events: &[EventPlan], types: &[TypeId], f: FieldId) -> bool {
    types.iter().any(|t| events[t.index()].slot(f).is_some())
}

fn rank(p: Pseudo) -> u8 {
    match p {
        Pseudo::Type => 0,
        Pseudo::Ts => 1,
        Pseudo::Source => 2,
    }
}
