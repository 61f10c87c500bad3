"""The agents' record guard: a bad record is dead-lettered once, Kafka being away is waited out."""

from __future__ import annotations

import asyncio
import base64
from dataclasses import dataclass
from datetime import datetime, timezone

import pytest
from aiokafka.errors import KafkaConnectionError, MessageSizeTooLargeError
from pydantic import BaseModel

from processors import guard
from processors.guard import RecordGuard, dependency_down
from schemas.dead_letter import DeadLetter

AT = datetime(2026, 12, 2, 8, 0, tzinfo=timezone.utc)


class Ping(BaseModel):
    n: int


@dataclass
class Message:
    value: bytes | None
    key: bytes | None = b"k"
    partition: int = 2
    offset: int = 41


def _guard(letters: list[DeadLetter]) -> RecordGuard:
    async def send(letter: DeadLetter) -> None:
        letters.append(letter)

    return RecordGuard("cases", "case-commands", Ping, send, lambda: AT, backoff_max_s=0.01)


def test_what_counts_as_kafka_being_away() -> None:
    assert dependency_down(KafkaConnectionError())
    assert dependency_down(asyncio.TimeoutError()) and dependency_down(ConnectionResetError())
    assert not dependency_down(MessageSizeTooLargeError())  # the same on every try: the record's fault
    assert not dependency_down(ValueError("bad")) and not dependency_down(KeyError("x"))


@pytest.mark.parametrize("raw", [b"\xff not json", b'{"n": "many"}', b"[]", None, b'{"n": 1, "n": '])
def test_undecodable_bytes_are_dead_lettered_with_their_bytes(raw: bytes | None) -> None:
    letters: list[DeadLetter] = []
    handled: list[Ping] = []

    async def handle(record: Ping) -> None:
        handled.append(record)

    asyncio.run(_guard(letters).run(Message(raw), handle))
    assert not handled and len(letters) == 1
    letter = letters[0]
    assert letter.id == "cases:case-commands:2:41" and letter.value() == raw and letter.key() == b"k"
    assert letter.at == AT and letter.reason and letter.error
    assert (letter.value_base64 is None) == (raw is None)
    if raw is not None:
        assert base64.b64decode(letter.value_base64 or "") == raw


def test_a_handler_that_fails_dead_letters_the_record_naming_the_failure() -> None:
    letters: list[DeadLetter] = []

    async def handle(record: Ping) -> None:
        raise ZeroDivisionError("division by zero")

    asyncio.run(_guard(letters).run(Message(b'{"n": 0}'), handle))
    assert [(x.error, x.reason) for x in letters] == [("ZeroDivisionError", "ZeroDivisionError: division by zero")]


def test_kafka_away_is_retried_until_it_is_back(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(guard, "FIRST_PAUSE_S", 0.001)
    letters: list[DeadLetter] = []
    tries: list[int] = []

    async def handle(record: Ping) -> None:
        tries.append(record.n)
        if len(tries) < 4:
            raise KafkaConnectionError("broker down")

    asyncio.run(_guard(letters).run(Message(b'{"n": 7}'), handle))
    assert tries == [7, 7, 7, 7] and letters == []


def test_a_dead_letter_is_cut_to_its_bounds() -> None:
    letter = DeadLetter.of("c" * 500, "t", 0, 0, None, b"x", "why " * 1000, "E" * 500, AT)
    assert len(letter.consumer) == 200 and len(letter.reason) == 2000 and len(letter.error) == 200
    assert DeadLetter.model_validate_json(letter.model_dump_json()) == letter
