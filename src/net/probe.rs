//! The transport of `varyedge lint --upstream`: sends the requests that
//! [`crate::lint::probe::plan`] planned, one at a time, and returns whole answers (the
//! body is read and dropped) for [`crate::lint::probe::analyse`]. The proxy's pooled
//! client over plain HTTP, with a timeout per request.

use crate::lint::probe::{Answer, Probe};
use crate::net::proxy::upstream::{self, UpClient};
use http_body_util::{BodyExt, Limited};
use std::time::Duration;

/// The most of a response body read before giving up on it.
const MAX_BODY: usize = 4 << 20;

/// The query parameter added to every probe so that a shared cache in front of the server
/// stores none of the crafted answers under a URL real users fetch.
pub const CACHE_BUST: &str = "varyedge-probe";

/// The URL a probe is sent to: `base` + path + a cache-busting query parameter.
pub fn probe_url(base: &str, probe: &Probe, index: usize) -> String {
    let sep = if probe.path.contains('?') { '&' } else { '?' };
    format!(
        "{}{}{sep}{CACHE_BUST}={index}",
        base.trim_end_matches('/'),
        probe.path
    )
}

/// Consecutive timeouts after which the remaining probes are not sent.
pub const GIVE_UP_AFTER: usize = 2;

/// Sends every probe in order; `Err` carries why one failed (refused, timed out, …).
pub async fn send_all(
    base: &str,
    probes: &[Probe],
    timeout: Duration,
) -> Vec<Result<Answer, String>> {
    // the proxy's client builder (one for `src/net`'s upstream requests)
    let client = crate::net::proxy::upstream::client(timeout);
    let mut out = Vec::with_capacity(probes.len());
    let mut silent = 0;
    for (i, p) in probes.iter().enumerate() {
        let url = probe_url(base, p, i);
        if silent >= GIVE_UP_AFTER {
            // a server that answered none of the last probes in time is not waited on
            // once per remaining probe (that took 20 × --timeout)
            out.push(Err(format!(
                "{} {url}: not sent: the server answered none of the previous {GIVE_UP_AFTER} probes within {timeout:?}",
                p.method
            )));
            continue;
        }
        let res = tokio::time::timeout(timeout, send(&client, &url, p)).await;
        out.push(match res {
            Ok(r) => {
                silent = 0;
                r
            }
            Err(_) => {
                silent += 1;
                Err(format!("{} {url}: no answer within {timeout:?}", p.method))
            }
        });
    }
    out
}

async fn send(client: &UpClient, url: &str, p: &Probe) -> Result<Answer, String> {
    let mut b = http::Request::builder().method(p.method.as_str()).uri(url);
    for (n, v) in p.headers().iter() {
        b = b.header(n, v);
    }
    let req = b
        .body(upstream::no_body())
        .map_err(|e| format!("{} {url}: {e}", p.method))?;
    let resp = client
        .request(req)
        .await
        .map_err(|e| format!("{} {url}: {e}", p.method))?;
    let (parts, body) = resp.into_parts();
    // Read it whole, so the connection is reusable and a broken body is seen.
    Limited::new(body, MAX_BODY)
        .collect()
        .await
        .map_err(|e| format!("{} {url}: reading the body: {e}", p.method))?;
    Ok(Answer {
        status: parts.status.as_u16(),
        headers: crate::net::convert::headers_lossy(&parts.headers),
    })
}

/// [`send_all`] on a fresh single-threaded runtime, for the synchronous command layer.
pub fn send_all_blocking(
    base: &str,
    probes: &[Probe],
    timeout: Duration,
) -> std::io::Result<Vec<Result<Answer, String>>> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    Ok(rt.block_on(send_all(base, probes, timeout)))
}
