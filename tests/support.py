"""Helpers shared by test modules: the SQL statements an engine runs, and a WSGI app served in a thread."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from werkzeug.serving import make_server


class Statements:
    """The SQL statements `engine` runs inside the `with` block, in `.sql`."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine, self.sql = engine, []

    def __enter__(self) -> Statements:
        sa.event.listen(self.engine, "before_cursor_execute", self._on)
        return self

    def __exit__(self, *exc: Any) -> None:
        sa.event.remove(self.engine, "before_cursor_execute", self._on)

    def _on(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        self.sql.append(statement)


class ThreadedServer:
    """A WSGI app on 127.0.0.1 (a free port) served by threads; `.url` is its base URL. Stops at `stop()`
    or at the end of a `with` block."""

    def __init__(self, wsgi: Callable) -> None:
        self.httpd = make_server("127.0.0.1", 0, wsgi, threaded=True)
        self.url = f"http://127.0.0.1:{self.httpd.server_port}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def __enter__(self) -> ThreadedServer:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def stop(self) -> None:
        if self.thread.is_alive():
            self.httpd.shutdown()
            self.httpd.server_close()
            self.thread.join(5)
