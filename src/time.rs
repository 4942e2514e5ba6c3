//! Virtual time: a [`Timestamp`] in milliseconds since the Unix epoch, handed to the core
//! by its driver, and HTTP-date (RFC 9110 §5.6.7) formatting and parsing.

use std::fmt;

/// Milliseconds since 1970-01-01T00:00:00Z.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub u64);

/// The instant a simulation starts: 2026-01-01T00:00:00Z. Fixed, so that replays are
/// byte-for-byte deterministic, and recent, so that `Date` headers look plausible.
pub const SIM_EPOCH: Timestamp = Timestamp(1_767_225_600_000);

impl Timestamp {
    /// Whole seconds since the epoch.
    pub fn secs(self) -> u64 {
        self.0 / 1000
    }

    /// `self + ms` milliseconds, saturating.
    pub fn plus_ms(self, ms: u64) -> Timestamp {
        Timestamp(self.0.saturating_add(ms))
    }

    /// `self + s` seconds, saturating.
    pub fn plus_secs(self, s: u64) -> Timestamp {
        self.plus_ms(s.saturating_mul(1000))
    }

    /// Milliseconds from `earlier` to `self`, 0 if `earlier` is later.
    pub fn ms_since(self, earlier: Timestamp) -> u64 {
        self.0.saturating_sub(earlier.0)
    }

    /// Formats as RFC 3339 in UTC with milliseconds, e.g. `2026-01-01T00:00:00.000Z`.
    pub fn rfc3339(self) -> String {
        let secs = self.secs();
        let (y, m, d) = civil_from_days((secs / 86_400) as i64);
        let rem = secs % 86_400;
        format!(
            "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
            rem / 3600,
            (rem % 3600) / 60,
            rem % 60,
            self.0 % 1000
        )
    }

    /// Formats as an IMF-fixdate, e.g. `Thu, 01 Jan 2026 00:00:00 GMT`.
    pub fn http_date(self) -> String {
        let secs = self.secs();
        let o = Self::format_http_date(secs);
        // The simulated origin dates every answer, and the edge parses that `Date` as it
        // stores the answer: remembered here, it is not worked out again there.
        LastDate::remember(secs, &o);
        o
    }

    /// [`Timestamp::http_date`] worked out.
    fn format_http_date(secs: u64) -> String {
        let days = secs / 86_400;
        let rem = secs % 86_400;
        let (y, m, d) = civil_from_days(days as i64);
        let wd = ((days + 4) % 7) as usize; // 1970-01-01 was a Thursday

        // Written digit by digit: this runs on every origin answer in the simulator.
        let mut o = String::with_capacity(IMF_FIXDATE_LEN);
        o.push_str(WEEKDAYS[wd]);
        o.push_str(", ");
        push2(&mut o, d as u64);
        o.push(' ');
        o.push_str(MONTHS[(m - 1) as usize]);
        o.push(' ');
        let y = y.clamp(0, 9999) as u64;
        push2(&mut o, y / 100);
        push2(&mut o, y % 100);
        o.push(' ');
        push2(&mut o, rem / 3600);
        o.push(':');
        push2(&mut o, (rem % 3600) / 60);
        o.push(':');
        push2(&mut o, rem % 60);
        o.push_str(" GMT");
        o
    }

    /// Parses an HTTP-date: an IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`) or, as RFC
    /// 9110 §5.6.7 requires of recipients ("A recipient that parses a timestamp value in
    /// an HTTP field MUST accept all three HTTP-date formats"), the obsolete RFC 850
    /// (`Sunday, 06-Nov-94 08:49:37 GMT`) and asctime (`Sun Nov  6 08:49:37 1994`) forms.
    /// RFC 9111 §5.3 says an invalid `Expires` means "already expired", which the caller
    /// applies when this returns `None`.
    pub fn parse_http_date(s: &str) -> Option<Timestamp> {
        // A date this thread formatted a moment ago (the simulated origin's `Date`, which
        // the edge parses as it stores the answer) is that instant's second.
        if let Some(secs) = LastDate::secs_of(s) {
            return Some(Timestamp(secs * 1000));
        }
        Self::parse_imf_fixdate(s).or_else(|| parse_obsolete_date(s.trim()))
    }

    fn parse_imf_fixdate(s: &str) -> Option<Timestamp> {
        // IMF-fixdate has a fixed layout: `Sun, 06 Nov 1994 08:49:37 GMT` (29 bytes).
        let b = s.trim().as_bytes();
        if b.len() != 29
            || &b[3..5] != b", "
            || b[7] != b' '
            || b[11] != b' '
            || b[16] != b' '
            || b[19] != b':'
            || b[22] != b':'
            || &b[25..] != b" GMT"
        {
            return None;
        }
        let num = |r: std::ops::Range<usize>| -> Option<u64> {
            b[r].iter().try_fold(0u64, |acc, &c| {
                c.is_ascii_digit().then(|| acc * 10 + u64::from(c - b'0'))
            })
        };
        let d = num(5..7)? as u32;
        let m = MONTHS.iter().position(|x| x.as_bytes() == &b[8..11])? as u32 + 1;
        let y = num(12..16)? as i64;
        let (h, mi, se) = (num(17..19)?, num(20..22)?, num(23..25)?);
        from_parts(y, m, d, (h, mi, se))
    }
}

/// The last IMF-fixdate this thread formatted (its 29 bytes) and its second, for
/// [`Timestamp::parse_http_date`]: the simulated origin dates every answer, and the edge
/// parses that `Date` as it stores the answer. Holds only a date that parses back to its
/// own second (years 1970 to 9999), so its answer is the one worked out; until a date is
/// formatted, bytes that are no text at all (0xFF is never UTF-8).
#[derive(Clone, Copy)]
struct LastDate {
    secs: u64,
    text: [u8; IMF_FIXDATE_LEN],
}

/// The length of an IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`).
const IMF_FIXDATE_LEN: usize = 29;

impl LastDate {
    fn remember(secs: u64, text: &str) {
        // a year past 9999 is written as 9999 and so would parse to another second
        if secs >= MAX_DATED_SECS {
            return;
        }
        if let Ok(text) = <[u8; IMF_FIXDATE_LEN]>::try_from(text.as_bytes()) {
            LAST_DATE.set(LastDate { secs, text });
        }
    }

    fn secs_of(text: &str) -> Option<u64> {
        let text = <&[u8; IMF_FIXDATE_LEN]>::try_from(text.as_bytes()).ok()?;
        let last = LAST_DATE.get();
        (last.text == *text).then_some(last.secs)
    }
}

/// 10000-01-01T00:00:00Z in seconds: the first instant an IMF-fixdate cannot write.
const MAX_DATED_SECS: u64 = 253_402_300_800;

thread_local! {
    static LAST_DATE: std::cell::Cell<LastDate> = const {
        std::cell::Cell::new(LastDate { secs: 0, text: [0xFF; IMF_FIXDATE_LEN] })
    };
}

/// The instant of a civil date and time in UTC, `None` when a field is out of range or
/// the date is before 1970.
pub(crate) fn from_parts(
    y: i64,
    m: u32,
    d: u32,
    (h, mi, se): (u64, u64, u64),
) -> Option<Timestamp> {
    if h > 23 || mi > 59 || se > 60 || y < 1970 || !(1..=31).contains(&d) {
        return None;
    }
    let days = days_from_civil(y, m, d);
    let secs = days as u64 * 86_400 + h * 3600 + mi * 60 + se;
    Some(Timestamp(secs * 1000))
}

fn clock(t: &str) -> Option<(u64, u64, u64)> {
    let mut it = t.split(':').map(|p| {
        (p.len() == 2 && p.bytes().all(|c| c.is_ascii_digit()))
            .then(|| p.parse::<u64>().ok())
            .flatten()
    });
    let hms = (it.next()??, it.next()??, it.next()??);
    it.next().is_none().then_some(hms)
}

fn month(m: &str) -> Option<u32> {
    MONTHS.iter().position(|x| *x == m).map(|i| i as u32 + 1)
}

/// RFC 850 (`Sunday, 06-Nov-94 08:49:37 GMT`) and asctime (`Sun Nov  6 08:49:37 1994`).
/// RFC 9110 §5.6.7: a two-digit year that appears to be more than 50 years in the future
/// is the most recent past year with those digits; with no clock here, `70..=99` is 19xx
/// and `00..=69` is 20xx.
fn parse_obsolete_date(s: &str) -> Option<Timestamp> {
    if let Some((wd, rest)) = s.split_once(", ") {
        if !WEEKDAYS_LONG.contains(&wd) {
            return None;
        }
        let mut p = rest.split(' ');
        let (date, time, zone) = (p.next()?, p.next()?, p.next()?);
        if zone != "GMT" || p.next().is_some() {
            return None;
        }
        let mut dp = date.split('-');
        let (d, m, y) = (dp.next()?, dp.next()?, dp.next()?);
        if d.len() != 2 || y.len() != 2 || dp.next().is_some() {
            return None;
        }
        let yy: i64 = y.parse().ok()?;
        let year = if yy >= 70 { 1900 + yy } else { 2000 + yy };
        return from_parts(year, month(m)?, d.parse().ok()?, clock(time)?);
    }
    // asctime-date = day-name SP date3 SP time-of-day SP year; date3 = month SP ( 2DIGIT / ( SP DIGIT ))
    let wd = s.get(..3)?;
    if !WEEKDAYS.contains(&wd) || s.as_bytes().get(3) != Some(&b' ') || s.len() != 24 {
        return None;
    }
    let m = month(s.get(4..7)?)?;
    let day = s.get(8..10)?.trim_start_matches(' ');
    if s.as_bytes()[7] != b' ' || s.as_bytes()[10] != b' ' || s.as_bytes()[19] != b' ' {
        return None;
    }
    let d: u32 = day.parse().ok()?;
    let y: i64 = s.get(20..24)?.parse().ok()?;
    from_parts(y, m, d, clock(s.get(11..19)?)?)
}

/// nginx 1.22 `ngx_parse_http_time` (src/core/ngx_parse_time.c), as the edge of the
/// `nginx` profile reads `Expires`: the weekday is skipped unread (up to the first `,`;
/// a space first means asctime), the day of an RFC 1123 or RFC 850 date must be two
/// digits, a month is told apart by one or two of its letters, and nothing after the
/// seconds is read (so `+0000`, `UTC` or no zone at all pass). Hours above 23, minutes
/// or seconds above 59 and a day past the month's end are rejected (a day `00` is not).
/// `None` for what nginx rejects and for instants before 1970.
pub fn parse_http_date_nginx(s: &str) -> Option<Timestamp> {
    let b = s.as_bytes();
    let end = b.len();
    let at = |i: usize| b.get(i).copied().unwrap_or(0);
    let digit = |i: usize| at(i).is_ascii_digit();
    let two = |i: usize| i64::from(at(i) - b'0') * 10 + i64::from(at(i + 1) - b'0');
    #[derive(PartialEq)]
    enum Fmt {
        No,
        Rfc822,
        Rfc850,
        Isoc,
    }
    let mut fmt = Fmt::No;
    let mut p = 0;
    while p < end {
        if b[p] == b',' {
            break;
        }
        if b[p] == b' ' {
            fmt = Fmt::Isoc;
            break;
        }
        p += 1;
    }
    p += 1;
    while p < end && b[p] == b' ' {
        p += 1;
    }
    if end.saturating_sub(p) < 18 {
        return None;
    }
    let mut day = 0;
    if fmt != Fmt::Isoc {
        if !digit(p) || !digit(p + 1) {
            return None;
        }
        day = two(p);
        p += 2;
        match at(p) {
            b' ' if end.saturating_sub(p) >= 18 => fmt = Fmt::Rfc822,
            b'-' => fmt = Fmt::Rfc850,
            _ => return None,
        }
        p += 1;
    }
    let month: i64 = match at(p) {
        b'J' if at(p + 1) == b'a' => 0,
        b'J' if at(p + 2) == b'n' => 5,
        b'J' => 6,
        b'F' => 1,
        b'M' if at(p + 2) == b'r' => 2,
        b'M' => 4,
        b'A' if at(p + 1) == b'p' => 3,
        b'A' => 7,
        b'S' => 8,
        b'O' => 9,
        b'N' => 10,
        b'D' => 11,
        _ => return None,
    };
    p += 3;
    if (fmt == Fmt::Rfc822 && at(p) != b' ') || (fmt == Fmt::Rfc850 && at(p) != b'-') {
        return None;
    }
    p += 1;
    let mut year = 0;
    match fmt {
        Fmt::Rfc822 => {
            if !(p..p + 4).all(digit) {
                return None;
            }
            year = two(p) * 100 + two(p + 2);
            p += 4;
        }
        Fmt::Rfc850 => {
            if !digit(p) || !digit(p + 1) {
                return None;
            }
            year = two(p);
            year += if year < 70 { 2000 } else { 1900 };
            p += 2;
        }
        _ => {
            if at(p) == b' ' {
                p += 1;
            }
            if !digit(p) {
                return None;
            }
            day = i64::from(at(p) - b'0');
            p += 1;
            if at(p) != b' ' {
                if !digit(p) {
                    return None;
                }
                day = day * 10 + i64::from(at(p) - b'0');
                p += 1;
            }
            if end.saturating_sub(p) < 14 {
                return None;
            }
        }
    }
    let clock_part = |p: usize| (digit(p) && digit(p + 1)).then(|| two(p));
    if at(p) != b' ' {
        return None;
    }
    let hour = clock_part(p + 1)?;
    if at(p + 3) != b':' {
        return None;
    }
    let min = clock_part(p + 4)?;
    if at(p + 6) != b':' {
        return None;
    }
    let sec = clock_part(p + 7)?;
    p += 9;
    if fmt == Fmt::Isoc {
        if at(p) != b' ' || !(p + 1..p + 5).all(digit) {
            return None;
        }
        year = two(p + 1) * 100 + two(p + 3);
    }
    if hour > 23 || min > 59 || sec > 59 {
        return None;
    }
    const MDAY: [i64; 12] = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    if day == 29 && month == 1 {
        if (year & 3) != 0 || (year % 100 == 0 && year % 400 != 0) {
            return None;
        }
    } else if day > MDAY[month as usize] {
        return None;
    }
    // Gauss' formula, months from March, as nginx writes it
    let (mut month, mut year) = (month, year);
    month -= 1;
    if month <= 0 {
        month += 12;
        year -= 1;
    }
    let days =
        365 * year + year / 4 - year / 100 + year / 400 + 367 * month / 12 - 30 + day - 1 - 719_527
            + 31
            + 28;
    let secs = days * 86_400 + hour * 3600 + min * 60 + sec;
    u64::try_from(secs).ok().map(|s| Timestamp(s * 1000))
}

/// Squid 5.7 `parse_rfc1123` (lib/rfc1123.c), as the edge of the `squid` profile reads
/// `Expires`: the first 63 bytes split into words at commas and spaces; a word starting
/// with a digit is the day (split at `-` into day, month and year for RFC 850), then the
/// time (it holds a `:`), then the year; other words are the weekday, the month (its
/// first three letters, any case) and a zone, which must be `GMT` if there is one. The
/// day, year, minutes and seconds are read with `atoi`, so `1 Jan` is a day 1; the hour
/// is the time's first two bytes. Rejected unless 0 ≤ s, min ≤ 59, h ≤ 23, 1 ≤ day ≤ 31.
/// `None` for what Squid rejects and for instants before 1970.
pub fn parse_http_date_squid(s: &str) -> Option<Timestamp> {
    let b = &s.as_bytes()[..s.len().min(63)];
    let (mut wday, mut day, mut month, mut year, mut time, mut zone) =
        (None, None, None, None, None, None);
    for t in b
        .split(|&c| c == b',' || c == b' ')
        .filter(|t| !t.is_empty())
    {
        if t[0].is_ascii_digit() {
            if day.is_none() {
                let mut parts = t.splitn(2, |&c| c == b'-');
                day = parts.next();
                if let Some(rest) = parts.next() {
                    let (m, y) = rest.split_at(rest.iter().position(|&c| c == b'-')?);
                    month = Some(m);
                    year = Some(&y[1..]);
                }
            } else if t.contains(&b':') {
                time = Some(t);
            } else if year.is_none() {
                year = Some(t);
            } else {
                return None;
            }
        } else if wday.is_none() {
            wday = Some(t);
        } else if month.is_none() {
            month = Some(t);
        } else if zone.is_none() {
            zone = Some(t);
        } else {
            return None;
        }
    }
    let (day, month, year, time) = (day?, month?, year?, time?);
    if zone.is_some_and(|z| z != b"GMT") {
        return None;
    }
    // C atoi: leading blanks and a sign, then digits (saturating here)
    let atoi = |t: &[u8]| -> i64 {
        let t = t.trim_ascii_start();
        let (neg, t) = match t.first() {
            Some(b'-') => (true, &t[1..]),
            Some(b'+') => (false, &t[1..]),
            _ => (false, t),
        };
        let n = t
            .iter()
            .take_while(|c| c.is_ascii_digit())
            .fold(0i64, |n, &c| {
                (n * 10 + i64::from(c - b'0')).min(i64::from(i32::MAX))
            });
        if neg {
            -n
        } else {
            n
        }
    };
    let mday = atoi(day);
    let mon = (month.len() >= 3)
        .then(|| {
            MONTHS
                .iter()
                .position(|m| m.as_bytes().eq_ignore_ascii_case(&month[..3]))
        })
        .flatten()? as u32;
    let mut tm_year = atoi(year);
    if year.len() == 4 {
        tm_year -= 1900;
    } else if tm_year < 70 {
        tm_year += 100;
    } else if tm_year > 19000 {
        tm_year -= 19000;
    }
    // make_num: two bytes as digits, whatever the second is
    let hour = 10 * (i64::from(time[0]) - 48) + i64::from(time.get(1).copied().unwrap_or(0)) - 48;
    let after = |t: &[u8]| {
        t.iter()
            .position(|&c| c == b':')
            .map(|i| t[i + 1..].to_vec())
    };
    let rest = after(time)?;
    let min = atoi(&rest);
    let sec = after(&rest).map_or(0, |r| atoi(&r));
    if !(0..=59).contains(&sec)
        || !(0..=59).contains(&min)
        || !(0..=23).contains(&hour)
        || !(1..=31).contains(&mday)
    {
        return None;
    }
    // timegm: a day past the month's end runs into the next month
    let days = days_from_civil(tm_year + 1900, mon + 1, 1) + mday - 1;
    let secs = days * 86_400 + hour * 3600 + min * 60 + sec;
    u64::try_from(secs).ok().map(|s| Timestamp(s * 1000))
}

/// ATS 9.2 `mime_parse_date` (proxy/hdrs/MIME.cc), as the edge of the `ats` profile
/// reads `Expires`. A text of 29 bytes or more with a `,` fourth is read at the fixed
/// places of an IMF-fixdate, whatever follows the seconds; otherwise the weekday (any
/// word starting with a day's three letters, any case) is found, then day, month, year
/// and time (or asctime's order), each number the next run of digits wherever it is, so
/// a one-digit day passes and the zone is never read ("ignore timezone specifier...
/// should always be GMT anyways"). Nothing is range-checked: the fields are added up. A
/// year past 2037 is 2^31 − 1 seconds (2038-01-19T03:14:07Z), one before 1970 and a
/// failure are 0, which is `None` here, as is any instant not after 1970.
pub fn parse_http_date_ats(s: &str) -> Option<Timestamp> {
    let b = s.as_bytes();
    let end = b.len();
    let mut p = 0;
    while p < end && (b[p] == b' ' || b[p] == b'\t') {
        p += 1;
    }
    // DFA of the names, anchored at the start only and case-insensitive
    let name = |names: &[&str], t: &[u8]| {
        names
            .iter()
            .position(|n| t.len() >= n.len() && n.as_bytes().eq_ignore_ascii_case(&t[..n.len()]))
    };
    let alpha_word = |p: &mut usize, names: &[&str]| -> Option<i64> {
        while *p < end && !b[*p].is_ascii_alphabetic() {
            *p += 1;
        }
        let e = (*p..end)
            .find(|&i| !b[i].is_ascii_alphabetic())
            .unwrap_or(end);
        let i = name(names, &b[*p..e])?;
        *p = e;
        Some(i as i64)
    };
    let integer = |p: &mut usize| -> Option<i64> {
        while *p < end && !b[*p].is_ascii_digit() && b[*p] != b'-' {
            *p += 1;
        }
        if *p == end {
            return None;
        }
        let neg = b[*p] == b'-';
        if neg {
            *p += 1;
        }
        let mut n: i64 = 0;
        while *p < end && b[*p].is_ascii_digit() {
            n = (n * 10 + i64::from(b[*p] - b'0')).min(i64::from(i32::MAX));
            *p += 1;
        }
        Some(if neg { -n } else { n })
    };
    let year = |p: &mut usize| -> Option<i64> {
        while *p < end && !b[*p].is_ascii_digit() {
            *p += 1;
        }
        if *p == end {
            return None;
        }
        let mut v: i64 = 0;
        while *p < end && b[*p].is_ascii_digit() {
            v = (v * 10 + i64::from(b[*p] - b'0')).min(i64::from(i32::MAX));
            *p += 1;
        }
        Some(if v >= 1900 {
            v - 1900
        } else if v < 70 {
            v + 100
        } else {
            v
        })
    };
    let (y, mon, mday, h, mi, se);
    if p < end && b[p].is_ascii_digit() {
        // NNTP: `6 Nov 1994 08:49:37 GMT`
        mday = integer(&mut p)?;
        mon = alpha_word(&mut p, &MONTHS)?;
        y = year(&mut p)?;
        (h, mi, se) = (integer(&mut p)?, integer(&mut p)?, integer(&mut p)?);
    } else if end - p >= 29 && b[p + 3] == b',' {
        let f = &b[p..];
        let wday3 = WEEKDAYS.iter().any(|d| d.as_bytes() == &f[..3]);
        if !wday3 && name(&WEEKDAYS, f).is_none() {
            return None;
        }
        let n = |i: usize| i64::from(f[i]) - 48;
        mday = n(5) * 10 + n(6);
        mon = match MONTHS.iter().position(|m| m.as_bytes() == &f[8..11]) {
            Some(m) => m as i64,
            None => name(&MONTHS, f)? as i64,
        };
        y = n(12) * 1000 + n(13) * 100 + n(14) * 10 + n(15) - 1900;
        (h, mi, se) = (n(17) * 10 + n(18), n(20) * 10 + n(21), n(23) * 10 + n(24));
        if f[19] != b':' || f[22] != b':' {
            return None;
        }
    } else {
        alpha_word(&mut p, &WEEKDAYS)?;
        while p < end && (b[p] == b' ' || b[p] == b'\t') {
            p += 1;
        }
        if p < end && (b[p] == b',' || b[p].is_ascii_digit()) {
            mday = integer(&mut p)?;
            mon = alpha_word(&mut p, &MONTHS)?;
            y = year(&mut p)?;
            (h, mi, se) = (integer(&mut p)?, integer(&mut p)?, integer(&mut p)?);
        } else {
            mon = alpha_word(&mut p, &MONTHS)?;
            mday = integer(&mut p)?;
            (h, mi, se) = (integer(&mut p)?, integer(&mut p)?, integer(&mut p)?);
            y = year(&mut p)?;
        }
    }
    if y > 137 {
        return Some(Timestamp(i64::from(i32::MAX) as u64 * 1000));
    }
    if y < 70 {
        return None;
    }
    const DAYS: [i64; 12] = [305, 336, -1, 30, 60, 91, 121, 152, 183, 213, 244, 274];
    let mut yy = y;
    if mon < 2 {
        yy -= 1;
    }
    let d = mday + DAYS[mon as usize] + yy * 365 + yy / 4 - yy / 100 + (yy / 100 + 3) / 4 - 25_508;
    let t = ((d * 24 + h) * 60 + mi) * 60 + se;
    (t > 0).then(|| Timestamp(t as u64 * 1000))
}

const WEEKDAYS_LONG: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.http_date())
    }
}

fn push2(o: &mut String, n: u64) {
    o.push(char::from(b'0' + (n / 10 % 10) as u8));
    o.push(char::from(b'0' + (n % 10) as u8));
}

pub(crate) const WEEKDAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
pub(crate) const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

// Howard Hinnant's civil-calendar algorithms (public domain description, own code).
pub(crate) fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m as i64 + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

pub(crate) fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Parses a duration as scenarios write it: `5s`, `250ms`, `2m`, `1h`, `1d`, a compound of
/// them from the largest unit down (`1h30m`, `25h30m`, `1m30s`), or a bare number of seconds.
/// Returns milliseconds.
pub fn parse_duration_ms(s: &str) -> Option<u64> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    let mut rest = s;
    let mut total = 0.0;
    let mut last_mult = f64::INFINITY;
    while !rest.is_empty() {
        let split = rest
            .find(|c: char| !c.is_ascii_digit() && c != '.')
            .unwrap_or(rest.len());
        let (num, tail) = rest.split_at(split);
        let n: f64 = num.parse().ok()?;
        if !n.is_finite() || n < 0.0 {
            return None;
        }
        let ulen = tail
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(tail.len());
        let (unit, next) = tail.split_at(ulen);
        let mult = match unit.trim() {
            "" | "s" => 1000.0,
            "ms" => 1.0,
            "m" | "min" => 60_000.0,
            "h" => 3_600_000.0,
            "d" => 86_400_000.0,
            _ => return None,
        };
        // Each part names a smaller unit than the one before (`1h30m`, not `30m1h`); a bare
        // number is only allowed alone.
        if mult >= last_mult || (unit.trim().is_empty() && rest.len() != s.len()) {
            return None;
        }
        last_mult = mult;
        total += n * mult;
        rest = next;
    }
    if total > 1e15 {
        return None;
    }
    Some(total.round() as u64)
}

/// Writes milliseconds as people read a duration: `250ms`, `5s`, `1.5s`, `2m`, `25h30m`;
/// hours at most (TTLs read better as `48h` than as days), zero parts left out.
pub fn human_duration(ms: u64) -> String {
    if ms == 0 {
        return "0s".to_string();
    }
    if ms < 1000 {
        return format!("{ms}ms");
    }
    if ms < 60_000 {
        return if ms % 1000 == 0 {
            format!("{}s", ms / 1000)
        } else {
            let t = format!("{:.3}", ms as f64 / 1000.0);
            format!("{}s", t.trim_end_matches('0').trim_end_matches('.'))
        };
    }
    let mut out = String::new();
    let mut left = ms;
    for (unit, size) in [("h", 3_600_000), ("m", 60_000), ("s", 1000)] {
        let n = left / size;
        left %= size;
        if n > 0 {
            out.push_str(&format!("{n}{unit}"));
        }
    }
    if left > 0 {
        out.push_str(&format!("{left}ms"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_date_round_trip() {
        assert_eq!(SIM_EPOCH.http_date(), "Thu, 01 Jan 2026 00:00:00 GMT");
        let t = Timestamp::parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT").unwrap();
        assert_eq!(t.http_date(), "Sun, 06 Nov 1994 08:49:37 GMT");
        assert_eq!(Timestamp::parse_http_date("yesterday"), None);
        assert_eq!(Timestamp::parse_http_date("0"), None);
        assert_eq!(
            Timestamp::parse_http_date("Sun, 06 Nov 1994 25:49:37 GMT"),
            None
        );
    }

    /// The date a thread remembers parses as working it out does, for dates formatted in
    /// turn and again, and for an older date's text; a date past year 9999 (written as
    /// 9999) is not remembered, so its text parses as any text does.
    #[test]
    fn remembered_dates_are_the_worked_out_ones() {
        let fresh_parse =
            |t: &str| Timestamp::parse_imf_fixdate(t).or_else(|| parse_obsolete_date(t.trim()));
        let instants = [
            Timestamp(0),
            Timestamp(999),
            SIM_EPOCH,
            SIM_EPOCH.plus_ms(1),
            SIM_EPOCH.plus_ms(999),
            SIM_EPOCH.plus_ms(1000),
            SIM_EPOCH.plus_secs(86_400 * 59),
            Timestamp(951_782_400_000), // 2000-02-29
            Timestamp((MAX_DATED_SECS - 1) * 1000 + 999),
            Timestamp(MAX_DATED_SECS * 1000),
            Timestamp(u64::MAX),
        ];
        for round in 0..3 {
            for (i, t) in instants.iter().enumerate() {
                let worked_out = Timestamp::format_http_date(t.secs());
                assert_eq!(t.http_date(), worked_out, "round {round}, {t:?}");
                assert_eq!(t.http_date(), worked_out, "round {round}, {t:?} again");
                assert_eq!(
                    Timestamp::parse_http_date(&worked_out),
                    fresh_parse(&worked_out),
                    "round {round}, {worked_out}"
                );
                // the date just formatted is the one remembered, up to year 9999
                let remembered = LastDate::secs_of(&worked_out);
                if t.secs() < MAX_DATED_SECS {
                    assert_eq!(remembered, Some(t.secs()), "{worked_out}");
                    let second = Some(Timestamp(t.secs() * 1000));
                    assert_eq!(Timestamp::parse_http_date(&worked_out), second);
                } else {
                    assert_eq!(remembered, None, "{worked_out}");
                }
                // an older date's text parses the same
                let older = &instants[i / 2];
                let text = Timestamp::format_http_date(older.secs());
                assert_eq!(Timestamp::parse_http_date(&text), fresh_parse(&text));
            }
        }
        let past = Timestamp(MAX_DATED_SECS * 1000 + 5000);
        let text = past.http_date();
        assert!(text.ends_with(" 01 Jan 9999 00:00:05 GMT"), "{text}");
        assert_ne!(
            Timestamp::parse_http_date(&text),
            Some(Timestamp(past.secs() * 1000))
        );
        assert_eq!(Timestamp::parse_http_date(""), None);
        // a thread that formatted nothing yet remembers no text, not even 29 NULs
        let nuls = "\0".repeat(IMF_FIXDATE_LEN);
        let fresh = std::thread::spawn(move || Timestamp::parse_http_date(&nuls));
        assert_eq!(fresh.join().ok(), Some(None));
    }

    #[test]
    fn rfc3339() {
        assert_eq!(SIM_EPOCH.rfc3339(), "2026-01-01T00:00:00.000Z");
        assert_eq!(
            Timestamp(784_111_777_042).rfc3339(),
            "1994-11-06T08:49:37.042Z"
        );
    }

    #[test]
    fn obsolete_date_forms() {
        let imf = Timestamp::parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT");
        assert!(imf.is_some());
        assert_eq!(
            Timestamp::parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT"),
            imf
        );
        assert_eq!(Timestamp::parse_http_date("Sun Nov  6 08:49:37 1994"), imf);
        assert_eq!(
            Timestamp::parse_http_date("Thursday, 01-Jan-26 00:00:00 GMT"),
            Some(SIM_EPOCH)
        );
        assert_eq!(Timestamp::parse_http_date("Sun Nov 6 08:49:37 1994"), None);
        assert_eq!(
            Timestamp::parse_http_date("Sunday, 06-Nov-94 08:49:37 UTC"),
            None
        );
        assert_eq!(Timestamp::parse_http_date("Sun Nov  6 8:49:37 1994 "), None);
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration_ms("5s"), Some(5000));
        assert_eq!(parse_duration_ms("250ms"), Some(250));
        assert_eq!(parse_duration_ms("90"), Some(90_000));
        assert_eq!(parse_duration_ms("1.5s"), Some(1500));
        assert_eq!(parse_duration_ms("2m"), Some(120_000));
        assert_eq!(parse_duration_ms("-1s"), None);
        assert_eq!(parse_duration_ms("5 parsecs"), None);
        assert_eq!(parse_duration_ms("1h30m"), Some(5_400_000));
        assert_eq!(parse_duration_ms("25h30m"), Some(91_800_000));
        assert_eq!(parse_duration_ms("1d"), Some(86_400_000));
        assert_eq!(parse_duration_ms("1m30s"), Some(90_000));
        assert_eq!(parse_duration_ms("30m1h"), None);
        assert_eq!(parse_duration_ms("1h30"), None);
        assert_eq!(parse_duration_ms(""), None);
    }

    #[test]
    fn human_durations() {
        assert_eq!(human_duration(0), "0s");
        assert_eq!(human_duration(250), "250ms");
        assert_eq!(human_duration(5000), "5s");
        assert_eq!(human_duration(1500), "1.5s");
        assert_eq!(human_duration(120_000), "2m");
        assert_eq!(human_duration(91_800_000), "25h30m");
        assert_eq!(human_duration(93_600_000), "26h");
        assert_eq!(human_duration(61_500), "1m1s500ms");
        for ms in [0, 1, 999, 1000, 59_999, 60_000, 3_600_000, 91_800_000] {
            assert_eq!(parse_duration_ms(&human_duration(ms)), Some(ms), "{ms}");
        }
    }
}
