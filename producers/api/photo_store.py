"""Photos on disk, content-addressed, with who uploaded each and what cites it.

Layout under ``GRIDFLOW_HOME/photos`` (``<id>``: the first 32 hex digits of
the content's SHA-256)::

    <id[:2]>/<id>             the image
    <id[:2]>/<id>.json        type, size, first uploader, time
    <id[:2]>/<id>.refs/       one empty file per fact, its name the fact:
        up-<user_id>              an account that uploaded these bytes
        report-<report_id>        a report that cites the photo
        case-<case_id>            a case an action cited it on

The same bytes uploaded by two accounts (one picture forwarded to two grid
workers) are one photo with two uploaders, each free to cite it. Facts are
files, not lines of one record, so two requests recording at once never
lose each other's; recording one twice is recording it once.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple


class Citations(NamedTuple):
    """What cites a photo, oldest first."""

    report_ids: list[str]
    case_ids: list[str]


class PhotoStore:
    """Photos on disk, content-addressed."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def path(self, photo_id: str) -> Path:
        return self.folder / photo_id[:2] / photo_id

    def save(self, data: bytes, content_type: str, uploader: str) -> str:
        """Store ``data`` (atomically) and return its id; the same bytes give the same id. Records the uploader."""
        photo_id = hashlib.sha256(data).hexdigest()[:32]
        target = self.path(photo_id)
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_bytes(data)
            meta = {"content_type": content_type, "bytes": len(data), "uploader": uploader,
                    "uploaded_at": datetime.now(UTC).isoformat()}  # fmt: skip
            target.with_suffix(".json").write_text(json.dumps(meta, ensure_ascii=False))
            os.replace(tmp, target)
        self._record(photo_id, f"up-{uploader}")
        return photo_id

    def meta(self, photo_id: str) -> dict[str, Any] | None:
        record = self.path(photo_id).with_suffix(".json")
        if not self.path(photo_id).exists() or not record.exists():
            return None
        return json.loads(record.read_text())

    def uploaded_by(self, photo_id: str, user_id: str) -> bool:
        """True if ``user_id`` uploaded these bytes (photos stored before uploaders were recorded: the first one)."""
        if (self._refs(photo_id) / f"up-{user_id}").exists():
            return True
        meta = self.meta(photo_id)
        return meta is not None and meta.get("uploader") == user_id

    def not_uploaded_by(self, photo_ids: Iterable[str], user_id: str) -> list[str]:
        """The ids among ``photo_ids`` that ``user_id`` did not upload (unknown ids included)."""
        return [p for p in photo_ids if not self.uploaded_by(p, user_id)]

    def cite(self, photo_ids: Iterable[str], *, report_id: str | None = None, case_id: str | None = None) -> None:
        """Record that a report (or an action on a case) cites each of ``photo_ids``."""
        fact = f"report-{report_id}" if report_id else f"case-{case_id}"
        for photo_id in photo_ids:
            self._record(photo_id, fact)

    def citations(self, photo_id: str) -> Citations:
        """The reports and cases citing ``photo_id``, oldest first."""
        refs = self._refs(photo_id)
        found = sorted(refs.iterdir(), key=lambda p: p.stat().st_mtime_ns) if refs.is_dir() else []
        names = [p.name for p in found]
        return Citations(
            report_ids=[n[len("report-"):] for n in names if n.startswith("report-")],
            case_ids=[n[len("case-"):] for n in names if n.startswith("case-")],
        )  # fmt: skip

    def _refs(self, photo_id: str) -> Path:
        return self.path(photo_id).with_suffix(".refs")

    def _record(self, photo_id: str, fact: str) -> None:
        refs = self._refs(photo_id)
        refs.mkdir(parents=True, exist_ok=True)
        try:  # created once: its time stays the first citation's
            os.close(os.open(refs / fact, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644))
        except FileExistsError:
            pass
