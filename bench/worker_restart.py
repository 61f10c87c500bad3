"""A worker's restart with N cases in its tables: tables in memory beside tables on RocksDB, in one run.

    python bench/worker_restart.py [--cases 1000000] [--json FILE]

Starts the local stack (``gridflow stack up``) and seeds the cases table's
changelog directly — N closed cases, written as the case agent writes them
(raw case-id keys, JSON values) — rather than through the pipeline, which
would take hours. Then, for each store, it times a worker from its start
until it has every case (the last case written to each partition answers on
the worker's table view):

- **memory://**: the first start and a restart each replay the whole changelog;
- **rocksdb://**: the first start fills the local databases from the changelog;
  a clean restart (SIGTERM) and a restart after ``kill -9`` read only what was
  written since.

With each: the worker's resident memory once it has every case. It stops
everything it started, on exit and on error.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from a checkout

import httpx  # noqa: E402
from kafka import KafkaProducer  # noqa: E402

from district import load_registry  # noqa: E402
from gridflow import services  # noqa: E402
from infra import stack  # noqa: E402
from infra.kafka import ensure_topics  # noqa: E402
from infra.settings import Settings  # noqa: E402
from processors.pipeline import internal_topics  # noqa: E402
from schemas.topics import declared  # noqa: E402

#: a closed case as the case table holds it (its ids replaced per case)
CASE_TEMPLATE: dict[str, Any] = {
    "case_id": "", "case_no": "", "report_id": "", "state": "closed", "seq": 6, "town": "XL",
    "grid_id": "XL-02-03", "category": "URBAN", "subcategory": "street_light", "severity": "P3",
    "lead_department": "CG", "co_departments": [], "title": "村口路灯不亮",
    "description": "石门村村口路灯坏了三天，晚上很黑。", "reporter_id": "wgy-xl-01", "reporter_role": "grid_worker",
    "source": "mobile", "accepted_at": "2026-06-01T08:00:00Z", "occurred_at": "2026-06-01T07:30:00Z",
}  # fmt: skip


def seed(settings: Settings, cases: int) -> list[bytes]:
    """Write ``cases`` closed cases to the cases table's changelog; returns the last key of each partition."""
    topic = f"{settings.worker_id}-cases-changelog"
    out = KafkaProducer(
        bootstrap_servers=settings.bootstrap, acks=1, linger_ms=50, batch_size=512 * 1024, compression_type="gzip",
        max_request_size=4 * 1024 * 1024,
    )  # fmt: skip
    last: dict[int, tuple[int, bytes]] = {}  # partition → (highest offset, its key)
    futures: list[tuple[Any, bytes]] = []

    def settle() -> None:
        for future, key in futures:
            meta = future.get(timeout=120)
            if meta.offset >= last.get(meta.partition, (-1, b""))[0]:
                last[meta.partition] = (meta.offset, key)
        futures.clear()

    for i in range(cases):
        case_id = str(uuid.UUID(int=(0xBE << 120) + i))
        value = dict(CASE_TEMPLATE, case_id=case_id, report_id=str(uuid.UUID(int=(0xAF << 120) + i)),
                     case_no=f"XL-20260601-{i % 10000:04d}")  # fmt: skip
        key = case_id.encode()
        futures.append((out.send(topic, key=key, value=json.dumps(value, ensure_ascii=False).encode()), key))
        if len(futures) >= 20_000:
            settle()
    settle()
    out.close()
    # the key of the highest offset of each partition: the case read last when the worker recovers
    return [key for _, (_, key) in sorted(last.items())]


def rss_mib(pid: int) -> float:
    """Resident memory of ``pid``, MiB (VmRSS)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def timed_start(settings: Settings, sentinels: list[bytes], timeout: float) -> tuple[services.Service, float, float]:
    """Start worker 0; (its service, seconds until every sentinel case answers, its RSS then)."""
    worker = services.worker(settings, 0)
    t0 = time.monotonic()
    worker.start()
    base = f"http://127.0.0.1:{settings.worker_web_port}/cases"
    pending = list(sentinels)
    deadline = t0 + timeout
    while pending:
        if time.monotonic() > deadline:
            worker.stop()
            raise TimeoutError(f"worker did not recover {len(pending)} partitions in {timeout:.0f}s")
        try:
            pending = [k for k in pending if httpx.get(f"{base}/{k.decode()}/", timeout=5).status_code != 200]
        except httpx.HTTPError:
            pass
        if pending:
            time.sleep(0.2)
    seconds = time.monotonic() - t0
    assert worker.process is not None
    return worker, seconds, rss_mib(worker.process.pid)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--timeout", type=float, default=1800.0, help="longest a start may take, seconds")
    parser.add_argument("--json", help="also write the figures here")
    args = parser.parse_args(argv)
    tag = f"restart{int(time.time())}"
    base = Settings.from_env().replace(topic_prefix=tag, worker_id=tag, clickhouse_database=f"{tag}_db")
    stack.up(base, progress=lambda line: print(line, file=sys.stderr))
    ensure_topics(base, declared(load_registry().department_codes), internal=internal_topics(base))
    t0 = time.monotonic()
    sentinels = seed(base, args.cases)
    seed_s = time.monotonic() - t0
    print(f"seeded {args.cases} cases in {seed_s:.0f}s", file=sys.stderr)
    figures: dict[str, Any] = {
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": {"cores": os.cpu_count(), "python": platform.python_version(),
                    "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)},
        "cases": args.cases, "seed_s": round(seed_s, 1),
    }  # fmt: skip
    running: list[services.Service] = []
    try:
        for store in ("memory://", "rocksdb://"):
            settings = base.replace(table_store=store, home=base.home / tag / store.rstrip(":/"))
            runs: dict[str, Any] = {}
            worker, s, rss = timed_start(settings, sentinels, args.timeout)
            running.append(worker)
            runs["first_start_s"], runs["first_start_rss_mib"] = round(s, 1), round(rss)
            worker.stop()
            running.remove(worker)
            worker, s, rss = timed_start(settings, sentinels, args.timeout)
            running.append(worker)
            runs["restart_s"], runs["restart_rss_mib"] = round(s, 1), round(rss)
            if store.startswith("rocksdb"):
                worker.kill()
                running.remove(worker)
                worker, s, rss = timed_start(settings, sentinels, args.timeout)
                running.append(worker)
                runs["restart_after_kill9_s"], runs["restart_after_kill9_rss_mib"] = round(s, 1), round(rss)
            worker.stop()
            running.remove(worker)
            figures[store.rstrip(":/")] = runs
            print(json.dumps({store: runs}), file=sys.stderr)
        print(json.dumps(figures, ensure_ascii=False, indent=2))
        if args.json:
            Path(args.json).write_text(json.dumps(figures, ensure_ascii=False, indent=2))
        return 0
    finally:
        for worker in running:
            worker.stop()


if __name__ == "__main__":
    sys.exit(main())
