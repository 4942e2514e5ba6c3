//! The plain request and response values that flow between the browser model, the edge
//! core and the origin model. No IO, no HTTP library: the `net` driver converts.

use crate::fields::Headers;
use std::sync::Arc;

/// An HTTP request as the edge sees it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Request {
    /// Method, uppercase as sent (`GET`, `OPTIONS`, …).
    pub method: String,
    /// Scheme of the target URI (`https`), part of some cache keys.
    pub scheme: String,
    /// Authority (`api.example.com`), the `Host`.
    pub host: String,
    /// Path and query (`/api/data?x=1`).
    pub target: String,
    /// Header fields.
    pub headers: Headers,
}

impl Request {
    /// A test fixture: an `https` request with these fields, in this order.
    #[cfg(test)]
    pub(crate) fn fixture(method: &str, host: &str, target: &str, h: &[(&str, &str)]) -> Self {
        Request {
            method: method.into(),
            scheme: "https".into(),
            host: host.into(),
            target: target.into(),
            headers: Headers::from_pairs(h.iter().copied()),
        }
    }

    /// The path without the query.
    pub fn path(&self) -> &str {
        match self.query_mark() {
            Some(i) => &self.target[..i],
            None => &self.target,
        }
    }

    /// The query without `?`, if any.
    pub fn query(&self) -> Option<&str> {
        self.query_mark().map(|i| &self.target[i + 1..])
    }

    /// Where the first `?` is in the target (an ASCII byte, so a char boundary): a plain
    /// byte scan, cheaper than a char pattern on a short target.
    fn query_mark(&self) -> Option<usize> {
        self.target.bytes().position(|b| b == b'?')
    }

    /// `scheme://host/target`.
    pub fn url(&self) -> String {
        // built by hand: `format!` costs more
        let parts = self.url_parts();
        let mut s = String::with_capacity(parts.iter().map(|p| p.len()).sum());
        parts.iter().for_each(|p| s.push_str(p));
        s
    }

    /// The texts [`Request::url`] joins, in order (for a caller that joins them into a
    /// buffer of its own).
    pub fn url_parts(&self) -> [&str; 4] {
        [&self.scheme, "://", &self.host, &self.target]
    }
}

/// An HTTP response. The body is shared, so a stored response is served without copying.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Response {
    /// Status code.
    pub status: u16,
    /// Header fields.
    pub headers: Headers,
    /// Body bytes.
    pub body: Arc<[u8]>,
}

impl Response {
    /// A response with no body.
    pub fn new(status: u16, headers: Headers) -> Self {
        Response {
            status,
            headers,
            body: Arc::from(&b""[..]),
        }
    }

    /// Approximate size in bytes, for capacity accounting.
    pub fn byte_size(&self) -> usize {
        self.headers.byte_size() + self.body.len() + 16
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_query_and_url_split_at_the_first_question_mark() {
        let mut r = Request::fixture("GET", "api.example.com", "/a/é?x=1?y", &[]);
        assert_eq!((r.path(), r.query()), ("/a/é", Some("x=1?y")));
        assert_eq!(r.url(), "https://api.example.com/a/é?x=1?y");
        r.target = "/plain".into();
        assert_eq!((r.path(), r.query()), ("/plain", None));
        r.target = "?".into();
        assert_eq!((r.path(), r.query()), ("", Some("")));
    }
}
