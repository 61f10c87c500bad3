"""``gridflow import --network NAME FILE``: a network's nightly export through the same door as its pushes.

Every record is POSTed to the intake's ``/api/v1/networks/{network}/events``
as the network's integrator, so an import is validated, mapped and
deduplicated exactly like a push: a line already imported (last night, or
last month — the intake asks the workers when its 48-hour index has
forgotten) is a repeat and creates nothing; the same event with other
content is a conflict. A line that cannot be read, or that the intake
refuses (422), is reported with its number and reason and dead-lettered
on ``network-events.rejected`` with its bytes, and the rest go on.

While the intake or Kafka is down (503, no answer) a record is retried with
back-off; if it stays down the import stops and says where, and running the
same file again is always safe.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
from tqdm import tqdm

from infra.kafka import producer
from infra.settings import Settings
from producers.imports.files import Record, read_records
from schemas.dead_letter import RejectedEvent
from schemas.topics import NETWORK_EVENTS_REJECTED
from schemas.vocabulary import SourceNetwork

logger = logging.getLogger(__name__)

#: seconds between attempts while the intake answers 503 or not at all; then the import stops
RETRY_DELAYS_S = (0.5, 1, 2, 4, 8, 15, 30, 30)


class ImportStopped(Exception):
    """The intake stayed unavailable, or refused the token: the import stopped at ``line``."""

    def __init__(self, message: str, line: int) -> None:
        super().__init__(message)
        self.line = line


@dataclass
class ImportSummary:
    """What became of a file's records (导入汇总)."""

    file: str
    network: str
    encoding: str
    read: int = 0
    accepted: int = 0
    repeats: int = 0
    conflicts: int = 0
    bad: int = 0
    triage: int = 0
    problems: list[tuple[int, str]] = field(default_factory=list)  # (line, reason) of bad lines and conflicts

    def lines(self) -> list[str]:
        """The summary as the command prints it (Chinese labels, English keys)."""
        return [
            f"{self.file} ({self.network}, {self.encoding}):",
            f"  读取 read {self.read} · 受理 accepted {self.accepted} · 重复 repeats {self.repeats} · "
            f"冲突 conflicts {self.conflicts} · 错误行 bad lines {self.bad} · 待人工分拨 sent to triage {self.triage}",
        ]


class DeadLetters:
    """Writes refused records to the dead-letter topic (acks=all), one producer per import."""

    def __init__(self, settings: Settings, network: SourceNetwork, file: str) -> None:
        self.settings, self.network, self.file = settings, network, file
        self._producer = producer(settings, max_block_ms=30000, bootstrap_timeout_ms=30000)

    def send(self, record: Record, reason: str, field_name: str | None) -> None:
        letter = RejectedEvent(
            network=self.network, via="import", file=self.file, line=record.line, field=field_name,
            reason=reason[:2000], digest=hashlib.sha256(record.raw).hexdigest(),
            original_base64=base64.b64encode(record.raw).decode("ascii"), at=datetime.now(timezone.utc),
        )  # fmt: skip
        self._producer.send(
            self.settings.topic(NETWORK_EVENTS_REJECTED.name),
            key=f"{self.network.value}:{self.file}:{record.line}".encode(),
            value=letter.model_dump_json().encode(),
        ).get(timeout=self.settings.intake_produce_timeout_s)

    def close(self) -> None:
        self._producer.close()


def _refusal(answer: httpx.Response) -> tuple[str, str | None]:
    """(reason, field) of a 4xx answer, as the intake put it."""
    try:
        body = answer.json()
    except ValueError:
        return f"HTTP {answer.status_code}", None
    fields = body.get("fields") or []
    if fields:
        first = fields[0]
        return f"{first.get('field')}: {first.get('message')}", first.get("field")
    return str(body.get("message") or body.get("error") or answer.status_code), body.get("field")


async def _post(client: httpx.AsyncClient, path: str, record: Record) -> httpx.Response:
    """POST one record, retrying while the intake is unavailable."""
    for delay in (*RETRY_DELAYS_S, None):
        try:
            answer = await client.post(path, json=record.payload)
            if answer.status_code != 503:
                return answer
            why = "503 " + answer.text[:200]
        except httpx.TransportError as exc:
            why = f"{type(exc).__name__}: {exc}"
        if delay is None:
            raise ImportStopped(f"受理服务不可用 intake unavailable ({why})", record.line)
        await asyncio.sleep(delay)
    raise AssertionError("unreachable")


async def import_records(
    records: Iterator[Record],
    summary: ImportSummary,
    *,
    url: str,
    token: str,
    network: SourceNetwork,
    dead_letter: Callable[[Record, str, str | None], None],
    concurrency: int = 32,
    on_record: Callable[[], None] = lambda: None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> ImportSummary:
    """Send every record, ``concurrency`` at a time, and count what became of each."""
    path = f"/api/v1/networks/{network.value}/events"
    headers = {"Authorization": f"Bearer {token}"}
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(
        base_url=url, headers=headers, timeout=httpx.Timeout(30.0, connect=5.0), limits=limits, transport=transport
    ) as client:

        def bad(record: Record, reason: str, field_name: str | None) -> None:
            summary.bad += 1
            summary.problems.append((record.line, reason))
            dead_letter(record, reason, field_name)

        async def one(record: Record) -> None:
            summary.read += 1
            try:
                if record.payload is None:
                    bad(record, record.error or "无法读取", record.field)
                    return
                answer = await _post(client, path, record)
                if answer.status_code == 202:
                    if answer.headers.get("X-Gridflow-Repeat") == "1":
                        summary.repeats += 1
                    else:
                        summary.accepted += 1
                        if answer.json().get("mapping_note"):
                            summary.triage += 1
                elif answer.status_code == 409:
                    summary.conflicts += 1
                    summary.problems.append((record.line, "冲突: 同一事件编号的内容已变 (changed repeat)"))
                elif answer.status_code in (401, 403):
                    raise ImportStopped(f"令牌被拒绝 token refused: {_refusal(answer)[0]}", record.line)
                else:
                    bad(record, *_refusal(answer))
            finally:
                on_record()

        pending: set[asyncio.Task[None]] = set()
        try:
            for record in records:
                if len(pending) >= concurrency:
                    done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
                    for task in done:
                        task.result()  # an ImportStopped ends the import here
                pending.add(asyncio.create_task(one(record)))
            while pending:
                done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
                for task in done:
                    task.result()
        finally:
            for task in pending:
                task.cancel()
    summary.problems.sort()
    return summary


def integrator_token(settings: Settings, network: SourceNetwork) -> str:
    """A day's token of the network's import account ``import-<network>`` (the import acts as its integrator)."""
    from accounts.directory import add_account
    from schemas.vocabulary import Role

    return add_account(
        settings, f"import-{network.value}", Role.INTEGRATOR, network=network,
        expires_at=datetime.now(timezone.utc) + timedelta(days=1),
    )  # fmt: skip


def run_import(
    settings: Settings,
    network: SourceNetwork,
    path: Path,
    *,
    token: str | None = None,
    url: str | None = None,
    encoding: str = "auto",
    concurrency: int = 32,
    progress: bool = True,
) -> ImportSummary:
    """Import one export file; the summary says what became of every record."""
    used, records = read_records(path, encoding)
    summary = ImportSummary(file=path.name, network=network.value, encoding=used)
    token = token or integrator_token(settings, network)
    url = url or settings.intake_url
    letters = DeadLetters(settings, network, path.name)
    bar = tqdm(total=None, unit="行", desc=path.name, disable=not progress, leave=False)
    try:
        asyncio.run(
            import_records(
                records, summary, url=url, token=token, network=network, dead_letter=letters.send,
                concurrency=concurrency, on_record=lambda: bar.update(1),
            )  # fmt: skip
        )
    finally:
        bar.close()
        letters.close()
    return summary


__all__: list[Any] = ["ImportStopped", "ImportSummary", "import_records", "run_import"]
