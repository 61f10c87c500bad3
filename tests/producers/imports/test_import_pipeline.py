"""``gridflow import`` on the real intake, Kafka, workers and ClickHouse.

A 综治 nightly export in GBK with good and bad lines: the bad ones are
reported by line and dead-lettered with their bytes, the good ones become
reports; the same file again creates nothing — also after the intake has
forgotten them (its 48-hour index, here a few seconds); a changed line is a
conflict; a JSON Lines export goes through the same door.
"""

from __future__ import annotations

import base64
import json
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from harness import start_pipeline
from kafka import KafkaConsumer

from gridflow import services
from infra.settings import Settings
from producers.imports.run import run_import
from producers.networks.adapt import load_maps, report_id_for
from producers.simulate.networks import export_csv, payload_for
from schemas.topics import NETWORK_EVENTS_REJECTED
from schemas.vocabulary import SourceNetwork

pytestmark = pytest.mark.integration

NETWORK = SourceNetwork.COMPREHENSIVE
EVENTS = [  # grid, category, subcategory, text
    ("XL-02-03", "DISPUTE", "wages", "石门村三组村民与砖厂老板因拖欠工钱六千元发生争执，需要调解"),
    ("DH-01-02", "URBAN", "street_light", "湖滨社区3栋门口路灯连续三晚不亮，居民夜间出行不便"),
    ("NJ-01-01", "SAFETY", None, "南江镇农贸市场一家商铺楼梯间堆放大量纸箱，占用消防通道"),
    ("BC-01-01", "ENVIRONMENT", None, "北城街道河边有人夜间焚烧垃圾，浓烟很大，附近居民反映呛人"),
]


def _rows(prefix: str) -> list[dict[str, Any]]:
    maps = load_maps()
    when = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(hours=10)
    return [
        payload_for(
            NETWORK, event_id=f"{prefix}{i:04d}", grid_id=grid, lat=None, lon=None, category=category,
            subcategory=sub, text=text, occurred_at=when + timedelta(minutes=i), phone=None, maps=maps,
        )  # fmt: skip
        for i, (grid, category, sub, text) in enumerate(EVENTS)
    ]


def _dead_letters(settings: Settings, expect: int) -> list[dict[str, Any]]:
    consumer = KafkaConsumer(
        settings.topic(NETWORK_EVENTS_REJECTED.name), bootstrap_servers=settings.bootstrap,
        auto_offset_reset="earliest", enable_auto_commit=False, group_id=None, consumer_timeout_ms=1000,
    )  # fmt: skip
    seen: list[dict[str, Any]] = []
    deadline = time.monotonic() + 30
    while len(seen) < expect and time.monotonic() < deadline:
        seen += [json.loads(m.value) for m in consumer]
    consumer.close()
    return seen


def test_a_gbk_export_with_bad_lines_imports_once_however_often_it_is_run(
    pipeline_settings: Settings, tmp_path: Path
) -> None:
    pipeline = start_pipeline(pipeline_settings)
    settings = pipeline.settings
    try:
        rows = _rows("ZZIMP")
        header = list(dict.fromkeys(k for r in rows for k in r))
        bad_time = dict(rows[0], sjbh="ZZIMPBAD1", fssj="2026-13-45 99:00:00")
        no_id = dict(rows[1], sjbh="")
        bad_lines = [
            ",".join(str(bad_time.get(k) or "") for k in header),
            ",".join(str(no_id.get(k) or "") for k in header),
            "ZZIMPBAD3,只有两列",
        ]
        text = export_csv(rows, bad_lines)
        path = tmp_path / "zz-export-20261125.csv"
        path.write_bytes(text.encode("gbk"))

        first = run_import(settings, NETWORK, path, progress=False)
        assert first.encoding == "gb18030"
        assert (first.read, first.accepted, first.repeats, first.conflicts, first.bad) == (7, 4, 0, 0, 3)
        assert [line for line, _ in first.problems] == [6, 7, 8]
        assert "fssj" in first.problems[0][1] and "sjbh" in first.problems[1][1]

        letters = _dead_letters(settings, 3)
        assert sorted(letter["line"] for letter in letters) == [6, 7, 8]
        raw_lines = path.read_bytes().split(b"\n")
        for letter in letters:
            assert base64.b64decode(letter["original_base64"]) == raw_lines[letter["line"] - 1] + b"\n"
            assert letter["network"] == NETWORK.value and letter["reason"]

        again = run_import(settings, NETWORK, path, progress=False)
        assert (again.accepted, again.repeats, again.conflicts, again.bad) == (0, 4, 0, 3)

        # Weeks later: the intake's index has forgotten the reports; the workers have not.
        with pipeline.client("centre") as c:
            for r in rows:
                rid = report_id_for(NETWORK, r["sjbh"])
                services.wait_until(
                    lambda rid=rid: c.get(f"/api/v1/reports/{rid}").json().get("case_id") is not None, 60,
                    f"a case for {r['sjbh']}",
                )  # fmt: skip
        pipeline.intake.stop()
        forgetful = settings.replace(intake_index_hours=0.0001)
        pipeline.intake = services.intake(forgetful).start()
        services.wait_until(services.intake_ready(forgetful), 120, "intake")
        time.sleep(1)
        later = run_import(settings, NETWORK, path, progress=False)
        assert (later.accepted, later.repeats, later.conflicts, later.bad) == (0, 4, 0, 3)

        # One line changed: the same event id with other content is a conflict.
        changed = export_csv([dict(rows[0], sjms=rows[0]["sjms"] + "（补充：已调解一次未果）"), *rows[1:]], [])
        path.write_bytes(changed.encode("gbk"))
        conflict = run_import(settings, NETWORK, path, progress=False)
        assert (conflict.accepted, conflict.repeats, conflict.conflicts, conflict.bad) == (0, 3, 1, 0)

        # A JSON Lines export goes the same way; an unknown code goes to triage.
        fresh = _rows("ZZJSN")[:2]
        fresh[1] = dict(fresh[1], sjlx="QT99")
        lines = tmp_path / "zz-export.jsonl"
        lines.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in fresh), encoding="utf-8")
        jsonl = run_import(settings, NETWORK, lines, progress=False)
        assert (jsonl.accepted, jsonl.triage, jsonl.bad) == (2, 1, 0)

        engine = pipeline.clickhouse()
        db = settings.clickhouse_database
        services.wait_until(
            lambda: engine.execute(f"SELECT count() FROM {db}.rejected_events FINAL")[0][0] == 3, 60,
            "three bad lines in ClickHouse, once each",
        )  # fmt: skip
        services.wait_until(
            lambda: engine.execute(f"SELECT count() FROM {db}.cases FINAL WHERE source = 'comprehensive'")[0][0] == 6,
            60, "six reports in ClickHouse",
        )  # fmt: skip
        engine.close()
    finally:
        pipeline.stop()
