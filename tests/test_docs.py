"""The manual stays true: a short README, links and named files that exist, `make` targets that exist,
and bench/RESULTS.md exactly as `python -m bench.report` renders it from bench/results.json."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from bench import report

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DOCS = sorted((ROOT / "docs").glob("*.md"))
RESULTS_MD = ROOT / "bench" / "RESULTS.md"
MANUAL = [README, *DOCS]

FENCE = re.compile(r"^```.*?^```[ \t]*$", re.S | re.M)
INLINE_CODE = re.compile(r"`[^`\n]+`")
LINK = re.compile(r"!?\[[^\]\n]*\]\(([^()\s]+)(?:\s+\"[^\"]*\")?\)")
REFERENCE = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*(\S+)", re.M)
HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", re.M)
SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
MAKE = re.compile(r"(?:^|[\s;&|(])make\s+([a-z][\w-]*)")
REPO_PATH = re.compile(r"`((?:service|bench|tests|deploy|migrations|docs)/[\w./-]*)`")


def rel(path: Path) -> str:
    return str(path.relative_to(ROOT))


def prose(text: str) -> str:
    """The text without code: fenced blocks and inline code spans hold no links."""
    return INLINE_CODE.sub("", FENCE.sub("", text))


def code(text: str) -> list[str]:
    return FENCE.findall(text) + INLINE_CODE.findall(FENCE.sub("", text))


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[`*_]|\[([^\]]*)\]\([^)]*\)", lambda m: m.group(1) or "", heading).strip().lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(path: Path) -> set[str]:
    seen: dict[str, int] = {}
    out = set()
    for heading in HEADING.findall(FENCE.sub("", path.read_text())):
        base = slug(heading)
        n = seen.get(base, 0)
        seen[base] = n + 1
        out.add(base if n == 0 else f"{base}-{n}")
    return out


def links(path: Path) -> list[str]:
    text = prose(path.read_text())
    return LINK.findall(text) + REFERENCE.findall(text)


def test_readme_is_a_short_manual() -> None:
    lines = README.read_text().splitlines()
    assert len(lines) <= 250, f"README.md has {len(lines)} lines; move detail into docs/"


def test_slug_follows_github() -> None:
    assert slug("A Stripe webhook, from the view to the banner") == "a-stripe-webhook-from-the-view-to-the-banner"
    assert slug("Rate limits, and why Redis") == "rate-limits-and-why-redis"
    assert slug("Stripe status → membership status") == "stripe-status--membership-status"


@pytest.mark.parametrize("doc", [*MANUAL, RESULTS_MD], ids=rel)
def test_relative_links_resolve(doc: Path) -> None:
    broken = []
    for target in links(doc):
        if SCHEME.match(target):
            continue  # http(s), mailto: not checked here (no network in tests)
        path, _, anchor = target.partition("#")
        dest = (doc.parent / path).resolve() if path else doc
        if not dest.exists():
            broken.append(f"{target}: no such file")
        elif anchor and dest.suffix == ".md" and anchor not in anchors(dest):
            broken.append(f"{target}: no heading #{anchor} in {rel(dest)}")
    assert not broken, f"{rel(doc)}: {broken}"


def test_manual_links_every_doc() -> None:
    """Every page of docs/ is reachable from the README."""
    linked = {(README.parent / t.partition("#")[0]).resolve() for t in links(README) if not SCHEME.match(t)}
    assert [rel(d) for d in DOCS if d.resolve() not in linked] == []


@pytest.mark.parametrize("doc", MANUAL, ids=rel)
def test_repository_paths_named_exist(doc: Path) -> None:
    """The map names real modules: a rename that leaves the manual behind fails here."""
    named = {p for span in code(doc.read_text()) for p in REPO_PATH.findall(f"`{span.strip('`')}`")}
    named |= set(REPO_PATH.findall(doc.read_text()))
    missing = sorted(p for p in named if not (ROOT / p.rstrip("/")).exists())
    assert missing == [], f"{rel(doc)} names files that do not exist: {missing}"


def test_make_targets_named_exist() -> None:
    makefile = (ROOT / "Makefile").read_text()
    targets = set(re.findall(r"^([A-Za-z0-9_.-]+)\s*:(?!=)", makefile, re.M))
    named = {}
    for doc in MANUAL:
        for span in code(doc.read_text()):
            for target in MAKE.findall(span):
                named.setdefault(target, rel(doc))
    assert {"run", "test"} <= set(named), "the README's quick start names make run and make test"
    missing = {t: where for t, where in named.items() if t not in targets}
    assert missing == {}, f"make targets named in the manual but not in the Makefile: {missing}"


def test_bench_results_are_generated_from_results_json() -> None:
    rendered = report.render(json.loads((ROOT / "bench" / "results.json").read_text()))
    assert RESULTS_MD.read_text() == rendered, "bench/RESULTS.md is stale: run .venv/bin/python -m bench.report"
    for figure in json.loads((ROOT / "bench" / "results.json").read_text())["figures"]:
        assert report.LABELS[figure["name"]] in rendered


def test_benchmark_journal_lives_in_results_md_only() -> None:
    text = README.read_text()
    assert "bench/RESULTS.md" in text
    assert not re.search(r"load average|req(uests)?/s\b", text), "benchmark figures belong in bench/RESULTS.md"


def test_every_operation_of_the_contract_is_in_the_api_overview():
    """docs/api.md names every path of openapi.yaml (a new endpoint is documented where readers look)."""
    import yaml

    spec = yaml.safe_load((ROOT / "openapi.yaml").read_text())
    overview = (ROOT / "docs" / "api.md").read_text()
    missing = [path for path in spec["paths"] if path not in overview and path.rsplit("/", 1)[-1] not in overview]
    assert not missing, f"docs/api.md does not name: {missing}"
