//! How long a checkpoint of one partition with N keys takes to take and to restore.
//!
//! `cargo run --release -p nudge-runtime --example restore_bench -- [KEYS]` (default
//! 1,000,000): pushes one cart per shopper through cart abandonment (a run and a timer
//! per key) and a customer profile (all-time and windowed features per key), then times
//! the snapshot, its encoding (postcard, as in a checkpoint), decoding, and the restore
//! into a fresh engine; checks the restored engine holds every key and run.

use nudge_runtime::decode::{Decoded, Decoder};
use nudge_runtime::engine::{Engine, EngineConfig, ShardId, Snapshot};
use nudge_runtime::world::Resources;
use std::sync::Arc;
use std::time::Instant;

const PROGRAM: &str = r#"
input
  type field type
  time field ts
  key user_id
event ADD_TO_CART { user_id: string, product_id: string, price: float }
event PURCHASE    { user_id: string, total: float }
profile customer
  per user_id
  features {
    carts_24h: count(ADD_TO_CART) over 24h,
    last_product: last(ADD_TO_CART.product_id),
    spend: sum(PURCHASE.total),
  }
pattern cart_abandonment
  when ADD_TO_CART as cart
  then not PURCHASE within 15m
  emit { user_id: cart.user_id, product_id: cart.product_id, carts: customer.carts_24h }
"#;

fn main() {
    let keys: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.replace('_', "").parse().ok())
        .unwrap_or(1_000_000);
    let compiled = nudge_compiler::compile_str("bench.nudge", PROGRAM);
    let plan = Arc::new(compiled.plan.expect("the program compiles"));
    let (resources, _) = Resources::load(&plan).expect("no resources");
    let world: Arc<Resources> = Arc::new(resources);
    let new_engine = || {
        Engine::new(
            plan.clone(),
            world.clone(),
            EngineConfig::default(),
            ShardId::SOLE,
        )
    };
    let mut engine = new_engine();
    let mut decoder = Decoder::new(plan.clone());
    let source: Arc<str> = Arc::from("bench");
    for i in 0..keys {
        let line = format!(
            r#"{{"type": "ADD_TO_CART", "ts": {}, "user_id": "u{i:07}", "product_id": "p{:05}", "price": 19.5}}"#,
            1_800_000_000_000i64 + i as i64,
            i % 20_000
        );
        if let Decoded::Event(e) = decoder.decode_json_line(line.as_bytes(), &source, 0, i as u64) {
            engine.push(Arc::new(e));
        }
    }
    let runs = engine.runs_alive();
    assert_eq!(engine.keys_alive(), keys);

    let t = Instant::now();
    let snap = engine.snapshot();
    let snapshot_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let bytes = postcard::to_stdvec(&snap).expect("encode");
    let encode_s = t.elapsed().as_secs_f64();
    drop(snap);
    let t = Instant::now();
    let snap: Snapshot = postcard::from_bytes(&bytes).expect("decode");
    let decode_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let mut restored = new_engine();
    let report = restored.restore(snap);
    let restore_s = t.elapsed().as_secs_f64();
    assert_eq!(report.keys, keys);
    assert_eq!(restored.runs_alive(), runs);
    println!(
        "{keys} keys, {runs} runs: checkpoint {:.1} MB ({:.0} B/key); take: snapshot {snapshot_s:.2} s + encode {encode_s:.2} s; restore: decode {decode_s:.2} s + restore {restore_s:.2} s = {:.2} s",
        bytes.len() as f64 / 1e6,
        bytes.len() as f64 / keys as f64,
        decode_s + restore_s
    );
}
