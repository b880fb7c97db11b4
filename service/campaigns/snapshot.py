"""The last progress document of each campaign, on disk, shared by every worker of the host (no Flask).

A worker that computes a progress document saves it here; a worker that cannot reach the database and
has nothing in memory (it never served the campaign, or gunicorn's `max_requests` just restarted it)
answers from here, marked stale, instead of a 503 (see ProgressCache).

- One file per campaign and banner locale: requested locales that render the same document share it
  (`uk-UA` without copy of its own is the `uk` document; a locale the campaign has no copy in is the
  default document). A campaign has at most one file per locale it has copy in, plus its default.
- Only documents of campaigns that exist are saved (an unknown slug never computes one).
- A file name is a hash of (slug, locale): no part of a request ever reaches a path. The first line
  repeats the key and the body's length, so a file for another key, or a cut-short one, is not used.
- Written atomically (temporary file in the same folder, then `os.replace`): readers see a whole
  document, the old or the new one. A worker rewrites a file only when the document changed since it
  last wrote it. Saving is best effort: a full or read-only disk never fails a request.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from collections.abc import Mapping
from contextlib import suppress
from datetime import UTC, datetime
from typing import Any

log = logging.getLogger(__name__)
DEFAULT = ""  # the label of the document a reader gets when no copy matches their locale


def _language(locale: str | None) -> str | None:
    return locale.split("_")[0] if locale else None


def label_of(requested: str | None, used: str) -> str:
    """The file a document belongs to: the locale its copy came from when the reader asked for that
    locale (or its language), else the default document (the same bytes a request without a locale gets)."""
    used = used.replace("-", "_")
    return used if requested and used in (requested, _language(requested)) else DEFAULT


class SnapshotStore:
    def __init__(self, folder: str) -> None:
        self.folder = os.path.realpath(folder)
        self._written: dict[str, bytes] = {}  # file name -> digest of what this worker last wrote there
        self._warned = False

    def path(self, slug: str, label: str) -> str:
        digest = hashlib.blake2b(f"{slug}\0{label}".encode(errors="surrogatepass"), digest_size=16).hexdigest()
        return os.path.join(self.folder, digest + ".json")

    def save(self, key: tuple[str, str | None], body: bytes) -> None:
        """Keep `body`, the progress document of key (slug, requested locale), unless this worker
        wrote the same bytes there already."""
        slug, requested = key
        try:
            used = json.loads(body)["banner"]["locale"]
        except (ValueError, KeyError, TypeError):
            return
        label = label_of(requested, str(used))
        path = self.path(slug, label)
        digest = hashlib.blake2b(body, digest_size=16).digest()
        if self._written.get(path) == digest:
            return
        header = json.dumps([slug, label, len(body)]).encode() + b"\n"
        try:
            os.makedirs(self.folder, mode=0o750, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=self.folder)
            try:
                with os.fdopen(fd, "wb") as f:
                    f.write(header + body)
                os.replace(tmp, path)
            except BaseException:
                with suppress(OSError):
                    os.unlink(tmp)
                raise
        except OSError as exc:
            if not self._warned:  # once per worker: the log must not fill with it
                self._warned = True
                log.warning("progress snapshot not written to %s: %s", self.folder, exc)
            return
        self._written[path] = digest

    def load(self, key: tuple[str, str | None]) -> bytes | None:
        """The last document saved for key, or for the locale it falls back to; None if there is none."""
        found = self._find(key)
        return found[1] if found else None

    def saved_at(self, key: tuple[str, str | None]) -> datetime | None:
        """When the document `load` gives was written (its data was read from the database then or later)."""
        found = self._find(key)
        try:
            return datetime.fromtimestamp(os.path.getmtime(found[0]), UTC) if found else None
        except OSError:
            return None

    def _find(self, key: tuple[str, str | None]) -> tuple[str, bytes] | None:
        slug, requested = key
        for label in dict.fromkeys(x for x in (requested, _language(requested), DEFAULT) if x is not None):
            body = self._read(slug, label)
            if body is not None:
                return self.path(slug, label), body
        return None

    def _read(self, slug: str, label: str) -> bytes | None:
        try:
            with open(self.path(slug, label), "rb") as f:
                data = f.read(1 << 20)
        except OSError:
            return None
        header, _, body = data.partition(b"\n")
        try:
            expected = json.loads(header)
        except ValueError:
            return None
        return body if expected == [slug, label, len(body)] else None


def from_config(config: Mapping[str, Any], instance_path: str) -> SnapshotStore | None:
    """PROGRESS_SNAPSHOT_DIR: a folder shared by the host's workers; empty means the instance folder's
    `progress-snapshots`, `off` keeps none (a worker then answers 503 for a campaign it never served)."""
    folder = str(config.get("PROGRESS_SNAPSHOT_DIR") or "").strip()
    if folder.lower() == "off":
        return None
    return SnapshotStore(folder or os.path.join(instance_path, "progress-snapshots"))
