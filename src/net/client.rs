//! A pooled HTTP/1.1 client for the `net` driver: sends a core [`Request`] to a base URL
//! and returns the whole core [`Response`], within a timeout. Used by `replay --target`
//! (to talk to the cache under test and, with `--direct`, to the origin behind it).
//!
//! Plain `http://` only (loopback staging, a local Varnish, a test CDN endpoint reached
//! through a tunnel); every failure is a [`ClientError`], never a panic.

use crate::fields::Headers;
use crate::message::{Request, Response};
use bytes::Bytes;
use http_body_util::{BodyExt, Empty, Limited};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use std::sync::Arc;
use std::time::Duration;

/// The largest response body read; a larger one is an error (the CORS verdict needs
/// only the head, but a body is read whole so the connection can be reused).
pub const MAX_BODY: usize = 16 << 20;

/// Why an exchange failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The base URL is not `http://HOST[:PORT][/PREFIX]`.
    #[error(
        "expected an http:// URL such as http://127.0.0.1:8080 (port 1 to 65535), found {0:?}"
    )]
    BadUrl(String),
    /// The request could not be expressed in HTTP (bad method, header or target).
    #[error("cannot send {what}: {detail}")]
    BadRequest {
        /// The request line.
        what: String,
        /// What was wrong.
        detail: String,
    },
    /// Connection refused, reset, or a protocol error.
    #[error("{url}: {detail}")]
    Transport {
        /// Where it was sent.
        url: String,
        /// The error chain.
        detail: String,
    },
    /// No complete answer within the timeout.
    #[error("{url}: no answer within {ms} ms")]
    Timeout {
        /// Where it was sent.
        url: String,
        /// The timeout.
        ms: u128,
    },
    /// The body was larger than [`MAX_BODY`] or broke off.
    #[error("{url}: response body unreadable or larger than {MAX_BODY} bytes")]
    Body {
        /// Where it was sent.
        url: String,
    },
}

/// Where requests go: `http://authority` plus an optional path prefix.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BaseUrl {
    /// `127.0.0.1:8080`.
    pub authority: String,
    /// A path prefix without the trailing `/` (`""` for none).
    pub prefix: String,
}

impl BaseUrl {
    /// Parses `http://HOST[:PORT][/PREFIX]`.
    pub fn parse(url: &str) -> Result<BaseUrl, ClientError> {
        let bad = || ClientError::BadUrl(url.to_string());
        let rest = url.strip_prefix("http://").ok_or_else(bad)?;
        let (authority, prefix) = match rest.find('/') {
            Some(i) => (&rest[..i], rest[i..].trim_end_matches('/')),
            None => (rest, ""),
        };
        if authority.is_empty()
            || authority.contains(['@', '?', '#', ' '])
            || prefix.contains(['?', '#'])
            || authority.parse::<http::uri::Authority>().is_err()
        {
            return Err(bad());
        }
        // a port, when given, is 1 to 65535: `Authority` accepts any digits (RFC 3986
        // §3.2.3), and hyper then connected to port 80 instead
        if let Some((_, port)) = authority.rsplit_once(':').filter(|(_, p)| !p.contains(']')) {
            if !port.parse::<u16>().is_ok_and(|n| n > 0) {
                return Err(bad());
            }
        }
        Ok(BaseUrl {
            authority: authority.to_string(),
            prefix: prefix.to_string(),
        })
    }

    /// The absolute URL of a request target (path and query) under this base.
    pub fn url(&self, target: &str) -> String {
        let t = if target.starts_with('/') {
            target.to_string()
        } else {
            format!("/{target}")
        };
        format!("http://{}{}{}", self.authority, self.prefix, t)
    }
}

impl std::fmt::Display for BaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "http://{}{}", self.authority, self.prefix)
    }
}

/// A pooled client (keep-alive connections per authority), cheap to clone.
#[derive(Clone)]
pub struct Client {
    inner: hyper_util::client::legacy::Client<HttpConnector, Empty<Bytes>>,
    timeout: Duration,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// A client whose every exchange (connect, send, read the whole body) must finish
    /// within `timeout`. Must be called inside a tokio runtime.
    pub fn new(timeout: Duration) -> Client {
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        connector.set_connect_timeout(Some(timeout));
        let inner = hyper_util::client::legacy::Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(30))
            .build(connector);
        Client { inner, timeout }
    }

    /// Sends `req` (method, target, headers; its scheme and host are ignored) to `base`,
    /// with `Host: host` (the base's authority when `None`). Request bodies are never
    /// sent: the scenario steps the browser model emits carry none.
    pub async fn send(
        &self,
        base: &BaseUrl,
        req: &Request,
        host: Option<&str>,
    ) -> Result<Response, ClientError> {
        let url = base.url(&req.target);
        let bad = |detail: String| ClientError::BadRequest {
            what: format!("{} {}", req.method, req.target),
            detail,
        };
        let method =
            http::Method::from_bytes(req.method.as_bytes()).map_err(|e| bad(e.to_string()))?;
        let mut b = http::Request::builder().method(method).uri(&url);
        let host = host.unwrap_or(&base.authority);
        b = b.header(http::header::HOST, host);
        for (n, v) in req.headers.iter() {
            if n == "host" || n == "content-length" || n == "transfer-encoding" {
                continue;
            }
            b = b.header(n, v);
        }
        // Fetch §4.5 (HTTP-network-or-cache fetch): a POST or PUT without a body carries
        // `Content-Length: 0`, as browsers send it (ATS answers 411 without it).
        if matches!(req.method.as_str(), "POST" | "PUT") {
            b = b.header(http::header::CONTENT_LENGTH, "0");
        }
        let hreq = b
            .body(Empty::<Bytes>::new())
            .map_err(|e| bad(e.to_string()))?;
        let exchange = async {
            let resp = self
                .inner
                .request(hreq)
                .await
                .map_err(|e| ClientError::Transport {
                    url: url.clone(),
                    detail: chain(&e),
                })?;
            let (parts, body) = resp.into_parts();
            let body = Limited::new(body, MAX_BODY)
                .collect()
                .await
                .map_err(|_| ClientError::Body { url: url.clone() })?
                .to_bytes();
            Ok::<_, ClientError>((parts, body))
        };
        let (parts, body) = match tokio::time::timeout(self.timeout, exchange).await {
            Ok(r) => r?,
            Err(_) => {
                return Err(ClientError::Timeout {
                    url,
                    ms: self.timeout.as_millis(),
                })
            }
        };
        let mut headers = Headers::new();
        for (n, v) in &parts.headers {
            headers.append(n.as_str(), &String::from_utf8_lossy(v.as_bytes()));
        }
        Ok(Response {
            status: parts.status.as_u16(),
            headers,
            body: Arc::from(&body[..]),
        })
    }

    /// `GET base+path` with a plain body, for the origin's `/.varyedge/stats`.
    pub async fn get_text(&self, base: &BaseUrl, path: &str) -> Result<(u16, String), ClientError> {
        let req = Request {
            method: "GET".into(),
            scheme: "http".into(),
            host: base.authority.clone(),
            target: path.into(),
            headers: Headers::new(),
        };
        let r = self.send(base, &req, None).await?;
        Ok((r.status, String::from_utf8_lossy(&r.body).into_owned()))
    }
}

/// An error and its sources on one line (hyper's top-level messages alone are vague).
fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls() {
        let b = BaseUrl::parse("http://127.0.0.1:8080").unwrap();
        assert_eq!(b.authority, "127.0.0.1:8080");
        assert_eq!(b.url("/a?b=1"), "http://127.0.0.1:8080/a?b=1");
        let b = BaseUrl::parse("http://localhost:1/pre/").unwrap();
        assert_eq!(b.url("/x"), "http://localhost:1/pre/x");
        assert_eq!(b.to_string(), "http://localhost:1/pre");
        for bad in [
            "https://x",
            "127.0.0.1:80",
            "http://",
            "http://a b",
            "http://u@h/",
            "http://h/p?q",
        ] {
            assert!(BaseUrl::parse(bad).is_err(), "{bad}");
        }
    }

    #[tokio::test]
    async fn refused_connection_is_an_error_not_a_panic() {
        // bind then drop: the port is (very likely) closed afterwards
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let c = Client::new(Duration::from_secs(2));
        let base = BaseUrl::parse(&format!("http://127.0.0.1:{port}")).unwrap();
        let e = c.get_text(&base, "/").await.unwrap_err();
        assert!(matches!(e, ClientError::Transport { .. }), "{e}");
    }
}
