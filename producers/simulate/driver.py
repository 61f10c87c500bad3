"""Post simulated reports to the intake at a steady rate, the way phones on a weak network would.

Pacing is open-loop: report *i* is due at ``start + i / rate`` whatever the
intake answered before, and requests run concurrently (a pool of
connections, at most ``concurrency`` in flight), so a slow answer does not
lower the rate — it shows up as latency and as reports in flight.

Like a phone, the simulator:

- re-sends about 2 % of its reports with the very same body (the answer was
  lost on the way back); the intake must answer the repeat with the same 202
  and the same ``received_at``;
- retries a 503 with the same ``report_id`` after its ``Retry-After``, and a
  dropped connection after a short back-off, a bounded number of times
  (a retry is always safe: the report id is the idempotency key).

Counts (returned, and passed to ``on_progress`` every second):

``reports``   new reports started (each has its own report id)
``sent``      HTTP requests made: first tries, retries and repeats
``accepted``  distinct report ids that got a 202
``repeats``   deliberate re-sends answered 202
``repeat_mismatches`` repeats whose 202 named another ``received_at`` (the intake broke idempotency)
``conflicts`` 409 answers
``invalid``   other 4xx answers (400, 401, 403, 422...)
``unavailable`` 503 answers
``errors``    transport failures (refused, reset, timed out) and other 5xx
``retries``   requests that were retries of a 503 or an error
``gave_up``   reports whose retries ran out without a 202 or a 4xx
``in_flight`` reports not yet settled
``elapsed``   seconds since the start; ``rate`` new reports per second offered (started at
              the pace asked); ``accepted_rate`` 202s per second since the start: below ``rate``
              when the intake falls behind
"""

from __future__ import annotations

import asyncio
import logging
import random
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any, Final

import httpx

from accounts.directory import add_account
from district import Registry, load_registry
from infra.settings import Settings
from producers.networks.adapt import load_maps
from producers.simulate.networks import as_network_event
from producers.simulate.texts import ReportGenerator, SimulatedReport
from schemas.vocabulary import INTEGRATED_NETWORKS, Role, SourceNetwork

logger = logging.getLogger(__name__)

REPORTS_PATH: Final = "/api/v1/reports"
REPEAT_SHARE: Final = 0.02  # reports a phone sends twice
MAX_RETRIES: Final = 4  # retries of one send after a 503 or a transport error
RETRY_AFTER_DEFAULT_S: Final = 5.0
RETRY_AFTER_MAX_S: Final = 30.0
DRAIN_TIMEOUT_S: Final = 15.0  # after the run, wait this long for answers still in flight
LOG_EVERY_S: Final = 10.0
MAX_LOGGED_REFUSALS: Final = 5  # 4xx bodies logged in full, so a broken generator is seen at once


@dataclass
class SimulationStats:
    """The run's counts (see the module docstring)."""

    reports: int = 0
    sent: int = 0
    accepted: int = 0
    repeats: int = 0
    repeat_mismatches: int = 0
    conflicts: int = 0
    invalid: int = 0
    unavailable: int = 0
    errors: int = 0
    retries: int = 0
    gave_up: int = 0
    in_flight: int = 0
    elapsed: float = 0.0
    rate: float = 0.0
    accepted_rate: float = 0.0
    target_rate: float = 0.0
    latency_p50_ms: float | None = None
    latency_p95_ms: float | None = None
    _latencies: deque[float] = field(default_factory=lambda: deque(maxlen=2000), repr=False)

    def snapshot(self) -> dict[str, Any]:
        data = {k: v for k, v in asdict(self).items() if not k.startswith("_")}
        lat = sorted(self._latencies)
        if lat:
            data["latency_p50_ms"] = round(lat[(len(lat) - 1) // 2] * 1000, 1)
            data["latency_p95_ms"] = round(lat[min(len(lat) - 1, int(len(lat) * 0.95))] * 1000, 1)
        data["elapsed"] = round(data["elapsed"], 3)
        data["rate"] = round(data["rate"], 3)
        data["accepted_rate"] = round(data["accepted_rate"], 3)
        return data


@dataclass(frozen=True)
class Tokens:
    """Whose token posts which report: one grid worker per town, one integrator per other network."""

    by_town: dict[str, str]
    integrators: dict[SourceNetwork, str] = field(default_factory=dict)
    single: str | None = None  # --token: every report with this one

    def for_report(self, report: SimulatedReport) -> str:
        if self.single is not None:
            return self.single
        if report.source in self.integrators:
            return self.integrators[report.source]
        return self.by_town[report.town]


def create_accounts(settings: Settings, registry: Registry) -> Tokens:
    """The simulator's own accounts: ``sim-wgy-<TOWN>-01`` grid workers and ``sim-<network>-01`` integrators.

    Each run makes new tokens (an account is keyed by its token's hash, so
    the same user id again is the same person with a second token).
    """
    by_town = {
        t.code: add_account(settings, f"sim-wgy-{t.code}-01", Role.GRID_WORKER, town=t.code) for t in registry.towns
    }
    integrators = {
        n: add_account(settings, f"sim-{n.value}-01", Role.INTEGRATOR, network=n) for n in INTEGRATED_NETWORKS
    }
    return Tokens(by_town=by_town, integrators=integrators)


class Simulation:
    """One run: a generator, the tokens, the pacing loop and the counts."""

    def __init__(
        self,
        *,
        url: str,
        tokens: Tokens,
        rate: float,
        duration: float,
        generator: ReportGenerator,
        on_progress: Callable[[dict[str, Any]], None] | None = None,
        stop: threading.Event | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        concurrency: int | None = None,
        repeat_share: float = REPEAT_SHARE,
        max_retries: int = MAX_RETRIES,
        timeout_s: float = 15.0,
        repeat_delay_s: tuple[float, float] = (0.5, 5.0),
        seed: int | None = None,
        network_formats: bool = False,
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive (reports per second)")
        if duration < 0:
            raise ValueError("duration must be >= 0 (0: until stopped)")
        self.base = url.rstrip("/")
        self.url = self.base + REPORTS_PATH
        # The other networks push in their own formats (多网合一), as their systems would.
        self.maps = load_maps() if network_formats else None
        self.tokens = tokens
        self.rate = rate
        self.duration = duration
        self.generator = generator
        self.on_progress = on_progress
        self.stop = stop or threading.Event()
        self.transport = transport
        self.concurrency = concurrency or max(4, min(64, int(rate) + 4))
        self.repeat_share = repeat_share
        self.max_retries = max_retries
        self.timeout_s = timeout_s
        self.repeat_delay_s = repeat_delay_s
        self.stats = SimulationStats(target_rate=rate)
        # Repeats and their delays: a stream of its own, so the reports are the generator's alone.
        self._jitter = random.Random(None if seed is None else f"repeats-{seed}")
        self._tasks: set[asyncio.Task[None]] = set()
        self._refusals_logged = 0
        self._start = 0.0
        self._sending_ended: float | None = None

    # -- the run ----------------------------------------------------------------------
    def run(self) -> dict[str, Any]:
        """Run to the end (or until ``stop``) and return the counts; Ctrl-C ends it early, counts kept."""
        try:
            asyncio.run(self.arun())
        except KeyboardInterrupt:
            logger.info("simulation interrupted")
        self._tick()
        return self.stats.snapshot()

    async def arun(self) -> dict[str, Any]:
        limits = httpx.Limits(max_connections=self.concurrency, max_keepalive_connections=self.concurrency)
        async with httpx.AsyncClient(
            transport=self.transport, limits=limits, timeout=httpx.Timeout(self.timeout_s)
        ) as client:
            self._client = client
            self._sem = asyncio.Semaphore(self.concurrency)
            self._start = time.monotonic()
            progress = asyncio.create_task(self._progress())
            tasks = self._tasks
            try:
                await self._pace(tasks)
                self._sending_ended = time.monotonic()
                if tasks:
                    _, pending = await asyncio.wait(tasks, timeout=DRAIN_TIMEOUT_S)
                    for t in pending:
                        t.cancel()
                    if pending:
                        logger.warning("%d reports still unanswered after %.0f s; left unsettled", len(pending), DRAIN_TIMEOUT_S)
                        await asyncio.gather(*pending, return_exceptions=True)
            finally:
                if self._sending_ended is None:
                    self._sending_ended = time.monotonic()
                for t in tasks:
                    t.cancel()
                progress.cancel()
                await asyncio.gather(progress, return_exceptions=True)
        final = self._tick()
        if self.on_progress is not None:
            try:
                self.on_progress(final)
            except Exception:
                logger.exception("on_progress callback failed")
        s = self.stats
        logger.info(
            "simulation done: %d reports, %d accepted, %d repeats, %d conflicts, %d invalid, %d unavailable, "
            "%d errors; offered %.1f reports/s, accepted %.1f/s over %.0f s",
            s.reports, s.accepted, s.repeats, s.conflicts, s.invalid, s.unavailable, s.errors, s.rate,
            s.accepted_rate, s.elapsed,
        )
        return s.snapshot()

    async def _pace(self, tasks: set[asyncio.Task[None]]) -> None:
        """Start report i at start + i/rate until the duration is over or ``stop`` is set."""
        i = 0
        backlog_cap = max(1000, int(self.rate * 60))
        while not self.stop.is_set():
            offset = i / self.rate
            if self.duration and offset >= self.duration:
                break
            due = self._start + offset
            delay = due - time.monotonic()
            if delay > 0:
                await asyncio.sleep(min(delay, 0.1))  # wake often enough to see ``stop``
                continue
            if len(tasks) >= backlog_cap:  # the intake is far behind: do not pile up without bound
                logger.warning("%d reports in flight; waiting for answers before sending more", len(tasks))
                await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
                continue
            report = self.generator.next()
            self.stats.reports += 1
            task = asyncio.create_task(self._deliver(report))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            self.stats.in_flight = len(tasks)
            i += 1

    async def _progress(self) -> None:
        last_log = time.monotonic()
        while True:
            await asyncio.sleep(1.0)
            snap = self._tick()
            if self.on_progress is not None:
                try:
                    self.on_progress(snap)
                except Exception:  # a broken callback must not stop the run
                    logger.exception("on_progress callback failed")
            if time.monotonic() - last_log >= LOG_EVERY_S:
                last_log = time.monotonic()
                logger.info(
                    "simulating: %d reports, %d accepted, %d in flight; offered %.1f/s, accepted %.1f/s",
                    snap["reports"], snap["accepted"], snap["in_flight"], snap["rate"], snap["accepted_rate"],
                )

    def _tick(self) -> dict[str, Any]:
        s = self.stats
        s.in_flight = sum(1 for t in self._tasks if not t.done())
        if self._start:
            now = time.monotonic()
            s.elapsed = now - self._start
            window = (self._sending_ended or now) - self._start
            s.rate = s.reports / window if window > 0 else 0.0
            s.accepted_rate = s.accepted / s.elapsed if s.elapsed > 0 else 0.0
        return s.snapshot()

    # -- one report -------------------------------------------------------------------
    async def _deliver(self, report: SimulatedReport) -> None:
        """Send a report until it is settled; perhaps send it once more, as a phone that lost the answer."""
        token = self.tokens.for_report(report)
        url, body = self.url, report.body
        if self.maps is not None and report.source is not SourceNetwork.MOBILE:
            report, body = as_network_event(report, self.maps)
            url = f"{self.base}/api/v1/networks/{report.source.value}/events"
        elif report.photos:  # the phone form uploads the photos first, then cites what the intake named them
            ids = [await self._upload(report, token, photo) for photo in report.photos]
            if None in ids:
                self.stats.gave_up += 1
                return
            body = body | {"photo_ids": ids}
        received_at = await self._send(report, token, url, body, repeat=False, first_received_at=None)
        if self._jitter.random() < self.repeat_share:
            await asyncio.sleep(self._jitter.uniform(*self.repeat_delay_s))
            await self._send(report, token, url, body, repeat=True, first_received_at=received_at)

    async def _upload(self, report: SimulatedReport, token: str, photo: bytes) -> str | None:
        """POST one photo, retrying 503s and transport errors; its id, or None when it could not be stored."""
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "image/jpeg"}
        for attempt in range(self.max_retries + 1):
            async with self._sem:
                try:
                    response = await self._client.post(f"{self.base}/api/v1/photos", content=photo, headers=headers)
                except httpx.TransportError:
                    response = None
            if response is not None and response.status_code in (200, 201):
                return str(response.json()["photo_id"])
            if response is not None and response.status_code != 503:
                logger.warning("report %s: photo refused: HTTP %d %s", report.report_id, response.status_code,
                               response.text[:200])  # fmt: skip
                return None
            if attempt == self.max_retries or self.stop.is_set():
                break
            wait = _retry_after(response.headers.get("Retry-After")) if response is not None else 0.5 * 2**attempt
            await asyncio.sleep(min(RETRY_AFTER_MAX_S, wait))
        return None

    async def _send(
        self,
        report: SimulatedReport,
        token: str,
        url: str,
        body: dict[str, Any],
        *,
        repeat: bool,
        first_received_at: str | None,
    ) -> str | None:
        """POST one body, retrying 503s and transport errors; returns the 202's ``received_at`` or None."""
        s = self.stats
        headers = {"Authorization": f"Bearer {token}"}
        for attempt in range(self.max_retries + 1):
            if attempt:
                s.retries += 1
            async with self._sem:
                s.sent += 1
                t0 = time.monotonic()
                try:
                    response = await self._client.post(url, json=body, headers=headers)
                except httpx.TransportError as exc:
                    s.errors += 1
                    logger.debug("report %s: %s", report.report_id, exc)
                    wait = min(RETRY_AFTER_MAX_S, 0.5 * 2**attempt)
                    response = None
            if response is None:
                pass
            elif response.status_code in (200, 201, 202):
                s._latencies.append(time.monotonic() - t0)
                return self._accepted(report, response, repeat=repeat, first_received_at=first_received_at)
            elif response.status_code == 409:
                s.conflicts += 1
                logger.warning("report %s: 409 %s", report.report_id, response.text[:300])
                return None
            elif response.status_code == 503:
                s.unavailable += 1
                wait = _retry_after(response.headers.get("Retry-After"))
            elif 400 <= response.status_code < 500:
                s.invalid += 1
                self._log_refusal(report, response)
                return None
            else:
                s.errors += 1
                logger.debug("report %s: HTTP %d", report.report_id, response.status_code)
                wait = min(RETRY_AFTER_MAX_S, 0.5 * 2**attempt)
            if attempt == self.max_retries or self.stop.is_set():
                break
            await asyncio.sleep(wait)
        s.gave_up += 1
        logger.debug("report %s: gave up", report.report_id)
        return None

    def _accepted(
        self, report: SimulatedReport, response: httpx.Response, *, repeat: bool, first_received_at: str | None
    ) -> str | None:
        s = self.stats
        try:
            answer = response.json()
        except ValueError:
            answer = {}
        received_at = answer.get("received_at") if isinstance(answer, dict) else None
        if repeat:
            s.repeats += 1
            if first_received_at is None:
                s.accepted += 1  # the first try never got its 202; this one did
            elif received_at != first_received_at or answer.get("report_id") != report.report_id:
                s.repeat_mismatches += 1
                logger.warning(
                    "repeat of %s answered %s, first answer said received_at=%s", report.report_id, answer, first_received_at
                )
        else:
            s.accepted += 1
        return received_at

    def _log_refusal(self, report: SimulatedReport, response: httpx.Response) -> None:
        if self._refusals_logged < MAX_LOGGED_REFUSALS:
            self._refusals_logged += 1
            logger.warning("report %s refused: HTTP %d %s", report.report_id, response.status_code, response.text[:500])
        else:
            logger.debug("report %s refused: HTTP %d", report.report_id, response.status_code)


def _retry_after(value: str | None) -> float:
    """Seconds to wait from a ``Retry-After`` header (delay-seconds form), bounded."""
    try:
        seconds = float(value) if value is not None else RETRY_AFTER_DEFAULT_S
    except ValueError:
        seconds = RETRY_AFTER_DEFAULT_S
    return max(0.0, min(RETRY_AFTER_MAX_S, seconds))


def run_simulation(
    settings: Settings,
    *,
    rate: float,
    duration: float,
    token: str | None = None,
    seed: int | None = None,
    url: str | None = None,
    on_progress: Callable[[dict[str, Any]], None] | None = None,
    stop: threading.Event | None = None,
    registry: Registry | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    network_formats: bool = False,
) -> dict[str, Any]:
    """Post realistic reports to the intake at ``rate`` per second for ``duration`` seconds (0: until ``stop``).

    Without ``token`` the simulator creates its own accounts (one grid
    worker per town, one integrator for each other network, posting its
    reports); with one, every report is posted with it and comes from the
    mobile form. ``url`` defaults to the intake of ``settings``. Returns the
    counts (module docstring); ``on_progress`` gets them every second.
    ``network_formats``: the other networks' reports are pushed in their own
    formats to ``/api/v1/networks/{network}/events`` (the demo), not posted
    as unified reports.
    """
    registry = registry or load_registry()
    base = url or settings.intake_url
    if token is not None:
        tokens = Tokens(by_town={}, single=token)
    else:
        tokens = create_accounts(settings, registry)
    generator = ReportGenerator(seed, registry=registry, networks=token is None)
    logger.info("simulating %.1f reports/s for %s against %s", rate, f"{duration:g} s" if duration else "ever", base)
    sim = Simulation(
        url=base,
        tokens=tokens,
        rate=rate,
        duration=duration,
        generator=generator,
        on_progress=on_progress,
        stop=stop,
        transport=transport,
        timeout_s=settings.intake_produce_timeout_s + 5.0,
        seed=seed,
        network_formats=network_formats and token is None,
    )
    return sim.run()
