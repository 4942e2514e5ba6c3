//! `crate::message` and the proxy's framing (`crate::net::convert`): how a request head
//! becomes a core request and a core response becomes a hyper response.

use crate::fields::Headers;
use crate::message::{Request, Response};
use std::sync::Arc;

fn req(target: &str) -> Request {
    Request {
        method: "GET".into(),
        scheme: "https".into(),
        host: "api.example".into(),
        target: target.into(),
        headers: Headers::new(),
    }
}

/// RFC 9110 §4.1 / RFC 3986 §3.4: the query is what follows the first `?`, without it.
#[test]
fn path_query_and_url() {
    let r = req("/a/b?x=1?y");
    assert_eq!(r.path(), "/a/b");
    assert_eq!(r.query(), Some("x=1?y"));
    assert_eq!(r.url(), "https://api.example/a/b?x=1?y");
    let r = req("/a");
    assert_eq!(r.path(), "/a");
    assert_eq!(r.query(), None);
    assert_eq!(req("/a?").query(), Some(""));
}

#[test]
fn response_size_counts_headers_body_and_overhead() {
    let r = Response {
        status: 200,
        headers: Headers::from_pairs([("ab", "cd")]),
        body: Arc::from(&b"hello"[..]),
    };
    assert_eq!(r.byte_size(), (2 + 2 + 4) + 5 + 16);
    assert_eq!(Response::new(204, Headers::new()).byte_size(), 16);
}

#[cfg(feature = "net")]
mod net {
    use super::*;
    use crate::net::convert::{request_from_parts, text, to_hyper, ConvertError};
    use http_body_util::BodyExt;

    fn parts(b: http::request::Builder) -> http::request::Parts {
        match b.body(()) {
            Ok(r) => r.into_parts().0,
            Err(e) => panic!("{e}"),
        }
    }

    /// RFC 9112 §3.2: the target host comes from `Host` (or the absolute-form
    /// authority); field lines keep their order and their values byte-for-byte.
    #[test]
    fn request_head_to_core() {
        let p = parts(
            http::Request::builder()
                .method("PUT")
                .uri("/a?b=1")
                .header("Host", "api.example")
                .header("X-A", "1")
                .header("x-a", "2"),
        );
        let r = request_from_parts(&p, "http").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(r.method, "PUT");
        assert_eq!(r.scheme, "http");
        assert_eq!(r.host, "api.example");
        assert_eq!(r.target, "/a?b=1");
        assert_eq!(r.headers.get_all("x-a").collect::<Vec<_>>(), vec!["1", "2"]);
        let abs = parts(http::Request::builder().uri("http://h.example:8080/p"));
        let r = request_from_parts(&abs, "http").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(r.host, "h.example:8080");
        assert_eq!(r.target, "/p");
        let none = parts(http::Request::builder().uri("/p"));
        assert!(matches!(
            request_from_parts(&none, "http"),
            Err(ConvertError::NoHost)
        ));
        let bad = parts(
            http::Request::builder()
                .uri("/p")
                .header("host", "h")
                .header(
                    "x-bin",
                    http::HeaderValue::from_bytes(b"\xff").unwrap_or_else(|e| panic!("{e}")),
                ),
        );
        assert!(matches!(
            request_from_parts(&bad, "http"),
            Err(ConvertError::HeaderValue(n)) if n == "x-bin"
        ));
    }

    fn body(r: http::Response<http_body_util::Full<bytes::Bytes>>) -> Vec<u8> {
        let rt = tokio::runtime::Builder::new_current_thread().build();
        let rt = rt.unwrap_or_else(|e| panic!("{e}"));
        rt.block_on(async { r.into_body().collect().await })
            .map(|c| c.to_bytes().to_vec())
            .unwrap_or_default()
    }

    #[test]
    fn core_response_to_hyper() {
        let core = Response {
            status: 203,
            headers: Headers::from_pairs([
                ("vary", "Origin"),
                ("vary", "Accept"),
                ("bad name", "x"),
            ]),
            body: Arc::from(&b"{}"[..]),
        };
        let h = to_hyper(&core);
        assert_eq!(h.status().as_u16(), 203);
        let vary: Vec<_> = h.headers().get_all("vary").iter().collect();
        assert_eq!(vary, vec!["Origin", "Accept"]);
        assert_eq!(h.headers().len(), 2, "the invalid name is dropped");
        assert_eq!(body(h), b"{}");
        let odd = to_hyper(&Response::new(1000, Headers::new()));
        assert_eq!(odd.status().as_u16(), 502);
        let t = text(404, "nope\n");
        assert_eq!(t.status().as_u16(), 404);
        assert_eq!(
            t.headers().get("content-type").map(|v| v.as_bytes()),
            Some(&b"text/plain; charset=utf-8"[..])
        );
        assert_eq!(body(t), b"nope\n");
        assert_eq!(text(1000, "").status().as_u16(), 500);
    }
}
