"""The simulator's departments and command centre: they work the cases as people would.

Follows the case-events topic; for every case dispatched, the lead
department's clerk signs, resolves (sometimes late, sometimes returning the
case or asking for more time), and the command centre approves requests,
assigns cases waiting in triage and verifies resolved ones (sometimes
sending them back: 返工). Every move goes through the intake's actions
endpoint with the actor's own token — the same path a console will use.

With real SLAs nothing is late within a demo's minutes, so ``gridflow demo``
runs the workers on ``routing/demo`` (the same rules with an SLA table in
minutes), and the players' delays straddle those deadlines.
"""

from __future__ import annotations

import heapq
import json
import logging
import random
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from accounts.directory import add_account
from district import Registry
from infra.settings import Settings
from infra.tail import TopicTail
from routing import TRIAGE_DEPARTMENT
from schemas.topics import CASE_EVENTS
from schemas.vocabulary import Role

logger = logging.getLogger(__name__)

#: how a case is worked, with its weight
PLANS = {"normal": 55, "late_sign": 10, "late_resolve": 10, "return": 8, "extension": 7, "reopen": 5, "idle": 5}


@dataclass(order=True)
class Move:
    due: float
    case_id: str = field(compare=False)
    step: str = field(compare=False)


class DepartmentPlayers:
    """Plays every department and the command centre against the intake at ``url``."""

    def __init__(self, settings: Settings, registry: Registry, url: str, *, seed: int = 1, speed: float = 1.0) -> None:
        self.url = url
        self.rng = random.Random(seed)
        self.speed = speed  # delays are divided by it
        self.tokens = {
            d.code: add_account(settings, f"sim-{d.code.lower()}-01", Role.DEPARTMENT_STAFF, department=d.code)
            for d in registry.departments
        }
        self.centre = add_account(settings, "sim-zx-duty", Role.COMMAND_CENTRE)
        self.plans: dict[str, str] = {}
        self.cases: dict[str, dict[str, Any]] = {}  # case id → {lead, state}
        self.moves: list[Move] = []
        self.counts: dict[str, int] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._tail = TopicTail(
            settings, settings.topic(CASE_EVENTS.name), self._on_event, since_ms=int(time.time() * 1000)
        )
        self._thread = threading.Thread(target=self._run, name="sim-departments", daemon=True)

    def start(self) -> "DepartmentPlayers":
        self._tail.start()
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._tail.stop()
        self._thread.join(timeout=5)

    # -- what happened ----------------------------------------------------------------------
    def _on_event(self, _key: bytes | None, value: bytes | None, _ts: int) -> None:
        if not value:
            return
        event = json.loads(value)
        case_id, kind, payload = event["case_id"], event["type"], event["payload"]
        with self._lock:
            case = self.cases.setdefault(case_id, {})
            case["state"] = event["state"]
            if kind == "dispatched":
                case["lead"] = payload["lead"]
                case["sign_s"] = _seconds_until(payload["sign_deadline"], event["at"])
                case["resolve_s"] = _seconds_until(payload["resolve_deadline"], event["at"])
                plan = self.plans.setdefault(case_id, self._pick())
                if plan == "return" and case.get("returned"):
                    plan = self.plans[case_id] = "normal"
                self._after(case_id, "return" if plan == "return" else "sign", self._sign_delay(case, plan))
            elif kind == "triaged":
                case["suggested"] = payload.get("suggested_lead")
                self._after(case_id, "assign", self.rng.uniform(5, 20))
            elif kind == "returned":
                case["returned"] = True
            elif kind == "extension_requested":
                self._after(case_id, "approve", self.rng.uniform(3, 10))
            elif kind == "resolved":
                self._after(case_id, "verify", self.rng.uniform(3, 15))
            elif kind == "reopened":
                self._after(case_id, "resolve", self.rng.uniform(10, 30))

    def _pick(self) -> str:
        return self.rng.choices(list(PLANS), weights=list(PLANS.values()))[0]

    def _sign_delay(self, case: dict[str, Any], plan: str) -> float:
        if plan == "late_sign":
            return case["sign_s"] + self.rng.uniform(5, 30)
        return self.rng.uniform(2, max(3.0, case["sign_s"] * 0.6))

    def _after(self, case_id: str, step: str, delay: float) -> None:
        heapq.heappush(self.moves, Move(time.monotonic() + delay / self.speed, case_id, step))

    # -- doing it ---------------------------------------------------------------------------
    def _run(self) -> None:
        with httpx.Client(base_url=self.url, timeout=15) as client:
            while not self._stop.is_set():
                with self._lock:
                    move = heapq.heappop(self.moves) if self.moves and self.moves[0].due <= time.monotonic() else None
                if move is None:
                    self._stop.wait(0.2)
                    continue
                try:
                    self._play(client, move)
                except httpx.HTTPError as exc:
                    logger.warning("department player: %s on %s failed (%s)", move.step, move.case_id, exc)

    def _play(self, client: httpx.Client, move: Move) -> None:
        case = self.cases[move.case_id]
        plan = self.plans.get(move.case_id, "normal")
        body: dict[str, Any] = {"action": move.step}
        token = self.tokens.get(case.get("lead", ""), self.centre)
        if move.step == "return":
            body["reason"] = "不属于本部门职责"
        elif move.step == "assign":
            suggested = case.get("suggested")
            body["department"] = suggested if suggested in self.tokens and suggested != TRIAGE_DEPARTMENT else "CG"
            token = self.centre
        elif move.step == "request_extension":
            body.update(reason="需要协调相关单位", hours=1)
        elif move.step in ("approve", "verify"):
            token = self.centre
            if move.step == "verify" and plan == "reopen" and not case.get("reopened"):
                case["reopened"] = True
                body = {"action": "reopen", "reason": "核查未通过，问题仍在"}
        elif move.step == "resolve":
            body["note"] = "已处置完毕"
        answer = client.post(f"/api/v1/cases/{move.case_id}/actions", json=body, headers=_auth(token))
        with self._lock:
            self.counts[body["action"]] = self.counts.get(body["action"], 0) + (answer.status_code == 200)
        if answer.status_code != 200 or body["action"] != move.step:
            return
        if move.step == "sign":
            if plan == "idle":
                return  # signed, then left undone: a breach of the resolve deadline
            if plan == "extension":
                self._after(move.case_id, "request_extension", self.rng.uniform(3, 10))
            late = plan == "late_resolve"
            delay = case["resolve_s"] + self.rng.uniform(5, 30) if late else self.rng.uniform(5, case["resolve_s"] * 0.7)
            self._after(move.case_id, "resolve", delay)

    def summary(self) -> dict[str, int]:
        """Successful actions so far, by action."""
        with self._lock:
            return dict(self.counts)


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _seconds_until(deadline: str, at: str) -> float:
    from datetime import datetime

    return max(1.0, (datetime.fromisoformat(deadline) - datetime.fromisoformat(at)).total_seconds())
