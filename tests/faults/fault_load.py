"""The load of a fault test: phones posting distinct reports at a steady rate, each retrying as the form does.

A phone keeps its report until it has an answer that is not "try again":
on a lost connection (the intake killed, or restarting) or a 503 it sends
the same body, with the same ``report_id``, again — after ``Retry-After``
for a 503, after a short growing pause otherwise. So a report the intake
wrote to Kafka but could not answer (killed between the ack and the answer)
comes back as a repeat, which must be a 202 again.
"""

from __future__ import annotations

import json
import os
import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self

import httpx
from harness import Pipeline, report_body
from reconcile import ReconciliationFailed, distinct_places, reconcile

from gridflow import services

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
#: who posts: grid workers of two towns (they may report anywhere in the district)
POSTERS = ("worker", "worker2")
#: how long one phone keeps retrying one report before the test calls it lost
RETRY_FOR_S = 240.0


def distinct_reports(rng: random.Random, count: int) -> list[dict[str, Any]]:
    """``count`` valid reports of distinct incidents (distinct places, texts and phones)."""
    return [
        report_body(
            grid_id=grid.grid_id,
            location={"lat": lat, "lon": lon, "datum": "WGS-84"},
            reporter_phone=f"13{rng.randint(100000000, 999999999)}",
            description=f"{grid.name}附近发现问题，编号{i}，请尽快处理。",
        )
        for i, (grid, lat, lon) in enumerate(distinct_places(rng, count))
    ]


@dataclass
class Outcome:
    """What became of one report on one phone: every answer it got, in order."""

    body: dict[str, Any]
    who: str  # the account posting it (a key of the pipeline's tokens)
    answers: list[tuple[float, str, str | None]] = field(default_factory=list)  # (t, status or error, Retry-After)
    final: httpx.Response | None = None

    @property
    def accepted(self) -> bool:
        return self.final is not None and self.final.status_code == 202

    @property
    def repeat(self) -> bool:
        return self.final is not None and self.final.headers.get("X-Gridflow-Repeat") == "1"


class Phones:
    """Posts ``bodies`` at ``rate`` per second from a pool of threads, in the background.

    A context manager: leaving it (the test failed, say) stops every phone,
    so no thread goes on posting — and no process on connecting — after the test.
    """

    def __init__(self, pipeline: Pipeline, bodies: list[dict[str, Any]], rate: float) -> None:
        self.pipeline = pipeline
        self.rate = rate
        self.outcomes = [Outcome(b, POSTERS[i % len(POSTERS)]) for i, b in enumerate(bodies)]
        self.t0 = 0.0
        self.timeline: list[tuple[float, str]] = []
        self._clients = {who: pipeline.client(who) for who in POSTERS}
        self._thread = threading.Thread(target=self._run, name="phones", daemon=True)
        self._stopped = threading.Event()

    def __enter__(self) -> Self:
        self.t0 = time.monotonic()
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stopped.set()
        self._thread.join(30)
        for client in self._clients.values():
            client.close()

    def now(self) -> float:
        """Seconds since the first post."""
        return round(time.monotonic() - self.t0, 1)

    def at(self, second: float) -> None:
        """Sleep until ``second`` seconds after the first post."""
        time.sleep(max(0.0, self.t0 + second - time.monotonic()))

    def note(self, what: str) -> float:
        """Put ``what`` on the timeline; returns ``time.monotonic()`` of it."""
        self.timeline.append((self.now(), what))
        return time.monotonic()

    def wait(self, timeout: float = RETRY_FOR_S + 120) -> None:
        """Until every report has its final answer (or a phone gave up)."""
        self._thread.join(timeout)
        assert not self._thread.is_alive(), "the phones never finished"

    def _run(self) -> None:
        # Enough threads that phones waiting out a 503 do not hold back the rate of new reports.
        with ThreadPoolExecutor(max_workers=48) as pool:
            for i, outcome in enumerate(self.outcomes):
                if self._stopped.wait(max(0.0, self.t0 + i / self.rate - time.monotonic())):
                    return
                pool.submit(self._post, outcome, self._clients[outcome.who])

    def _post(self, outcome: Outcome, client: httpx.Client) -> None:
        pause, give_up = 0.5, time.monotonic() + RETRY_FOR_S
        while time.monotonic() < give_up and not self._stopped.is_set():
            try:
                r = client.post("/api/v1/reports", json=outcome.body)
            except httpx.TransportError as exc:  # no connection, or it broke before the answer
                outcome.answers.append((self.now(), type(exc).__name__, None))
                self._stopped.wait(pause)
                pause = min(pause * 2, 5.0)
                continue
            outcome.answers.append((self.now(), str(r.status_code), r.headers.get("Retry-After")))
            if r.status_code != 503:
                outcome.final = r
                return
            self._stopped.wait(float(r.headers.get("Retry-After") or 1))

    # --- figures -------------------------------------------------------------
    def accepted_ids(self) -> list[str]:
        return [o.body["report_id"] for o in self.outcomes if o.accepted]

    def answers(self) -> Counter:
        return Counter(a[1] for o in self.outcomes for a in o.answers)

    def check_all_accepted(self) -> None:
        """Nothing lost: every report ended with a 202 (after however many retries)."""
        refused = [(o.body["report_id"], o.answers[-3:], o.final.text[:200] if o.final else None)
                   for o in self.outcomes if not o.accepted]  # fmt: skip
        assert not refused, f"{len(refused)} reports never accepted: {refused[:5]}"

    def figures(self) -> dict[str, Any]:
        """Posts, answers by status, retried reports and repeats, for the test's summary."""
        retried = [o for o in self.outcomes if len(o.answers) > 1]
        return {
            "posts": sum(len(o.answers) for o in self.outcomes),
            "answers": dict(sorted(self.answers().items())),
            "reports_retried": len(retried),
            "retried_then_202_repeat": sum(1 for o in retried if o.repeat),
            "rate_per_s": self.rate,
            "timeline_s": self.timeline,
        }


def restart_intake(pipeline: Pipeline) -> None:
    """Start the intake again (after a kill) and wait until it answers."""
    pipeline.intake = services.intake(pipeline.settings).start()
    services.wait_until(services.intake_ready(pipeline.settings), 120, "intake back")


def conclude(
    name: str,
    fault: str,
    phones: Phones,
    fault_ended_at: float,
    checks: Sequence[Callable[[], None]] = (),
    **extra: Any,
) -> dict[str, Any]:
    """Check, reconcile, write the summary to test-artifacts/faults-<name>.json and print it — failed or not — then assert.

    Nothing lost on the way in (every report ended with a 202), the test's
    own ``checks`` and the reconciliation (:func:`reconcile.reconcile`) all
    run, and the summary lists what failed: a failing fault test still
    leaves its figures.
    """
    failures = []
    for check in (phones.check_all_accepted, *checks):
        try:
            check()
        except AssertionError as exc:
            failures.append(f"{getattr(check, '__name__', 'check')}: {exc}")
    try:
        figures = reconcile(
            phones.pipeline, phones.accepted_ids(), sent=len(phones.outcomes), fault_ended_at=fault_ended_at
        )
    except ReconciliationFailed as exc:
        figures = exc.figures
        failures.append(str(exc))
    summary = {"fault": fault, **figures, **phones.figures(), **extra, "failures": failures}
    # the machine is shared: how busy it was says how far the timings are from an idle one's (2 cores)
    summary["load_average_1_5_15"] = [round(x, 1) for x in os.getloadavg()]
    ARTIFACTS.mkdir(exist_ok=True)
    text = json.dumps(summary, indent=2, ensure_ascii=False, default=str)
    (ARTIFACTS / f"faults-{name}.json").write_text(text + "\n", encoding="utf-8")
    print(f"faults-{name}: {text}")
    assert not failures, "\n".join(f[:3000] for f in failures)
    return summary
