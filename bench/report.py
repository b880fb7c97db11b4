"""`python -m bench.report`: bench/RESULTS.md, generated from bench/results.json (`make bench` runs it last).

RESULTS.md is never edited by hand: it holds the latest run's figures and how they were measured, and
tests/test_docs.py fails when it differs from what this module renders from results.json.
`--check` exits 1 when RESULTS.md is stale; `--stdout` prints the document instead of writing it.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results.json"
MARKDOWN = ROOT / "bench" / "RESULTS.md"

LABELS = {
    "progress_vs_baseline": "Progress JSON (1M members) vs bare Flask",
    "progress_1m_vs_1k": "Progress JSON at 1,000,000 vs 1,000 members",
    "nginx_cache_vs_static": "Progress via nginx micro-cache vs nginx static file",
    "access_member_vs_baseline": "Access decision, member with a valid token, vs bare Flask",
    "access_metered_vs_baseline": "Access decision, metered reader, new article (a write), vs bare Flask",
    "webhooks_sqlite_per_s": "Webhook events/s, 8 senders, SQLite",
    "webhooks_postgres_per_s": "Webhook events/s, 8 senders, PostgreSQL",
    "dashboard_1m_vs_10k_time": "Staff dashboard time at 1,000,000 vs 10,000 members",
}

METHOD = """\
## How it is measured

`make bench` (code in `bench/`; not a test, CI does not run it) runs everything on 127.0.0.1 and stops
every server it started, whatever happens. It installs `wrk` and `nginx` with apt-get when they are
missing (as root; otherwise it says what to install).

- **Same settings.** The service (`service:create_app()`) and the baseline, a bare Flask app returning
  a small JSON dict (`bench/baseline.py`), run under gunicorn with the same generated config: 2 sync
  workers, no access log. The service runs with `RATELIMIT_ENABLED=false` and `LOG_LEVEL=WARNING`;
  `STRIPE_API_BASE` points at a closed local port, so nothing leaves the machine.
- **Data.** SQLite files seeded with 1,000,000, 10,000 and 1,000 sign-ups of the demo campaign by the
  dashboard's seeder, kept in `bench/work/` for `--reuse`. Webhook figures use a fresh SQLite file and
  PostgreSQL (`.ci/pg url membership_bench`).
- **Side by side, medians of ratios.** Each round runs every target once; targets compared with each
  other run next to each other, in reversed order every other round. A figure is the median over the
  rounds of the per-round ratio, so both sides of a ratio share the machine's load of the same minute.
  Absolute requests/s on a shared 2-core machine move a lot from run to run; the ratios much less.
- **Progress**: `GET /v1/campaigns/members-25k/progress?locale=en`. **nginx** runs `deploy/nginx.conf`
  in front of the 1M-member service, beside a server that sends the same bytes from a file.
- **Access**: `POST /v1/access` for a member who joined through signed webhooks and holds a member
  token, and for one metered reader reading a new article on every request (each one a meter write).
- **Webhooks**: wrk posts pre-built, signed, distinct events of new members' lifecycles (customer,
  subscription, first invoice and payment, renewal), one event per request; the figure is 2xx answers
  per second.
- **Dashboard**: `GET /staff/campaigns/members-25k` signed in as a viewer, at 1,000,000 and at 10,000
  members; the figure is the ratio of time per page.

```sh
make bench                          # 3 rounds of 5 s runs per target, then this file
make bench BENCH_ARGS=--quick       # 1 round of 3 s runs: a smoke test of the bench
make bench BENCH_ARGS="--only progress_vs_baseline,nginx_cache_vs_static --reuse"
.venv/bin/python -m bench.report    # rewrite this file from bench/results.json
```
"""


def _value(f: dict) -> str:
    return f"{f['value']:,.0f}/s" if f["name"].endswith("_per_s") else f"{f['value']:.2f}"


def table(results: dict) -> str:
    rows = ["| Figure | Measured | Target | Met | Medians (req/s) |", "| --- | ---: | --- | --- | --- |"]
    for f in results["figures"]:
        medians = f"{f['numerator']:,.0f}" + (f" / {f['denominator']:,.0f}" if f["denominator"] else "")
        if f["name"] == "dashboard_1m_vs_10k_time":
            medians = f"{f['numerator']:,.1f} (10k) / {f['denominator']:,.1f} (1M)"
        target = f["target"].replace(">=", "≥").replace("<=", "≤")
        rows.append(f"| {LABELS.get(f['name'], f['name'])} | {_value(f)} | {target}"
                    f" | {'yes' if f['met'] else '**no**'} | {medians} |")
    return "\n".join(rows)


def per_round(results: dict) -> str:
    rows = ["| Figure | Per round | What is divided |", "| --- | --- | --- |"]
    for f in results["figures"]:
        rounds = ", ".join(f"{v:g}" for v in f.get("per_round", []))
        rows.append(f"| `{f['name']}` | {rounds} | {f.get('description', '')} |")
    return "\n".join(rows)


def run_line(results: dict) -> str:
    m = results["machine"]
    return (f"`{results['command']}`, {results['generated_at']}: {results['settings']['rounds']} rounds of wrk "
            f"{results['settings']['wrk']}; each figure is the median of its per-round ratios; "
            f"{m['cpus']} CPUs ({m['platform']}), Python {m['python']}, "
            f"{m['gunicorn']}, {m['nginx']}; load average {m['loadavg_at_start'][0]} at the start and "
            f"{m['loadavg_at_end'][0]} at the end; {results['duration_s']:.0f} s in all.")


def seeded(results: dict) -> str:
    parts = []
    for info in sorted(results.get("seed", {}).values(), key=lambda i: i["members"]):
        how = "reused from an earlier run" if info.get("reused") else f"seeded in {info['seed_s']:g} s"
        parts.append(f"{info['members']:,} members ({info['count']:,} counted; {how})")
    return "Databases: " + "; ".join(parts) + "." if parts else ""


def render(results: dict) -> str:
    """The whole of RESULTS.md for one results.json document."""
    out = ["# Benchmark results", "",
           "Generated by `python -m bench.report` from `bench/results.json` (written by `make bench`); do not "
           "edit by hand. What the service is: [README](../README.md).", "",
           "## Latest run", "", run_line(results), "", table(results), ""]
    if seeded(results):
        out += [seeded(results), ""]
    out += [per_round(results), ""]
    for note in results.get("notes", []):
        out.append(f"- Note: {note}")
    if results.get("notes"):
        out.append("")
    out.append(METHOD)
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.report", description=__doc__.splitlines()[0])
    ap.add_argument("results", nargs="?", type=Path, default=RESULTS, help="results.json to read")
    ap.add_argument("--output", type=Path, default=MARKDOWN, help="Markdown file to write")
    ap.add_argument("--check", action="store_true", help="exit 1 when the output file is not up to date")
    ap.add_argument("--stdout", action="store_true", help="print the document instead of writing it")
    args = ap.parse_args(argv)
    text = render(json.loads(args.results.read_text()))
    if args.stdout:
        sys.stdout.write(text)
        return 0
    if args.check:
        current = args.output.read_text() if args.output.exists() else ""
        if current != text:
            print(f"{args.output} is stale: run python -m bench.report", file=sys.stderr)
            return 1
        return 0
    args.output.write_text(text)
    print(f"wrote {args.output.relative_to(ROOT) if args.output.is_relative_to(ROOT) else args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
