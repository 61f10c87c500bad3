"""Follow every accepted report until it is a case; send a stalled one through again.

Delivery inside the processors is at least once, but Faust has lost
messages around rebalances (see processors/consumers/sink.py). A 202 is a promise, so
the intake keeps it: a report accepted more than ``redrive_after_s`` ago
whose case the workers cannot show is written to the reports topic again,
exactly as first accepted. Every hop downstream is idempotent (the case id
is derived from the report id, an exact repeat re-sends what the first
copy sent), so a re-drive either heals a lost hop or changes nothing.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta, timezone

from infra.settings import Settings
from producers.api.index import ReportIndex
from producers.api.worker_client import CaseReader, WorkersUnavailable
from producers.api.writer import KafkaUnavailable, ReportWriter

logger = logging.getLogger(__name__)

CHECKS_PER_ROUND = 500


class Redrive:
    """The follow-up loop of one intake."""

    def __init__(self, settings: Settings, index: ReportIndex, cases: CaseReader, writer: ReportWriter) -> None:
        self.settings = settings
        self.index = index
        self.cases = cases
        self.writer = writer
        self.redriven = 0
        self.confirmed = 0

    async def run(self) -> None:
        """Check, then sleep, until cancelled."""
        while True:
            try:
                await self.round()
            except (WorkersUnavailable, KafkaUnavailable) as exc:
                logger.info("re-drive round skipped: %s", exc)
            except Exception:  # never let the loop die silently
                logger.exception("re-drive round failed")
            await asyncio.sleep(self.settings.redrive_interval_s)

    async def round(self) -> None:
        """One pass over the reports accepted long enough ago to be cases by now."""
        if not self.index.ready:
            return
        now = datetime.now(timezone.utc)
        cutoff = now - timedelta(seconds=self.settings.redrive_after_s)
        for report_id, seen in self.index.unconfirmed(cutoff, now, CHECKS_PER_ROUND):
            if await self._is_case(report_id):
                self.index.confirm(report_id)
                self.confirmed += 1
                continue
            report = seen.report
            if report is None:
                continue
            await self.writer.write(report)
            seen.redrives += 1
            # Next look after 1, 2, 4 … times the delay: a slow pipeline must not be flooded.
            backoff = self.settings.redrive_after_s * 2 ** min(seen.redrives - 1, 6)
            seen.next_check = now + timedelta(seconds=backoff)
            self.redriven += 1
            logger.warning("report %s had no case %d s after acceptance: sent again (%d)",
                           report_id, self.settings.redrive_after_s, seen.redrives)

    async def _is_case(self, report_id: str) -> bool:
        link = await self.cases.report(report_id)
        if not link or not link.get("case_id"):
            return False
        return await self.cases.case(link["case_id"]) is not None
