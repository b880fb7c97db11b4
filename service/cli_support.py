"""Helpers shared by the Flask CLI commands of every feature package."""

from __future__ import annotations

import functools
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import date
from typing import Any, TypeVar

import click

from service.errors import DomainError

T = TypeVar("T")


def operator() -> str:
    """Who runs a CLI command, for the audit log: the operating-system user (`--by` overrides it)."""
    import getpass

    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no login name and no passwd entry (some containers)
        return "cli"


def by_option(fn: Callable[..., Any]) -> Callable[..., Any]:
    """`--by NAME` on a command that changes things: who did it, in the audit log."""
    return click.option("--by", "by", default=operator, show_default="the operating-system user",
                        help="Who makes this change (for the audit log)")(fn)


def domain_errors(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Turn DomainError into a clear message and exit status 1, never a traceback; roll back."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from service.extensions import db

        try:
            return fn(*args, **kwargs)
        except DomainError as exc:
            db.session.rollback()
            raise click.ClickException(exc.detail) from exc

    return wrapper


class DateParam(click.ParamType):
    name = "YYYY-MM-DD"

    def convert(self, value: Any, param: Any, ctx: Any) -> date:
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(value)
        except ValueError:
            self.fail(f"{value!r} is not a date in the form YYYY-MM-DD", param, ctx)


DATE = DateParam()


def progress(items: Iterable[T], total: int | None, label: str, every: int = 1000) -> Iterator[T]:
    """A progress bar on a terminal; a line every `every` items (and at the end) otherwise."""
    if sys.stderr.isatty():
        with click.progressbar(items, length=total, label=label, file=sys.stderr) as bar:
            yield from bar
        return
    started = time.monotonic()
    n = 0
    for n, item in enumerate(items, 1):
        if n % every == 0:
            of = f"/{total}" if total is not None else ""
            click.echo(f"{label}: {n}{of} ({time.monotonic() - started:.1f}s)", err=True)
        yield item
    click.echo(f"{label}: {n} done in {time.monotonic() - started:.1f}s", err=True)
