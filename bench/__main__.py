"""`make bench` (python -m bench): throughput of the service against baselines measured in the same run.

The machine is small and shared, so absolute numbers are noisy: every figure but the webhook rates is a
ratio of two targets measured next to each other in the same round (alternating their order from round
to round, `--rounds` times); a figure is the median of its per-round ratios. Only 127.0.0.1; wrk runs
are bounded (`-t2 -c32 -d5s` by default); every server the bench starts is stopped in a `finally`.
Results: a table on stdout and bench/results.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench import harness, nginx, seed
from bench.harness import ROOT, free_port, gunicorn, wrk

RESULTS = ROOT / "bench" / "results.json"
LUA = ROOT / "bench" / "lua"
SLUG = "members-25k"
PROGRESS_PATH = f"/v1/campaigns/{SLUG}/progress?locale=en"
STAFF_EMAIL = "bench-staff@example.org"
STAFF_PASSWORD = "bench-staff-password-0123456789"  # noqa: S105 - a throwaway account in a throwaway database
MEMBER_EMAIL = "bench-member@example.org"
SENDERS = 8

# name, numerator, denominator, comparison, threshold, description. A denominator None: absolute value.
FIGURES = [
    ("progress_vs_baseline", "progress_1m", "baseline", ">=", 0.9,
     "progress endpoint (1M members) / bare Flask hello JSON, requests/s"),
    ("progress_1m_vs_1k", "progress_1m", "progress_1k", ">=", 0.95,
     "progress endpoint at 1,000,000 members / at 1,000, requests/s"),
    ("nginx_cache_vs_static", "nginx_cache", "nginx_static", ">=", 0.8,
     "progress through deploy/nginx.conf micro-cache / nginx serving the same bytes from a file, requests/s"),
    ("access_member_vs_baseline", "access_member", "baseline", ">=", 0.6,
     "POST /v1/access for a member with a valid token / bare Flask, requests/s"),
    ("access_metered_vs_baseline", "access_metered", "baseline", ">=", 0.3,
     "POST /v1/access, a metered reader reading a new article (a write) / bare Flask, requests/s"),
    ("webhooks_sqlite_per_s", "webhooks_sqlite", None, ">=", 300,
     f"signed Stripe events accepted per second, {SENDERS} concurrent senders, SQLite"),
    ("webhooks_postgres_per_s", "webhooks_postgres", None, ">=", 300,
     f"signed Stripe events accepted per second, {SENDERS} concurrent senders, PostgreSQL"),
    ("dashboard_1m_vs_10k_time", "dashboard_10k", "dashboard_1m", "<=", 1.5,  # time ratio = inverse req/s
     "staff dashboard page time at 1,000,000 members / at 10,000 (= requests/s at 10k / at 1M)"),
]


# Targets compared with each other run next to each other, forward in even rounds and backward in odd
# ones, so slow drifts of the machine's load fall on both sides of each ratio.
GROUPS = [
    ["progress_1k", "progress_1m", "baseline", "access_member", "access_metered"],
    ["nginx_cache", "nginx_static"],
    ["dashboard_1m", "dashboard_10k"],
    ["webhooks_sqlite", "webhooks_postgres"],
]


def log(msg: str) -> None:
    print(msg, flush=True)


def base_env(url: str) -> dict[str, str]:
    from tests.stripe_events import PRICES_SETTING, SECRET

    return {
        "DATABASE_URL": url, "SERVICE_ENV": "development", "LOG_LEVEL": "WARNING", "RATELIMIT_ENABLED": "false",
        "STRIPE_PRICES": PRICES_SETTING, "STRIPE_WEBHOOK_SECRET": SECRET,
        "STRIPE_API_BASE": "http://127.0.0.1:9",  # nothing listens there: no call ever leaves the machine
        "METER_LIMIT": "1000000000",  # the metered reader keeps reading new articles (each one a write)
        "PROMETHEUS_MULTIPROC_DIR": "",
    }


def flask_cli(url: str, *args: str) -> str:
    env = {**os.environ, **base_env(url)}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    r = subprocess.run([str(harness.VENV_BIN / "flask"), "--app", "service", *args], cwd=ROOT, env=env,  # noqa: S603
                       capture_output=True, text=True, timeout=600)
    if r.returncode != 0:
        raise RuntimeError(f"flask {' '.join(args)} failed:\n{r.stdout}\n{r.stderr}")
    return r.stdout


def seeded_sqlite(work: Path, members: int, reuse: bool) -> tuple[str, dict]:
    path = work / f"bench-{members}.sqlite3"
    url = f"sqlite:///{path}"
    marker = path.with_suffix(".json")
    if reuse and path.exists() and marker.exists():
        log(f"reusing {path.name}")
        return url, {**json.loads(marker.read_text()), "reused": True}
    for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm"), marker):
        p.unlink(missing_ok=True)
    flask_cli(url, "db", "upgrade")
    flask_cli(url, "staff", "create", "--email", STAFF_EMAIL, "--role", "viewer", "--password", STAFF_PASSWORD)
    from service import create_app

    app = create_app({"DATABASE_URL": url, "RATELIMIT_ENABLED": False, "LOG_LEVEL": "WARNING"})
    info = seed.seed(app, members, log=log)
    with app.app_context():
        from service.extensions import db

        db.engine.dispose()
    marker.write_text(json.dumps(info))
    return url, info


def fresh_webhook_db(work: Path, postgres: bool) -> str | None:
    """A migrated database with the demo campaign and no members (SQLite file or the bench's PG database)."""
    if postgres:
        try:
            url = subprocess.run([str(ROOT / ".ci" / "pg"), "url", "membership_bench"], capture_output=True,  # noqa: S603
                                 text=True, check=True, timeout=60).stdout.strip()
        except (OSError, subprocess.SubprocessError) as exc:
            log(f"no PostgreSQL for the webhook figure ({exc}); skipped")
            return None
        import sqlalchemy as sa

        engine = sa.create_engine(url)
        with engine.begin() as conn:
            conn.execute(sa.text("DROP SCHEMA public CASCADE"))
            conn.execute(sa.text("CREATE SCHEMA public"))
        engine.dispose()
    else:
        path = work / "bench-webhooks.sqlite3"
        for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
            p.unlink(missing_ok=True)
        url = f"sqlite:///{path}"
    flask_cli(url, "db", "upgrade")
    flask_cli(url, "demo")
    return url


_people = iter(range(1, 10**9))


def webhook_events(path: Path, count: int) -> Path:
    """`count` signed events of new members' lifecycles, one request a line, signed now (5 min tolerance)."""
    from tests.stripe_events import Lifecycle, sign

    names = ("customer", "created", "first_paid", "first_payment", "renewed", "renewal_paid")
    start = datetime.now(UTC) - timedelta(days=90)
    lines = []
    while len(lines) < count:
        n = next(_people)
        events = Lifecycle(n=n, email=f"bench-wh{n}@example.org", start=start + timedelta(minutes=n % 10_000),
                           metadata={"campaign": SLUG, "plan": "monthly", "locale": "en", "source": "bench"}).events()
        for name in names:
            body = json.dumps(events[name], separators=(",", ":"))
            lines.append(f"{sign(body)}\t{body}")
    path.write_text("\n".join(lines[:count]) + "\n")
    return path


def _opener():  # noqa: ANN202
    """urllib with a cookie jar and no redirects followed (the bench needs no third-party client)."""
    import http.cookiejar
    import urllib.request

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):  # noqa: ANN002,ANN003,ANN202
            return None

    jar = http.cookiejar.CookieJar()
    return urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), NoRedirect()), jar


def _send(opener, url: str, data: bytes | None = None, headers: dict[str, str] | None = None):  # noqa: ANN001,ANN202
    import urllib.error
    import urllib.request

    req = urllib.request.Request(url, data=data, headers=headers or {}, method="POST" if data is not None else "GET")
    try:
        with opener.open(req, timeout=60) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def staff_cookie(base_url: str) -> str:
    from urllib.parse import urlencode

    opener, jar = _opener()
    _, page = _send(opener, base_url + "/staff/login")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.decode()).group(1)
    form = urlencode({"email": STAFF_EMAIL, "password": STAFF_PASSWORD, "csrf_token": csrf, "next": ""})
    status, _ = _send(opener, base_url + "/staff/login", form.encode(),
                      {"Content-Type": "application/x-www-form-urlencoded"})
    if status not in (302, 303):
        raise RuntimeError(f"staff sign-in failed: {status}")
    return "; ".join(f"{c.name}={c.value}" for c in jar)


def member_token(base_url: str, url: str) -> str:
    """A member joins through signed webhooks (the real path), then the CLI issues their token."""
    from tests.stripe_events import Lifecycle, dumps, sign

    opener, _ = _opener()
    events = Lifecycle(n=999_999_999, email=MEMBER_EMAIL, start=datetime.now(UTC) - timedelta(days=3)).events()
    for name in ("customer", "created", "first_paid"):
        body = dumps(events[name])
        status, _ = _send(opener, base_url + "/v1/webhooks/stripe", body.encode(),
                          {"Stripe-Signature": sign(body), "Content-Type": "application/json"})
        if status != 200:
            raise RuntimeError(f"webhook for the bench member answered {status}")
    return flask_cli(url, "member", "token", MEMBER_EMAIL).strip().splitlines()[-1]


def post_json(base_url: str, path: str, body: dict) -> dict:
    opener, _ = _opener()
    status, raw = _send(opener, base_url + path, json.dumps(body).encode(), {"Content-Type": "application/json"})
    if status != 200:
        raise RuntimeError(f"POST {path} answered {status}")
    return json.loads(raw)


@dataclass
class Target:
    url: str
    script: Path | None = None
    args: list[str] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)
    connections: int | None = None
    events: int = 0  # > 0: a fresh file of that many signed webhook events before each run

    def run(self, duration: float, connections: int, work: Path, name: str) -> harness.WrkResult:
        args = list(self.args)
        if self.events:
            args = [str(webhook_events(work / f"{name}.events", self.events)), "2"]
        return wrk(self.url, duration=duration, connections=self.connections or connections, script=self.script,
                   args=args, headers=self.headers)


def machine() -> dict:
    def version(argv: list[str]) -> str:
        try:
            r = subprocess.run(argv, capture_output=True, text=True, timeout=10)  # noqa: S603
            return (r.stdout + r.stderr).strip().splitlines()[0]
        except (OSError, IndexError, subprocess.SubprocessError):
            return "?"

    return {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version(),
            "nginx": version([harness.nginx_bin(), "-v"]), "wrk": version(["wrk", "-v"]),
            "gunicorn": version([str(harness.VENV_BIN / "gunicorn"), "--version"]),
            "loadavg_at_start": [round(x, 2) for x in os.getloadavg()]}


def fetch(url: str) -> tuple[bytes, dict[str, str]]:
    import urllib.request

    with urllib.request.urlopen(url, timeout=30) as r:  # noqa: S310
        return r.read(), dict(r.headers)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="one round of 3 s runs (a smoke test of the bench)")
    ap.add_argument("--rounds", type=int, default=None, help="alternations of all targets (default 3)")
    ap.add_argument("--duration", type=float, default=None, help="seconds per wrk run (default 5)")
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--members", type=int, default=1_000_000)
    ap.add_argument("--only", default="", help="comma-separated figure names (default: all)")
    ap.add_argument("--reuse", action="store_true", help="reuse seeded databases from bench/work/")
    ap.add_argument("--output", type=Path, default=RESULTS)
    args = ap.parse_args(argv)
    rounds = args.rounds or (1 if args.quick else 3)
    duration = args.duration or (3 if args.quick else 5)
    figures = [f for f in FIGURES if not args.only or f[0] in args.only.split(",")]
    wanted = {t for f in figures for t in f[1:3] if t}

    harness.ensure_tools(log)
    work = ROOT / "bench" / "work"
    work.mkdir(parents=True, exist_ok=True)
    started = time.time()
    info = machine()
    log(f"bench: {rounds} round(s) of {duration:g} s wrk runs, -t2 -c{args.connections}, on {info['cpus']} CPUs "
        f"(load {info['loadavg_at_start']})")

    dbs: dict[str, tuple[str, dict]] = {}
    if wanted & {"progress_1m", "nginx_cache", "nginx_static", "access_member", "access_metered", "dashboard_1m"}:
        dbs["big"] = seeded_sqlite(work, args.members, args.reuse)
    if "progress_1k" in wanted:
        dbs["small"] = seeded_sqlite(work, 1_000, args.reuse)
    if "dashboard_10k" in wanted:
        dbs["mid"] = seeded_sqlite(work, 10_000, args.reuse)
    webhook_dbs = {}
    if "webhooks_sqlite" in wanted:
        webhook_dbs["webhooks_sqlite"] = fresh_webhook_db(work, postgres=False)
    if "webhooks_postgres" in wanted:
        webhook_dbs["webhooks_postgres"] = fresh_webhook_db(work, postgres=True)

    servers: list[harness.Server] = []
    runs: dict[str, list[dict]] = {}
    notes: list[str] = []
    try:
        def serve(name: str, app: str, env: dict[str, str] | None, ready: str) -> harness.Server:
            s = gunicorn(name, app, free_port(), work, env, ready_path=ready).start()
            servers.append(s)
            return s

        targets: dict[str, Target] = {}
        if "baseline" in wanted:
            targets["baseline"] = Target(serve("baseline", "bench.baseline:app", None, "/hello").url + "/hello")
        svc = {key: serve(f"service-{key}", "service:create_app()", base_env(url), PROGRESS_PATH)
               for key, (url, _) in dbs.items()}
        if "progress_1m" in wanted:
            targets["progress_1m"] = Target(svc["big"].url + PROGRESS_PATH)
        if "progress_1k" in wanted:
            targets["progress_1k"] = Target(svc["small"].url + PROGRESS_PATH)
        if wanted & {"nginx_cache", "nginx_static"}:
            cache_port = free_port()
            body, headers = fetch(svc["big"].url + PROGRESS_PATH)
            ngx = nginx.server(work=work / "nginx", upstream_port=svc["big"].port, cache_port=cache_port,
                               static_port=free_port(), body=body, headers=headers)
            servers.append(ngx.start())
            targets["nginx_cache"] = Target(f"http://127.0.0.1:{cache_port}{PROGRESS_PATH}")
            targets["nginx_static"] = Target(f"{ngx.url}/progress.json")
        if "access_member" in wanted:
            token = member_token(svc["big"].url, dbs["big"][0])
            body = {"article": {"id": "2025/06/city-budget", "section": "news"}, "member_token": token}
            check = post_json(svc["big"].url, "/v1/access", body)
            if check.get("reason") != "member":
                raise RuntimeError(f"the bench member is not a member: {check.get('reason')}")
            targets["access_member"] = Target(svc["big"].url + "/v1/access", LUA / "post_json.lua",
                                              [json.dumps(body)])
        if "access_metered" in wanted:
            first = post_json(svc["big"].url, "/v1/access", {"article": {"id": "bench-first", "section": "news"}})
            if first.get("reason") != "metered":
                raise RuntimeError(f"the bench reader is not metered: {first.get('reason')}")
            body = {"article": {"id": "bench-{n}", "section": "news"}, "reader_id": first["reader_id"]}
            targets["access_metered"] = Target(svc["big"].url + "/v1/access", LUA / "post_json.lua",
                                               [json.dumps(body)])
        for name in ("dashboard_1m", "dashboard_10k"):
            if name in wanted:
                s = svc["big" if name == "dashboard_1m" else "mid"]
                targets[name] = Target(f"{s.url}/staff/campaigns/{SLUG}", headers={"Cookie": staff_cookie(s.url)},
                                       connections=8)
        for name, url in webhook_dbs.items():
            if url is None:
                notes.append(f"{name}: no database, not measured")
                continue
            s = serve(name.replace("_", "-"), "service:create_app()", base_env(url), PROGRESS_PATH)
            targets[name] = Target(s.url + "/v1/webhooks/stripe", LUA / "post_lines.lua", connections=SENDERS,
                                   events=int(duration * 1500) + 500)

        for name, t in targets.items():  # warm up: caches, connections, code paths
            if not t.events:
                t.run(1, 4, work, name)
        runs = {name: [] for name in targets}
        for r in range(rounds):
            for group in GROUPS:
                order = [n for n in (group if r % 2 == 0 else reversed(group)) if n in targets]
                for name in order:
                    res = targets[name].run(duration, args.connections, work, name)
                    runs[name].append({**res.__dict__, "ok_rps": round(res.ok_rps, 1)})
                    extra = []
                    if res.non_2xx or res.socket_errors:
                        extra.append(f"{res.non_2xx} non-2xx, {res.socket_errors} socket errors")
                    if res.wrapped:
                        extra.append("ran out of events: some repeated")
                    log(f"  round {r + 1}/{rounds} {name:<18} {res.ok_rps:>10,.0f} req/s"
                        + (f"  ({'; '.join(extra)})" if extra else ""))
    finally:
        for s in reversed(servers):
            s.stop()

    medians = {name: statistics.median(x["ok_rps"] for x in rs) for name, rs in runs.items() if rs}
    results_figures = []
    for name, num, den, op, threshold, desc in figures:
        if not runs.get(num) or (den is not None and not runs.get(den)):
            continue
        if den is None:
            per_round = [x["ok_rps"] for x in runs[num]]
        else:  # each round's ratio of two runs measured next to each other, then the median
            per_round = [a["ok_rps"] / b["ok_rps"] if b["ok_rps"] else 0.0 for a, b in zip(runs[num], runs[den],
                                                                                          strict=True)]
        value = statistics.median(per_round)
        met = value >= threshold if op == ">=" else value <= threshold
        results_figures.append({
            "name": name, "value": round(value, 3), "target": f"{op} {threshold}", "met": met,
            "per_round": [round(v, 3) for v in per_round],
            "numerator": round(medians[num], 1), "denominator": round(medians[den], 1) if den else None,
            "description": desc})
    results = {
        "command": "make bench" + (f" BENCH_ARGS=\"{' '.join(argv if argv is not None else sys.argv[1:])}\""
                                   if (argv if argv is not None else sys.argv[1:]) else ""),
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "duration_s": round(time.time() - started, 1),
        "machine": {**info, "loadavg_at_end": [round(x, 2) for x in os.getloadavg()]},
        "settings": {"rounds": rounds, "wrk": f"-t2 -c{args.connections} -d{duration:g}s "
                     f"(webhooks -c{SENDERS}, dashboard -c8)",
                     "gunicorn": "2 sync workers on 127.0.0.1, the same settings for the service and the baseline",
                     "database": "SQLite (WAL) unless named; PostgreSQL from .ci/pg for webhooks_postgres",
                     "service_env": "SERVICE_ENV=development, LOG_LEVEL=WARNING, RATELIMIT_ENABLED=false"},
        "seed": {k: v[1] for k, v in dbs.items()},
        "medians_rps": {k: round(v, 1) for k, v in medians.items()},
        "runs": runs,
        "figures": results_figures,
        "notes": notes,
    }
    args.output.write_text(json.dumps(results, indent=2) + "\n")
    print_table(results)
    out = args.output
    log(f"wrote {out.relative_to(ROOT) if out.is_relative_to(ROOT) else out}")
    return 0


def print_table(results: dict) -> None:
    log("")
    log(f"{'target':<18} {'median req/s':>13}   runs")
    for name, rps in results["medians_rps"].items():
        runs = ", ".join(f"{x['ok_rps']:,.0f}" for x in results["runs"][name])
        log(f"{name:<18} {rps:>13,.0f}   {runs}")
    log("")
    log(f"{'figure':<28} {'value':>9}  {'target':<8}  result")
    for f in results["figures"]:
        log(f"{f['name']:<28} {f['value']:>9,.3f}  {f['target']:<8}  {'met' if f['met'] else 'NOT MET'}")
    for note in results.get("notes", []):
        log(f"note: {note}")


if __name__ == "__main__":
    sys.exit(main())
