//! Message framing between the upstream and the client (RFC 9112 §6), and the compact
//! owned copies of what the store keeps.
//!
//! - [`upstream_framing`]: a response with both `Transfer-Encoding` and `Content-Length`,
//!   or with a compression transfer coding, is refused (502), never forwarded or
//!   stored with a length that does not match or content still coded;
//!   [`single_length`]: a repeated `Content-Length` value is relayed as one.
//! - [`local_answer`]: requests refused or answered before anything else (Host, target
//!   forms).
//! - [`read_ahead`]: a body of unknown length (chunked or close-delimited) is read up to a
//!   small bound before the head goes out, so a malformed first chunk becomes a 502 status
//!   line instead of a connection closed without one, and a small chunked body is known
//!   whole (and said to be `stored`) before the client sees the head.
//! - [`headers_heap_size`]: what a header block costs on the heap, counted against the
//!   per-object limit. (The store's own copy, `store::Wire`, owns its values in one
//!   buffer: hyper's values are slices of its 8 KiB+ read buffer.)

use bytes::{Bytes, BytesMut};
use http::header::{self, HeaderMap};
use hyper::body::{Body, Incoming};
use std::time::Duration;

/// Why an upstream response head cannot be forwarded.
#[derive(Debug, PartialEq, Eq)]
pub enum BadFraming {
    /// Both `Transfer-Encoding` and `Content-Length`.
    LengthAndChunked,
    /// A compression transfer coding (which the proxy does not undo).
    Coding,
}

impl BadFraming {
    /// The text the client gets with the 502.
    pub fn text(&self) -> &'static str {
        match self {
            BadFraming::LengthAndChunked => {
                "varyedge proxy: upstream error: response has both Transfer-Encoding and Content-Length (RFC 9112 §6.3)\n"
            }
            BadFraming::Coding => {
                "varyedge proxy: upstream error: response has a compression transfer coding, which the proxy does not decode (RFC 9112 §6.1)\n"
            }
        }
    }
}

/// RFC 9112 §6.3 (3): "If a message is received with both a Transfer-Encoding and a
/// Content-Length header field, the Transfer-Encoding overrides the Content-Length. Such a
/// message might indicate an attempt to perform request smuggling or response splitting
/// and ought to be handled as an error." The proxy handles it as an error: 502, nothing
/// forwarded, nothing stored, the upstream connection dropped with the body unread.
///
/// RFC 9112 §6.1: a response may carry transfer codings beyond `chunked` (`gzip`,
/// `gzip, chunked`), which the recipient must decode; the proxy decodes only `chunked`,
/// and the `Transfer-Encoding` field is hop-by-hop (removed before relaying), so a
/// compression coding would reach the client and the store still applied, as if it were
/// the content. Such a response is refused the same way (Varnish 7.1 answers 503).
pub fn upstream_framing(h: &HeaderMap) -> Result<(), BadFraming> {
    let mut te = h.get_all(header::TRANSFER_ENCODING).iter();
    let Some(first) = te.next() else {
        return Ok(());
    };
    if h.contains_key(header::CONTENT_LENGTH) {
        return Err(BadFraming::LengthAndChunked);
    }
    let compressed = std::iter::once(first)
        .chain(te)
        .flat_map(|v| v.as_bytes().split(|&b| b == b','))
        .any(|c| {
            let c = c.trim_ascii();
            COMPRESSIONS.iter().any(|k| c.eq_ignore_ascii_case(k))
        });
    if compressed {
        return Err(BadFraming::Coding);
    }
    Ok(())
}

/// The compression codings of the HTTP Transfer Coding registry (RFC 9112 §7.2, §18.4):
/// content under one of them is not the representation, and relaying or storing it as
/// such would corrupt it. (A token outside the registry is not refused: the cache-tests
/// suite's `headers-store-Transfer-Encoding` sends a made-up one over a plain body and
/// expects the response stored without the field, which is what happens to it.)
const COMPRESSIONS: [&[u8]; 5] = [b"gzip", b"x-gzip", b"deflate", b"compress", b"x-compress"];

/// RFC 9112 §6.3 (5) accepts a `Content-Length` that is a list of one value repeated
/// (`5, 5`, or the field given twice with the same value) and processes the message
/// with that one value; RFC 9110 §8.6 lets a recipient replace such a field with the
/// single value. The proxy does, so that what it relays and stores is a valid
/// `Content-Length` (`1*DIGIT`), not the upstream's list. (A list of different values
/// never gets here: hyper refuses the response.)
pub fn single_length(h: &mut HeaderMap) {
    let mut all = h.get_all(header::CONTENT_LENGTH).iter();
    let (Some(first), more) = (all.next(), all.next().is_some()) else {
        return;
    };
    if !more && !first.as_bytes().contains(&b',') {
        return;
    }
    let one = first
        .to_str()
        .ok()
        .and_then(|v| v.split(',').next())
        .map(str::trim)
        .and_then(|v| header::HeaderValue::from_str(v).ok());
    if let Some(one) = one {
        h.insert(header::CONTENT_LENGTH, one);
    }
}

/// RFC 9110 §6.6.1: "A recipient with a clock that receives a response message without a
/// Date header field MUST record the time it was received and append a corresponding
/// Date header field to the message's header section if it is cached or forwarded
/// downstream." Without it, a hit went out with the `Date` of the moment it was served
/// (hyper's) beside an `Age` counted from when it was stored; Varnish 7.1 keeps the
/// time it received it.
pub fn date_if_missing(h: &mut HeaderMap, received: crate::time::Timestamp) {
    if h.contains_key(header::DATE) {
        return;
    }
    if let Ok(v) = header::HeaderValue::from_str(&received.http_date()) {
        h.insert(header::DATE, v);
    }
}

/// What [`read_ahead`] found.
pub enum Ahead {
    /// The whole body arrived (within the bound).
    Whole(Bytes),
    /// The first bytes; the rest is still in `body`.
    Partial(Bytes, Incoming),
    /// The body broke (bad chunk size, reset, stall) before any of it was sent.
    Broken(String),
}

/// How many bytes of a body of unknown length (chunked, or close-delimited) the proxy
/// reads before it sends the response head.
///
/// `Cache-Status: stored` (RFC 9211 §2.7: "the response was stored in the cache") goes
/// out in the head, before the body, and the proxy stores only a response it received
/// whole. A storable body of unknown length is therefore read up to the object limit
/// first (`limit + 1` bytes: more than `limit` means too large): whole → sent with its
/// length and `stored`; larger → streamed on, `too-large`, not stored. The memory is the
/// copy the tee would keep anyway; the cost is latency (the head waits for the body).
/// Any other body is read ahead `small` bytes, so a short one still gets a length.
pub fn read_ahead_bound(storable: bool, limit: usize, small: usize) -> usize {
    if storable {
        limit.saturating_add(1)
    } else {
        small
    }
}

/// Reads `body` until it ends, `bound` bytes have arrived, or `idle` passes between frames.
/// Trailers are dropped (they are not forwarded).
pub async fn read_ahead(mut body: Incoming, bound: usize, idle: Duration) -> Ahead {
    let mut got = BytesMut::new();
    loop {
        if body.is_end_stream() {
            return Ahead::Whole(got.freeze());
        }
        let frame = match tokio::time::timeout(
            idle,
            std::future::poll_fn(|cx| std::pin::Pin::new(&mut body).poll_frame(cx)),
        )
        .await
        {
            Err(_) => return Ahead::Broken(format!("upstream body stalled for {idle:?}")),
            Ok(None) => return Ahead::Whole(got.freeze()),
            Ok(Some(Err(e))) => return Ahead::Broken(super::upstream::chain(&e)),
            Ok(Some(Ok(f))) => f,
        };
        if let Ok(d) = frame.into_data() {
            got.extend_from_slice(&d);
        }
        if got.len() >= bound {
            return Ahead::Partial(got.freeze(), body);
        }
    }
}

/// A request the proxy answers itself before anything else: `(status, text)`.
///
/// - RFC 9112 §3.2: "A server MUST respond with a 400 (Bad Request) status code to any
///   HTTP/1.1 request message that lacks a Host header field and to any request message
///   that contains more than one Host header field line or a Host header field with an
///   invalid field value."
/// - RFC 9112 §3.2.3: the authority-form is "only used for CONNECT requests"; any other
///   method with it is a 400 (it was forwarded as `/`, and stored as that).
/// - RFC 9110 §4.2.4: userinfo in an absolute-form target is refused (a recipient
///   "SHOULD ... treat its presence as an error"), and its host is checked as `Host` is.
/// - RFC 9110 §7.6.2: an intermediary that receives an OPTIONS or TRACE request with
///   `Max-Forwards: 0` "MUST NOT forward the request; instead, the intermediary MUST
///   respond as the final recipient" (a larger value goes on decremented:
///   [`next_max_forwards`]).
/// - RFC 9112 §3.2.4, asterisk-form: "used only for a server-wide OPTIONS request"; a
///   reverse proxy has no server-wide answer to forward, so `OPTIONS *` is answered here
///   (204 with `Allow`) and any other method with `*` is a 400.
pub fn local_answer<B>(req: &http::Request<B>) -> Option<(u16, &'static str)> {
    let mut hosts = req.headers().get_all(header::HOST).iter();
    if let Some(host) = hosts.next() {
        if hosts.next().is_some() {
            return Some((
                400,
                "varyedge proxy: more than one Host header field (RFC 9112 §3.2)\n",
            ));
        }
        if !valid_host(host.as_bytes()) {
            return Some((
                400,
                "varyedge proxy: invalid Host header field (RFC 9112 §3.2: uri-host [ \":\" port ])\n",
            ));
        }
    }
    let u = req.uri();
    if let Some(a) = u.authority() {
        // CONNECT (the one method with an authority-form target) is refused later, 405
        if u.scheme().is_none() && req.method() != http::Method::CONNECT {
            return Some((
                400,
                "varyedge proxy: the authority-form target is only for CONNECT (RFC 9112 §3.2.3)\n",
            ));
        }
        if a.as_str().contains('@') || !valid_host(a.as_str().as_bytes()) {
            return Some((
                400,
                "varyedge proxy: the target URI's authority has userinfo or is not a valid host (RFC 9110 §4.2.4, RFC 9112 §3.2)\n",
            ));
        }
    }
    let m = req.method();
    if (m == http::Method::OPTIONS || m == http::Method::TRACE)
        && max_forwards(req.headers()) == Some(0)
    {
        // the proxy is the final recipient: an OPTIONS is answered as `OPTIONS *` is; a
        // TRACE it does not reflect (its fields may hold credentials), so 405
        if m == http::Method::OPTIONS {
            return Some((204, ""));
        }
        return Some((
            405,
            "varyedge proxy: TRACE with Max-Forwards: 0 ends here, and the proxy does not reflect requests (RFC 9110 §7.6.2)\n",
        ));
    }
    // the asterisk-form: what `Uri == "*"` tests, field by field (no string compare)
    if u.scheme().is_none()
        && u.authority().is_none()
        && u.path() == "*"
        && u.query().is_none_or(str::is_empty)
    {
        if req.method() == http::Method::OPTIONS {
            return Some((204, ""));
        }
        return Some((
            400,
            "varyedge proxy: the asterisk-form target is only for OPTIONS (RFC 9112 §3.2.4)\n",
        ));
    }
    None
}

/// `Max-Forwards` (RFC 9110 §7.6.2, `1*DIGIT`) when it is a number.
fn max_forwards(h: &HeaderMap) -> Option<u64> {
    let v = h.get(header::MAX_FORWARDS)?.to_str().ok()?.trim();
    if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(v.parse().unwrap_or(u64::MAX))
}

/// RFC 9110 §7.6.2: an intermediary forwarding an OPTIONS or TRACE request with a
/// `Max-Forwards` above zero "MUST generate an updated Max-Forwards field in the
/// forwarded message" of the received value minus one. (Zero never gets here:
/// [`local_answer`].)
pub fn next_max_forwards(method: &http::Method, h: &mut HeaderMap) {
    if method != http::Method::OPTIONS && method != http::Method::TRACE {
        return;
    }
    if let Some(n) = max_forwards(h).filter(|&n| n > 0) {
        h.insert(header::MAX_FORWARDS, header::HeaderValue::from(n - 1));
    }
}

/// RFC 9110 §7.2, `Host = uri-host [ ":" port ]`, with RFC 3986's `uri-host` (a
/// reg-name of unreserved characters, percent-encodings and sub-delims, or an IP
/// literal in brackets): every byte is one of those, `:` or a bracket. What matters is
/// what is refused: a `/`, `?`, `#`, `@`, space or control, which would let the Host
/// carry part of a path into the cache key (`Host: a.example/x` with `/y` keyed as
/// `a.example/x/y`), or userinfo. An empty Host is valid (§7.2).
pub fn valid_host(h: &[u8]) -> bool {
    // one table lookup a byte: every request's Host goes through here, hits included
    h.iter().all(|&b| HOST_BYTES[usize::from(b)])
}

/// The bytes [`valid_host`] accepts.
static HOST_BYTES: [bool; 256] = {
    let mut t = [false; 256];
    let extra = b"-._~%!$&'()*+,;=:[]";
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        t[i] = b.is_ascii_alphanumeric();
        i += 1;
    }
    let mut j = 0;
    while j < extra.len() {
        t[extra[j] as usize] = true;
        j += 1;
    }
    t
};

/// Bytes a header block holds on the heap. `http::HeaderMap` keeps a table of 4-byte
/// indices (a power of two, at least 4/3 of its usable capacity) and a vector of buckets
/// (hash, links, name, value: 112 bytes on 64-bit) sized to that capacity; each value
/// owns its bytes, and once a hit clones it, a shared-count block (32 bytes with malloc's
/// header). Names beyond the standard ones own their bytes too.
pub fn headers_heap_size(h: &HeaderMap) -> usize {
    use super::weigh::alloc;
    let cap = h.capacity();
    let raw = (cap + cap / 3).next_power_of_two();
    let values: usize = h
        .iter()
        .map(|(n, v)| {
            let custom = if is_static_name(n.as_str()) {
                0
            } else {
                alloc(n.as_str().len())
            };
            alloc(v.len()) + 32 + custom
        })
        .sum();
    alloc(raw * 4) + alloc(cap * 112) + values
}

/// Field names the core and `http` keep as static text (no allocation per stored
/// block): the common response fields. The weigher and the per-object limit count
/// every other name's bytes.
pub(crate) fn is_static_name(n: &str) -> bool {
    // `http::HeaderName` has no public "is standard" test: the common response fields
    // are listed instead.
    matches!(
        n,
        "content-type"
            | "content-length"
            | "cache-control"
            | "date"
            | "etag"
            | "expires"
            | "last-modified"
            | "vary"
            | "age"
            | "access-control-allow-origin"
            | "access-control-allow-credentials"
            | "access-control-allow-methods"
            | "access-control-allow-headers"
            | "access-control-expose-headers"
            | "access-control-max-age"
            | "set-cookie"
            | "server"
            | "content-encoding"
            | "location"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::header::HeaderValue;

    #[test]
    fn length_and_chunked_is_refused() {
        let mut h = HeaderMap::new();
        h.insert(header::CONTENT_LENGTH, HeaderValue::from_static("50"));
        assert_eq!(upstream_framing(&h), Ok(()));
        h.insert(
            header::TRANSFER_ENCODING,
            HeaderValue::from_static("chunked"),
        );
        assert_eq!(upstream_framing(&h), Err(BadFraming::LengthAndChunked));
        // the 502's text names the rule, so an operator can tell it from a dead upstream
        let text = BadFraming::LengthAndChunked.text();
        assert!(
            text.starts_with("varyedge proxy: upstream error:"),
            "{text}"
        );
        assert!(text.contains("both Transfer-Encoding and Content-Length (RFC 9112 §6.3)"));
        assert!(text.ends_with('\n'));
    }

    /// RFC 9112 §3.2 (two Host lines: 400) and §3.2.4 (`OPTIONS *`: answered here with
    /// 204; any other method with `*`: 400); an ordinary request is not answered here.
    #[test]
    fn requests_the_proxy_answers_itself() {
        let req = |method: &str, target: &str, hosts: &[&str]| {
            let mut b = http::Request::builder().method(method).uri(target);
            for h in hosts {
                b = b.header(header::HOST, *h);
            }
            b.body(()).unwrap()
        };
        let two = local_answer(&req("GET", "/x", &["a", "b"])).unwrap();
        assert_eq!(two.0, 400);
        assert!(two
            .1
            .contains("more than one Host header field (RFC 9112 §3.2)"));
        assert_eq!(local_answer(&req("OPTIONS", "*", &["a"])), Some((204, "")));
        let star = local_answer(&req("GET", "*", &["a"])).unwrap();
        assert_eq!(star.0, 400);
        assert!(star.1.contains("only for OPTIONS (RFC 9112 §3.2.4)"));
        assert_eq!(local_answer(&req("GET", "/x", &["a"])), None);
        assert_eq!(local_answer(&req("OPTIONS", "/x", &["a"])), None);
        // a Host that is not `uri-host [ ":" port ]` (it would carry a path, a query
        // or userinfo into the cache key): 400; the valid forms pass
        for bad in [
            "a.example/x",
            "a.example?x",
            "a b",
            "u@a.example",
            "a#b",
            "a\\b",
        ] {
            let r = local_answer(&req("GET", "/y", &[bad])).unwrap();
            assert_eq!(r.0, 400, "{bad}");
            assert!(r.1.contains("invalid Host header field"), "{bad}");
        }
        for ok in [
            "",
            "a.example",
            "a.example:8080",
            "[::1]:80",
            "127.0.0.1",
            "xn--a-b.c_d~e",
        ] {
            assert_eq!(local_answer(&req("GET", "/y", &[ok])), None, "{ok}");
        }
        // byte by byte: RFC 3986 unreserved, pct-encoded, sub-delims, `:` and brackets
        for b in 0..=255u8 {
            let want = b.is_ascii_alphanumeric() || b"-._~%!$&'()*+,;=:[]".contains(&b);
            assert_eq!(valid_host(&[b]), want, "byte {b}");
        }
        // authority-form is for CONNECT only (which is refused later, 405)
        let auth = local_answer(&req("GET", "a.example:80", &["a"])).unwrap();
        assert_eq!(auth.0, 400);
        assert!(auth.1.contains("only for CONNECT (RFC 9112 §3.2.3)"));
        assert_eq!(local_answer(&req("CONNECT", "a.example:443", &["a"])), None);
        // Max-Forwards: 0 on OPTIONS or TRACE: answered here; on anything else, and any
        // other value, forwarded
        let mf = |method: &str, v: &str| {
            let r = http::Request::builder()
                .method(method)
                .uri("/x")
                .header(header::HOST, "a")
                .header(header::MAX_FORWARDS, v)
                .body(())
                .unwrap();
            local_answer(&r).map(|a| a.0)
        };
        assert_eq!(mf("OPTIONS", "0"), Some(204));
        assert_eq!(mf("TRACE", " 0 "), Some(405));
        assert_eq!(mf("GET", "0"), None);
        assert_eq!(mf("OPTIONS", "1"), None);
        assert_eq!(mf("TRACE", "x"), None);
        // absolute-form: fine, unless it has userinfo
        assert_eq!(
            local_answer(&req("GET", "http://a.example/x", &["b"])),
            None
        );
        let user = local_answer(&req("GET", "http://u@a.example/x", &["b"])).unwrap();
        assert_eq!(user.0, 400);
        assert!(user.1.contains("userinfo"));
    }

    /// RFC 9110 §7.6.2: OPTIONS and TRACE go on with Max-Forwards decremented; other
    /// methods, and values that are not numbers, are left alone.
    #[test]
    fn max_forwards_is_decremented_on_options_and_trace() {
        let next = |method: http::Method, v: &str| {
            let mut h = HeaderMap::new();
            h.insert(header::MAX_FORWARDS, HeaderValue::from_str(v).unwrap());
            next_max_forwards(&method, &mut h);
            h[header::MAX_FORWARDS].to_str().unwrap().to_string()
        };
        assert_eq!(next(http::Method::OPTIONS, "5"), "4");
        assert_eq!(next(http::Method::TRACE, "1"), "0");
        assert_eq!(next(http::Method::GET, "5"), "5");
        assert_eq!(next(http::Method::OPTIONS, "-1"), "-1");
        assert_eq!(
            next(http::Method::OPTIONS, "99999999999999999999999"),
            u64::MAX.saturating_sub(1).to_string()
        );
        let mut none = HeaderMap::new();
        next_max_forwards(&http::Method::OPTIONS, &mut none);
        assert!(none.is_empty());
    }

    /// RFC 9112 §6.1: a compression transfer coding is a 502 (it would reach the client
    /// and the store still applied); chunked alone, or an unregistered token, is not.
    #[test]
    fn transfer_codings_other_than_chunked_are_refused() {
        let with = |te: &[&str]| {
            let mut h = HeaderMap::new();
            for v in te {
                h.append(header::TRANSFER_ENCODING, HeaderValue::from_str(v).unwrap());
            }
            upstream_framing(&h)
        };
        assert_eq!(with(&[]), Ok(()));
        assert_eq!(with(&["chunked"]), Ok(()));
        assert_eq!(with(&[" Chunked "]), Ok(()));
        // a token outside the registry is read as it comes (to the close)
        assert_eq!(with(&["made-up-value"]), Ok(()));
        let compressed = [
            &["gzip"][..],
            &["GZIP, chunked"],
            &["gzip", "chunked"],
            &["x-gzip"],
            &["deflate,chunked"],
            &["compress"],
            &["x-compress"],
        ];
        for bad in compressed {
            assert_eq!(with(bad), Err(BadFraming::Coding), "{bad:?}");
        }
        assert!(BadFraming::Coding
            .text()
            .contains("compression transfer coding, which the proxy does not decode"));
    }

    /// RFC 9110 §6.6.1: a response without Date gets the time it was received; one with
    /// a Date keeps it.
    #[test]
    fn a_response_without_date_gets_the_time_it_was_received() {
        let t = crate::time::Timestamp(1_700_000_000_000);
        let mut h = HeaderMap::new();
        date_if_missing(&mut h, t);
        assert_eq!(h[header::DATE], "Tue, 14 Nov 2023 22:13:20 GMT");
        let mut dated = HeaderMap::new();
        dated.insert(
            header::DATE,
            HeaderValue::from_static("Sun, 06 Nov 1994 08:49:37 GMT"),
        );
        date_if_missing(&mut dated, t);
        assert_eq!(dated[header::DATE], "Sun, 06 Nov 1994 08:49:37 GMT");
        assert_eq!(dated.len(), 1);
    }

    /// RFC 9112 §6.3 (5): a Content-Length list of one repeated value is relayed as that
    /// value; a plain one is left alone.
    #[test]
    fn a_repeated_content_length_becomes_one_value() {
        let mut h = HeaderMap::new();
        h.insert(header::CONTENT_LENGTH, HeaderValue::from_static("5, 5"));
        single_length(&mut h);
        assert_eq!(h.get_all(header::CONTENT_LENGTH).iter().count(), 1);
        assert_eq!(h[header::CONTENT_LENGTH], "5");
        let mut two = HeaderMap::new();
        two.append(header::CONTENT_LENGTH, HeaderValue::from_static("7"));
        two.append(header::CONTENT_LENGTH, HeaderValue::from_static("7"));
        single_length(&mut two);
        assert_eq!(two.get_all(header::CONTENT_LENGTH).iter().count(), 1);
        assert_eq!(two[header::CONTENT_LENGTH], "7");
        let mut plain = HeaderMap::new();
        plain.insert(header::CONTENT_LENGTH, HeaderValue::from_static("12"));
        single_length(&mut plain);
        assert_eq!(plain[header::CONTENT_LENGTH], "12");
        let mut none = HeaderMap::new();
        single_length(&mut none);
        assert!(none.is_empty());
    }

    /// The header block's heap cost as the doc comment lays it out: `http`'s index table
    /// (4 bytes per slot, a power of two of at least 4/3 of the capacity) and its
    /// 112-byte buckets, then per value its bytes (malloc-rounded) plus a 32-byte shared
    /// block, plus the bytes of a name that is not static text.
    #[test]
    fn a_header_block_costs_its_table_its_values_and_custom_names() {
        use crate::net::proxy::weigh::alloc;
        let empty = HeaderMap::with_capacity(12);
        let cap = empty.capacity();
        assert!(cap >= 12);
        let table = alloc((cap + cap / 3).next_power_of_two() * 4) + alloc(cap * 112);
        assert_eq!(headers_heap_size(&empty), table);
        let mut one = empty.clone();
        one.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
        assert_eq!(one.capacity(), cap);
        assert_eq!(headers_heap_size(&one), table + alloc(10) + 32);
        let mut custom = one.clone();
        custom.insert("x-tenant-identifier", HeaderValue::from_static("a"));
        assert_eq!(
            headers_heap_size(&custom),
            table + alloc(10) + 32 + alloc(1) + 32 + alloc("x-tenant-identifier".len())
        );
    }

    /// A storable body of unknown length is read up to one byte past the object limit
    /// (more than the limit means too large, so not stored); any other only `small`
    /// bytes; the bound never overflows.
    #[test]
    fn read_ahead_is_the_limit_plus_one_or_the_small_bound() {
        assert_eq!(read_ahead_bound(true, 1000, 64), 1001);
        assert_eq!(read_ahead_bound(false, 1000, 64), 64);
        assert_eq!(read_ahead_bound(true, usize::MAX, 64), usize::MAX);
    }
}
