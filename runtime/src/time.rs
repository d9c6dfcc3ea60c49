//! Event time: parsing the time forms of LANGUAGE.md §2, formatting, and calendar fields.
//!
//! Times are `i64` epoch milliseconds everywhere. The accepted forms are
//! - an integer: epoch ms, or epoch s when the input says `time field NAME seconds`;
//! - RFC 3339: `2026-11-27T10:00:00Z`, `2026-11-27T10:00:00.250+01:00` (`T`, `t` or a
//!   space between date and time; `Z`, `z` or `±HH:MM`);
//! - `YYYY-MM-DD HH:MM:SS[.fff][ UTC]` (no zone means UTC).
//!
//! Fractions may have any number of digits; those past milliseconds are cut off. Nothing
//! else is accepted: no surrounding spaces, no date without a time, no named zones.

use chrono::{DateTime, Datelike, SecondsFormat, Timelike};
use chrono_tz::Tz;

const MS_PER_DAY: i64 = 86_400_000;

/// Parses a time string (RFC 3339 or `YYYY-MM-DD HH:MM:SS[.fff][ UTC]`) to epoch ms.
///
/// ```
/// use nudge_runtime::time::parse_time_str;
/// assert_eq!(parse_time_str("1970-01-01T00:00:01.5Z"), Some(1_500));
/// assert_eq!(parse_time_str("1970-01-01 01:00:00 UTC"), Some(3_600_000));
/// assert_eq!(parse_time_str("1970-01-01T01:00:00+01:00"), Some(0));
/// assert_eq!(parse_time_str("yesterday"), None);
/// ```
pub fn parse_time_str(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() < 19 {
        return None;
    }
    let year = digits(&b[0..4])?;
    let month = digits(&b[5..7])?;
    let day = digits(&b[8..10])?;
    let hour = digits(&b[11..13])?;
    let minute = digits(&b[14..16])?;
    let second = digits(&b[17..19])?;
    if b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    // A leap second (:60) counts as the first second of the next minute.
    if hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let mut rest = &b[19..];
    let mut frac_ms = 0i64;
    if let [b'.', tail @ ..] = rest {
        let n = tail.iter().take_while(|c| c.is_ascii_digit()).count();
        if n == 0 {
            return None;
        }
        for (i, &c) in tail[..n.min(3)].iter().enumerate() {
            frac_ms += i64::from(c - b'0') * [100, 10, 1][i];
        }
        rest = &tail[n..];
    }
    let offset_min = match rest {
        [] | b"Z" | b"z" | b" UTC" => 0,
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
            let h = digits(&[*h1, *h2])?;
            let m = digits(&[*m1, *m2])?;
            if h > 23 || m > 59 {
                return None;
            }
            let off = h * 60 + m;
            if *sign == b'-' {
                -off
            } else {
                off
            }
        }
        _ => return None,
    };
    let days = days_from_civil(year, month, day);
    let secs = days * 86_400 + hour * 3_600 + minute * 60 + second - offset_min * 60;
    Some(secs * 1_000 + frac_ms)
}

/// The time of a JSON value: an integer (epoch ms, or epoch s with `seconds`) or one of
/// the string forms. `None` for anything else, `null` included (the decoder reports a
/// `null` or absent time as `missing_time` before it gets here).
pub fn parse_time_json(v: &serde_json::Value, seconds: bool) -> Option<i64> {
    match v {
        serde_json::Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                time_from_int(i, seconds)
            } else if let Some(u) = n.as_u64() {
                time_from_int(i64::try_from(u).ok()?, seconds)
            } else {
                None
            }
        }
        serde_json::Value::String(s) => parse_time_str(s),
        _ => None,
    }
}

/// An integer time: epoch ms, or epoch s with `seconds` (`None` on overflow).
#[inline]
pub fn time_from_int(i: i64, seconds: bool) -> Option<i64> {
    if seconds {
        i.checked_mul(1_000)
    } else {
        Some(i)
    }
}

/// The time of a CSV cell (LANGUAGE.md §11): digits with an optional fraction are epoch ms
/// (epoch s with `seconds`; sub-millisecond digits are cut off), otherwise a string form.
/// A leading `-` is allowed, as in JSON.
///
/// ```
/// use nudge_runtime::time::parse_time_cell;
/// assert_eq!(parse_time_cell("1700000000.25", true), Some(1_700_000_000_250));
/// assert_eq!(parse_time_cell("1700000000250", false), Some(1_700_000_000_250));
/// assert_eq!(parse_time_cell("2023-11-14 22:13:20 UTC", false), Some(1_700_000_000_000));
/// ```
pub fn parse_time_cell(s: &str, seconds: bool) -> Option<i64> {
    let (neg, body) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s),
    };
    let (int, frac) = match body.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (body, None),
    };
    let all_digits = |t: &str| !t.is_empty() && t.bytes().all(|c| c.is_ascii_digit());
    if !all_digits(int) || frac.is_some_and(|f| !all_digits(f)) {
        return parse_time_str(s);
    }
    let whole: i64 = int.parse().ok()?;
    let scale = if seconds { 1_000 } else { 1 };
    let mut ms = whole.checked_mul(scale)?;
    if let (Some(f), true) = (frac, seconds) {
        let mut part = 0i64;
        for (i, c) in f.bytes().take(3).enumerate() {
            part += i64::from(c - b'0') * [100, 10, 1][i];
        }
        ms = ms.checked_add(part)?;
    }
    Some(if neg { -ms } else { ms })
}

/// Formats epoch ms as RFC 3339 in UTC: `2026-11-27T10:00:00Z`, with `.fff` only when
/// the milliseconds are not zero. Times outside chrono's range print as the bare number.
pub fn format_rfc3339(ms: i64) -> String {
    match DateTime::from_timestamp_millis(ms) {
        Some(t) => {
            let fmt = if ms.rem_euclid(1_000) == 0 {
                SecondsFormat::Secs
            } else {
                SecondsFormat::Millis
            };
            t.to_rfc3339_opts(fmt, true)
        }
        None => ms.to_string(),
    }
}

/// Looks up an IANA zone (`Europe/Berlin`); `None` when unknown. Resolve a constant zone
/// once with this and use [`hour_of_day_in`] / [`day_of_week_in`] on the hot path.
pub fn zone(name: &str) -> Option<Tz> {
    name.parse().ok()
}

/// The hour (0–23) of `ts_ms` in UTC, or in the IANA `zone` when given; `None` for an
/// unknown zone.
pub fn hour_of_day(ts_ms: i64, zone: Option<&str>) -> Option<i64> {
    match zone {
        None => Some(ts_ms.rem_euclid(MS_PER_DAY) / 3_600_000),
        Some(name) => hour_of_day_in(ts_ms, self::zone(name)?),
    }
}

/// The day of the week of `ts_ms` (1 = Monday … 7 = Sunday) in UTC, or in the IANA `zone`
/// when given; `None` for an unknown zone.
pub fn day_of_week(ts_ms: i64, zone: Option<&str>) -> Option<i64> {
    match zone {
        // 1970-01-01 was a Thursday.
        None => Some((ts_ms.div_euclid(MS_PER_DAY) + 3).rem_euclid(7) + 1),
        Some(name) => day_of_week_in(ts_ms, self::zone(name)?),
    }
}

/// [`hour_of_day`] in a resolved zone (`None` only for times outside chrono's range).
pub fn hour_of_day_in(ts_ms: i64, tz: Tz) -> Option<i64> {
    let t = DateTime::from_timestamp_millis(ts_ms)?.with_timezone(&tz);
    Some(i64::from(t.hour()))
}

/// [`day_of_week`] in a resolved zone (`None` only for times outside chrono's range).
pub fn day_of_week_in(ts_ms: i64, tz: Tz) -> Option<i64> {
    let t = DateTime::from_timestamp_millis(ts_ms)?.with_timezone(&tz);
    Some(i64::from(t.weekday().number_from_monday()))
}

/// ASCII digits to a number; `None` if any byte is not a digit.
#[inline]
fn digits(b: &[u8]) -> Option<i64> {
    b.iter().try_fold(0i64, |acc, &c| {
        c.is_ascii_digit().then(|| acc * 10 + i64::from(c - b'0'))
    })
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's `days_from_civil`).
pub(crate) fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: i64 = 1_795_773_600_000; // 2026-11-27T10:00:00Z

    #[test]
    fn rfc3339_forms() {
        assert_eq!(parse_time_str("2026-11-27T10:00:00Z"), Some(T));
        assert_eq!(parse_time_str("2026-11-27t10:00:00z"), Some(T));
        assert_eq!(parse_time_str("2026-11-27 10:00:00Z"), Some(T));
        assert_eq!(parse_time_str("2026-11-27T11:30:00+01:30"), Some(T));
        assert_eq!(parse_time_str("2026-11-27T05:00:00-05:00"), Some(T));
        assert_eq!(parse_time_str("2026-11-27T10:00:00.5Z"), Some(T + 500));
        assert_eq!(parse_time_str("2026-11-27T10:00:00.25Z"), Some(T + 250));
        assert_eq!(
            parse_time_str("2026-11-27T10:00:00.123456789Z"),
            Some(T + 123)
        );
        assert_eq!(
            parse_time_str("2026-11-27T10:00:00.999+00:00"),
            Some(T + 999)
        );
        assert_eq!(parse_time_str("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_time_str("1969-12-31T23:59:59.5Z"), Some(-500));
        assert_eq!(
            parse_time_str("2024-02-29T00:00:00Z"),
            Some(1_709_164_800_000)
        );
    }

    #[test]
    fn plain_forms() {
        assert_eq!(parse_time_str("2026-11-27 10:00:00"), Some(T));
        assert_eq!(parse_time_str("2026-11-27 10:00:00 UTC"), Some(T));
        assert_eq!(parse_time_str("2026-11-27 10:00:00.042 UTC"), Some(T + 42));
        assert_eq!(parse_time_str("2026-11-27T10:00:00"), Some(T));
    }

    #[test]
    fn agrees_with_chrono() {
        for ms in [
            0,
            1,
            -1,
            951_782_400_000,
            T,
            4_102_444_799_999,
            -62_135_596_800_000,
        ] {
            let s = format_rfc3339(ms);
            assert_eq!(parse_time_str(&s), Some(ms), "{s}");
        }
    }

    #[test]
    fn rejects() {
        for s in [
            "",
            "yesterday",
            "2026-11-27",
            "2026-11-27T10:00Z",
            "2026-13-01T00:00:00Z",
            "2026-02-29T00:00:00Z",
            "2026-11-31T00:00:00Z",
            "2026-11-27T24:00:00Z",
            "2026-11-27T10:60:00Z",
            "2026-11-27T10:00:00.Z",
            "2026-11-27T10:00:00+1:00",
            "2026-11-27T10:00:00+0100",
            "2026-11-27T10:00:00 CET",
            "2026-11-27T10:00:00Z ",
            " 2026-11-27T10:00:00Z",
            "2026/11/27 10:00:00",
            "2026-11-27x10:00:00",
            "+026-11-27T10:00:00Z",
        ] {
            assert_eq!(parse_time_str(s), None, "{s:?}");
        }
    }

    #[test]
    fn json_times() {
        use serde_json::json;
        assert_eq!(parse_time_json(&json!(T), false), Some(T));
        assert_eq!(parse_time_json(&json!(T / 1000), true), Some(T));
        assert_eq!(parse_time_json(&json!(-5), false), Some(-5));
        assert_eq!(
            parse_time_json(&json!("2026-11-27T10:00:00Z"), true),
            Some(T)
        );
        assert_eq!(parse_time_json(&json!(1.5), false), None);
        assert_eq!(parse_time_json(&json!(1.0), false), None);
        assert_eq!(parse_time_json(&json!(u64::MAX), false), None);
        assert_eq!(parse_time_json(&json!(i64::MAX), true), None);
        assert_eq!(parse_time_json(&json!("1795773600000"), false), None);
        assert_eq!(parse_time_json(&json!(null), false), None);
        assert_eq!(parse_time_json(&json!(true), false), None);
    }

    #[test]
    fn csv_cells() {
        assert_eq!(parse_time_cell("1795773600000", false), Some(T));
        assert_eq!(parse_time_cell("1795773600", true), Some(T));
        assert_eq!(parse_time_cell("1795773600.5", true), Some(T + 500));
        assert_eq!(parse_time_cell("1795773600.1239", true), Some(T + 123));
        assert_eq!(parse_time_cell("1795773600000.9", false), Some(T));
        assert_eq!(parse_time_cell("-1.5", true), Some(-1_500));
        assert_eq!(parse_time_cell("2026-11-27 10:00:00 UTC", true), Some(T));
        for bad in ["", ".5", "5.", "1e3", "12a", "-", "99999999999999999999"] {
            assert_eq!(parse_time_cell(bad, false), None, "{bad:?}");
        }
    }

    #[test]
    fn formats() {
        assert_eq!(format_rfc3339(T), "2026-11-27T10:00:00Z");
        assert_eq!(format_rfc3339(T + 250), "2026-11-27T10:00:00.250Z");
        assert_eq!(format_rfc3339(-1), "1969-12-31T23:59:59.999Z");
    }

    #[test]
    fn calendar() {
        // 2026-11-27 is a Friday.
        assert_eq!(hour_of_day(T, None), Some(10));
        assert_eq!(day_of_week(T, None), Some(5));
        assert_eq!(hour_of_day(T, Some("Europe/Berlin")), Some(11));
        assert_eq!(hour_of_day(T, Some("America/New_York")), Some(5));
        assert_eq!(hour_of_day(T + 14 * 3_600_000, Some("Asia/Tokyo")), Some(9));
        assert_eq!(day_of_week(T + 14 * 3_600_000, Some("Asia/Tokyo")), Some(6));
        assert_eq!(day_of_week(T + 14 * 3_600_000, None), Some(6));
        assert_eq!(
            day_of_week(T + 14 * 3_600_000, Some("Pacific/Honolulu")),
            Some(5)
        );
        assert_eq!(day_of_week(0, None), Some(4));
        assert_eq!(day_of_week(-1, None), Some(3));
        assert_eq!(hour_of_day(-1, None), Some(23));
        assert_eq!(hour_of_day(T, Some("Mars/Olympus")), None);
        assert_eq!(day_of_week(T, Some("")), None);
        // Summer time: Berlin is UTC+2 in July.
        let july = parse_time_str("2026-07-01T10:00:00Z").unwrap();
        assert_eq!(hour_of_day(july, Some("Europe/Berlin")), Some(12));
    }
}
