//! Service logs on stderr: `nudge: MESSAGE` lines for people, or, with
//! [`set_json`] (`nudge run --log-format json`), one JSON object per line for log
//! collectors: `{"ts": "2026-11-27T07:55:00.123Z", "level": "info", "component":
//! "kafka", "msg": "..."}`.

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};

static JSON: AtomicBool = AtomicBool::new(false);

/// How serious a log line is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Info,
    Warn,
    Error,
}

impl Level {
    fn name(self) -> &'static str {
        match self {
            Level::Info => "info",
            Level::Warn => "warn",
            Level::Error => "error",
        }
    }
}

/// Switches every later line to JSON.
pub fn set_json(on: bool) {
    JSON.store(on, Ordering::Relaxed);
}

/// Writes one line. `component` names the part speaking (`kafka`, `checkpoint`,
/// `reload`, `redis`, `run`); the text form leaves it to the message.
pub fn write(level: Level, component: &str, msg: fmt::Arguments<'_>) {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64);
    eprintln!(
        "{}",
        render(level, component, msg, now, JSON.load(Ordering::Relaxed))
    );
}

/// One line, without its newline.
fn render(
    level: Level,
    component: &str,
    msg: fmt::Arguments<'_>,
    now_ms: i64,
    json: bool,
) -> String {
    if !json {
        return format!("nudge: {msg}");
    }
    serde_json::json!({
        "ts": crate::time::format_rfc3339(now_ms),
        "level": level.name(),
        "component": component,
        "msg": msg.to_string(),
    })
    .to_string()
}

/// `info!("kafka", "format {}", args)`.
#[macro_export]
macro_rules! info {
    ($component:expr, $($arg:tt)*) => {
        $crate::log::write($crate::log::Level::Info, $component, format_args!($($arg)*))
    };
}

/// `warn!("kafka", "format {}", args)`.
#[macro_export]
macro_rules! warn {
    ($component:expr, $($arg:tt)*) => {
        $crate::log::write($crate::log::Level::Warn, $component, format_args!($($arg)*))
    };
}

/// `error!("kafka", "format {}", args)`.
#[macro_export]
macro_rules! error {
    ($component:expr, $($arg:tt)*) => {
        $crate::log::write($crate::log::Level::Error, $component, format_args!($($arg)*))
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_is_text_or_one_json_object() {
        let text = render(
            Level::Info,
            "kafka",
            format_args!("task {} up", 2),
            1_500,
            false,
        );
        assert_eq!(text, "nudge: task 2 up");
        let json = render(
            Level::Warn,
            "reload",
            format_args!("a \"b\"\nc"),
            1_500,
            true,
        );
        assert!(!json.contains('\n'));
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(
            v,
            serde_json::json!({
                "ts": "1970-01-01T00:00:01.500Z",
                "level": "warn",
                "component": "reload",
                "msg": "a \"b\"\nc",
            })
        );
    }
}
