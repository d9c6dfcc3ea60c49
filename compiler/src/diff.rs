//! Fingerprints of compiled programs (the full program diff builds on them).
use crate::plan::Plan;
use serde::Serialize;

fn fnv(bytes: &[u8], mut h: u64) -> u64 {
    for b in bytes {
        h ^= *b as u64;
        h = h.wrapping_mul(0x100000001b3);
    }
    h
}
fn fp<T: Serialize>(v: &T, seed: u64) -> u64 {
    fnv(
        serde_json::to_string(v).unwrap_or_default().as_bytes(),
        seed,
    )
}
pub fn schema_fingerprint(plan: &Plan) -> u64 {
    fp(
        &(&plan.input, &plan.fields, &plan.events),
        0xcbf29ce484222325,
    )
}
pub fn pattern_fingerprint(plan: &Plan, index: usize) -> u64 {
    fp(&plan.patterns[index], schema_fingerprint(plan))
}
pub fn session_fingerprint(plan: &Plan, index: usize) -> u64 {
    fp(&plan.sessions[index], schema_fingerprint(plan))
}
pub fn profile_fingerprint(plan: &Plan, index: usize) -> u64 {
    fp(&plan.profiles[index], schema_fingerprint(plan))
}
