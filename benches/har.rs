//! Reads, imports and diagnoses a generated Chrome-shaped HAR of 10,000 entries (three
//! page origins, 200 URLs, half of them CDN hits, 400-byte bodies inline).
//! Target (issue 15): well under a second per 10,000 entries.
//!
//! `cargo bench --bench har` — criterion's "thrpt" is in entries/s.
#![allow(missing_docs)] // criterion's macros generate undocumented functions

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::fmt::Write as _;
use std::hint::black_box;
use varyedge::har::diagnose::diagnose;
use varyedge::har::import::{import, ImportOptions};

const ENTRIES: usize = 10_000;

fn har() -> String {
    let ua = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";
    let mut s = String::from(
        r#"{"log":{"version":"1.2","creator":{"name":"WebInspector","version":"537.36"},"pages":[],"entries":["#,
    );
    for i in 0..ENTRIES {
        let o = format!("https://app{}.example.com", i % 3);
        let hit = i % 2 == 1;
        let ms = i * 50;
        let t = format!(
            "2026-01-01T10:{:02}:{:02}.{:03}Z",
            ms / 60_000 % 60,
            ms / 1000 % 60,
            ms % 1000
        );
        let h = |p: &[(&str, &str)]| {
            p.iter()
                .map(|(n, v)| format!(r#"{{"name":"{n}","value":"{v}"}}"#))
                .collect::<Vec<_>>()
                .join(",")
        };
        let req = h(&[
            ("accept", "*/*"),
            ("origin", &o),
            ("referer", &format!("{o}/")),
            ("sec-fetch-mode", "cors"),
            ("user-agent", ua),
        ]);
        let resp = h(&[
            ("access-control-allow-origin", &o),
            ("cache-control", "public, max-age=300"),
            ("date", "Thu, 01 Jan 2026 10:00:00 GMT"),
            (
                "x-cache",
                if hit {
                    "Hit from cloudfront"
                } else {
                    "Miss from cloudfront"
                },
            ),
            ("age", if hit { "4" } else { "0" }),
        ]);
        let _ = write!(
            s,
            r#"{}{{"startedDateTime":"{t}","time":12.3,"_resourceType":"fetch","request":{{"method":"GET","url":"https://api.example.com/api/item/{}?v=2","headers":[{req}],"cookies":[]}},"response":{{"status":200,"headers":[{resp}],"content":{{"size":400,"mimeType":"application/json","text":"{}"}}}},"cache":{{}},"timings":{{"send":0,"wait":10,"receive":1}}}}"#,
            if i == 0 { "" } else { "," },
            i % 200,
            "x".repeat(400)
        );
    }
    s.push_str("]}}");
    s
}

fn bench(c: &mut Criterion) {
    let text = har();
    let mut g = c.benchmark_group("har");
    g.throughput(Throughput::Elements(ENTRIES as u64));
    g.sample_size(10);
    g.bench_function("read", |b| {
        b.iter(|| varyedge::har::read("b.har", black_box(text.as_bytes())).map(|h| h.entries.len()))
    });
    let h = varyedge::har::read("b.har", text.as_bytes())
        .map(|h| vec![h])
        .unwrap_or_default();
    let opts = ImportOptions {
        name: "bench".into(),
        ..ImportOptions::default()
    };
    g.bench_function("import", |b| {
        b.iter(|| import(black_box(&h), &opts).map(|i| i.counts))
    });
    g.bench_function("diagnose", |b| {
        b.iter(|| diagnose(black_box(&h)).findings.len())
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
