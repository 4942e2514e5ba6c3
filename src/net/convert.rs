//! Conversions between hyper's types and the core's plain [`Request`]/[`Response`].

use crate::fields::Headers;
use crate::message::{Request, Response};
use bytes::Bytes;
use http_body_util::Full;

/// Why a request could not be turned into a core request.
#[derive(Debug, thiserror::Error)]
pub enum ConvertError {
    /// A header value is not visible ASCII / UTF-8.
    #[error("header {0} has a value that is not UTF-8 text")]
    HeaderValue(String),
    /// No Host header and no authority.
    #[error("the request has no Host")]
    NoHost,
}

/// The core's view of an incoming request head (the body is not needed by the core).
pub fn request_from_parts(
    parts: &http::request::Parts,
    scheme: &str,
) -> Result<Request, ConvertError> {
    let mut out = empty_request();
    fill_request(&mut out, parts, scheme)?;
    Ok(out)
}

fn empty_request() -> Request {
    Request {
        method: String::new(),
        scheme: String::new(),
        host: String::new(),
        target: String::new(),
        headers: Headers::new(),
    }
}

/// Makes `out` the core's view of `parts`, every field of it overwritten; its strings'
/// and header vector's buffers are reused.
fn fill_request(
    out: &mut Request,
    parts: &http::request::Parts,
    scheme: &str,
) -> Result<(), ConvertError> {
    // the first `Host` value (what `HeaderMap::get` gives), found on the way; the lines
    // stop at a value that is not text, and the request is refused (`out` is then a
    // mix of this request and the last: the next fill overwrites every field)
    let (mut host, mut bad) = (None, None);
    let lines = parts.headers.iter().map_while(|(n, v)| match v.to_str() {
        Ok(v) => {
            if host.is_none() && n == http::header::HOST {
                host = Some(v);
            }
            Some((n.as_str(), v))
        }
        Err(_) => {
            bad = Some(n);
            None
        }
    });
    out.headers.overwrite_lowercase(lines);
    if let Some(n) = bad {
        return Err(ConvertError::HeaderValue(n.as_str().to_string()));
    }
    out.host.clear();
    match host {
        Some(h) => out.host.push_str(h),
        None => {
            let a = parts.uri.authority().ok_or(ConvertError::NoHost)?;
            out.host.push_str(a.as_str());
        }
    }
    out.target.clear();
    out.target
        .push_str(parts.uri.path_and_query().map_or("/", |p| p.as_str()));
    out.method.clear();
    out.method.push_str(parts.method.as_str());
    out.scheme.clear();
    out.scheme.push_str(scheme);
    Ok(())
}

/// Requests kept per thread for reuse by [`pooled_request`].
const POOL: usize = 8;

/// A recycled request keeps its buffers only while they are this small (a rare huge
/// target or header list is not kept alive by the pool).
const POOL_MAX_TEXT: usize = 2048;

thread_local! {
    static REQUESTS: std::cell::RefCell<Vec<Request>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// [`request_from_parts`], but built in a request taken from this thread's pool when it
/// has one (see [`recycle`]): a hit then allocates nothing for the request's method,
/// scheme, host, target or header vector. The result is the same value either way.
pub fn pooled_request(parts: &http::request::Parts, scheme: &str) -> Result<Request, ConvertError> {
    // `try_with`: a task dropped while its thread exits finds no pool, not a panic
    let mut out = REQUESTS
        .try_with(|p| p.borrow_mut().pop())
        .ok()
        .flatten()
        .unwrap_or_else(empty_request);
    match fill_request(&mut out, parts, scheme) {
        Ok(()) => Ok(out),
        Err(e) => {
            recycle(out);
            Err(e)
        }
    }
}

/// Gives a request back to this thread's pool (dropped when the pool is full or its
/// buffers are large). Its buffers, header values' included, are reused by the next
/// [`pooled_request`]; header values that own more than [`POOL_MAX_TEXT`] bytes in all
/// are freed now.
pub fn recycle(mut req: Request) {
    let small = req.target.capacity() <= POOL_MAX_TEXT
        && req.host.capacity() <= POOL_MAX_TEXT
        && req.headers.len() <= 64;
    if !small {
        return;
    }
    if req.headers.owned_capacity() > POOL_MAX_TEXT {
        req.headers.retain(|_| false);
    }
    let _ = REQUESTS.try_with(|p| {
        let mut p = p.borrow_mut();
        if p.len() < POOL {
            p.push(req);
        }
    });
}

/// A hyper response from a core response. Invalid header names or values (which the
/// core never produces from valid input) are dropped rather than panicking.
pub fn to_hyper(resp: &Response) -> http::Response<Full<Bytes>> {
    let mut b = http::Response::builder()
        .status(http::StatusCode::from_u16(resp.status).unwrap_or(http::StatusCode::BAD_GATEWAY));
    if let Some(h) = b.headers_mut() {
        append_fields(h, resp.headers.iter());
    }
    b.body(Full::new(Bytes::copy_from_slice(&resp.body)))
        .unwrap_or_else(|_| {
            let mut r = http::Response::new(Full::new(Bytes::new()));
            *r.status_mut() = http::StatusCode::INTERNAL_SERVER_ERROR;
            r
        })
}

/// Appends the core's fields to a hyper map. Invalid names or values (which the core
/// never produces from valid input) are dropped rather than panicking.
pub fn append_fields<'a>(
    out: &mut http::HeaderMap,
    fields: impl IntoIterator<Item = (&'a str, &'a str)>,
) {
    for (n, v) in fields {
        if let (Ok(n), Ok(v)) = (
            http::HeaderName::from_bytes(n.as_bytes()),
            http::HeaderValue::from_str(v),
        ) {
            out.append(n, v);
        }
    }
}

/// A small plain-text response, for the servers' own errors.
pub fn text(status: u16, body: &str) -> http::Response<Full<Bytes>> {
    let mut r = http::Response::new(Full::new(Bytes::from(body.to_string())));
    *r.status_mut() =
        http::StatusCode::from_u16(status).unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR);
    r.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r
}

/// The core's view of a hyper header block, every field kept: a value that is not UTF-8
/// is read lossily (what the core compares is ASCII anyway). The one conversion the proxy,
/// the probes and the judge use for headers that come from the network.
pub fn headers_lossy(h: &http::HeaderMap) -> Headers {
    let mut out = Headers::new();
    out.reserve(h.len());
    for (n, v) in h {
        out.append(n.as_str(), &String::from_utf8_lossy(v.as_bytes()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(method: &str, uri: &str, headers: &[(&str, &[u8])]) -> http::request::Parts {
        let mut b = http::Request::builder().method(method).uri(uri);
        for (n, v) in headers {
            b = b.header(*n, *v);
        }
        b.body(()).unwrap().into_parts().0
    }

    /// A request built in recycled buffers equals the one built fresh, whatever the
    /// recycled request held before (more headers, longer strings, another method).
    #[test]
    fn a_pooled_request_is_the_fresh_one() {
        let big = parts(
            "OPTIONS",
            "http://a-long-authority.example:8080/a/much/longer/target?with=query",
            &[
                ("host", b"a-long-authority.example:8080"),
                ("origin", b"https://x.example"),
                ("x-one", b"1"),
                ("x-two", b"2"),
            ],
        );
        let cases = [
            parts(
                "GET",
                "/p?q=1",
                &[("host", b"h.example"), ("Accept", b"*/*")],
            ),
            parts("GET", "http://auth.example/z", &[]),
            parts("HEAD", "/", &[("host", b"h")]),
        ];
        for want in &cases {
            recycle(pooled_request(&big, "https").unwrap());
            let got = pooled_request(want, "http").unwrap();
            assert_eq!(got, request_from_parts(want, "http").unwrap());
            recycle(got);
        }
        // one pooled request refilled over and over: the same names in the same order
        // (its lines reused in place), a name changed, fewer lines, more lines
        let series = [
            parts(
                "OPTIONS",
                "/pf/0",
                &[
                    ("host", b"h"),
                    ("Origin", b"https://a"),
                    ("access-control-request-method", b"PUT"),
                ],
            ),
            parts(
                "OPTIONS",
                "/pf/0",
                &[
                    ("host", b"h"),
                    ("Origin", b"https://bb"),
                    ("access-control-request-method", b"GET"),
                ],
            ),
            parts(
                "OPTIONS",
                "/pf/1",
                &[
                    ("host", b"h"),
                    ("x-other", b"v"),
                    ("access-control-request-method", b""),
                ],
            ),
            parts("GET", "/", &[("host", b"h2")]),
            parts(
                "GET",
                "/",
                &[
                    ("host", b"h3"),
                    ("accept", b"*/*"),
                    ("x-a", b"1"),
                    ("x-b", b"2"),
                    ("x-c", b"3"),
                ],
            ),
        ];
        for _ in 0..2 {
            for want in &series {
                let got = pooled_request(want, "http").unwrap();
                assert_eq!(got, request_from_parts(want, "http").unwrap());
                recycle(got);
            }
        }
        let bad = parts("GET", "/", &[("host", b"h"), ("x-bin", b"\xff")]);
        assert!(matches!(
            pooled_request(&bad, "http"),
            Err(ConvertError::HeaderValue(n)) if n == "x-bin"
        ));
        let none = parts("GET", "/", &[]);
        assert!(matches!(
            pooled_request(&none, "http"),
            Err(ConvertError::NoHost)
        ));
        // and after a refusal the next request is whole again
        let after = &series[4];
        assert_eq!(
            pooled_request(after, "http").unwrap(),
            request_from_parts(after, "http").unwrap()
        );
    }

    /// A recycled request keeps its header values' buffers up to [`POOL_MAX_TEXT`] bytes
    /// in all; beyond that they are freed when it goes back to the pool.
    #[test]
    fn the_pool_keeps_small_header_values_only() {
        let kept = || REQUESTS.with(|p| p.borrow().last().map(|r| r.headers.owned_capacity()));
        let long = vec![b'v'; POOL_MAX_TEXT];
        let large = parts("GET", "/", &[("host", b"h"), ("x-long", &long)]);
        recycle(pooled_request(&large, "http").unwrap());
        assert_eq!(kept(), Some(0));
        let small = parts("GET", "/", &[("host", b"h"), ("x-short", b"0123456789")]);
        recycle(pooled_request(&small, "http").unwrap());
        assert!(
            kept().is_some_and(|c| (11..=POOL_MAX_TEXT).contains(&c)),
            "{:?}",
            kept()
        );
    }
}
