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
    let mut headers = Headers::new();
    headers.reserve(parts.headers.len());
    for (n, v) in &parts.headers {
        let v = v
            .to_str()
            .map_err(|_| ConvertError::HeaderValue(n.as_str().to_string()))?;
        headers.append(n.as_str(), v);
    }
    let host = parts
        .headers
        .get(http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_string)
        .or_else(|| parts.uri.authority().map(|a| a.to_string()))
        .ok_or(ConvertError::NoHost)?;
    let target = parts
        .uri
        .path_and_query()
        .map_or_else(|| "/".to_string(), |p| p.as_str().to_string());
    Ok(Request {
        method: parts.method.as_str().to_string(),
        scheme: scheme.to_string(),
        host,
        target,
        headers,
    })
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
