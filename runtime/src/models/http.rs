//! [`HttpCaller`]: model calls as HTTP/1.1 POSTs on a small tokio runtime.
//!
//! Plain `http://` only: this build has no TLS (an `https` URL fails every call, counted
//! as an error); TLS would add `hyper-rustls` behind a feature flag.

use super::{Call, ModelCaller, Outcome, Reply};
use crate::value::Value;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Bytes;
use hyper::{header, Request, Uri};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use nudge_compiler::plan::Plan;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;
use tokio::runtime::Runtime;
use tokio::sync::Semaphore;

/// Replies larger than this are errors.
const MAX_REPLY: usize = 16 << 20;

type HttpClient = Client<HttpConnector, Full<Bytes>>;

/// Makes each call a POST of the argument as JSON to the model's `url`; the JSON reply is
/// the value. Per model, at most `concurrency` calls are in flight (the others wait for a
/// slot) and each request gets `timeout`, counted from when it is sent (waiting for a slot
/// is not counted). Owns its tokio runtime; calls run as tasks on it, so a slow model
/// holds up nothing but the records waiting for it.
pub struct HttpCaller {
    runtime: Runtime,
    client: HttpClient,
    /// Per model, in plan order.
    models: Vec<Endpoint>,
}

struct Endpoint {
    /// The parsed `url`, or why it cannot be called.
    uri: Result<Uri, String>,
    timeout: Duration,
    slots: Arc<Semaphore>,
}

impl HttpCaller {
    /// A caller for the models of `plan`, with its own runtime (two worker threads).
    pub fn new(plan: &Plan) -> std::io::Result<HttpCaller> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("nudge-models")
            .enable_all()
            .build()?;
        let most = plan.models.iter().map(|m| m.concurrency).max().unwrap_or(1);
        let client = Client::builder(TokioExecutor::new())
            .pool_max_idle_per_host(most as usize)
            .build_http();
        let models = plan
            .models
            .iter()
            .map(|m| Endpoint {
                uri: parse_url(&m.url),
                timeout: Duration::from_millis(m.timeout_ms),
                slots: Arc::new(Semaphore::new(m.concurrency.max(1) as usize)),
            })
            .collect();
        Ok(HttpCaller {
            runtime,
            client,
            models,
        })
    }
}

impl fmt::Debug for HttpCaller {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpCaller")
            .field("models", &self.models.len())
            .finish()
    }
}

fn parse_url(url: &str) -> Result<Uri, String> {
    let uri: Uri = url
        .parse()
        .map_err(|e| format!("bad model url `{url}`: {e}"))?;
    match uri.scheme_str() {
        Some("http") => Ok(uri),
        Some("https") => Err(format!(
            "`{url}`: https needs TLS, which this build of nudge does not include"
        )),
        _ => Err(format!("`{url}` is not an http:// URL")),
    }
}

impl ModelCaller for HttpCaller {
    fn call(&self, call: Call<'_>, reply: Reply) {
        let endpoint = &self.models[call.model.index()];
        let uri = match &endpoint.uri {
            Ok(uri) => uri.clone(),
            Err(why) => return reply.send(Outcome::Error(why.clone())),
        };
        let client = self.client.clone();
        let slots = endpoint.slots.clone();
        let timeout = endpoint.timeout;
        let body = call.body;
        self.runtime.spawn(async move {
            let Ok(_slot) = slots.acquire_owned().await else {
                return reply.send(Outcome::Error("the model's slots are closed".into()));
            };
            let outcome = tokio::time::timeout(timeout, post(&client, uri, body))
                .await
                .unwrap_or(Outcome::Timeout);
            reply.send(outcome);
        });
    }
}

/// One POST, to the end of the reply.
async fn post(client: &HttpClient, uri: Uri, body: String) -> Outcome {
    let request = Request::post(uri)
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::ACCEPT, "application/json")
        .body(Full::new(Bytes::from(body)));
    let request = match request {
        Ok(r) => r,
        Err(e) => return Outcome::Error(e.to_string()),
    };
    let response = match client.request(request).await {
        Ok(r) => r,
        Err(e) => return Outcome::Error(e.to_string()),
    };
    let status = response.status();
    if !status.is_success() {
        return Outcome::Error(format!("status {status}"));
    }
    let bytes = match Limited::new(response.into_body(), MAX_REPLY)
        .collect()
        .await
    {
        Ok(b) => b.to_bytes(),
        Err(e) => return Outcome::Error(e.to_string()),
    };
    match serde_json::from_slice::<serde_json::Value>(&bytes) {
        Ok(j) => Outcome::Ok(Value::from_json(&j)),
        Err(_) => Outcome::BadJson,
    }
}
