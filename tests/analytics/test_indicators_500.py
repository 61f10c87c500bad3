"""500 cases through whole lifecycles over the real Kafka and ClickHouse; every indicator checked.

Reports go in through the intake; the departments, grid workers and command
centre then act as the intake would on their behalf — actions on the
case-commands topic — with each action's time set by the scenario (so that
signs come late, resolves miss deadlines, suspensions last days), a round at
a time. The indicators of ``gridflow report`` are then compared with figures
computed here, independently, from the raw case-event log in ClickHouse.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import time
import uuid
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from harness import CaseSeqs, start_pipeline

from gridflow import services
from infra.kafka import producer
from infra.settings import Settings
from producers.simulate.texts import generate
from schemas.topics import CASE_COMMANDS

pytestmark = pytest.mark.integration

N = 500
SHANGHAI = timezone(timedelta(hours=8))
SCENARIOS = ("on_time", "late_sign", "late_resolve", "never_signed", "returned", "reopened", "extended",
             "suspended", "resumed", "open", "rejected")  # fmt: skip


def _post_reports(pipeline: Any) -> list[str]:
    reports = generate(N, seed=20261125)
    ids = []
    with pipeline.client() as c:
        for r in reports:
            body = dict(r.body)
            response = c.post("/api/v1/reports", json=body)
            assert response.status_code == 202, response.text
            ids.append(body["report_id"])
    return ids


def _get_all(client: Any, paths: dict[str, str]) -> dict[str, Any]:
    """key → the response to GET its path, eight at a time (one at a time, the test spent minutes polling)."""
    with ThreadPoolExecutor(max_workers=8) as pool:
        return dict(zip(paths, pool.map(client.get, paths.values())))


def _cases(pipeline: Any, report_ids: list[str], seqs: CaseSeqs) -> dict[str, dict[str, Any]]:
    """report id → its case, once every report has one (dispatched or in triage)."""
    # Every report opens a case of its own, which is then dispatched, triaged or merged: wait for
    # that on Kafka, then ask the intake once (mostly) for each report's case.
    placed = {"dispatched", "triaged", "merged"}
    seqs.wait(lambda s: sum(bool(t & placed) for t in s.types.values()) >= len(report_ids), 240, "every report placed")
    found: dict[str, dict[str, Any]] = {}
    deadline = time.monotonic() + 240
    with pipeline.client("centre") as c:
        while len(found) < len(report_ids) and time.monotonic() < deadline:
            answers = _get_all(c, {rid: f"/api/v1/reports/{rid}" for rid in report_ids if rid not in found})
            for rid, r in answers.items():
                if r.status_code == 200 and r.json()["state"] not in ("received", "accepted"):
                    found[rid] = r.json()
            time.sleep(0.5)
    assert len(found) == len(report_ids), f"{len(report_ids) - len(found)} reports have no case"
    return found


class Driver:
    """Plays every case's scenario, one action per case per round, as the intake would send them."""

    def __init__(self, pipeline: Any, settings: Settings, seqs: CaseSeqs) -> None:
        self.pipeline = pipeline
        self.seqs = seqs
        self.settings = settings
        self.kafka = producer(settings)
        self.topic = settings.topic(CASE_COMMANDS.name)
        self.steps: dict[str, int] = defaultdict(int)

    def send(self, case: dict[str, Any], action: str, at: datetime, **fields: Any) -> None:
        role, who, dept, town = {
            "lead": ("department_staff", "clerk", case["lead_department"], None),
            "reporter": ("grid_worker", case["reporter_id"], None, None),
            "centre": ("command_centre", "zx-duty", None, None),
        }[fields.pop("as")]
        command = {
            "kind": "action", "action_id": str(uuid.uuid4()), "case_id": case["case_id"], "action": action,
            "actor_id": who, "actor_role": role, "actor_department": dept, "actor_town": town,
            "at": at.isoformat(), **fields,
        }  # fmt: skip
        self.kafka.send(self.topic, key=case["case_id"].encode(), value=json.dumps(command).encode())

    def current(self, centre: Any, case_ids: Any) -> dict[str, dict[str, Any]]:
        """Each case as the worker's table holds it, at least as new as its last event on Kafka
        (the worker sends a case's records before it writes its table)."""
        found: dict[str, dict[str, Any]] = {}
        behind = set(case_ids)
        deadline = time.monotonic() + 30
        while behind:
            answers = _get_all(centre, {cid: f"/api/v1/cases/{cid}" for cid in sorted(behind)})
            found.update((cid, r.json()) for cid, r in answers.items())
            behind = {cid for cid in behind if found[cid]["seq"] < self.seqs.seq.get(cid, 0)}
            assert time.monotonic() < deadline, f"the case table stays behind the case events for {sorted(behind)[:5]}"
        return found

    def next_action(self, scenario: str, case: dict[str, Any], rng: random.Random) -> tuple[str, datetime, dict] | None:  # type: ignore[type-arg]
        """The scenario's next move for the case as it stands, or None when it is done."""
        state = case["state"]
        last = datetime.fromisoformat(case["updated_at"])
        sign_dl = datetime.fromisoformat(case["sign_deadline"]) if case.get("sign_deadline") else None
        resolve_dl = datetime.fromisoformat(case["resolve_deadline"]) if case.get("resolve_deadline") else None
        m = lambda minutes: last + timedelta(minutes=minutes)  # noqa: E731
        if state == "triage":
            if scenario == "rejected":
                return "reject", m(20), {"as": "centre", "reason": "重复上报"}
            return "assign", m(30), {"as": "centre", "department": "CG" if case["town"] is None else f"SFS-{case['town']}"}
        if scenario == "rejected" and state == "dispatched":
            return "reject", m(10), {"as": "centre", "reason": "不属于受理范围"}
        if scenario == "never_signed" or (scenario == "open" and state != "dispatched"):
            return None
        if state == "dispatched":
            if scenario == "returned" and not case["returned_by"]:
                return "return", m(15), {"as": "lead", "reason": "不属于本部门职责"}
            late = scenario == "late_sign"
            when = sign_dl + timedelta(minutes=45) if late and sign_dl else m(rng.randint(5, 60))
            return "sign", when, {"as": "lead"}
        if state == "signed":
            if scenario in ("extended",) and not case["extension_count"] and not case["pending_request"]:
                return "request_extension", m(30), {"as": "lead", "reason": "需要协调", "hours": 24}
            if scenario in ("suspended", "resumed") and case["suspended_at"] is None and not case["pending_request"] \
                    and not any(e["type"] == "resumed" for e in case["history"]):
                return "request_suspension", m(30), {"as": "lead", "reason": "等待当事人"}
            if case["pending_request"]:
                return "approve", m(60), {"as": "centre"}
            if case["suspended_at"] is not None:
                if scenario == "suspended":
                    return None  # stays suspended: left out of 按期
                return "resume", m(60 * 24 * 3), {"as": "lead"}
            if scenario == "open":
                return None
            late = scenario == "late_resolve"
            when = resolve_dl + timedelta(hours=2) if late and resolve_dl else m(rng.randint(30, 240))
            return "resolve", when, {"as": "lead", "note": "已处理"}
        if state == "in_progress":
            return "resolve", m(rng.randint(30, 240)), {"as": "lead", "note": "返工完成"}
        if state == "resolved":
            if scenario == "reopened" and case["reopen_count"] == 0:
                return "reopen", m(60), {"as": "reporter", "reason": "问题仍在"}
            return "verify", m(rng.randint(30, 180)), {"as": "reporter"}
        return None

    def run(self, cases: dict[str, dict[str, Any]], scenarios: dict[str, str]) -> int:
        rng = random.Random(7)
        sent_total = 0
        with self.pipeline.client("centre") as centre:
            for _round in range(12):
                current = self.current(centre, scenarios)
                moves = {cid: self.next_action(scenarios[cid], c, rng) for cid, c in current.items()}
                moves = {cid: mv for cid, mv in moves.items() if mv is not None}
                if not moves:
                    return sent_total
                for cid, (action, at, fields) in moves.items():
                    self.send(current[cid], action, at, **fields)
                self.kafka.flush()
                sent_total += len(moves)
                # the round is done when every moved case has a newer event on Kafka
                self.seqs.wait(
                    lambda s, cur=current, mv=moves: all(s.seq.get(cid, 0) > cur[cid]["seq"] for cid in mv),
                    120, f"round {_round} applied",
                )  # fmt: skip
        raise AssertionError("scenarios did not finish in 12 rounds")


def _independent(events: list[dict[str, Any]], as_of: datetime) -> dict[str, dict[str, Any]]:
    """Per department, straight from the event log (not from the case rows): DESIGN's formulas."""
    by_case: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for e in events:
        by_case[e["case_id"]].append(e)
    groups: dict[str, dict[str, Any]] = defaultdict(lambda: defaultdict(int))
    signs: dict[str, list[int]] = defaultdict(list)
    for case_events in by_case.values():
        case_events.sort(key=lambda e: e["seq"])
        state = case_events[-1]["state"]
        dispatches = [e for e in case_events if e["type"] == "dispatched"]
        if state in ("rejected", "merged") or not dispatches:
            continue
        last_dispatch = dispatches[-1]
        lead = last_dispatch["payload"]["lead"] if state != "triage" else "ZZZX"
        after = case_events[case_events.index(last_dispatch) + 1:]
        sign = next((e for e in after if e["type"] == "signed"), None)
        sign_deadline = datetime.fromisoformat(last_dispatch["payload"]["sign_deadline"])
        resolve_deadline = datetime.fromisoformat(last_dispatch["payload"]["resolve_deadline"])
        suspended = False
        for e in case_events:
            if e["type"] in ("reopened", "resumed") or (e["type"] == "approved" and e["payload"].get("request") == "extension"):
                resolve_deadline = datetime.fromisoformat(e["payload"]["resolve_deadline"])
            if e["type"] == "approved" and e["payload"].get("request") == "suspension":
                suspended = True
            if e["type"] == "resumed":
                suspended = False
            if e["type"] == "dispatched":
                resolve_deadline = datetime.fromisoformat(e["payload"]["resolve_deadline"])
        g = groups[lead]
        g["dispatched"] += 1
        g["return_base"] += 1
        if sign is not None:
            g["sign_base"] += 1
            g["signed_on_time"] += sign["at"] <= sign_deadline
            signs[lead].append(int((sign["at"] - last_dispatch["at"]).total_seconds()))
        elif state == "dispatched" and sign_deadline < as_of:
            g["sign_base"] += 1
        resolves = [e for e in case_events if e["type"] == "resolved"]
        if not suspended:
            if state in ("resolved", "closed"):
                g["resolve_base"] += 1
                g["resolved_on_time"] += resolves[-1]["at"] <= resolve_deadline
            elif state in ("dispatched", "signed", "in_progress") and resolve_deadline < as_of:
                g["resolve_base"] += 1
        g["closed"] += state == "closed"
        g["resolved_once"] += bool(resolves)
        g["reopened"] += any(e["type"] == "reopened" for e in case_events)
        for returner in dict.fromkeys(e["department"] for e in case_events if e["type"] == "returned"):
            groups[returner]["returned"] += 1
            groups[returner]["return_base"] += returner != lead
    for lead, values in signs.items():
        values.sort()
        groups[lead]["sign_p50_s"] = values[min(len(values) - 1, len(values) // 2)]
    return groups


def test_five_hundred_cases_give_the_indicators_the_event_log_gives(pipeline_settings: Settings) -> None:
    pipeline = start_pipeline(pipeline_settings)
    seqs = None
    try:
        report_ids = _post_reports(pipeline)
        seqs = CaseSeqs(pipeline_settings)
        cases = _cases(pipeline, report_ids, seqs)
        rng = random.Random(42)
        scenarios = {c["case_id"]: rng.choice(SCENARIOS) for c in cases.values()}
        driver = Driver(pipeline, pipeline_settings, seqs)
        sent = driver.run(cases, scenarios)
        assert sent > 2 * N

        engine = pipeline.clickhouse()
        db = pipeline_settings.clickhouse_database
        # Reports of one incident (the simulator sends some) were merged: their own cases, state merged,
        # are in the event log too.
        merged = {s["report_case_id"] for s in cases.values() if s.get("merged_into")}
        with pipeline.client("centre") as centre:
            answers = _get_all(centre, {cid: f"/api/v1/cases/{cid}" for cid in [*scenarios, *merged]})
            final_seq = {cid: r.json()["seq"] for cid, r in answers.items()}
        expected_events = sum(final_seq.values())
        services.wait_until(
            lambda: engine.execute(f"SELECT count() FROM {db}.case_events FINAL")[0][0] >= expected_events,
            240, "every event in ClickHouse",
        )
        services.wait_until(
            lambda: engine.execute(f"SELECT count() FROM (SELECT case_id, max(seq) AS s FROM {db}.case_versions GROUP BY case_id) WHERE s > 0")[0][0] >= N,
            240, "every case version in ClickHouse",
        )
        rows = engine.execute(
            f"SELECT toString(case_id), seq, type, state, department, at, payload FROM {db}.case_events FINAL"
        )
        assert len(rows) == expected_events
        events = [
            {"case_id": r[0], "seq": r[1], "type": r[2], "state": r[3], "department": r[4],
             "at": r[5].replace(tzinfo=timezone.utc), "payload": json.loads(r[6])}
            for r in rows
        ]  # fmt: skip
        # every case's versions arrived: the last version's seq equals the case's
        last_versions = dict(engine.execute(f"SELECT toString(case_id), max(seq) FROM {db}.case_versions GROUP BY case_id"))
        assert last_versions == final_seq

        first = min(e["at"] for e in events)
        as_of = max(e["at"] for e in events) + timedelta(days=1)
        since = (first.astimezone(SHANGHAI) - timedelta(days=1)).strftime("%Y-%m-%d")
        until = (as_of.astimezone(SHANGHAI) + timedelta(days=1)).strftime("%Y-%m-%d")
        env = dict(os.environ, **pipeline_settings.to_env())
        done = subprocess.run(
            [sys.executable, "-m", "gridflow", "report", "--since", since, "--until", until, "--by", "department",
             "--format", "json", "--as-of", as_of.isoformat()],
            env=env, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr[-2000:]
        report = {r["key"]: r for r in json.loads(done.stdout)["rows"]}
        expected = _independent(events, as_of)
        keys = ("dispatched", "signed_on_time", "sign_base", "resolved_on_time", "resolve_base", "closed",
                "resolved_once", "reopened", "returned")  # fmt: skip
        mismatches = []
        for dept, want in expected.items():
            got = report.get(dept, {})
            for k in keys:
                if got.get(k, 0) != want.get(k, 0):
                    mismatches.append(f"{dept} {k}: report {got.get(k, 0)} != events {want.get(k, 0)}")
            if "sign_p50_s" in want and got.get("sign_p50_s") != want["sign_p50_s"]:
                mismatches.append(f"{dept} sign_p50_s: report {got.get('sign_p50_s')} != {want['sign_p50_s']}")
        assert not mismatches, "\n".join(mismatches)
        total = report["合计"]
        # the scenarios really produced what the indicators measure
        assert total["returned"] > 0 and total["reopened"] > 0 and total["closed"] > 0
        assert 0 < total["及时签收率"] < 1 and 0 < total["按期办结率"] < 1
    finally:
        if seqs is not None:
            seqs.close()
        pipeline.stop()
