"""docs/configuration.md, rendered from the settings table (service/config.py). No Flask.

`python -m service.config_docs` writes the file; `--check` exits 1 when it differs from the table
(tests/test_config.py runs the same comparison).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from service.config import SECRETS, SETTINGS, URL_SETTINGS

PATH = Path(__file__).resolve().parent.parent / "docs" / "configuration.md"

INTRO = """\
# Configuration

<!-- Generated from SETTINGS in service/config.py by `python -m service.config_docs`; edit the table,
not this file (tests/test_config.py fails when they drift). -->

Every setting is an environment variable, read once when the app is created (tests pass the same
names in a mapping to `create_app`). An unset or empty variable takes the default, which is meant
for development: `make run` needs none of them.

`SERVICE_ENV` is `development`, `test` or `production`; anything else is refused at start. With
`SERVICE_ENV=production` (what `make serve` sets unless told otherwise):

- each setting marked **secret** must be set, and not to its development default; `SECRET_KEY` has
  at least 32 characters; `STRIPE_WEBHOOK_SECRET` may hold several secrets separated by commas
  (rotation), and each one, trimmed, must start with `whsec_`;
- each setting marked **https** holds absolute `https://` URLs (in development `http://` is
  accepted too), with a host, no credentials, no spaces or control characters (`service/urls.py`);
- `SMTP_URL` is set, or `MAIL_DISABLED=true` says that member mail stays in the outbox on purpose.

The app (and `flask`, and gunicorn's master before any worker starts) refuses to start otherwise,
with one message naming every problem and exit status 2; secret values are never shown.
"""


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _default(value: Any) -> str:
    if value is None or value == "":
        return "(empty)"
    if isinstance(value, bool):
        return "`true`" if value else "`false`"
    return f"`{_cell(str(value))}`"


def _production(name: str) -> str:
    marks = []
    if name in SECRETS:
        marks.append("**secret**, required")
    if name in URL_SETTINGS:
        marks.append("**https**")
    return ", ".join(marks)


def configuration_markdown() -> str:
    rows = ["| Setting | Default | In production | Meaning |", "|---|---|---|---|"]
    for name, entry in SETTINGS.items():
        doc = entry[2] if len(entry) > 2 else ""
        rows.append(f"| `{name}` | {_default(entry[0])} | {_production(name)} | {_cell(doc)} |")
    return INTRO + "\n" + "\n".join(rows) + "\n"


def main(argv: list[str]) -> int:
    text = configuration_markdown()
    if "--check" in argv:
        if not PATH.exists() or PATH.read_text(encoding="utf-8") != text:
            print(f"{PATH} is out of date: run python -m service.config_docs", file=sys.stderr)  # noqa: T201
            return 1
        return 0
    PATH.write_text(text, encoding="utf-8")
    print(f"wrote {PATH}")  # noqa: T201
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
