"""Import speed: a network's export file of N lines through ``gridflow import``, beside its bare reading.

    python bench/import_speed.py [--lines 100000] [--network comprehensive] [--workers 1] [--json FILE]

Starts the local stack (``gridflow stack up``), a worker and an intake, writes
a GBK CSV of distinct events (every grid, several categories, times spread
over a month), and times, in the same run:

- **read**: the file read and every line adapted, no HTTP and no Kafka — the
  ceiling of the import's own code;
- **import**: ``run_import`` against the running intake (each line a push,
  acknowledged by Kafka), then the same file again (every line a repeat).

It stops everything it started, on exit and on error.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from a checkout

from district import load_registry  # noqa: E402
from gridflow import services  # noqa: E402
from infra import stack  # noqa: E402
from infra.clickhouse import ServerEngine  # noqa: E402
from infra.kafka import ensure_topics  # noqa: E402
from infra.settings import Settings  # noqa: E402
from processors.pipeline import internal_topics  # noqa: E402
from producers.imports.files import read_records  # noqa: E402
from producers.imports.run import run_import  # noqa: E402
from producers.networks.adapt import adapt, load_maps  # noqa: E402
from producers.simulate.networks import export_csv, payload_for  # noqa: E402
from schemas.migrate import apply  # noqa: E402
from schemas.topics import declared  # noqa: E402
from schemas.vocabulary import SourceNetwork  # noqa: E402

CATEGORIES = [("URBAN", "street_light"), ("URBAN", "manhole_cover"), ("DISPUTE", "wages"), ("SAFETY", None),
              ("ENVIRONMENT", None), ("LIVELIHOOD", None)]  # fmt: skip


def write_export(path: Path, network: SourceNetwork, lines: int, seed: int = 7) -> None:
    """``lines`` distinct events of ``network`` as a GBK CSV export."""
    rng = random.Random(seed)
    maps = load_maps()
    grids = load_registry().grids
    start = datetime(2026, 11, 1, tzinfo=timezone.utc)
    rows = []
    for i in range(lines):
        grid = rng.choice(grids)
        category, sub = rng.choice(CATEGORIES)
        rows.append(payload_for(
            network, event_id=f"BENCH{i:09d}", grid_id=grid.grid_id, lat=None, lon=None, category=category,
            subcategory=sub, text=f"{grid.village_name}第{i % 97 + 1}组反映问题第{i}号，请核实处理。",
            occurred_at=start + timedelta(seconds=rng.randint(0, 30 * 86400)), phone=None, maps=maps,
        ))  # fmt: skip
    path.write_bytes(export_csv(rows).encode("gbk"))


def read_only(path: Path, network: SourceNetwork) -> tuple[int, float]:
    """(lines, seconds) to read and adapt every line: the baseline."""
    maps = load_maps()
    t0 = time.perf_counter()
    _used, records = read_records(path)
    n = 0
    for record in records:
        if record.payload is not None:
            adapt(network, record.payload, maps)
        n += 1
    return n, time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--network", default=SourceNetwork.COMPREHENSIVE.value)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--json", help="also write the figures here")
    args = parser.parse_args(argv)
    network = SourceNetwork(args.network)
    settings = Settings.from_env().replace(topic_prefix=f"bench{int(time.time())}", worker_id=f"bench{int(time.time())}",
                                           clickhouse_database=f"bench_{int(time.time())}")  # fmt: skip
    stack.up(settings, progress=lambda line: print(line, file=sys.stderr))
    ensure_topics(settings, declared(load_registry().department_codes), internal=internal_topics(settings))
    engine = ServerEngine.from_settings(settings)
    apply(engine, settings.clickhouse_database)
    engine.close()
    children = [services.worker(settings, i) for i in range(args.workers)] + [services.intake(settings)]
    try:
        for child in children:
            child.start()
        services.wait_until(services.intake_ready(settings), 120, "intake")
        for i in range(args.workers):
            services.wait_until(services.worker_ready(settings, i), 120, f"worker {i}")
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / f"{network.value}-export.csv"
            write_export(path, network, args.lines)
            lines, read_s = read_only(path, network)
            t0 = time.perf_counter()
            first = run_import(settings, network, path, concurrency=args.concurrency, progress=sys.stderr.isatty())
            import_s = time.perf_counter() - t0
            t0 = time.perf_counter()
            again = run_import(settings, network, path, concurrency=args.concurrency, progress=sys.stderr.isatty())
            again_s = time.perf_counter() - t0
        figures: dict[str, Any] = {
            "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "machine": {"cores": __import__("os").cpu_count(), "python": platform.python_version()},
            "lines": lines,
            "read_and_adapt_lines_per_s": round(lines / read_s),
            "import_lines_per_s": round(lines / import_s),
            "reimport_lines_per_s": round(lines / again_s),
            "import_s": round(import_s, 1),
            "first": {k: getattr(first, k) for k in ("read", "accepted", "repeats", "conflicts", "bad", "triage")},
            "again": {k: getattr(again, k) for k in ("read", "accepted", "repeats", "conflicts", "bad", "triage")},
            "concurrency": args.concurrency,
            "workers": args.workers,
        }
        print(json.dumps(figures, ensure_ascii=False, indent=2))
        if args.json:
            Path(args.json).write_text(json.dumps(figures, ensure_ascii=False, indent=2))
        return 0
    finally:
        for child in reversed(children):
            child.stop()


if __name__ == "__main__":
    sys.exit(main())
