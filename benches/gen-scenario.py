#!/usr/bin/env python3
"""Writes a large v1 scenario for the end-to-end `replay` and `replay --jobs` figures in
benches/README.md: many origins and paths behind a Vary-honouring edge, an origin that
reflects an allowlist with `Vary: Origin` (one origin in five is not allowed), 3 ms between
steps so that the 60 s entries expire and refill many times over.

    python3 benches/gen-scenario.py STEPS [--profile P] [--pops N] [--per-path] > big.yaml

`--per-path` gives every client one path of its own (each browser touches one URL), the
shape under which `replay --jobs` can split the trace across threads; without it every
client fetches every path, so one browser's state couples all keys and replay runs on one
thread. Deterministic: the same arguments always write the same file.
"""

import argparse
import sys


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("steps", type=int)
    ap.add_argument("--profile", default="varnish")
    ap.add_argument("--pops", type=int, default=4)
    ap.add_argument("--origins", type=int, default=50)
    ap.add_argument("--paths", type=int, default=200)
    ap.add_argument("--per-path", action="store_true")
    a = ap.parse_args()
    if a.steps < 1 or a.origins < 1 or a.paths < 1 or a.pops < 1:
        ap.error("steps, origins, paths and pops must be at least 1")
    out = sys.stdout
    allowed = ", ".join(
        f"https://app{i}.example.com" for i in range(a.origins) if i % 5 != 4
    )
    out.write("name: generated\n")
    out.write(f"about: {a.steps} generated steps (benches/gen-scenario.py)\n")
    out.write("origin:\n  cors:\n")
    out.write(f"    allow_origins: [{allowed}]\n")
    out.write("    allow_methods: [GET, PUT]\n    allow_headers: [content-type]\n")
    out.write("    max_age: 600\n    vary_origin: true\n  routes:\n")
    out.write('    - { path: "/api/*", cache_control: "public, max-age=60" }\n')
    out.write(f"edge: {{ profile: {a.profile}, pops: {a.pops} }}\n")
    agents = ["chrome", "firefox", "safari", "none"]
    # --per-path: one client per (origin, path); otherwise one per origin.
    nclients = a.origins * a.paths if a.per_path else a.origins
    out.write("clients:\n")
    for c in range(nclients):
        o = c % a.origins
        out.write(
            f"  - {{ name: c{c}, origin: https://app{o}.example.com, "
            f"browser: {agents[o % 4]}, pop: {c % a.pops} }}\n"
        )
    out.write("steps:\n")
    j = 0
    lines = []
    for i in range(a.steps):
        j = (j + 7919) % (a.origins * a.paths)
        o, p = j % a.origins, j // a.origins
        c = j if a.per_path else o
        method = "PUT" if (p + o) % 50 == 0 else "GET"
        at = "" if i == 0 else "at: +3ms, "
        lines.append(
            f"  - {{ {at}client: c{c}, fetch: {method} /api/r{p}?v={p % 3} }}\n"
        )
        if len(lines) >= 10000:
            out.write("".join(lines))
            lines.clear()
    out.write("".join(lines))


if __name__ == "__main__":
    main()
