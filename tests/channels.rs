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

/// The customer-360 job of `patterns/` over generated traffic split into one file per
/// channel (app, web, email): merged by event time, it gives exactly the records of the
/// same traffic as one file, with one shard or two.
#[test]
fn customer_360_runs_on_three_generated_channels() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let nudge = env!("CARGO_BIN_EXE_nudge");
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("channels_360");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let gen = Command::new(nudge)
        .args(["gen", "--events", "20000", "--users", "400", "--seed", "3"])
        .output()
        .unwrap();
    assert!(gen.status.success());
    let all = String::from_utf8(gen.stdout).unwrap();
    std::fs::write(dir.join("all.jsonl"), &all).unwrap();
    let mut per_channel: std::collections::BTreeMap<String, String> = Default::default();
    for line in all.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        let channel = v["channel"].as_str().unwrap().to_string();
        let file = per_channel.entry(channel).or_default();
        file.push_str(line);
        file.push('\n');
    }
    assert_eq!(
        per_channel.keys().collect::<Vec<_>>(),
        ["app", "email", "web"]
    );
    for (channel, text) in &per_channel {
        std::fs::write(dir.join(format!("{channel}.jsonl")), text).unwrap();
    }
    let run = |inputs: &[&str], shards: &str, out: &str| -> String {
        let mut cmd = Command::new(nudge);
        cmd.current_dir(&root).args([
            "run",
            "patterns/",
            "--shards",
            shards,
            "--output",
            dir.join(out).to_str().unwrap(),
        ]);
        for i in inputs {
            cmd.args(["--input", dir.join(format!("{i}.jsonl")).to_str().unwrap()]);
        }
        let o = cmd.output().unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        std::fs::read_to_string(dir.join(out)).unwrap()
    };
    let one = run(&["all"], "1", "one.jsonl");
    let split = run(&["app", "web", "email"], "1", "split.jsonl");
    let split2 = run(&["email", "web", "app"], "2", "split2.jsonl");
    assert!(
        one.contains("\"rule\": \"vip_second_look\""),
        "no VIP record"
    );
    assert_eq!(one, split);
    assert_eq!(one, split2);
}
