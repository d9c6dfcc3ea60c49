//! Model calls (LANGUAGE.md §6 `model`, §9.1): against a test HTTP server on 127.0.0.1
//! that each test starts and stops itself. Replies fill the field; a timeout, an error
//! status, bad JSON or a refused connection give the fallback, counted per model; the
//! concurrency limit holds; records come out in the same order as with instant replies;
//! the stand-in caller answers scenario tests.

mod common;

use nudge_runtime::models::{HttpCaller, ModelCaller, ModelStats, StandIn};
use nudge_runtime::runner::RunOptions;
use nudge_runtime::value::Value;
use serde_json::json;
use server::{Answer, Server};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A tiny HTTP/1.1 server on 127.0.0.1:0: one thread per connection, `Connection: close`.
/// Dropping it stops it (also when a test fails) and joins its threads.
mod server {
    use std::io::{BufRead, BufReader, Read, Write};
    use std::net::{SocketAddr, TcpListener, TcpStream};
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use std::sync::{Arc, Mutex};
    use std::thread::JoinHandle;
    use std::time::Duration;

    /// What to answer to one request body.
    pub struct Answer {
        pub delay: Duration,
        pub status: u16,
        pub body: String,
    }

    impl Answer {
        pub fn json(body: impl Into<String>) -> Answer {
            Answer {
                delay: Duration::ZERO,
                status: 200,
                body: body.into(),
            }
        }

        pub fn after(mut self, delay: Duration) -> Answer {
            self.delay = delay;
            self
        }
    }

    type Handler = dyn Fn(&str) -> Answer + Send + Sync;

    #[derive(Default)]
    pub struct Counters {
        pub requests: AtomicUsize,
        in_flight: AtomicUsize,
        pub max_in_flight: AtomicUsize,
        pub bodies: Mutex<Vec<String>>,
    }

    pub struct Server {
        pub addr: SocketAddr,
        pub counters: Arc<Counters>,
        stop: Arc<AtomicBool>,
        accept: Option<JoinHandle<()>>,
        handlers: Arc<Mutex<Vec<JoinHandle<()>>>>,
    }

    impl Server {
        pub fn start(handler: impl Fn(&str) -> Answer + Send + Sync + 'static) -> Server {
            let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
            let addr = listener.local_addr().expect("addr");
            let counters = Arc::new(Counters::default());
            let stop = Arc::new(AtomicBool::new(false));
            let handlers: Arc<Mutex<Vec<JoinHandle<()>>>> = Arc::default();
            let handler: Arc<Handler> = Arc::new(handler);
            let accept = {
                let (counters, stop, handlers) = (counters.clone(), stop.clone(), handlers.clone());
                std::thread::spawn(move || {
                    for stream in listener.incoming() {
                        if stop.load(Ordering::SeqCst) {
                            break;
                        }
                        let Ok(stream) = stream else { continue };
                        let (counters, handler) = (counters.clone(), handler.clone());
                        let h = std::thread::spawn(move || serve(stream, &counters, &*handler));
                        handlers.lock().unwrap().push(h);
                    }
                })
            };
            Server {
                addr,
                counters,
                stop,
                accept: Some(accept),
                handlers,
            }
        }

        pub fn url(&self, path: &str) -> String {
            format!("http://{}{path}", self.addr)
        }

        pub fn max_in_flight(&self) -> usize {
            self.counters.max_in_flight.load(Ordering::SeqCst)
        }

        pub fn requests(&self) -> usize {
            self.counters.requests.load(Ordering::SeqCst)
        }
    }

    impl Drop for Server {
        fn drop(&mut self) {
            self.stop.store(true, Ordering::SeqCst);
            // Wake the accept loop so that it sees the flag.
            let _ = TcpStream::connect(self.addr);
            if let Some(h) = self.accept.take() {
                let _ = h.join();
            }
            let handlers = std::mem::take(&mut *self.handlers.lock().unwrap());
            for h in handlers {
                let _ = h.join();
            }
        }
    }

    fn serve(stream: TcpStream, counters: &Counters, handler: &Handler) {
        let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
        let mut reader = BufReader::new(&stream);
        let mut length = 0usize;
        let mut line = String::new();
        loop {
            line.clear();
            match reader.read_line(&mut line) {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
            let header = line.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':') {
                if name.eq_ignore_ascii_case("content-length") {
                    length = value.trim().parse().unwrap_or(0);
                }
            }
        }
        let mut body = vec![0u8; length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let body = String::from_utf8_lossy(&body).into_owned();
        counters.requests.fetch_add(1, Ordering::SeqCst);
        let now = counters.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        counters.max_in_flight.fetch_max(now, Ordering::SeqCst);
        counters.bodies.lock().unwrap().push(body.clone());
        let answer = handler(&body);
        std::thread::sleep(answer.delay);
        // Counted out before the reply is written: the client's slot is held until it
        // has read the reply, so the server never sees more than the client allows.
        counters.in_flight.fetch_sub(1, Ordering::SeqCst);
        let reply = format!(
            "HTTP/1.1 {} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{}",
            answer.status,
            answer.body.len(),
            answer.body
        );
        let _ = (&stream).write_all(reply.as_bytes());
    }
}

/// A program whose rule calls `ranker` at `url` for every VIEW, beside a rule that calls
/// nothing.
fn program(url: &str, timeout: &str, concurrency: u32) -> String {
    format!(
        r#"
input key user_id
event VIEW {{ user_id: string, product_id: string }}
model ranker
  url "{url}"
  timeout {timeout}
  concurrency {concurrency}
  fallback ["fallback"]
pattern ranked
  when VIEW as v
  emit {{ item: v.product_id, ranked: ranker({{ user: key, item: v.product_id }}), after: 1 }}
pattern plain
  when VIEW
  emit {{ item: product_id }}
"#
    )
}

/// `n` views by five users, one per second.
fn views(n: usize) -> String {
    (0..n)
        .map(|i| {
            format!(
                "{}\n",
                json!({"type": "VIEW", "user_id": format!("u{}", i % 5), "product_id": format!("p{i}"), "ts": 1000 * i as i64})
            )
        })
        .collect()
}

fn with_caller(caller: Arc<dyn ModelCaller>) -> RunOptions {
    RunOptions {
        models: Some(caller),
        ..RunOptions::default()
    }
}

fn http(program: &str) -> RunOptions {
    let plan = common::plan(program);
    with_caller(Arc::new(HttpCaller::new(&plan).expect("client")))
}

fn stats(c: &common::Collected) -> ModelStats {
    assert_eq!(c.summary.models.len(), 1);
    c.summary.models[0].clone()
}

fn counted(calls: u64, ok: u64, timeouts: u64, errors: u64, bad_json: u64) -> ModelStats {
    ModelStats {
        name: "ranker".into(),
        calls,
        ok,
        timeouts,
        errors,
        bad_json,
    }
}

/// The `ranked` field of the `ranked` rule's records.
fn ranked(c: &common::Collected) -> Vec<serde_json::Value> {
    c.records
        .iter()
        .map(|r| serde_json::from_str::<serde_json::Value>(r).unwrap())
        .filter(|r| r["rule"] == "ranked")
        .map(|r| r["ranked"].clone())
        .collect()
}

fn echo(body: &str) -> Answer {
    let arg: serde_json::Value = serde_json::from_str(body).expect("the body is JSON");
    Answer::json(json!({ "echo": arg }).to_string())
}

#[test]
fn replies_fill_the_field() {
    let server = Server::start(echo);
    let p = program(&server.url("/rank"), "5s", 8);
    let c = common::run_inputs(&p, &[&views(10)], &http(&p));
    assert_eq!(stats(&c), counted(10, 10, 0, 0, 0));
    assert_eq!(server.requests(), 10);
    assert_eq!(c.records.len(), 20);
    assert_eq!(
        c.records[0],
        r#"{"rule": "ranked", "key": "u0", "ts": 0, "item": "p0", "ranked": {"echo": {"user": "u0", "item": "p0"}}, "after": 1}"#
    );
    assert_eq!(
        c.records[1],
        r#"{"rule": "plain", "key": "u0", "ts": 0, "item": "p0"}"#
    );
    let bodies = server.counters.bodies.lock().unwrap().clone();
    assert!(
        bodies.contains(&r#"{"user": "u3", "item": "p8"}"#.to_string()),
        "{bodies:?}"
    );
}

#[test]
fn a_slow_model_times_out_to_the_fallback_without_holding_up_the_run() {
    let server = Server::start(|b| echo(b).after(Duration::from_millis(600)));
    let p = program(&server.url("/rank"), "100ms", 64);
    let started = Instant::now();
    let c = common::run_inputs(&p, &[&views(12)], &http(&p));
    let took = started.elapsed();
    assert_eq!(stats(&c), counted(12, 0, 12, 0, 0));
    assert_eq!(ranked(&c), vec![json!(["fallback"]); 12]);
    assert_eq!(c.records.len(), 24, "the run goes on");
    // The calls overlap: twelve waits of 100 ms in a row would take 1.2 s.
    assert!(took < Duration::from_millis(1100), "took {took:?}");
}

#[test]
fn an_error_status_gives_the_fallback() {
    let server = Server::start(|_| Answer {
        delay: Duration::ZERO,
        status: 500,
        body: "{\"error\": \"boom\"}".into(),
    });
    let p = program(&server.url("/rank"), "5s", 4);
    let c = common::run_inputs(&p, &[&views(6)], &http(&p));
    assert_eq!(stats(&c), counted(6, 0, 0, 6, 0));
    assert_eq!(ranked(&c), vec![json!(["fallback"]); 6]);
    assert_eq!(c.records.len(), 12);
}

#[test]
fn a_reply_that_is_not_json_gives_the_fallback() {
    let server = Server::start(|_| Answer::json("<html>not json</html>"));
    let p = program(&server.url("/rank"), "5s", 4);
    let c = common::run_inputs(&p, &[&views(6)], &http(&p));
    assert_eq!(stats(&c), counted(6, 0, 0, 0, 6));
    assert_eq!(ranked(&c), vec![json!(["fallback"]); 6]);
}

#[test]
fn a_refused_connection_gives_the_fallback() {
    // A port that was free a moment ago: nothing listens there now.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let p = program(&format!("http://127.0.0.1:{port}/rank"), "2s", 4);
    let c = common::run_inputs(&p, &[&views(5)], &http(&p));
    assert_eq!(stats(&c), counted(5, 0, 0, 5, 0));
    assert_eq!(ranked(&c), vec![json!(["fallback"]); 5]);
}

#[test]
fn mixed_answers_are_each_counted() {
    // By item: p0, p4 … time out; p1, p5 … fail; p2, p6 … are not JSON; p3, p7 … answer.
    let server = Server::start(|body| {
        let arg: serde_json::Value = serde_json::from_str(body).unwrap();
        let n: u32 = arg["item"].as_str().unwrap()[1..].parse().unwrap();
        match n % 4 {
            0 => Answer::json("[1]").after(Duration::from_millis(500)),
            1 => Answer {
                delay: Duration::ZERO,
                status: 503,
                body: String::new(),
            },
            2 => Answer::json("{"),
            _ => Answer::json("[\"ok\"]"),
        }
    });
    let p = program(&server.url("/rank"), "150ms", 16);
    let c = common::run_inputs(&p, &[&views(16)], &http(&p));
    assert_eq!(stats(&c), counted(16, 4, 4, 4, 4));
    let r = ranked(&c);
    assert_eq!(r[3], json!(["ok"]));
    assert_eq!(r[0], json!(["fallback"]));
}

#[test]
fn at_most_concurrency_calls_are_in_flight() {
    let server = Server::start(|b| echo(b).after(Duration::from_millis(40)));
    let p = program(&server.url("/rank"), "10s", 3);
    let c = common::run_inputs(&p, &[&views(24)], &http(&p));
    assert_eq!(stats(&c), counted(24, 24, 0, 0, 0));
    let most = server.max_in_flight();
    assert!(most <= 3, "{most} calls in flight, the limit is 3");
    assert!(most >= 2, "calls should overlap: at most {most} in flight");
}

#[test]
fn output_order_is_the_same_as_with_instant_replies() {
    // Replies come back in another order than the calls went out.
    let jittery = Server::start(|body| {
        let delay = body.bytes().map(u64::from).sum::<u64>() % 5 * 15;
        echo(body).after(Duration::from_millis(delay))
    });
    let instant = Server::start(echo);
    let input = views(40);
    let pj = program(&jittery.url("/rank"), "10s", 8);
    let pi = program(&instant.url("/rank"), "10s", 8);
    // One record read per turn: records are flushed while later calls are in flight.
    let one_by_one = RunOptions {
        read_batch: 1,
        ..http(&pj)
    };
    let slow = common::run_inputs(&pj, &[&input], &one_by_one);
    let fast = common::run_inputs(&pi, &[&input], &http(&pi));
    assert_eq!(stats(&slow), counted(40, 40, 0, 0, 0));
    assert_eq!(slow.records, fast.records);
    let sharded = RunOptions {
        shards: 2,
        ..http(&pj)
    };
    let two = common::run_inputs(&pj, &[&input], &sharded);
    assert_eq!(two.records, fast.records);
    // Every record of a key in time order.
    let ts: Vec<i64> = fast
        .records
        .iter()
        .map(|r| {
            serde_json::from_str::<serde_json::Value>(r).unwrap()["ts"]
                .as_i64()
                .unwrap()
        })
        .collect();
    assert!(ts.windows(2).all(|w| w[0] <= w[1]));
}

#[test]
fn the_stand_in_answers_like_the_model_would() {
    let server =
        Server::start(|_| Answer::json("[\"p7\", \"p3\"]").after(Duration::from_millis(20)));
    let p = program(&server.url("/rank"), "10s", 4);
    let over_http = common::run_inputs(&p, &[&views(8)], &http(&p));
    let stand_in = Arc::new(StandIn::new([(
        "ranker",
        Value::list(vec![Value::str("p7"), Value::str("p3")]),
    )]));
    let offline = common::run_inputs(&p, &[&views(8)], &with_caller(stand_in.clone()));
    assert_eq!(offline.records, over_http.records);
    assert_eq!(stats(&offline), counted(8, 8, 0, 0, 0));
    assert!(stand_in.missing().is_empty());
    let calls = stand_in.calls();
    assert_eq!(calls.len(), 8);
    assert_eq!(calls[0].0, "ranker");
    let mut arg = String::new();
    calls[0].1.write_json(&mut arg, &common::plan(&p));
    assert_eq!(arg, r#"{"user": "u0", "item": "p0"}"#);
}

#[test]
fn a_model_without_a_stand_in_gets_its_fallback_and_is_reported() {
    let p = program("http://127.0.0.1:9/unused", "1s", 4);
    let stand_in = Arc::new(StandIn::new(Vec::<(String, Value)>::new()));
    let c = common::run_inputs(&p, &[&views(3)], &with_caller(stand_in.clone()));
    assert_eq!(stats(&c), counted(3, 0, 0, 3, 0));
    assert_eq!(ranked(&c), vec![json!(["fallback"]); 3]);
    assert_eq!(stand_in.missing(), ["ranker"]);
}

#[test]
fn without_a_caller_every_call_gets_the_fallback() {
    let p = program("http://127.0.0.1:9/unused", "1s", 4);
    let c = common::run_inputs(&p, &[&views(3)], &RunOptions::default());
    assert_eq!(stats(&c), counted(3, 0, 0, 3, 0));
    assert_eq!(ranked(&c), vec![json!(["fallback"]); 3]);
}

#[test]
fn several_model_fields_in_one_record() {
    let program = r#"
input key user_id
event VIEW { user_id: string, product_id: string }
model ranker url "http://127.0.0.1:9/rank" fallback []
model scorer url "http://127.0.0.1:9/score" fallback 0
pattern both
  when VIEW
  emit { a: scorer(product_id), b: "mid", c: ranker({ item: product_id }), d: scorer(key) }
"#;
    let stand_in = Arc::new(StandIn::new([
        ("ranker", Value::list(vec![Value::str("x")])),
        ("scorer", Value::Float(0.5)),
    ]));
    let c = common::run_inputs(program, &[&views(1)], &with_caller(stand_in));
    assert_eq!(
        c.records,
        [r#"{"rule": "both", "key": "u0", "ts": 0, "a": 0.5, "b": "mid", "c": ["x"], "d": 0.5}"#]
    );
    let names: Vec<&str> = c.summary.models.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(names, ["ranker", "scorer"]);
    assert_eq!(c.summary.models[1].calls, 2);
}

#[test]
fn https_urls_fail_as_errors_without_tls() {
    let p = program("https://127.0.0.1:9/rank", "1s", 4);
    let c = common::run_inputs(&p, &[&views(2)], &http(&p));
    assert_eq!(stats(&c), counted(2, 0, 0, 2, 0));
}
