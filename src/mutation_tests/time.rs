//! `crate::time`: HTTP-date formatting and parsing (RFC 9110 §5.6.7), durations.

use crate::time::{parse_duration_ms, Timestamp};

/// Instants and their IMF-fixdate, computed outside Rust (Python's `datetime`, an
/// independent calendar implementation): leap days (2000 is a leap year, 2100 is not),
/// the 32-bit rollover, the last representable year, and random instants up to 9999.
const KNOWN: [(u64, &str); 23] = [
    (0, "Thu, 01 Jan 1970 00:00:00 GMT"),
    (951_782_400, "Tue, 29 Feb 2000 00:00:00 GMT"),
    (951_868_800, "Wed, 01 Mar 2000 00:00:00 GMT"),
    (1_709_164_800, "Thu, 29 Feb 2024 00:00:00 GMT"),
    (2_147_483_647, "Tue, 19 Jan 2038 03:14:07 GMT"),
    (4_107_542_400, "Mon, 01 Mar 2100 00:00:00 GMT"),
    (4_102_444_800, "Fri, 01 Jan 2100 00:00:00 GMT"),
    (253_402_300_799, "Fri, 31 Dec 9999 23:59:59 GMT"),
    (68_169_600, "Tue, 29 Feb 1972 00:00:00 GMT"),
    (1_767_225_599, "Wed, 31 Dec 2025 23:59:59 GMT"),
    (784_111_777, "Sun, 06 Nov 1994 08:49:37 GMT"),
    (108_022_074_679, "Wed, 30 Jan 5393 11:51:19 GMT"),
    (15_680_644_176, "Wed, 24 Nov 2466 22:29:36 GMT"),
    (223_649_410_867, "Mon, 02 Mar 9057 20:21:07 GMT"),
    (28_071_399_467, "Sat, 19 Jul 2859 10:57:47 GMT"),
    (160_484_411_896, "Fri, 20 Jul 7055 11:18:16 GMT"),
    (249_357_206_645, "Wed, 25 Oct 9871 18:44:05 GMT"),
    (58_013_994_741, "Mon, 23 May 3808 06:32:21 GMT"),
    (21_635_879_128, "Mon, 13 Aug 2655 06:25:28 GMT"),
    (113_531_643_738, "Mon, 04 Sep 5567 15:42:18 GMT"),
    (64_724_536_207, "Thu, 14 Jan 4021 13:50:07 GMT"),
    (150_713_464_793, "Sun, 02 Dec 6745 19:19:53 GMT"),
    (14_708_197_926, "Thu, 31 Jan 2436 18:32:06 GMT"),
];

#[test]
fn imf_fixdate_known_answers_both_ways() {
    for (secs, text) in KNOWN {
        let t = Timestamp(secs * 1000 + 999);
        assert_eq!(t.http_date(), text, "{secs}");
        assert_eq!(t.secs(), secs);
        assert_eq!(
            Timestamp::parse_http_date(text),
            Some(Timestamp(secs * 1000)),
            "{text}"
        );
    }
}

/// Every day from 1970 to 2401 (a full 400-year Gregorian cycle and more): formatting
/// then parsing gives the instant back, and the day of the month either advances by one
/// or starts again at 01 with the next month.
#[test]
fn every_day_round_trips_and_advances() {
    let mut last_day = 0u32;
    let mut last_month = String::new();
    for day in 0..158_000u64 {
        let secs = day * 86_400 + (day * 7_919) % 86_400;
        let text = Timestamp(secs * 1000).http_date();
        assert_eq!(
            Timestamp::parse_http_date(&text),
            Some(Timestamp(secs * 1000)),
            "{text}"
        );
        let d: u32 = text[5..7].parse().unwrap_or(0);
        let month = &text[8..11];
        if day > 0 {
            let next_day = d == last_day + 1 && month == last_month;
            let next_month = d == 1 && month != last_month;
            assert!(
                next_day || next_month,
                "{text} after {last_day} {last_month}"
            );
        }
        last_day = d;
        last_month = month.to_string();
    }
}

/// RFC 9110 §5.6.7: `IMF-fixdate = day-name "," SP date1 SP time-of-day SP GMT`, a fixed
/// 29-byte layout; a byte out of place anywhere is not an IMF-fixdate.
#[test]
fn every_separator_of_the_fixed_layout_is_checked() {
    let good = "Sun, 06 Nov 1994 08:49:37 GMT";
    assert!(Timestamp::parse_http_date(good).is_some());
    for pos in [3, 4, 7, 11, 16, 19, 22, 25, 26, 27, 28] {
        let mut b = good.as_bytes().to_vec();
        b[pos] = b'x';
        let s = String::from_utf8(b).unwrap_or_default();
        assert_eq!(Timestamp::parse_http_date(&s), None, "{s}");
    }
    assert_eq!(Timestamp::parse_http_date(&good[..28]), None);
    assert_eq!(
        Timestamp::parse_http_date("Sun, 06 Nov 1994 08:49:3x GMT"),
        None
    );
    assert_eq!(
        Timestamp::parse_http_date("Sun, 06 Xyz 1994 08:49:37 GMT"),
        None
    );
}

/// `time-of-day = hour ":" minute ":" second`, hour 00–23, minute 00–59, second 00–60
/// (a leap second, RFC 9110 §5.6.7); `day = 2DIGIT` 01–31. Years before 1970 are outside
/// the timestamp's range.
#[test]
fn field_ranges() {
    let p = Timestamp::parse_http_date;
    assert!(p("Sun, 06 Nov 1994 23:59:60 GMT").is_some());
    assert_eq!(p("Sun, 06 Nov 1994 24:00:00 GMT"), None);
    assert_eq!(p("Sun, 06 Nov 1994 08:60:00 GMT"), None);
    assert_eq!(p("Sun, 06 Nov 1994 08:00:61 GMT"), None);
    assert_eq!(p("Wed, 31 Dec 1969 23:59:59 GMT"), None);
    assert_eq!(p("Thu, 01 Jan 1970 00:00:00 GMT"), Some(Timestamp(0)));
    assert_eq!(p("Sun, 00 Nov 1994 08:49:37 GMT"), None);
    assert!(p("Mon, 31 Oct 1994 08:49:37 GMT").is_some());
    assert_eq!(p("Sun, 32 Nov 1994 08:49:37 GMT"), None);
}

#[test]
fn timestamp_arithmetic() {
    let t = Timestamp(5_000);
    assert_eq!(t.plus_ms(250), Timestamp(5_250));
    assert_eq!(t.plus_secs(2), Timestamp(7_000));
    assert_eq!(Timestamp(u64::MAX).plus_secs(1), Timestamp(u64::MAX));
    assert_eq!(Timestamp(7_000).ms_since(t), 2_000);
    assert_eq!(t.ms_since(Timestamp(7_000)), 0);
    assert_eq!(Timestamp(1_999).secs(), 1);
}

/// Scenario durations: `5s`, `250ms`, `2m` / `2min`, `1h`, or bare seconds; fractions are
/// rounded to the millisecond; anything above 10^15 ms is refused.
#[test]
fn duration_units_and_bounds() {
    assert_eq!(parse_duration_ms("0"), Some(0));
    assert_eq!(parse_duration_ms(" 3 s "), Some(3_000));
    assert_eq!(parse_duration_ms("2min"), Some(120_000));
    assert_eq!(parse_duration_ms("1h"), Some(3_600_000));
    assert_eq!(parse_duration_ms("1.5ms"), Some(2));
    assert_eq!(parse_duration_ms("0.25h"), Some(900_000));
    assert_eq!(
        parse_duration_ms("1000000000000000ms"),
        Some(1_000_000_000_000_000)
    );
    assert_eq!(parse_duration_ms("1000000000000001ms"), None);
    assert_eq!(parse_duration_ms(&"9".repeat(400)), None);
    assert_eq!(
        parse_duration_ms("1d"),
        Some(86_400_000),
        "days are a unit (ttl: 1d)"
    );
    assert_eq!(parse_duration_ms("s"), None);
    assert_eq!(parse_duration_ms("1.2.3s"), None);
}

/// RFC 9110 §5.6.7, the obsolete forms a recipient must still accept, and nothing looser:
/// `rfc850-date = day-name-l "," SP date2 SP time-of-day SP GMT` with
/// `date2 = day "-" month "-" 2DIGIT`, and `time-of-day = hour ":" minute ":" second`
/// where each is `2DIGIT`. A one-digit day or hour, a four-digit year or a fourth date
/// part is not an RFC 850 date.
#[test]
fn rfc850_fields_are_two_digits_each() {
    let p = Timestamp::parse_http_date;
    assert!(p("Sunday, 06-Nov-94 08:49:37 GMT").is_some());
    for bad in [
        "Sunday, 6-Nov-94 08:49:37 GMT",
        "Sunday, 06-Nov-1994 08:49:37 GMT",
        "Sunday, 06-Nov-94-1 08:49:37 GMT",
        "Sunday, 06-Nov-94 8:49:37 GMT",
        "Sunday, 06-Nov-94 08:049:37 GMT",
    ] {
        assert_eq!(p(bad), None, "{bad}");
    }
}

/// `asctime-date = day-name SP date3 SP time-of-day SP year` with
/// `date3 = month SP ( 2DIGIT / ( SP DIGIT ))`: a fixed 24-byte layout whose separators
/// sit at bytes 3, 7, 10 and 19; any other byte there is not an asctime date.
#[test]
fn every_separator_of_the_asctime_layout_is_checked() {
    let good = "Sun Nov  6 08:49:37 1994";
    assert!(Timestamp::parse_http_date(good).is_some());
    assert_eq!(
        Timestamp::parse_http_date("Xyz Nov  6 08:49:37 1994"),
        None,
        "day-name is one of the seven"
    );
    assert_eq!(
        Timestamp::parse_http_date("Sun Nov  6 08:49:37 19945"),
        None,
        "year is 4DIGIT"
    );
    for pos in [3, 7, 10, 19] {
        let mut b = good.as_bytes().to_vec();
        b[pos] = b'x';
        let s = String::from_utf8(b).unwrap_or_default();
        assert_eq!(Timestamp::parse_http_date(&s), None, "{s}");
    }
}

/// A timestamp displays as its IMF-fixdate (what `Date` and `Expires` fields carry).
#[test]
fn display_is_the_imf_fixdate() {
    assert_eq!(
        Timestamp(784_111_777_000).to_string(),
        "Sun, 06 Nov 1994 08:49:37 GMT"
    );
}

/// The civil-calendar conversions (also used by the HAR reader and writer, whose
/// timestamps may be any ISO 8601 date) are inverse over the proleptic Gregorian
/// calendar, years before 1 included; 0000-03-01 is 719,468 days before 1970-01-01.
#[test]
fn civil_day_conversions_are_inverse_before_and_after_year_zero() {
    use crate::time::{civil_from_days, days_from_civil};
    assert_eq!(days_from_civil(1970, 1, 1), 0);
    assert_eq!(days_from_civil(0, 3, 1), -719_468);
    assert_eq!(civil_from_days(-719_468), (0, 3, 1));
    for z in (-2_000_000i64..2_000_000).step_by(997) {
        let (y, m, d) = civil_from_days(z);
        assert!((1..=12).contains(&m) && (1..=31).contains(&d), "{z}");
        assert_eq!(days_from_civil(y, m, d), z, "{y}-{m}-{d}");
    }
}

/// `human_duration` switches unit exactly at the boundaries: 999 ms, then 1 s; 59.999 s,
/// then 1 m (what reports print for TTLs and gaps).
#[test]
fn human_duration_changes_unit_at_the_boundary() {
    use crate::time::human_duration;
    assert_eq!(human_duration(999), "999ms");
    assert_eq!(human_duration(1000), "1s");
    assert_eq!(human_duration(59_999), "59.999s");
    assert_eq!(human_duration(60_000), "1m");
}
