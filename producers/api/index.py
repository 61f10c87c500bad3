"""What the intake knows of reports it (or another intake) accepted lately.

Built from the reports topic itself, so it survives an intake restart: on
start the intake reads the last ``intake_index_hours`` of the topic, then
follows it. This is what lets a repeat be answered with the same 202 or a
409, and a ``GET`` say ``received`` the moment after the 202, before any
worker has processed the report.

It stays bounded: a report confirmed as a case and older than the window
is forgotten (a repeat of it then asks the workers, which know every
report), and past ``intake_index_max`` entries the oldest confirmed ones go
first. A report not yet confirmed is never forgotten: the re-drive needs
its body.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from infra.settings import Settings
from infra.tail import FollowedTopic, TopicTail
from schemas.report import AcceptedReport
from schemas.topics import REPORTS


@dataclass
class Seen:
    """The first accepted version of a report, kept whole until it is a case."""

    fingerprint: str
    received_at: datetime
    reporter_id: str
    report: AcceptedReport | None  # dropped once the report is confirmed as a case
    redrives: int = 0
    next_check: datetime | None = None  # backs off after each re-drive


class ReportIndex(FollowedTopic):
    """report_id → the first accepted version of it."""

    #: remembers between two sweeps of the old entries
    SWEEP_EVERY = 1000

    def __init__(self, settings: Settings) -> None:
        self._seen: dict[str, Seen] = {}  # in the order first seen, which is about the order received
        self._lock = threading.Lock()
        self._window = timedelta(hours=settings.intake_index_hours)
        self._max = settings.intake_index_max
        self._until_sweep = self.SWEEP_EVERY
        since_ms = int((time.time() - settings.intake_index_hours * 3600) * 1000)
        self._tail = TopicTail(settings, settings.topic(REPORTS.name), self._on_record, since_ms=since_ms)


    def _on_record(self, _key: bytes | None, value: bytes | None, _ts: int) -> None:
        if value is None:
            return
        report = AcceptedReport.model_validate_json(value)
        self.remember(report)

    def remember(self, report: AcceptedReport) -> Seen:
        """Record ``report`` unless an earlier version is known; return the first version."""
        key = str(report.report_id)
        with self._lock:
            seen = self._seen.get(key)
            if seen is None:
                seen = Seen(report.fingerprint_sha256, report.received_at, report.reporter_id, report)
                self._seen[key] = seen
                self._until_sweep -= 1
                if self._until_sweep <= 0 or len(self._seen) > self._max:
                    self._sweep(datetime.now(timezone.utc) - self._window)
            return seen

    def _sweep(self, cutoff: datetime) -> None:
        """Forget confirmed reports received before ``cutoff``, and the oldest confirmed ones past the cap."""
        self._until_sweep = self.SWEEP_EVERY
        over = len(self._seen) - self._max
        gone = []
        for key, seen in self._seen.items():
            if seen.report is not None:
                continue  # not yet a case: the re-drive may need it
            if seen.received_at < cutoff or over > 0:
                gone.append(key)
                over -= 1
            elif over <= 0:
                break  # newer than the window from here on (about: topic order), and under the cap
        for key in gone:
            del self._seen[key]

    def unconfirmed(self, older_than: datetime, now: datetime, limit: int) -> list[tuple[str, Seen]]:
        """Reports accepted before ``older_than``, not yet confirmed as cases and due a check (oldest first)."""
        with self._lock:
            waiting = [
                (k, s)
                for k, s in self._seen.items()
                if s.report is not None
                and s.received_at < older_than
                and (s.next_check is None or s.next_check <= now)
            ]
        waiting.sort(key=lambda item: item[1].received_at)
        return waiting[:limit]

    def confirm(self, report_id: str) -> None:
        """The report is a case: its body is no longer needed here."""
        seen = self._seen.get(report_id)
        if seen is not None:
            seen.report = None

    def get(self, report_id: str) -> Seen | None:
        return self._seen.get(report_id)

    def __len__(self) -> int:
        return len(self._seen)
