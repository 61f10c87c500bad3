"""How long from "提交上报" on the phone to the alert in the department's open console (20 reports).

A measurement, not a timing assertion: the figures go to
test-artifacts/inbox_latency.json; the test asserts only that every report
arrived, in the right department's inbox.
"""

from __future__ import annotations

import json
import statistics
import time
from pathlib import Path
from typing import Any

import pytest
from harness import start_pipeline
from selenium.webdriver.common.by import By
from test_pages import accounts, fill_report, sign_in, until

from infra.settings import Settings

pytestmark = pytest.mark.integration

ARTIFACT = Path(__file__).resolve().parents[2] / "test-artifacts" / "inbox_latency.json"
REPORTS = 20


def test_submit_to_inbox_latency(pipeline_settings: Settings, browser: Any, desk_browser: Any) -> None:
    pipeline = start_pipeline(pipeline_settings)
    try:
        settings, url = pipeline.settings, pipeline.url
        accounts(settings)
        sign_in(desk_browser, url, "cg-zhang", "cg-pass-01", "console.html")
        until("the live stream is open", lambda: desk_browser.find_element(By.ID, "live").text == "实时")
        sign_in(browser, url, "wgy-xl-0203", "wgy-pass-1", "report.html")
        seconds = []
        for i in range(REPORTS):
            # twenty street lights, one per 组 of the village: twenty incidents, not one reported twenty times
            title = f"路灯不亮 第{i + 1}处"
            fill_report(browser, title, f"石门村{i + 1}组村口路灯坏了三天，晚上很黑，老人出行不便。")
            sent = time.monotonic()
            until(f"report {i + 1} in the inbox", lambda t=title: t in desk_browser.find_element(By.ID, "message").text, 90)
            seconds.append(time.monotonic() - sent)
        result = {
            "reports": REPORTS,
            "p50_s": round(statistics.median(seconds), 3),
            "max_s": round(max(seconds), 3),
            "each_s": [round(s, 3) for s in seconds],
            "from": "click on 提交上报 (phone-sized Chromium)",
            "to": "the alert shown in the CG console (server-sent events from alerts.CG)",
        }
        ARTIFACT.parent.mkdir(exist_ok=True)
        ARTIFACT.write_text(json.dumps(result, ensure_ascii=False, indent=2))
        print(json.dumps(result, ensure_ascii=False))
        assert len(seconds) == REPORTS
    finally:
        pipeline.stop()
