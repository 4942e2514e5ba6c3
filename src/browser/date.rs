//! Dates as Chromium's HTTP cache reads them.
//!
//! RFC 9111 §5.3 says an `Expires` that is not an HTTP-date means "already expired", and
//! the edge follows that ([`Timestamp::parse_http_date`]). Chromium does not: it reads
//! `Date`, `Expires` and `Last-Modified` with `base::Time::FromString`, a forgiving parser
//! of free-form dates. Measured on Chromium 156 (cases `x13`, `x36`): an `Expires` in 2099
//! written with a `UTC` zone, a `+0000` zone, no zone, no weekday, in lowercase, or as
//! ISO 8601 (`2099-12-31T23:59:59Z`) made the answer fresh; `0` stayed invalid (`z22`).
//!
//! [`parse`] takes the HTTP-date forms first (the common case, and the thread's cached
//! `Date`), then a tolerant reading: tokens split on spaces and commas, in any order —
//! a weekday (ignored), a month name (any case, its first three letters), a day, a year
//! (two digits: `70`–`99` are 19xx, `00`–`69` 20xx), `hh:mm[:ss]`, a zone (`GMT`, `UT`,
//! `UTC`, `Z`, `±hhmm`), `dd-Mon-yy`, or `yyyy-mm-dd[Thh:mm[:ss]][Z|±hh:mm]`. A date
//! without a zone is taken as UTC (Chromium takes local time; the suite's machine runs on
//! UTC). Anything else in the value makes it invalid.

use crate::time::{from_parts, Timestamp, MONTHS, WEEKDAYS};

/// A date as Chromium's cache reads it, or `None` when it reads none.
pub(super) fn parse(s: &str) -> Option<Timestamp> {
    Timestamp::parse_http_date(s).or_else(|| lenient(s))
}

#[derive(Default)]
struct Parts {
    year: Option<i64>,
    month: Option<u32>,
    day: Option<u32>,
    time: Option<(u64, u64, u64)>,
    /// Seconds east of UTC.
    offset: Option<i64>,
}

fn lenient(s: &str) -> Option<Timestamp> {
    let mut p = Parts::default();
    for tok in s.split([' ', '\t', ',']).filter(|t| !t.is_empty()) {
        token(&mut p, tok)?;
    }
    let utc = from_parts(p.year?, p.month?, p.day?, p.time.unwrap_or((0, 0, 0)))?;
    let secs = (utc.0 / 1000) as i64 - p.offset.unwrap_or(0);
    u64::try_from(secs).ok().map(|s| Timestamp(s * 1000))
}

fn digits(t: &str) -> Option<u64> {
    (!t.is_empty() && t.len() <= 4 && t.bytes().all(|b| b.is_ascii_digit()))
        .then(|| t.parse().ok())
        .flatten()
}

fn year_of(t: &str) -> Option<i64> {
    let y = digits(t)? as i64;
    Some(match t.len() {
        2 if y >= 70 => 1900 + y,
        2 => 2000 + y,
        4 => y,
        _ => return None,
    })
}

fn month_of(t: &str) -> Option<u32> {
    let abbr = t.get(..3)?;
    let i = MONTHS.iter().position(|m| m.eq_ignore_ascii_case(abbr))?;
    // the rest of a longer word must still spell the month ("December", not "Decoy")
    const FULL: [&str; 12] = [
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
    ];
    FULL[i]
        .starts_with(&t.to_ascii_lowercase())
        .then_some(i as u32 + 1)
}

fn clock(t: &str) -> Option<(u64, u64, u64)> {
    let mut it = t.split(':');
    let h = digits(it.next()?)?;
    let m = digits(it.next()?)?;
    let s = match it.next() {
        Some(s) => digits(s)?,
        None => 0,
    };
    it.next().is_none().then_some((h, m, s))
}

/// `+hhmm`, `-hhmm` or `±hh:mm`: seconds east of UTC.
fn offset(t: &str) -> Option<i64> {
    let sign = match t.as_bytes().first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let rest = t[1..].replace(':', "");
    if rest.len() != 4 {
        return None;
    }
    let v = digits(&rest)? as i64;
    Some(sign * ((v / 100) * 3600 + (v % 100) * 60))
}

fn set<T>(slot: &mut Option<T>, v: T) -> Option<()> {
    if slot.is_some() {
        return None;
    }
    *slot = Some(v);
    Some(())
}

fn token(p: &mut Parts, tok: &str) -> Option<()> {
    let lower = tok.to_ascii_lowercase();
    match lower.as_str() {
        "gmt" | "ut" | "utc" | "z" => return set(&mut p.offset, 0),
        _ => {}
    }
    if tok.bytes().all(|b| b.is_ascii_alphabetic()) {
        if let Some(m) = month_of(tok) {
            return set(&mut p.month, m);
        }
        let is_weekday = lower.get(..3).is_some_and(|w| {
            WEEKDAYS.iter().any(|d| d.eq_ignore_ascii_case(w)) && lower.len() <= 9
        });
        return is_weekday.then_some(());
    }
    if tok.contains(':') && !tok.contains('-') && !tok.contains('+') {
        return set(&mut p.time, clock(tok)?);
    }
    if let Some(o) = offset(tok) {
        return set(&mut p.offset, o);
    }
    if let Some(n) = digits(tok) {
        // a day first, then a year
        if tok.len() <= 2 && p.day.is_none() {
            return set(&mut p.day, n as u32);
        }
        return set(&mut p.year, year_of(tok)?);
    }
    let b = tok.as_bytes();
    if b.len() >= 10 && b[..4].iter().all(u8::is_ascii_digit) && b[4] == b'-' {
        // ISO 8601: `yyyy-mm-dd`, perhaps with `Thh:mm[:ss]` and a zone
        return match tok.split_once(['T', 't']) {
            Some((date, rest)) => {
                iso_date(p, date)?;
                iso_time(p, rest)
            }
            None => iso_date(p, tok),
        };
    }
    // RFC 850's `dd-Mon-yy`
    let mut parts = tok.split('-');
    let (d, m, y) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    set(&mut p.day, digits(d)? as u32)?;
    set(&mut p.month, month_of(m)?)?;
    set(&mut p.year, year_of(y)?)
}

fn iso_date(p: &mut Parts, t: &str) -> Option<()> {
    let mut it = t.split('-');
    let (y, m, d) = (it.next()?, it.next()?, it.next()?);
    if it.next().is_some() || y.len() != 4 {
        return None;
    }
    set(&mut p.year, digits(y)? as i64)?;
    let m = digits(m)? as u32;
    if !(1..=12).contains(&m) {
        return None;
    }
    set(&mut p.month, m)?;
    set(&mut p.day, digits(d)? as u32)
}

fn iso_time(p: &mut Parts, t: &str) -> Option<()> {
    let (clock_part, zone) = match t.find(['Z', 'z', '+', '-']) {
        Some(i) => (&t[..i], Some(&t[i..])),
        None => (t, None),
    };
    set(&mut p.time, clock(clock_part)?)?;
    match zone {
        None => Some(()),
        Some("Z" | "z") => set(&mut p.offset, 0),
        Some(z) => set(&mut p.offset, offset(z)?),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const Y2099: u64 = 4_102_444_799_000; // 2099-12-31T23:59:59Z

    #[test]
    fn forms_chromium_reads() {
        for s in [
            "Thu, 31 Dec 2099 23:59:59 GMT",
            "Thu, 31 Dec 2099 23:59:59 UTC",
            "31 Dec 2099 23:59:59 GMT",
            "Thu, 31 Dec 2099 23:59:59 +0000",
            "Thu, 31 Dec 2099 23:59:59",
            "2099-12-31T23:59:59Z",
            "thu, 31 dec 2099 23:59:59 gmt",
            "Thu Dec 31 23:59:59 2099",
            "Thursday, 31-Dec-99 23:59:59 GMT",
            "Sunday, 31-Oct-99 23:59:59 GMT",
            "Fri, 01 Jan 2100 00:59:59 +0100",
            "2099-12-31T22:59:59-01:00",
        ] {
            let want = if s.contains("-Dec-99") {
                946_684_799_000
            } else if s.contains("-Oct-99") {
                941_414_399_000
            } else {
                Y2099
            };
            assert_eq!(parse(s), Some(Timestamp(want)), "{s}");
        }
    }

    /// Two-digit years outside the HTTP-date forms (a `UTC` zone, no weekday): `70`–`99`
    /// are 19xx, `00`–`69` 20xx, as base::Time::FromString reads them.
    #[test]
    fn two_digit_years_in_the_lenient_forms() {
        for (s, want) in [
            ("31-Dec-99 23:59:59 UTC", 946_684_799),
            ("31-Dec-37 23:59:59 UTC", 2_145_916_799),
            ("Jan 1 69 00:00:00 UTC", 3_124_224_000),
            ("2 Jan 70 00:00:00 UTC", 86_400),
            ("Dec 31 23:59:59 99", 946_684_799),
        ] {
            assert_eq!(parse(s), Some(Timestamp(want * 1000)), "{s}");
        }
    }

    #[test]
    fn not_dates() {
        for s in [
            "0",
            "-1",
            "",
            "never",
            "Thu, 31 Dec 2099 23:59:59 PST garbage",
            "31 Foo 2099",
            "Dec 2099",
            "Thu, 32 Dec 2099 23:59:59 GMT",
            "2099-13-01T00:00:00Z",
            "Thu, 31 Dec 2099 24:00:00 GMT",
            // a number of more than four digits is no part of a date
            "2099-00012-31T23:59:59Z",
            "31 Dec 02099 23:59:59 UTC",
            "31-Dec-099 23:59:59 UTC",
        ] {
            assert_eq!(parse(s), None, "{s:?}");
        }
    }
}
