//! Several inputs at once (LANGUAGE.md §9, §11): the web, app and store files of
//! `examples/channels/` merge by event time, `source` is each file's stem, and a rule
//! follows a shopper across them.

use std::path::PathBuf;
use std::process::Command;

fn run(inputs: &[&str], extra: &[&str]) -> String {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_nudge"));
    cmd.current_dir(&root)
        .args(["run", "examples/channels/cross_channel.nudge"])
        .args(extra);
    for i in inputs {
        cmd.args(["--input", &format!("examples/channels/{i}.jsonl")]);
    }
    let o = cmd.output().expect("nudge runs");
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).expect("utf-8")
}

#[test]
fn a_web_view_then_a_store_purchase_matches_across_files() {
    let out = run(&["web", "app", "store"], &[]);
    // u3 and u1 saw the product on the web and bought it at a till within 2h, having
    // used all three channels this week. u2 bought at a till more than 2h after the web
    // view (and in the app in between): no match.
    assert_eq!(
        out,
        concat!(
            r#"{"rule": "web_to_store", "key": "u3", "ts": 1795775400000, "product_id": "p300", "order_id": "s-5004", "viewed_at": 1795770000000, "channels_7d": 3}"#,
            "\n",
            r#"{"rule": "web_to_store", "key": "u1", "ts": 1795778100000, "product_id": "p100", "order_id": "s-5001", "viewed_at": 1795773600000, "channels_7d": 3}"#,
            "\n",
        )
    );
    // The order of the files, and sharding, change nothing.
    assert_eq!(run(&["store", "web", "app"], &[]), out);
    assert_eq!(run(&["app", "store", "web"], &["--shards", "3"]), out);
}

#[test]
fn the_channel_is_the_file_not_a_field() {
    // Without the web file, nothing was seen on the web.
    assert_eq!(run(&["app", "store"], &[]), "");
}
