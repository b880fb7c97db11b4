"""`make bench` (python -m bench): throughput of the service against baselines measured in the same run.

The machine is small and shared, so absolute numbers are noisy: every figure is a ratio against a
baseline measured in the same run, alternating the targets (rotated order, `--rounds` times) and
taking medians. Only 127.0.0.1; wrk runs are bounded (`-t2 -c32 -d5s` by default); every server the
bench starts is stopped in a `finally`. Results: a table on stdout and bench/results.json.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from bench import harness, nginx, seed
from bench.harness import ROOT, free_port, gunicorn, wrk

RESULTS = ROOT / "bench" / "results.json"
PROGRESS_PATH = "/v1/campaigns/members-25k/progress?locale=en"

# figure name -> (numerator target, denominator target, comparison, threshold, description)
RATIOS = [
    ("progress_vs_baseline", "progress_1m", "baseline", ">=", 0.9,
     "progress endpoint (1M members) / bare Flask hello JSON, requests/s"),
    ("progress_1m_vs_1k", "progress_1m", "progress_1k", ">=", 0.95,
     "progress endpoint at 1,000,000 members / at 1,000, requests/s"),
    ("nginx_cache_vs_static", "nginx_cache", "nginx_static", ">=", 0.8,
     "progress through deploy/nginx.conf micro-cache / nginx serving the same bytes from a file, requests/s"),
]


def log(msg: str) -> None:
    print(msg, flush=True)


def migrate(url: str) -> None:
    """Migrate a fresh database in a subprocess (alembic's logging stays out of the bench's output)."""
    subprocess.run([str(harness.VENV_BIN / "flask"), "--app", "service", "db", "upgrade"], cwd=ROOT,  # noqa: S603
                   env={**_env(url)}, check=True, capture_output=True)


def _env(url: str) -> dict[str, str]:
    import os

    return {**os.environ, "DATABASE_URL": url, "RATELIMIT_ENABLED": "false", "LOG_LEVEL": "WARNING",
            "SERVICE_ENV": "development"}


def seeded_sqlite(work: Path, members: int, reuse: bool) -> tuple[str, dict]:
    path = work / f"bench-{members}.sqlite3"
    url = f"sqlite:///{path}"
    marker = path.with_suffix(".json")
    if reuse and path.exists() and marker.exists():
        log(f"reusing {path.name}")
        return url, {**json.loads(marker.read_text()), "reused": True}
    for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm"), marker):
        p.unlink(missing_ok=True)
    migrate(url)
    from service import create_app

    app = create_app({"DATABASE_URL": url, "RATELIMIT_ENABLED": False})
    info = seed.seed(app, members, log=log)
    with app.app_context():
        from service.extensions import db

        db.engine.dispose()
    marker.write_text(json.dumps(info))
    return url, info


def service_env(url: str) -> dict[str, str]:
    return {"DATABASE_URL": url, "RATELIMIT_ENABLED": "false", "LOG_LEVEL": "WARNING",
            "SERVICE_ENV": "development"}


def machine() -> dict:
    def version(argv: list[str]) -> str:
        try:
            r = subprocess.run(argv, capture_output=True, text=True, timeout=10)  # noqa: S603
            return (r.stdout + r.stderr).strip().splitlines()[0]
        except (OSError, IndexError, subprocess.SubprocessError):
            return "?"

    import os

    load = os.getloadavg()
    return {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version(),
            "nginx": version([harness.nginx_bin(), "-v"]), "wrk": version(["wrk", "-v"]),
            "gunicorn": version([str(harness.VENV_BIN / "gunicorn"), "--version"]),
            "loadavg_at_start": [round(x, 2) for x in load]}


def fetch(url: str) -> bytes:
    import urllib.request

    with urllib.request.urlopen(url, timeout=10) as r:  # noqa: S310
        return r.read()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="one round of 3 s runs (a smoke test of the bench)")
    ap.add_argument("--rounds", type=int, default=None, help="alternations of all targets (default 3)")
    ap.add_argument("--duration", type=float, default=None, help="seconds per wrk run (default 5)")
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--members", type=int, default=1_000_000)
    ap.add_argument("--reuse", action="store_true", help="reuse seeded databases from bench/work/")
    ap.add_argument("--output", type=Path, default=RESULTS)
    args = ap.parse_args(argv)
    rounds = args.rounds or (1 if args.quick else 3)
    duration = args.duration or (3 if args.quick else 5)

    harness.ensure_tools(log)
    work = ROOT / "bench" / "work"
    work.mkdir(parents=True, exist_ok=True)
    started = time.time()
    info = machine()
    log(f"bench: {rounds} round(s) of {duration:g} s wrk runs, -t2 -c{args.connections}, on {info['cpus']} CPUs "
        f"(load {info['loadavg_at_start']})")

    url_big, seed_big = seeded_sqlite(work, args.members, args.reuse)
    url_small, seed_small = seeded_sqlite(work, 1000, args.reuse)

    servers: list[harness.Server] = []
    try:
        base = gunicorn("baseline", "bench.baseline:app", free_port(), work, ready_path="/hello")
        big = gunicorn("service-big", "service:create_app()", free_port(), work, service_env(url_big),
                       ready_path=PROGRESS_PATH)
        small = gunicorn("service-small", "service:create_app()", free_port(), work, service_env(url_small),
                         ready_path=PROGRESS_PATH)
        for s in (base, big, small):
            servers.append(s.start())
        body = fetch(big.url + PROGRESS_PATH)
        cache_port = free_port()
        ngx = nginx.server(work=work / "nginx", upstream_port=big.port, cache_port=cache_port,
                           static_port=free_port(), body=body)
        servers.append(ngx.start())

        targets = {
            "baseline": base.url + "/hello",
            "progress_1m": big.url + PROGRESS_PATH,
            "progress_1k": small.url + PROGRESS_PATH,
            "nginx_cache": f"http://127.0.0.1:{cache_port}{PROGRESS_PATH}",
            "nginx_static": f"{ngx.url}/progress.json",
        }
        for url in targets.values():  # warm caches and connections
            wrk(url, duration=1, connections=4)
        runs: dict[str, list[dict]] = {name: [] for name in targets}
        names = list(targets)
        for r in range(rounds):
            order = names[r % len(names):] + names[:r % len(names)]
            for name in order:
                res = wrk(targets[name], duration=duration, connections=args.connections)
                runs[name].append(res.__dict__)
                log(f"  round {r + 1}/{rounds} {name:<14} {res.rps:>10,.0f} req/s"
                    + (f"  ({res.non_2xx} non-2xx, {res.socket_errors} socket errors)"
                       if res.non_2xx or res.socket_errors else ""))
    finally:
        for s in reversed(servers):
            s.stop()

    medians = {name: statistics.median(x["rps"] for x in rs) for name, rs in runs.items() if rs}
    figures = []
    for name, num, den, op, threshold, desc in RATIOS:
        if num in medians and den in medians and medians[den] > 0:
            value = medians[num] / medians[den]
            met = value >= threshold if op == ">=" else value <= threshold
            figures.append({"name": name, "value": round(value, 3), "target": f"{op} {threshold}", "met": met,
                            "numerator": round(medians[num], 1), "denominator": round(medians[den], 1),
                            "description": desc})
    results = {
        "command": "make bench" + (" BENCH_ARGS=--quick" if args.quick else ""),
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "duration_s": round(time.time() - started, 1),
        "machine": info,
        "settings": {"rounds": rounds, "wrk": f"-t2 -c{args.connections} -d{duration:g}s",
                     "gunicorn": "2 sync workers on 127.0.0.1 for the service and the baseline",
                     "database": "SQLite (WAL)"},
        "seed": {"big": seed_big, "small": seed_small},
        "medians_rps": {k: round(v, 1) for k, v in medians.items()},
        "runs": runs,
        "figures": figures,
    }
    args.output.write_text(json.dumps(results, indent=2) + "\n")
    print_table(results)
    log(f"wrote {args.output.relative_to(ROOT) if args.output.is_relative_to(ROOT) else args.output}")
    return 0


def print_table(results: dict) -> None:
    log("")
    log(f"{'target':<16} {'median req/s':>13}   runs")
    for name, rps in results["medians_rps"].items():
        runs = ", ".join(f"{x['rps']:,.0f}" for x in results["runs"][name])
        log(f"{name:<16} {rps:>13,.0f}   {runs}")
    log("")
    log(f"{'figure':<24} {'value':>8}  {'target':<8}  result")
    for f in results["figures"]:
        log(f"{f['name']:<24} {f['value']:>8.3f}  {f['target']:<8}  {'met' if f['met'] else 'NOT MET'}")


if __name__ == "__main__":
    sys.exit(main())
