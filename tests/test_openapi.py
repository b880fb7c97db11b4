"""openapi.yaml is the public contract: the app and the committed file must not drift apart."""

from pathlib import Path

import yaml
from openapi_spec_validator import validate

ROOT = Path(__file__).resolve().parent.parent


def test_committed_openapi_matches_the_app(app):
    from service.extensions import api

    generated = api.spec.to_dict()
    committed = yaml.safe_load((ROOT / "openapi.yaml").read_text())
    assert generated == committed, (
        "openapi.yaml is out of date with the app: run `make openapi` and review the diff")


def test_openapi_document_is_valid_3_1():
    spec = yaml.safe_load((ROOT / "openapi.yaml").read_text())
    assert spec["openapi"].startswith("3.1")
    validate(spec)


def test_every_flask_route_under_v1_is_documented(app):
    spec = yaml.safe_load((ROOT / "openapi.yaml").read_text())
    documented = set()
    for path, ops in spec["paths"].items():
        for method in ops:
            if method != "parameters":
                documented.add((path, method.upper()))
    missing = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(("/v1/", "/.well-known/")):
            continue
        path = rule.rule.replace("<", "{").replace(">", "}")
        path = __import__("re").sub(r"\{[a-z_]+:", "{", path)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            if (path, method) not in documented:
                missing.append(f"{method} {path}")
    assert not missing, f"routes missing from openapi.yaml: {missing}"
