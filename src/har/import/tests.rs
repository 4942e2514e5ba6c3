use super::*;
use crate::edge::Outcome;
use crate::har::read;

/// A Chrome-shaped HAR (DevTools export: `creator.name` WebInspector, `_fromCache`,
/// `_resourceType`): app1 loads /api/data through CloudFront (miss), app2 gets app1's
/// stored answer 5 s later (hit, Age 5), then app1 PUTs with a preflight.
pub(crate) fn sample() -> String {
    let h = |pairs: &[(&str, &str)]| {
        pairs
            .iter()
            .map(|(n, v)| format!("{{\"name\":\"{n}\",\"value\":\"{v}\"}}"))
            .collect::<Vec<_>>()
            .join(",")
    };
    let ua = ("User-Agent", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36");
    let a = "https://app1.example.com";
    let b = "https://app2.example.com";
    let date = ("date", "Thu, 01 Jan 2026 10:00:00 GMT");
    let entry = |t: &str, m: &str, url: &str, req: String, status: u16, resp: String, rt: &str| {
        format!(
            r#"{{"startedDateTime":"{t}","time":12.5,"_resourceType":"{rt}","request":{{"method":"{m}","url":"{url}","httpVersion":"http/2.0","headers":[{req}],"cookies":[],"queryString":[]}},"response":{{"status":{status},"statusText":"","headers":[{resp}],"content":{{"size":15,"mimeType":"application/json"}}}},"cache":{{}},"timings":{{"send":1,"wait":10,"receive":1.5}}}}"#
        )
    };
    let api = "https://api.example.com/api/data?v=1&token=s3cret";
    let entries = [
        entry(
            "2026-01-01T10:00:00.000Z",
            "GET",
            api,
            h(&[("Origin", a), ("Sec-Fetch-Mode", "cors"), ua]),
            200,
            h(&[
                ("access-control-allow-origin", a),
                ("cache-control", "public, max-age=300"),
                ("x-cache", "Miss from cloudfront"),
                ("x-amz-cf-pop", "FRA56-P1"),
                date,
            ]),
            "fetch",
        ),
        entry(
            "2026-01-01T10:00:05.000Z",
            "GET",
            api,
            h(&[("Origin", b), ("Sec-Fetch-Mode", "cors"), ua]),
            200,
            h(&[
                ("access-control-allow-origin", a),
                ("cache-control", "public, max-age=300"),
                ("x-cache", "Hit from cloudfront"),
                ("age", "5"),
                ("x-amz-cf-pop", "FRA56-P1"),
                date,
            ]),
            "fetch",
        ),
        entry(
            "2026-01-01T10:00:06.000Z",
            "OPTIONS",
            api,
            h(&[
                ("Origin", a),
                ("Access-Control-Request-Method", "PUT"),
                ("Access-Control-Request-Headers", "content-type"),
                ua,
            ]),
            204,
            h(&[
                ("access-control-allow-origin", a),
                ("access-control-allow-methods", "GET, PUT"),
                ("access-control-allow-headers", "content-type"),
                ("access-control-max-age", "600"),
            ]),
            "preflight",
        ),
        entry(
            "2026-01-01T10:00:06.100Z",
            "PUT",
            api,
            h(&[
                ("Origin", a),
                ("Content-Type", "application/json"),
                ("Authorization", "Bearer abc.def"),
                ua,
            ]),
            200,
            h(&[("access-control-allow-origin", a)]),
            "fetch",
        ),
        entry(
            "2026-01-01T09:59:59.000Z",
            "GET",
            "https://app1.example.com/",
            h(&[("Sec-Fetch-Mode", "navigate"), ua]),
            200,
            h(&[("content-type", "text/html")]),
            "document",
        ),
    ];
    format!(
        r#"{{"log":{{"version":"1.2","creator":{{"name":"WebInspector","version":"537.36"}},"pages":[],"entries":[{}]}}}}"#,
        entries.join(",\n")
    )
}

fn opts() -> ImportOptions {
    ImportOptions {
        name: "sample".into(),
        ..ImportOptions::default()
    }
}

#[test]
fn imports_clients_steps_origin_and_edge() {
    let h = read("s.har", sample().as_bytes()).unwrap();
    let im = import(&[h], &opts()).unwrap_or_else(|e| panic!("{e}"));
    let sc = &im.scenario;
    assert_eq!(
        im.counts,
        (3, 1, 1),
        "3 steps, 1 preflight folded, the page load skipped"
    );
    let names: Vec<&str> = sc.clients.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["app1", "app2"]);
    assert_eq!(sc.edge.profile, "cloudfront", "{}", im.yaml);
    let at: Vec<u64> = sc.steps.iter().map(|s| s.at_ms).collect();
    assert_eq!(at, [0, 5000, 6100]);
    assert_eq!(sc.steps[0].expect.cache, Some(Outcome::Miss));
    assert_eq!(sc.steps[1].expect.cache, Some(Outcome::Hit));
    let put = &sc.steps[2];
    assert_eq!(put.method, "PUT");
    assert_eq!(put.headers.get("content-type"), Some("application/json"));
    assert_eq!(
        put.headers.get("authorization"),
        Some("redacted-2"),
        "{}",
        im.yaml
    );
    assert!(
        !im.yaml.contains("abc.def") && !im.yaml.contains("s3cret"),
        "{}",
        im.yaml
    );
    assert!(put.target.contains("token=redacted-1"), "{}", put.target);
    let OriginSpec::Model(m) = &sc.origin else {
        panic!("model")
    };
    let p = m.cors.as_ref().unwrap();
    assert_eq!(
        p.allow_origins,
        crate::origin::AllowOrigins::List(vec![
            "https://app1.example.com".into(),
            "https://app2.example.com".into()
        ])
    );
    assert!(p.allow_methods.contains(&"PUT".to_string()));
    assert_eq!(p.max_age, Some(600));
    assert_eq!(
        m.routes[0].cache_control.as_deref(),
        Some("public, max-age=300")
    );
    assert!(
        im.yaml
            .contains("# profile cloudfront guessed from the response headers"),
        "{}",
        im.yaml
    );
    assert!(im.yaml.contains("assumed allowed"), "{}", im.yaml);
}

#[test]
fn the_yaml_loads_back_to_the_scenario() {
    for f in [
        sample(),
        std::fs::read_to_string("tests/har/playwright-chromium.har").unwrap(),
    ] {
        let h = read("s.har", f.as_bytes()).unwrap();
        let im = import(
            &[h],
            &ImportOptions {
                profile: Some("url-only".into()),
                ..opts()
            },
        )
        .unwrap();
        let mut back = crate::scenario::parse("sample.yaml", &im.yaml)
            .unwrap_or_else(|e| panic!("{e}\n{}", im.yaml));
        for s in &mut back.steps {
            s.line = 0;
        }
        assert_eq!(back, im.scenario, "{}", im.yaml);
    }
}

#[test]
fn the_import_replays_the_poisoning() {
    let h = read("s.har", sample().as_bytes()).unwrap();
    let im = import(&[h], &opts()).unwrap();
    let t = crate::sim::replay(&im.scenario).unwrap();
    let v: Vec<(bool, bool)> = t
        .steps
        .iter()
        .map(|s| (s.verdict.allowed, s.cache_induced))
        .collect();
    assert_eq!(
        v,
        [(true, false), (false, true), (true, false)],
        "{}",
        im.yaml
    );
    assert_eq!(t.summary.unmet_expectations, 0, "{}", im.yaml);
}

#[test]
fn keep_secrets_keeps_them() {
    let h = read("s.har", sample().as_bytes()).unwrap();
    let im = import(
        &[h],
        &ImportOptions {
            keep_secrets: true,
            ..opts()
        },
    )
    .unwrap();
    assert!(
        im.yaml.contains("Bearer abc.def") && im.yaml.contains("token=s3cret"),
        "{}",
        im.yaml
    );
}

#[test]
fn forced_profile_and_hosts() {
    let h = read("s.har", sample().as_bytes()).unwrap();
    let o = ImportOptions {
        profile: Some("url-only".into()),
        hosts: vec!["api.example.com".into()],
        ..opts()
    };
    assert_eq!(
        import(std::slice::from_ref(&h), &o)
            .unwrap()
            .scenario
            .edge
            .profile,
        "url-only"
    );
    let bad = ImportOptions {
        profile: Some("nope".into()),
        ..opts()
    };
    assert!(matches!(
        import(std::slice::from_ref(&h), &bad),
        Err(ImportError::UnknownProfile(_))
    ));
    let o = ImportOptions {
        hosts: vec!["other.example".into()],
        ..opts()
    };
    let e = import(&[h], &o).unwrap_err().to_string();
    assert!(
        e.contains("hosts seen: api.example.com, app1.example.com"),
        "{e}"
    );
}
