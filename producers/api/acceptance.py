"""Accepting a report (受理): the one path every way in takes — the phone form, a network's push, a batch import.

The answer is given only after Kafka acknowledged the report (acks=all). A
repeat of a report (same id, same fingerprint, same reporter) gets the same
answer — the same body; the response header ``X-Gridflow-Repeat: 1`` tells
a batch import that nothing new was done — and a changed repeat is a 409
naming ``report_id``.
The intake's index covers the last ``GRIDFLOW_INTAKE_INDEX_HOURS``; a
network's event older than that (last month's export imported again) is
recognised by the workers' record of it, so re-running a file creates
nothing however old it is.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timezone
from typing import Any, NamedTuple
from uuid import UUID
from weakref import WeakValueDictionary

from pydantic import BaseModel, Field

from producers.api.errors import ApiError, unavailable
from producers.api.index import ReportIndex
from producers.api.photo_store import PhotoStore
from producers.api.photos import require_own
from producers.api.worker_client import CaseReader, WorkersUnavailable
from producers.api.writer import KafkaUnavailable, ReportWriter
from schemas.account import Account
from schemas.pii import mask_phone
from schemas.report import AcceptedReport, NetworkOrigin, Report, fingerprint
from schemas.vocabulary import CaseState

logger = logging.getLogger(__name__)


class ReportReceipt(BaseModel):
    """受理回执: the report is safely in Kafka."""

    report_id: UUID
    status: CaseState
    received_at: datetime
    mapping_note: str | None = Field(
        default=None, description="A network's code that did not map: the case waits for manual triage (待人工分拨)"
    )


#: set on the answer to a repeat (the body is the first answer's)
REPEAT_HEADER = "X-Gridflow-Repeat"


class Accepted(NamedTuple):
    """The receipt, and whether the report had been accepted before."""

    receipt: ReportReceipt
    repeat: bool = False

    def headers(self) -> dict[str, str]:
        return {REPEAT_HEADER: "1"} if self.repeat else {}


class Acceptance:
    """Index, writer and the workers' record, behind one ``accept``."""

    def __init__(self, index: ReportIndex, writer: ReportWriter, cases: CaseReader, photos: PhotoStore) -> None:
        self.index = index
        self.writer = writer
        self.cases = cases
        self.photos = photos
        self._locks: WeakValueDictionary[str, asyncio.Lock] = WeakValueDictionary()

    async def accept(self, report: Report, account: Account, origin: NetworkOrigin | None = None) -> Accepted:
        """Write ``report`` (from ``account``) to Kafka once; answer a repeat as before, refuse a changed one."""
        if not self.index.ready:
            raise unavailable("服务正在启动，请稍后重试")
        require_own(self.photos, report.photo_ids, account, field="photo_ids")  # citing grants sight: own photos only
        key = str(report.report_id)
        print_ = fingerprint(report, origin)
        lock = self._locks.get(key)
        if lock is None:
            lock = self._locks[key] = asyncio.Lock()
        async with lock:  # two copies of one report in flight: the second waits for the first
            seen = self.index.get(key)
            if seen is not None:
                return self._repeat(report, account, origin, seen.fingerprint, seen.reporter_id, seen.received_at, print_)
            if origin is not None:
                known = await self._known_to_workers(key)
                if known is not None:
                    return self._repeat(
                        report, account, origin, known["fingerprint"], known["reporter_id"],
                        datetime.fromisoformat(known["received_at"]), print_,
                    )  # fmt: skip
            accepted = AcceptedReport.stamp(
                report,
                reporter_id=account.user_id,
                reporter_role=account.role,
                received_at=datetime.now(timezone.utc),
                origin=origin,
            )
            self.photos.cite(report.photo_ids, report_id=key)  # a write that fails leaves a citation of nothing
            try:
                await self.writer.write(accepted)
            except KafkaUnavailable:
                raise unavailable("消息队列暂不可用，上报未受理，请稍后重试") from None
            self.index.remember(accepted)
        logger.info("accepted report %s from %s (%s)", key, account.user_id, mask_phone(report.reporter_phone))
        receipt = ReportReceipt(
            report_id=report.report_id, status=CaseState.RECEIVED, received_at=accepted.received_at,
            mapping_note=accepted.mapping_note,
        )  # fmt: skip
        return Accepted(receipt)

    async def _known_to_workers(self, key: str) -> dict[str, Any] | None:
        """The workers' record of a report the index has forgotten; None if unknown or the workers cannot say.

        When no worker answers, the report is written again: the processors
        recognise an identical repeat (nothing happens) and dead-letter a
        changed one, so nothing is doubled; only the answer cannot say so.
        """
        try:
            return await self.cases.report(key)
        except WorkersUnavailable:
            return None

    @staticmethod
    def _repeat(
        report: Report,
        account: Account,
        origin: NetworkOrigin | None,
        known_print: str,
        known_reporter: str,
        received_at: datetime,
        print_: str,
    ) -> Accepted:
        # A network's event is the network's, whichever of its integrator accounts sends it
        # (a push, then last night's import): its id and fingerprint already name the network.
        same_sender = origin is not None or known_reporter == account.user_id
        if known_print == print_ and same_sender:
            receipt = ReportReceipt(
                report_id=report.report_id, status=CaseState.RECEIVED, received_at=received_at,
                mapping_note=origin.mapping_note if origin else None,
            )  # fmt: skip
            return Accepted(receipt, repeat=True)
        raise ApiError(
            409, "conflict", "该 report_id 已用于另一份不同的上报", field="report_id", report_id=str(report.report_id)
        )
