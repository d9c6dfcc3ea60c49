//! Checkpoints: one per task (a partition number of the input topics), holding the
//! engine state of the task's keys, the events read but not yet processed, the input
//! offsets all of that reflects, and the profile writes not yet in Redis.
//!
//! Each is written twice: atomically to the state directory (`DIR/GROUP/task-P.ckpt`,
//! written to a temporary file, synced, renamed), and to the compacted topic
//! `GROUP.checkpoints`, so that another machine can take the task over. On the topic a
//! checkpoint is a run of chunks (records of at most [`CHUNK`] bytes, keyed
//! `P/SEQ/I`) followed by a manifest (keyed `P`) naming the sequence number and the
//! chunk count; a reader trusts only a manifest whose chunks are all there, and the
//! chunks of the previous checkpoint are deleted (tombstones) once the new manifest is
//! written. The newest of the two copies (by sequence number) wins on restore.

use super::sink::KafkaSink;
use super::source::{client_config, with_properties};
use super::{Error, KafkaConfig};
use crate::engine::{ProfileUpdate, Snapshot};
use crate::event::Event;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::Message;
use rdkafka::{Offset, TopicPartitionList};
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};
use std::fs;
use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// The largest checkpoint record on the topic (below every broker's default limit).
pub const CHUNK: usize = 512 * 1024;
/// The format; a checkpoint of another version is not restored.
const VERSION: u32 = 1;

/// One task's state.
#[derive(Serialize, Deserialize)]
pub struct Checkpoint {
    pub version: u32,
    /// The partition number of the input topics.
    pub task: i32,
    /// Grows by one with every checkpoint of the task, whoever writes it.
    pub seq: u64,
    /// Wall-clock time it was taken, epoch ms.
    pub taken_ms: i64,
    /// Per input topic: the offset of the first record not reflected.
    pub offsets: Vec<(String, u64)>,
    /// Per input topic: the greatest event time read (the partition's watermark basis).
    pub clocks: Vec<(String, Option<i64>)>,
    /// Events read but still waiting for the watermark.
    pub buffered: Vec<Event>,
    pub engine: Snapshot,
    /// Profile writes (`sink redis`) not yet acknowledged by Redis.
    pub profiles: Vec<ProfileUpdate>,
    /// Per profile of the program that took it, its fingerprint: a restore under
    /// another program re-offers only the writes of unchanged profiles.
    pub profile_fingerprints: Vec<u64>,
}

/// The manifest record of a task on the topic.
#[derive(Serialize, Deserialize)]
struct Manifest {
    seq: u64,
    chunks: u32,
}

/// A complete checkpoint found on the topic: (seq, chunk count, bytes).
type Found = (u64, u32, Vec<u8>);

/// Where checkpoints go and come from.
pub struct Store {
    dir: Option<PathBuf>,
    topic: String,
    cfg: KafkaConfig,
    /// Per task: the chunk count of its last manifest written here (to delete them).
    last_chunks: FxHashMap<i32, (u64, u32)>,
}

impl Store {
    /// Opens the store: creates `DIR/GROUP` and the topic `GROUP.checkpoints` (compacted,
    /// one partition) when they do not exist.
    pub fn open(cfg: &KafkaConfig) -> Result<Store, Error> {
        let dir = match &cfg.state_dir {
            Some(d) => {
                let dir = d.join(&cfg.group);
                fs::create_dir_all(&dir)?;
                Some(dir)
            }
            None => None,
        };
        let topic = format!("{}.checkpoints", cfg.group);
        create_topic(cfg, &topic, "compact")?;
        Ok(Store {
            dir,
            topic,
            cfg: cfg.clone(),
            last_chunks: FxHashMap::default(),
        })
    }

    fn file(&self, task: i32) -> Option<PathBuf> {
        self.dir
            .as_ref()
            .map(|d| d.join(format!("task-{task}.ckpt")))
    }

    /// Encodes checkpoints for [`Store::send`] and [`Store::write_files`].
    pub fn encode(cps: &[Checkpoint]) -> Result<Vec<(i32, u64, Vec<u8>)>, Error> {
        cps.iter()
            .map(|cp| Ok((cp.task, cp.seq, postcard::to_stdvec(cp).map_err(codec)?)))
            .collect()
    }

    /// Sends encoded checkpoints to the topic through the output producer (inside its
    /// transaction in exactly-once mode): chunks, then (once they are acknowledged)
    /// manifests, then tombstones for the chunks of the previous checkpoints.
    pub fn send(&mut self, encoded: &[(i32, u64, Vec<u8>)], sink: &KafkaSink) -> Result<(), Error> {
        let mut manifests = Vec::new();
        for (task, seq, bytes) in encoded {
            let chunks = bytes.chunks(CHUNK).count().max(1) as u32;
            for (i, chunk) in bytes.chunks(CHUNK).enumerate() {
                sink.send_bytes(&self.topic, 0, &format!("{task}/{seq}/{i}"), Some(chunk))?;
            }
            manifests.push((*task, *seq, chunks));
        }
        sink.flush()?;
        for &(task, seq, chunks) in &manifests {
            let m = postcard::to_stdvec(&Manifest { seq, chunks }).map_err(codec)?;
            sink.send_bytes(&self.topic, 0, &task.to_string(), Some(&m))?;
        }
        for (task, seq, chunks) in manifests {
            if let Some((old_seq, old_chunks)) = self.last_chunks.insert(task, (seq, chunks)) {
                for i in 0..old_chunks {
                    sink.send_bytes(&self.topic, 0, &format!("{task}/{old_seq}/{i}"), None)?;
                }
            }
        }
        Ok(())
    }

    /// Writes encoded checkpoints to the state directory, each atomically (a temporary
    /// file, synced, renamed).
    pub fn write_files(&self, encoded: &[(i32, u64, Vec<u8>)]) -> Result<(), Error> {
        for (task, _, bytes) in encoded {
            let Some(path) = self.file(*task) else {
                return Ok(());
            };
            let tmp = path.with_extension("tmp");
            let mut f = fs::File::create(&tmp)?;
            f.write_all(bytes)?;
            f.sync_all()?;
            fs::rename(&tmp, &path)?;
        }
        Ok(())
    }

    /// The newest checkpoint of each task (from the file or the topic), if any.
    pub fn load(&mut self, tasks: &[i32]) -> Result<FxHashMap<i32, Checkpoint>, Error> {
        let mut found: FxHashMap<i32, Checkpoint> = FxHashMap::default();
        for &task in tasks {
            let Some(path) = self.file(task) else {
                continue;
            };
            match fs::read(&path) {
                Ok(bytes) => match postcard::from_bytes::<Checkpoint>(&bytes) {
                    Ok(cp) if cp.version == VERSION && cp.task == task => {
                        found.insert(task, cp);
                    }
                    Ok(_) => crate::warn!(
                        "checkpoint",
                        "checkpoint {}: another format version; ignored",
                        path.display()
                    ),
                    Err(e) => {
                        crate::warn!("checkpoint", "checkpoint {}: {e}; ignored", path.display())
                    }
                },
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(e.into()),
            }
        }
        for (task, (seq, chunks, bytes)) in self.read_topic(tasks)? {
            self.last_chunks.insert(task, (seq, chunks));
            if found.get(&task).is_some_and(|cp| cp.seq >= seq) {
                continue;
            }
            match postcard::from_bytes::<Checkpoint>(&bytes) {
                Ok(cp) if cp.version == VERSION && cp.task == task => {
                    found.insert(task, cp);
                }
                Ok(_) => crate::warn!(
                    "checkpoint",
                    "checkpoint of task {task} on the topic: another format version; ignored"
                ),
                Err(e) => crate::warn!(
                    "checkpoint",
                    "checkpoint of task {task} on the topic: {e}; ignored"
                ),
            }
        }
        Ok(found)
    }

    /// Reads the topic to its end: per task asked for, the newest complete checkpoint's
    /// (seq, chunk count, bytes).
    fn read_topic(&self, tasks: &[i32]) -> Result<FxHashMap<i32, Found>, Error> {
        let mut c = client_config(&self.cfg);
        c.set("group.id", format!("{}.checkpoint-reader", self.cfg.group))
            .set("enable.auto.commit", "false")
            .set("enable.partition.eof", "true")
            .set("auto.offset.reset", "earliest")
            .set("fetch.message.max.bytes", (CHUNK + 64 * 1024).to_string());
        let consumer: BaseConsumer = with_properties(c, &self.cfg).create()?;
        let mut tpl = TopicPartitionList::new();
        tpl.add_partition_offset(&self.topic, 0, Offset::Beginning)?;
        consumer.assign(&tpl)?;
        let wanted: Vec<String> = tasks.iter().map(|t| t.to_string()).collect();
        let mut manifests: FxHashMap<i32, Manifest> = FxHashMap::default();
        let mut chunks: FxHashMap<String, Vec<u8>> = FxHashMap::default();
        let started = Instant::now();
        loop {
            match consumer.poll(Duration::from_millis(200)) {
                None => {
                    if started.elapsed() > Duration::from_secs(60) {
                        return Err(Error::Checkpoint(format!(
                            "reading the topic {} did not reach its end in 60 s",
                            self.topic
                        )));
                    }
                }
                Some(Err(KafkaError::PartitionEOF(_))) => break,
                Some(Err(e)) => return Err(e.into()),
                Some(Ok(msg)) => {
                    let Some(key) = msg.key().and_then(|k| std::str::from_utf8(k).ok()) else {
                        continue;
                    };
                    let task = key.split('/').next().unwrap_or_default();
                    if !wanted.iter().any(|w| w == task) {
                        continue;
                    }
                    match (key.contains('/'), msg.payload()) {
                        (true, Some(v)) => {
                            chunks.insert(key.to_string(), v.to_vec());
                        }
                        (true, None) => {
                            chunks.remove(key);
                        }
                        (false, Some(v)) => {
                            if let (Ok(t), Ok(m)) = (task.parse(), postcard::from_bytes(v)) {
                                manifests.insert(t, m);
                            }
                        }
                        (false, None) => {}
                    }
                }
            }
        }
        let mut out = FxHashMap::default();
        for (task, m) in manifests {
            let mut bytes = Vec::new();
            let complete = (0..m.chunks).all(|i| {
                chunks
                    .get(&format!("{task}/{}/{i}", m.seq))
                    .map(|c| bytes.extend_from_slice(c))
                    .is_some()
            });
            if complete {
                out.insert(task, (m.seq, m.chunks, bytes));
            } else {
                crate::warn!(
                    "checkpoint",
                    "checkpoint {} of task {task} on {} is incomplete; ignored",
                    m.seq,
                    self.topic
                );
            }
        }
        Ok(out)
    }
}

impl Checkpoint {
    pub fn new(task: i32, seq: u64, engine: Snapshot) -> Checkpoint {
        Checkpoint {
            version: VERSION,
            task,
            seq,
            taken_ms: now_ms(),
            offsets: Vec::new(),
            clocks: Vec::new(),
            buffered: Vec::new(),
            engine,
            profiles: Vec::new(),
            profile_fingerprints: Vec::new(),
        }
    }
}

pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

fn codec(e: postcard::Error) -> Error {
    Error::Checkpoint(format!("encoding: {e}"))
}

/// Creates a topic of nudge's own (checkpoints: compacted; the broadcast of global
/// operators: `delete`) unless it exists: one partition, the
/// broker's default replication (`-1`; a broker that refuses it gets 1). Asked before
/// any metadata request, which some brokers answer by creating the topic with their
/// defaults (several partitions, no compaction); nudge reads and writes partition 0
/// only, so such a topic still works.
pub(super) fn create_topic(cfg: &KafkaConfig, topic: &str, policy: &str) -> Result<(), Error> {
    let admin: AdminClient<DefaultClientContext> =
        with_properties(client_config(cfg), cfg).create()?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    for replication in [-1, 1] {
        let new = NewTopic::new(topic, 1, TopicReplication::Fixed(replication))
            .set("cleanup.policy", policy);
        let opts = AdminOptions::new().operation_timeout(Some(Duration::from_secs(10)));
        let results = rt.block_on(admin.create_topics([&new], &opts))?;
        match results.into_iter().next() {
            Some(Ok(_)) | None => return Ok(()),
            Some(Err((_, RDKafkaErrorCode::TopicAlreadyExists))) => return Ok(()),
            Some(Err((_, RDKafkaErrorCode::InvalidReplicationFactor))) if replication == -1 => {}
            Some(Err((_, code))) => {
                return Err(Error::Checkpoint(format!(
                    "cannot create the checkpoint topic {topic}: {code}"
                )))
            }
        }
    }
    Ok(())
}
