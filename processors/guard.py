"""What an agent does with a record it cannot use: dead-letter it and go on; retry only when Kafka is away.

A Faust agent that raises is restarted by Faust's supervisor, but the
record that made it raise is never acknowledged: every restart, and every
worker that takes the partition over, meets it again, and nothing behind
it commits. So each agent reads raw bytes and runs each record through a
:class:`RecordGuard`:

* bytes that do not decode into the topic's record, and records the
  handler fails on (a bug, a value the domain logic cannot take), are
  written to ``dead-letters`` with the reason and the original bytes —
  ``gridflow dlq redrive`` sends them back once the cause is fixed — and
  the stream goes on;
* Kafka being unreachable (a retriable client error, a timeout, a lost
  connection) is the dependency being down, not the record being bad: the
  handler is run again after a pause that doubles up to a bound. Handlers
  are idempotent per record, so a second run after a half-done first one
  sends the same records again, which every consumer recognises.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from typing import Any, Awaitable, Callable

from aiokafka.errors import KafkaError
from faust.exceptions import ProducerSendError
from pydantic import BaseModel

from schemas.dead_letter import DeadLetter, reason_of

logger = logging.getLogger(__name__)

#: the first pause after Kafka failed a handler; it doubles up to ``backoff_max_s``
FIRST_PAUSE_S = 0.5


def dependency_down(exc: BaseException) -> bool:
    """True when ``exc`` says Kafka is unreachable (retry), False when the record is at fault (dead-letter)."""
    if isinstance(exc, KafkaError):
        # A record too large or a topic that does not exist fails the same way on every try.
        return bool(getattr(exc, "retriable", False))
    return isinstance(exc, (ProducerSendError, ConnectionError, TimeoutError, asyncio.TimeoutError))


class RecordGuard:
    """Decode and handle one agent's records; dead-letter the bad ones, retry while Kafka is away."""

    def __init__(
        self,
        consumer: str,
        topic: str,
        model: type[BaseModel],
        send_dead_letter: Callable[[DeadLetter], Awaitable[None]],
        now: Callable[[], datetime],
        backoff_max_s: float,
    ) -> None:
        self.consumer = consumer
        self.topic = topic
        self.model = model
        self.send_dead_letter = send_dead_letter
        self.now = now
        self.backoff_max_s = backoff_max_s
        self.dead_lettered = 0

    async def run(self, message: Any, handle: Callable[[Any], Awaitable[None]]) -> None:
        """Handle the record of a Faust ``message`` (raw bytes) — or dead-letter it — retrying while Kafka is down."""
        try:
            record = self.model.model_validate_json(message.value)
        except Exception as exc:  # whatever the bytes are, they are not this topic's record
            await self._dead(message, exc)
            return
        await self._retrying(lambda: handle(record), message, dead_letter_on_failure=True)

    async def _dead(self, message: Any, exc: BaseException) -> None:
        letter = DeadLetter.of(
            self.consumer, self.topic, message.partition, message.offset, message.key, message.value,
            reason_of(exc), type(exc).__name__, self.now(),
        )  # fmt: skip
        logger.error(
            "%s: record %s@%d of %s dead-lettered: %s", self.consumer, message.offset, message.partition, self.topic,
            letter.reason,
        )  # fmt: skip
        await self._retrying(lambda: self.send_dead_letter(letter), message, dead_letter_on_failure=False)
        self.dead_lettered += 1

    async def _retrying(self, step: Callable[[], Awaitable[None]], message: Any, dead_letter_on_failure: bool) -> None:
        pause = FIRST_PAUSE_S
        while True:
            try:
                await step()
                return
            except Exception as exc:
                if not dependency_down(exc):
                    if not dead_letter_on_failure:
                        raise  # the dead letter itself cannot be written for a reason other than Kafka: a bug
                    logger.exception("%s failed on record %s@%d", self.consumer, message.offset, message.partition)
                    await self._dead(message, exc)
                    return
                logger.warning("%s: Kafka unavailable (%s); retrying in %.1fs", self.consumer, exc, pause)
                await asyncio.sleep(pause)
                pause = min(pause * 2, self.backoff_max_s)
