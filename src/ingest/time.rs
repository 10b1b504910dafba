//! Timestamps as the AWS CLI prints them (semantics.md §9): epoch numbers (`1444151834.0`,
//! `1.444151834E9`, CLI v1 for KMS/Organizations) and ISO-8601 strings with `Z`, an offset
//! or fractional seconds. Everything is normalised to ISO-8601 UTC (`2024-04-02T00:00:00Z`).

use crate::policy::time::{days_from_civil, render};

/// Normalises an epoch number written as text (`1712016000.0`, `1.444151834E9`).
#[must_use]
pub fn from_epoch_text(text: &str) -> Option<String> {
    let f: f64 = text.trim().parse().ok()?;
    if !f.is_finite() || f.abs() > 1e13 {
        return None;
    }
    let total_ms = (f * 1000.0).round();
    // Bounded above, so the conversion is exact.
    #[allow(clippy::cast_possible_truncation)]
    let total_ms = total_ms as i64;
    Some(render(total_ms.div_euclid(1000), total_ms.rem_euclid(1000)))
}

fn num(s: &str) -> Option<i64> {
    if s.is_empty() || s.len() > 9 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// Normalises an ISO-8601 timestamp (`2024-03-01T10:00:00-05:00`, `…Z`, `….123+00:00`).
#[must_use]
pub fn from_iso(text: &str) -> Option<String> {
    let t = text.trim();
    let (date, time) = t.split_once(['T', 't', ' '])?;
    let mut dp = date.split('-');
    let (y, mo, d) = (num(dp.next()?)?, num(dp.next()?)?, num(dp.next()?)?);
    if dp.next().is_some() || !(0..=9999).contains(&y) || !(1..=12).contains(&mo) || !(1..=31).contains(&d) {
        return None;
    }
    // Split the zone off the time.
    let (clock, offset_secs) = if let Some(c) = time.strip_suffix(['Z', 'z']) {
        (c, 0)
    } else if let Some(i) = time.rfind(['+', '-']) {
        let (c, z) = time.split_at(i);
        let sign = if z.starts_with('-') { -1 } else { 1 };
        let z = z.get(1..)?;
        let (h, m) = match z.split_once(':') {
            Some((h, m)) => (num(h)?, num(m)?),
            None if z.len() == 4 => (num(z.get(..2)?)?, num(z.get(2..)?)?),
            None => (num(z)?, 0),
        };
        (c, sign * (h * 3600 + m * 60))
    } else {
        (time, 0)
    };
    let (hms, frac) = match clock.split_once('.') {
        Some((h, f)) => (h, f),
        None => (clock, ""),
    };
    let mut tp = hms.split(':');
    let (hh, mi) = (num(tp.next()?)?, num(tp.next()?)?);
    let ss = match tp.next() {
        Some(s) => num(s)?,
        None => 0,
    };
    if tp.next().is_some() || hh > 23 || mi > 59 || ss > 60 {
        return None;
    }
    let millis = if frac.is_empty() {
        0
    } else {
        let digits: String = frac.chars().chain("000".chars()).take(3).collect();
        num(&digits)?
    };
    let secs = days_from_civil(y, mo, d) * 86_400 + hh * 3600 + mi * 60 + ss - offset_secs;
    Some(render(secs, millis))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epochs() {
        assert_eq!(from_epoch_text("1712016000.0").as_deref(), Some("2024-04-02T00:00:00Z"));
        assert_eq!(from_epoch_text("1.444151834E9").as_deref(), Some("2015-10-06T17:17:14Z"));
        assert_eq!(from_epoch_text("1709287200.123").as_deref(), Some("2024-03-01T10:00:00.123Z"));
        assert_eq!(from_epoch_text("0").as_deref(), Some("1970-01-01T00:00:00Z"));
        assert!(from_epoch_text("soon").is_none());
    }

    #[test]
    fn iso() {
        assert_eq!(from_iso("2024-03-01T10:00:00-05:00").as_deref(), Some("2024-03-01T15:00:00Z"));
        assert_eq!(from_iso("2019-06-21T21:53:56Z").as_deref(), Some("2019-06-21T21:53:56Z"));
        assert_eq!(from_iso("2019-06-21T21:53:56.5+00:00").as_deref(), Some("2019-06-21T21:53:56.500Z"));
        assert_eq!(from_iso("2024-01-01T00:30:00+0100").as_deref(), Some("2023-12-31T23:30:00Z"));
        assert!(from_iso("2024-13-01T00:00:00Z").is_none());
        assert!(from_iso("yesterday").is_none());
        assert!(from_iso("99999999999999999-01-01T00:00:00Z").is_none());
        assert!(from_iso("2024-01-01T00:00:00+1\u{e9}2").is_none());
    }
}
