//! Creates Kafka topics, for scripts (benches/kafka.sh) that need them before `nudge run`.
//!
//! ```text
//! cargo run --release -p nudge-runtime --example kafka_admin -- BROKERS TOPIC:PARTITIONS...
//! ```
//!
//! Each `TOPIC:PARTITIONS` (or a bare `TOPIC`, one partition) is created with replication
//! factor 1. A topic that already exists is an error, as is any other failure.

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::config::ClientConfig;
use std::process::ExitCode;
use std::time::Duration;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 2 {
        eprintln!("usage: kafka_admin BROKERS TOPIC[:PARTITIONS]...");
        return ExitCode::from(2);
    }
    let mut topics = Vec::new();
    for spec in &args[1..] {
        let (name, partitions) = match spec.rsplit_once(':') {
            Some((name, n)) => match n.parse::<i32>() {
                Ok(n) if n > 0 => (name, n),
                _ => {
                    eprintln!(
                        "kafka_admin: `{spec}`: the partition count must be a positive number"
                    );
                    return ExitCode::from(2);
                }
            },
            None => (spec.as_str(), 1),
        };
        topics.push((name.to_string(), partitions));
    }
    let admin: AdminClient<DefaultClientContext> = match ClientConfig::new()
        .set("bootstrap.servers", &args[0])
        .create()
    {
        Ok(a) => a,
        Err(e) => {
            eprintln!("kafka_admin: {e}");
            return ExitCode::FAILURE;
        }
    };
    let new: Vec<NewTopic> = topics
        .iter()
        .map(|(t, p)| NewTopic::new(t, *p, TopicReplication::Fixed(1)))
        .collect();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let opts = AdminOptions::new().operation_timeout(Some(Duration::from_secs(30)));
    let results = match rt.block_on(admin.create_topics(&new, &opts)) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("kafka_admin: create topics: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut code = ExitCode::SUCCESS;
    for (result, (name, partitions)) in results.into_iter().zip(&topics) {
        match result {
            Ok(_) => eprintln!("kafka_admin: created {name} ({partitions} partitions)"),
            Err((topic, e)) => {
                eprintln!("kafka_admin: {topic}: {e}");
                code = ExitCode::FAILURE;
            }
        }
    }
    code
}
