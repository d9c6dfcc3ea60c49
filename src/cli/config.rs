//! Settings files for `nudge run`: `--config FILE`, or `./nudge.toml` when it exists.
//!
//! A file supplies run's Kafka, Redis and engine settings; a flag given on the command
//! line wins over it, setting by setting (a repeated flag such as `--topic` replaces the
//! file's list; `--kafka-property` wins key by key). The settings no flag gives become
//! flags (`--brokers=...`) put right after `run`, and the command line is parsed again:
//! clap's checks (`--brokers` cannot go with `--input`, needs `--topic`...) and value
//! parsers apply to them exactly as to typed flags, and an error names the file.

use super::Cli;
use anyhow::{bail, Context};
use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::parser::ValueSource;
use clap::{ArgMatches, CommandFactory, FromArgMatches};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// The settings file used when `--config` is not given (in the current directory).
pub const DEFAULT_FILE: &str = "nudge.toml";

/// A settings file. Keys are the flag names (see [`Settings::args`] for the mapping).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    #[serde(default)]
    kafka: Kafka,
    #[serde(default)]
    redis: Redis,
    #[serde(default)]
    run: Run,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct Kafka {
    brokers: Option<String>,
    topics: Option<Vec<String>>,
    output_topic: Option<String>,
    dead_letter_topic: Option<String>,
    group: Option<String>,
    state_dir: Option<PathBuf>,
    checkpoint_interval: Option<String>,
    exactly_once: Option<bool>,
    metrics_addr: Option<String>,
    /// librdkafka properties, passed through (`[kafka.properties]`).
    #[serde(default)]
    properties: BTreeMap<String, toml::Value>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct Redis {
    url: Option<String>,
    max_backlog: Option<usize>,
    drain_timeout: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct Run {
    shards: Option<usize>,
    log_format: Option<String>,
    max_runs_per_key: Option<usize>,
    max_group_len: Option<usize>,
}

/// One setting of the file as the flag it stands for.
#[derive(Debug, Clone, PartialEq)]
pub struct FileArg {
    /// The clap id of the argument (the field of `RunArgs`).
    id: &'static str,
    /// The flag, e.g. `--brokers`.
    flag: String,
    /// Where it is in the file, e.g. `[kafka] brokers`.
    key: String,
    /// For `[kafka.properties]`: the property's name.
    property: Option<String>,
    /// One value per occurrence of the flag.
    values: Vec<OsString>,
}

impl FileArg {
    /// A setting whose flag is `--ID` with dashes for underscores.
    fn new(id: &'static str, key: &str, value: OsString) -> FileArg {
        FileArg {
            id,
            flag: format!("--{}", id.replace('_', "-")),
            key: key.to_string(),
            property: None,
            values: vec![value],
        }
    }

    /// `--flag=value` for each value (the `=` keeps a value that starts with `-` a value);
    /// a switch (no values) is the bare flag.
    fn tokens(&self) -> Box<dyn Iterator<Item = OsString> + '_> {
        if self.values.is_empty() {
            return Box::new(std::iter::once(OsString::from(&self.flag)));
        }
        Box::new(self.values.iter().map(|v| {
            let mut t = OsString::from(&self.flag);
            t.push("=");
            t.push(v);
            t
        }))
    }
}

impl Settings {
    /// Reads and checks a settings file; an unknown key or a wrong type is an error that
    /// names the file, the line and the key.
    pub fn load(path: &Path) -> anyhow::Result<Settings> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read settings file {}", path.display()))?;
        toml::from_str(&text).with_context(|| format!("bad settings file {}", path.display()))
    }

    /// The file's settings as flags of `nudge run`, in the order of the file's layout. A
    /// relative `state-dir` is taken from `dir`, the file's folder.
    pub fn args(&self, dir: &Path) -> anyhow::Result<Vec<FileArg>> {
        let (k, r, e) = (&self.kafka, &self.redis, &self.run);
        let s = |v: &Option<String>| v.as_ref().map(OsString::from);
        let n = |v: &Option<usize>| v.map(|n| OsString::from(n.to_string()));
        let state_dir = k.state_dir.as_ref().map(|d| dir.join(d).into_os_string());
        #[rustfmt::skip]
        let single = [
            ("brokers",             "[kafka] brokers",           s(&k.brokers)),
            ("output_topic",        "[kafka] output-topic",      s(&k.output_topic)),
            ("dead_letter_topic",   "[kafka] dead-letter-topic", s(&k.dead_letter_topic)),
            ("group",               "[kafka] group",             s(&k.group)),
            ("state_dir",           "[kafka] state-dir",         state_dir),
            ("checkpoint_interval", "[kafka] checkpoint-interval", s(&k.checkpoint_interval)),
            ("metrics_addr",        "[kafka] metrics-addr",      s(&k.metrics_addr)),
            ("redis",               "[redis] url",               s(&r.url)),
            ("redis_max_backlog",   "[redis] max-backlog",       n(&r.max_backlog)),
            ("redis_drain_timeout", "[redis] drain-timeout",     s(&r.drain_timeout)),
            ("shards",              "[run] shards",              n(&e.shards)),
            ("log_format",          "[run] log-format",          s(&e.log_format)),
            ("max_runs_per_key",    "[run] max-runs-per-key",    n(&e.max_runs_per_key)),
            ("max_group_len",       "[run] max-group-len",       n(&e.max_group_len)),
        ];
        let mut out: Vec<FileArg> = single
            .into_iter()
            .filter_map(|(id, key, value)| Some(FileArg::new(id, key, value?)))
            .collect();
        if k.exactly_once == Some(true) {
            out.push(FileArg {
                values: Vec::new(),
                ..FileArg::new("exactly_once", "[kafka] exactly-once", OsString::new())
            });
        }
        if let Some(topics) = k.topics.as_ref().filter(|t| !t.is_empty()) {
            out.push(FileArg {
                flag: "--topic".into(),
                values: topics.iter().map(OsString::from).collect(),
                ..FileArg::new("topics", "[kafka] topics", OsString::new())
            });
        }
        for (name, value) in &k.properties {
            let value = match value {
                toml::Value::String(s) => s.clone(),
                toml::Value::Integer(i) => i.to_string(),
                toml::Value::Float(f) => f.to_string(),
                toml::Value::Boolean(b) => b.to_string(),
                _ => bail!("[kafka.properties] \"{name}\": a librdkafka property is a string, a number or a boolean"),
            };
            out.push(FileArg {
                flag: "--kafka-property".into(),
                property: Some(name.clone()),
                ..FileArg::new(
                    "kafka_properties",
                    &format!("[kafka.properties] \"{name}\""),
                    OsString::from(format!("{name}={value}")),
                )
            });
        }
        Ok(out)
    }
}

/// The file's settings that the command line does not give: a setting whose flag was
/// typed is dropped (for a repeated flag, the whole list), and a librdkafka property
/// is dropped when a `--kafka-property` sets the same key.
pub fn unset(given: &ArgMatches, file: Vec<FileArg>) -> Vec<FileArg> {
    let typed = |id: &str| given.value_source(id) == Some(ValueSource::CommandLine);
    let typed_properties: Vec<&str> = if typed("kafka_properties") {
        given
            .get_many::<(String, String)>("kafka_properties")
            .into_iter()
            .flatten()
            .map(|(k, _)| k.as_str())
            .collect()
    } else {
        Vec::new()
    };
    file.into_iter()
        .filter(|a| match &a.property {
            Some(name) => !typed_properties.contains(&name.as_str()),
            None => !typed(a.id),
        })
        .collect()
}

/// Parses the command line (a usage error or `--help` exits here with clap's message,
/// code 2 or 0). For `nudge run`, the settings file's settings that no flag gives are
/// added first; an error of the merged command line also names the file.
pub fn parse() -> anyhow::Result<Cli> {
    let argv: Vec<OsString> = std::env::args_os().collect();
    // A lenient pass finds `--config` and the typed flags: a flag that needs a setting
    // only the file gives (a typed `--group` needs `--brokers`) must not fail it.
    let lenient = Cli::command()
        .ignore_errors(true)
        .try_get_matches_from(&argv)
        .ok();
    let from_file = match lenient.as_ref().and_then(ArgMatches::subcommand) {
        Some(("run", given)) => match settings_file(given) {
            Some(path) => {
                let dir = path.parent().unwrap_or(Path::new(""));
                let all = Settings::load(&path)?
                    .args(dir)
                    .with_context(|| format!("bad settings file {}", path.display()))?;
                Some((path, unset(given, all))).filter(|(_, a)| !a.is_empty())
            }
            None => None,
        },
        _ => None,
    };
    let argv = match &from_file {
        None => argv,
        Some((path, args)) => {
            let mut flags: Vec<&str> = args.iter().map(|a| a.flag.as_str()).collect();
            flags.dedup();
            eprintln!(
                "nudge: settings from {}: {}",
                path.display(),
                flags.join(", ")
            );
            // `nudge` has no options of its own: the subcommand is the first argument.
            let at = argv
                .iter()
                .position(|a| a == "run")
                .map_or(argv.len(), |i| i + 1);
            let mut merged = argv[..at].to_vec();
            merged.extend(args.iter().flat_map(FileArg::tokens));
            merged.extend_from_slice(&argv[at..]);
            merged
        }
    };
    match Cli::command()
        .try_get_matches_from(argv)
        .and_then(|mut m| Cli::from_arg_matches_mut(&mut m))
    {
        Ok(cli) => Ok(cli),
        Err(e) => exit_with(e, from_file.as_ref().map(|(p, a)| (p.as_path(), &a[..]))),
    }
}

/// `--config FILE`, else `./nudge.toml` when it exists.
fn settings_file(given: &ArgMatches) -> Option<PathBuf> {
    match given.get_one::<PathBuf>("config") {
        Some(path) => Some(path.clone()),
        None => Some(PathBuf::from(DEFAULT_FILE)).filter(|p| p.is_file()),
    }
}

/// Prints a usage error (with a tip naming the file's settings involved) and exits 2.
fn exit_with(e: clap::Error, file: Option<(&Path, &[FileArg])>) -> ! {
    let mut e = e.format(&mut Cli::command());
    if let Some((path, args)) = file {
        // The file's settings among the arguments the error names; for arguments missing,
        // all of them (a setting of the file may need the missing ones).
        let named: Vec<String> = [ContextKind::InvalidArg, ContextKind::PriorArg]
            .into_iter()
            .filter_map(|k| e.get(k))
            .flat_map(|v| match v {
                ContextValue::String(s) => vec![s.clone()],
                ContextValue::Strings(v) => v.clone(),
                _ => Vec::new(),
            })
            .collect();
        let involved = |a: &&FileArg| {
            named
                .iter()
                .any(|n| *n == a.flag || n.starts_with(&format!("{} ", a.flag)))
        };
        let mut shown: Vec<&FileArg> = args.iter().filter(involved).collect();
        if shown.is_empty() && e.kind() == ErrorKind::MissingRequiredArgument {
            shown = args.iter().collect();
        }
        if shown.is_empty() {
            e.exit()
        }
        let keys: Vec<String> = shown
            .iter()
            .map(|a| format!("{} ({})", a.key, a.flag))
            .collect();
        let tip = format!(
            "from the settings file {}: {}",
            path.display(),
            keys.join(", ")
        );
        e.insert(
            ContextKind::Suggested,
            ContextValue::StyledStrs(vec![tip.into()]),
        );
    }
    e.exit()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run_matches(args: &[&str]) -> ArgMatches {
        let m = Cli::command()
            .ignore_errors(true)
            .get_matches_from(["nudge", "run"].iter().chain(args));
        m.subcommand_matches("run").unwrap().clone()
    }

    const FULL: &str = r#"
        [kafka]
        brokers = "127.0.0.1:9092"
        topics = ["a", "b"]
        output-topic = "out"
        dead-letter-topic = "dead"
        group = "g"
        state-dir = "state"
        checkpoint-interval = "5s"
        exactly-once = true
        metrics-addr = "127.0.0.1:9464"
        [kafka.properties]
        "security.protocol" = "SASL_SSL"
        "linger.ms" = 5
        [redis]
        url = "redis://127.0.0.1:6379"
        max-backlog = 10
        drain-timeout = "2s"
        [run]
        shards = 2
        log-format = "json"
        max-runs-per-key = 3
        max-group-len = 4
    "#;

    /// Every setting maps to an argument of `nudge run` with that id and that flag.
    #[test]
    fn every_setting_is_a_flag_of_run() {
        let settings: Settings = toml::from_str(FULL).unwrap();
        let args = settings.args(Path::new("/etc/nudge")).unwrap();
        assert_eq!(args.len(), 18);
        let cmd = Cli::command();
        let run = cmd.find_subcommand("run").unwrap();
        for a in &args {
            let arg = run
                .get_arguments()
                .find(|x| x.get_id() == a.id)
                .unwrap_or_else(|| panic!("no argument {}", a.id));
            assert_eq!(format!("--{}", arg.get_long().unwrap()), a.flag);
        }
        let state = args.iter().find(|a| a.id == "state_dir").unwrap();
        assert_eq!(state.values, [OsString::from("/etc/nudge/state")]);
        let topics = args.iter().find(|a| a.id == "topics").unwrap();
        let tokens: Vec<OsString> = topics.tokens().collect();
        assert_eq!(tokens, [OsString::from("--topic=a"), "--topic=b".into()]);
    }

    #[test]
    fn typed_flags_win_setting_by_setting() {
        let settings: Settings = toml::from_str(FULL).unwrap();
        // `--brokers` and `--dead-letter-topic` come from the file: the lenient pass
        // does not ask for them.
        let given = run_matches(&[
            "p/",
            "--topic",
            "t",
            "--output-topic",
            "o",
            "--group",
            "g2",
            "--kafka-property",
            "linger.ms=50",
            "--max-runs-per-key",
            "1024",
        ]);
        let left = unset(&given, settings.args(Path::new("")).unwrap());
        let keys: Vec<&str> = left.iter().map(|a| a.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "[kafka] brokers",
                "[kafka] dead-letter-topic",
                "[kafka] state-dir",
                "[kafka] checkpoint-interval",
                "[kafka] metrics-addr",
                "[redis] url",
                "[redis] max-backlog",
                "[redis] drain-timeout",
                "[run] shards",
                "[run] log-format",
                "[run] max-group-len",
                "[kafka] exactly-once",
                "[kafka.properties] \"security.protocol\"",
            ]
        );
        // A default is not a typed flag: the file's value stands.
        let given = run_matches(&["p/", "--shards", "1"]);
        let left = unset(&given, settings.args(Path::new("")).unwrap());
        assert!(left.iter().any(|a| a.id == "max_runs_per_key"));
        assert!(!left.iter().any(|a| a.id == "shards"));
    }

    /// The example in docs/operations.md is a valid settings file.
    #[test]
    fn the_documented_example_is_valid() {
        let doc = include_str!("../../docs/operations.md");
        let (_, rest) = doc.split_once("```toml\n").expect("a toml block");
        let (example, _) = rest.split_once("```").unwrap();
        let settings: Settings = toml::from_str(example).unwrap();
        let args = settings.args(Path::new("")).unwrap();
        assert_eq!(args.len(), 18, "{args:?}");
    }

    #[test]
    fn unknown_keys_and_bad_values_are_errors() {
        let e = toml::from_str::<Settings>("[kafka]\nbrokerz = \"x\"\n").unwrap_err();
        assert!(e.to_string().contains("unknown field `brokerz`"), "{e}");
        let e = toml::from_str::<Settings>("[kafak]\n").unwrap_err();
        assert!(e.to_string().contains("unknown field `kafak`"), "{e}");
        let e = toml::from_str::<Settings>("[run]\nshards = -1\n").unwrap_err();
        assert!(e.to_string().contains("shards"), "{e}");
        let s: Settings = toml::from_str("[kafka.properties]\n\"a\" = [1]\n").unwrap();
        assert!(s.args(Path::new("")).is_err());
    }
}
