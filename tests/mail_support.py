"""Helpers for the mail tests: a real SMTP server on 127.0.0.1 (aiosmtpd) whose answers a test scripts,
and an app that sends to it."""

from __future__ import annotations

import socket
import threading
from email import message_from_bytes, policy
from email.message import EmailMessage

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ScriptedInbox:
    """Accepts mail (250) unless `answers` says otherwise: each DATA takes the next answer while any are
    left (e.g. "451 4.3.0 Try again later", then the default)."""

    def __init__(self, answers: list[str] | None = None) -> None:
        self.answers = list(answers or [])
        self.messages: list[tuple[list[str], EmailMessage]] = []
        self.attempts = 0
        self._lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        with self._lock:
            self.attempts += 1
            answer = self.answers.pop(0) if self.answers else "250 OK"
            if answer.startswith("250"):
                self.messages.append((envelope.rcpt_tos, message_from_bytes(envelope.content, policy=policy.default)))
        return answer

    def by_id(self) -> dict[str, int]:
        """How many times each Message-ID arrived."""
        out: dict[str, int] = {}
        for _, msg in self.messages:
            out[msg["Message-ID"]] = out.get(msg["Message-ID"], 0) + 1
        return out


def smtp_server():
    """For a fixture: `yield from smtp_server()` (the controller, with `.inbox`)."""
    inbox = ScriptedInbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    controller.inbox = inbox
    yield controller
    controller.stop()


def parts(msg: EmailMessage) -> tuple[str, str]:
    """(plain text, HTML) of a multipart/alternative mail."""
    assert msg.get_content_type() == "multipart/alternative"
    return msg.get_body(("plain",)).get_content(), msg.get_body(("html",)).get_content()
