//! Storability (RFC 9111 §3) and freshness (§4.2) of a response, under a profile's TTL
//! overrides. Pure: every instant is an argument.

use crate::edge::knobs::Knobs;
use crate::fields::CacheControl;
use crate::message::{Request, Response};
use crate::time::Timestamp;
use serde::Serialize;

/// Why a response was not stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum NoStore {
    /// The method is not cached by this profile (or a `HEAD` response, which cannot create
    /// an entry for `GET`).
    Method,
    /// The status code is not cacheable without explicit freshness.
    Status,
    /// `Cache-Control: no-store`.
    NoStoreDirective,
    /// `Cache-Control: private` (a shared cache, RFC 9111 §5.2.2.7).
    Private,
    /// The request had `Authorization` and the response did not allow sharing (§3.5).
    Authorization,
    /// `Vary: *` at a cache that does not store it.
    VaryStar,
    /// `Vary` beyond `Accept-Encoding` (Akamai).
    VaryBeyondAcceptEncoding,
    /// `Vary` outside the allowlist (Google Cloud CDN).
    VaryNotAllowlisted,
    /// No explicit freshness and no default TTL.
    NoFreshness,
    /// The response was not received whole.
    Incomplete,
}

impl NoStore {
    /// Stable id.
    pub fn id(self) -> &'static str {
        match self {
            NoStore::Method => "method",
            NoStore::Status => "status",
            NoStore::NoStoreDirective => "no-store",
            NoStore::Private => "private",
            NoStore::Authorization => "authorization",
            NoStore::VaryStar => "vary-star",
            NoStore::VaryBeyondAcceptEncoding => "vary-beyond-accept-encoding",
            NoStore::VaryNotAllowlisted => "vary-not-allowlisted",
            NoStore::NoFreshness => "no-freshness",
            NoStore::Incomplete => "incomplete",
        }
    }
}

/// How long a stored response stays fresh, and how old it already was when stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Freshness {
    /// Freshness lifetime in ms (0 = must revalidate on every use, e.g. `no-cache`).
    pub lifetime_ms: u64,
    /// Corrected initial age in ms (RFC 9111 §4.2.3).
    pub initial_age_ms: u64,
    /// `stale-while-revalidate` window in ms (RFC 5861).
    pub swr_ms: u64,
}

impl Freshness {
    /// Current age at `now` for an entry stored at `stored_at` (RFC 9111 §4.2.3:
    /// corrected initial age + resident time).
    pub fn age_ms(&self, stored_at: Timestamp, now: Timestamp) -> u64 {
        self.initial_age_ms + now.ms_since(stored_at)
    }

    /// Remaining freshness in ms at `now`; negative once stale.
    pub fn ttl_ms(&self, stored_at: Timestamp, now: Timestamp) -> i64 {
        self.lifetime_ms as i64 - self.age_ms(stored_at, now) as i64
    }
}

/// Status codes that are heuristically cacheable (RFC 9110 §15.1); others need explicit
/// freshness to be stored.
const HEURISTIC: [u16; 12] = [200, 203, 204, 206, 300, 301, 308, 404, 405, 410, 414, 501];

/// Decides whether a response may be stored, and its freshness (RFC 9111 §3, §4.2.1),
/// with the profile's TTL overrides applied. `Vary` is checked separately.
pub fn storable(
    knobs: &Knobs,
    req: &Request,
    resp: &Response,
    now: Timestamp,
) -> Result<Freshness, NoStore> {
    if req.method == "HEAD" || !knobs.caches_method(&req.method) {
        return Err(NoStore::Method);
    }
    if (100..200).contains(&resp.status) || resp.status == 206 {
        return Err(NoStore::Status);
    }
    let cc = CacheControl::parse(&resp.headers, "cache-control").unwrap_or_default();
    // CloudFront: a minimum TTL above 0 caches "even if the Cache-Control: no-cache,
    // no-store, or private directives are present".
    let forced = knobs.ttl.min.is_some_and(|m| m > 0);
    if cc.no_store && !forced {
        return Err(NoStore::NoStoreDirective);
    }
    if cc.private && !forced {
        return Err(NoStore::Private);
    }
    // RFC 9111 §3.5: a shared cache must not reuse a response to a request with
    // Authorization unless public, s-maxage or must-revalidate allows it.
    if req.headers.contains("authorization")
        && !(cc.public || cc.s_maxage.is_some() || cc.must_revalidate)
    {
        return Err(NoStore::Authorization);
    }
    let date = resp
        .headers
        .get("date")
        .and_then(Timestamp::parse_http_date);
    // §4.2.1: s-maxage, then max-age, then Expires − Date. An invalid Expires means
    // "already expired" (§5.3).
    let explicit_s: Option<u64> = cc.s_maxage.or(cc.max_age).or_else(|| {
        resp.headers
            .get("expires")
            .map(|e| match Timestamp::parse_http_date(e) {
                Some(exp) => exp.ms_since(date.unwrap_or(now)) / 1000,
                None => 0,
            })
    });
    if explicit_s.is_none() && knobs.ttl.default.is_none() && !HEURISTIC.contains(&resp.status) {
        return Err(NoStore::Status);
    }
    let mut lifetime_s = match explicit_s.or(knobs.ttl.default) {
        Some(s) => s,
        None => return Err(NoStore::NoFreshness),
    };
    if cc.no_cache && !forced {
        lifetime_s = 0;
    }
    if forced && (cc.no_store || cc.private || cc.no_cache) {
        lifetime_s = knobs.ttl.min.unwrap_or(0);
    }
    if let Some(min) = knobs.ttl.min {
        lifetime_s = lifetime_s.max(min);
    }
    if let Some(max) = knobs.ttl.max {
        lifetime_s = lifetime_s.min(max);
    }
    // §4.2.3: apparent_age = max(0, response_time − date_value); corrected_age_value =
    // age_value + response_delay (0 here: the driver hands the response over at `now`).
    let age_value = resp
        .headers
        .get("age")
        .and_then(|a| a.trim().parse::<u64>().ok())
        .unwrap_or(0)
        .saturating_mul(1000);
    let apparent = date.map_or(0, |d| now.ms_since(d));
    Ok(Freshness {
        lifetime_ms: lifetime_s.saturating_mul(1000),
        initial_age_ms: apparent.max(age_value),
        swr_ms: cc.stale_while_revalidate.unwrap_or(0).saturating_mul(1000),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fields::Headers;
    use crate::profile::profile;
    use crate::time::SIM_EPOCH;

    fn get(h: &[(&str, &str)]) -> Request {
        Request {
            method: "GET".into(),
            scheme: "https".into(),
            host: "a".into(),
            target: "/".into(),
            headers: Headers::from_pairs(h.iter().copied()),
        }
    }

    fn resp(status: u16, h: &[(&str, &str)]) -> Response {
        Response::new(status, Headers::from_pairs(h.iter().copied()))
    }

    #[test]
    fn s_maxage_wins_over_max_age_and_expires() {
        let k = Knobs::rfc9111();
        let f = storable(
            &k,
            &get(&[]),
            &resp(200, &[("cache-control", "max-age=10, s-maxage=20")]),
            SIM_EPOCH,
        )
        .unwrap();
        assert_eq!(f.lifetime_ms, 20_000);
        let date = SIM_EPOCH.http_date();
        let exp = SIM_EPOCH.plus_secs(30).http_date();
        let f = storable(
            &k,
            &get(&[]),
            &resp(200, &[("date", &date), ("expires", &exp)]),
            SIM_EPOCH,
        )
        .unwrap();
        assert_eq!(f.lifetime_ms, 30_000);
        let f = storable(
            &k,
            &get(&[]),
            &resp(200, &[("expires", "not a date")]),
            SIM_EPOCH,
        )
        .unwrap();
        assert_eq!(f.lifetime_ms, 0);
    }

    #[test]
    fn age_and_date_make_it_older() {
        let k = Knobs::rfc9111();
        let f = storable(
            &k,
            &get(&[]),
            &resp(200, &[("cache-control", "max-age=60"), ("age", "50")]),
            SIM_EPOCH,
        )
        .unwrap();
        assert_eq!(f.ttl_ms(SIM_EPOCH, SIM_EPOCH.plus_secs(5)), 5_000);
        assert!(f.ttl_ms(SIM_EPOCH, SIM_EPOCH.plus_secs(11)) < 0);
        let old = SIM_EPOCH.http_date();
        let f = storable(
            &k,
            &get(&[]),
            &resp(200, &[("cache-control", "max-age=60"), ("date", &old)]),
            SIM_EPOCH.plus_secs(20),
        )
        .unwrap();
        assert_eq!(f.initial_age_ms, 20_000);
    }

    #[test]
    fn no_store_private_authorization() {
        let k = Knobs::rfc9111();
        let r = |cc: &str| resp(200, &[("cache-control", cc)]);
        assert_eq!(
            storable(&k, &get(&[]), &r("no-store, max-age=60"), SIM_EPOCH),
            Err(NoStore::NoStoreDirective)
        );
        assert_eq!(
            storable(&k, &get(&[]), &r("private, max-age=60"), SIM_EPOCH),
            Err(NoStore::Private)
        );
        let auth = get(&[("authorization", "Bearer x")]);
        assert_eq!(
            storable(&k, &auth, &r("max-age=60"), SIM_EPOCH),
            Err(NoStore::Authorization)
        );
        assert!(storable(&k, &auth, &r("public, max-age=60"), SIM_EPOCH).is_ok());
        assert!(storable(&k, &auth, &r("s-maxage=60"), SIM_EPOCH).is_ok());
        assert_eq!(
            storable(&k, &get(&[]), &r("no-cache, max-age=60"), SIM_EPOCH)
                .unwrap()
                .lifetime_ms,
            0
        );
    }

    #[test]
    fn ttl_overrides() {
        let cf = profile("cloudfront").unwrap().knobs;
        // default TTL when the origin says nothing
        assert_eq!(
            storable(&cf, &get(&[]), &resp(200, &[]), SIM_EPOCH)
                .unwrap()
                .lifetime_ms,
            86_400_000
        );
        // min TTL 1 s stores even no-store
        assert_eq!(
            storable(
                &cf,
                &get(&[]),
                &resp(200, &[("cache-control", "no-store")]),
                SIM_EPOCH
            )
            .unwrap()
            .lifetime_ms,
            1_000
        );
        let mut k = Knobs::rfc9111();
        k.ttl.max = Some(5);
        assert_eq!(
            storable(
                &k,
                &get(&[]),
                &resp(200, &[("cache-control", "max-age=60")]),
                SIM_EPOCH
            )
            .unwrap()
            .lifetime_ms,
            5_000
        );
        assert_eq!(
            storable(&Knobs::rfc9111(), &get(&[]), &resp(200, &[]), SIM_EPOCH),
            Err(NoStore::NoFreshness)
        );
        assert_eq!(
            storable(&Knobs::rfc9111(), &get(&[]), &resp(500, &[]), SIM_EPOCH),
            Err(NoStore::Status)
        );
        assert!(storable(
            &Knobs::rfc9111(),
            &get(&[]),
            &resp(500, &[("cache-control", "max-age=5")]),
            SIM_EPOCH
        )
        .is_ok());
    }

    #[test]
    fn methods() {
        let k = Knobs::rfc9111();
        let mut r = get(&[]);
        let ok = resp(200, &[("cache-control", "max-age=60")]);
        r.method = "OPTIONS".into();
        assert_eq!(storable(&k, &r, &ok, SIM_EPOCH), Err(NoStore::Method));
        r.method = "HEAD".into();
        assert_eq!(storable(&k, &r, &ok, SIM_EPOCH), Err(NoStore::Method));
        r.method = "POST".into();
        assert_eq!(storable(&k, &r, &ok, SIM_EPOCH), Err(NoStore::Method));
        let mut s3 = profile("cloudfront-cors-s3").unwrap().knobs;
        r.method = "OPTIONS".into();
        assert!(storable(&s3, &r, &ok, SIM_EPOCH).is_ok());
        s3.cache_options = false;
        assert!(storable(&s3, &r, &ok, SIM_EPOCH).is_err());
    }
}
