//! Timestamps: parsing `--since` values and printing audit epochs (UTC, no time zone data).
//!
//! Accepted `--since` forms: `@EPOCH`, `YYYY-MM-DD`, `YYYY-MM-DD HH:MM[:SS]` (also with `T`),
//! in UTC unless an ISO zone follows the time (`Z`, `+02:00`, `-0100`), and relative ages `30s`, `15m`, `2h`, `7d` (also `-2h`, `2h ago`), counted back
//! from now. `today` and `yesterday` mean midnight UTC.

/// Days since 1970-01-01 of a proleptic Gregorian date.
pub(crate) fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// `YYYY-MM-DD HH:MM:SS` in UTC.
pub fn format_epoch(t: i64) -> String {
    let (y, m, d) = civil_from_days(t.div_euclid(86_400));
    let s = t.rem_euclid(86_400);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}",
        s / 3600,
        s % 3600 / 60,
        s % 60
    )
}

fn num(s: &str) -> Option<i64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// Parse a `--since` value into an epoch, relative to `now`.
pub fn parse_since(s: &str, now: i64) -> Result<i64, String> {
    let t = s.trim();
    let bad = || {
        format!(
            "cannot read time `{s}`: use @EPOCH, YYYY-MM-DD[ HH:MM[:SS]] (UTC, or with Z or \
             +HH:MM), or an age like 30m, 2h, 7d"
        )
    };
    if let Some(e) = t.strip_prefix('@') {
        return num(e).ok_or_else(bad);
    }
    let today = now.div_euclid(86_400) * 86_400;
    match t {
        "today" => return Ok(today),
        "yesterday" => return Ok(today - 86_400),
        "now" => return Ok(now),
        _ => {}
    }
    let rel = t.trim_start_matches('-').trim_end_matches(" ago").trim();
    if let Some(unit) = rel.chars().last().filter(|c| "smhdw".contains(*c)) {
        if let Some(n) = num(&rel[..rel.len() - 1]) {
            let mul = match unit {
                's' => 1,
                'm' => 60,
                'h' => 3600,
                'd' => 86_400,
                _ => 604_800,
            };
            return Ok(now - n.saturating_mul(mul));
        }
    }
    let (date, time) = match t.split_once([' ', 'T']) {
        Some((d, tm)) => (d, Some(tm)),
        None => (t, None),
    };
    // ISO 8601 zone: `Z`, or `+HH:MM` / `-HH:MM` / `+HHMM` after the time (UTC otherwise).
    let (time, offset) = match time {
        Some(tm) => {
            let tm = tm.trim();
            if let Some(rest) = tm.strip_suffix(['Z', 'z']) {
                (Some(rest), 0)
            } else if let Some(i) = tm.rfind(['+', '-']) {
                let (clock, zone) = tm.split_at(i);
                let sign = if zone.starts_with('-') { -1 } else { 1 };
                let digits: String = zone[1..].chars().filter(|c| *c != ':').collect();
                if digits.len() != 4 {
                    return Err(bad());
                }
                let h = num(&digits[..2]).ok_or_else(bad)?;
                let mi = num(&digits[2..]).ok_or_else(bad)?;
                if h > 23 || mi > 59 {
                    return Err(bad());
                }
                (Some(clock), sign * (h * 3600 + mi * 60))
            } else {
                (Some(tm), 0)
            }
        }
        None => (None, 0),
    };
    let mut dp = date.split('-');
    let (Some(y), Some(m), Some(d), None) = (dp.next(), dp.next(), dp.next(), dp.next()) else {
        return Err(bad());
    };
    let (y, m, d) = (
        num(y).ok_or_else(bad)?,
        num(m).ok_or_else(bad)?,
        num(d).ok_or_else(bad)?,
    );
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return Err(bad());
    }
    let mut secs = 0;
    if let Some(tm) = time {
        let parts: Vec<&str> = tm.split(':').collect();
        if !(2..=3).contains(&parts.len()) {
            return Err(bad());
        }
        let h = num(parts[0]).ok_or_else(bad)?;
        let mi = num(parts[1]).ok_or_else(bad)?;
        let se = parts.get(2).map_or(Some(0), |p| num(p)).ok_or_else(bad)?;
        if h > 23 || mi > 59 || se > 60 {
            return Err(bad());
        }
        secs = h * 3600 + mi * 60 + se;
    }
    Ok(days_from_civil(y, m, d) * 86_400 + secs - offset)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        assert_eq!(format_epoch(0), "1970-01-01 00:00:00");
        assert_eq!(format_epoch(1661734785), "2022-08-29 00:59:45");
        assert_eq!(parse_since("2022-08-29 00:59:45", 0), Ok(1661734785));
        assert_eq!(parse_since("2022-08-29", 0), Ok(1661731200));
        assert_eq!(parse_since("2022-08-29T00:59:45Z", 0), Ok(1661734785));
        assert_eq!(parse_since("2022-08-29T02:59:45+02:00", 0), Ok(1661734785));
        assert_eq!(parse_since("2022-08-28T23:59:45-0100", 0), Ok(1661734785));
        assert!(parse_since("2022-08-29T00:59:45+2", 0).is_err());
    }

    #[test]
    fn relative() {
        assert_eq!(parse_since("2h", 10_000), Ok(2800));
        assert_eq!(parse_since("-1d", 100_000), Ok(13_600));
        assert_eq!(parse_since("@5", 0), Ok(5));
        assert!(parse_since("soon", 0).is_err());
    }
}
