"""`python -m bench.report`: bench/results.json as the Markdown table in README's Performance section."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from bench.__main__ import RESULTS

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


def table(results: dict) -> str:
    rows = ["| Figure | Measured | Target | Met | Medians (req/s) |", "| --- | ---: | --- | --- | --- |"]
    for f in results["figures"]:
        value = f"{f['value']:,.0f}/s" if f["name"].endswith("_per_s") else f"{f['value']:.2f}"
        medians = f"{f['numerator']:,.0f}" + (f" / {f['denominator']:,.0f}" if f["denominator"] else "")
        if f["name"] == "dashboard_1m_vs_10k_time":
            medians = f"{f['numerator']:,.1f} (10k) / {f['denominator']:,.1f} (1M)"
        target = f["target"].replace(">=", "≥").replace("<=", "≤")
        rows.append(f"| {LABELS.get(f['name'], f['name'])} | {value} | {target}"
                    f" | {'yes' if f['met'] else '**no**'} | {medians} |")
    return "\n".join(rows)


def main() -> int:
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else RESULTS
    results = json.loads(path.read_text())
    m = results["machine"]
    print(table(results))
    print()
    print(f"`{results['command']}`, {results['generated_at']}: {results['settings']['rounds']} rounds of wrk "
          f"{results['settings']['wrk']}; each figure is the median of its per-round ratios; "
          f"{m['cpus']} CPUs ({m['platform']}), Python {m['python']}, "
          f"{m['gunicorn']}, {m['nginx']}; load average {m['loadavg_at_start'][0]} at the start and "
          f"{m['loadavg_at_end'][0]} at the end; {results['duration_s']:.0f} s in all.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
