"""The faces in a real browser, phone-sized: report → the department's inbox → sign → resolve → verify.

Also the offline queue with the intake cut and brought back, and the
command-centre page. Screenshots of every page go to test-artifacts/pages/.
Waits are generous: the test checks that things happen, not how fast.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, Callable

import pytest
from harness import start_pipeline
from restarts import start_again
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from accounts.directory import add_account
from gridflow import services
from infra.settings import Settings
from infra.stack.kafka import KafkaServer
from schemas.vocabulary import Role

pytestmark = pytest.mark.integration

SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "pages"


def until(what: str, check: Callable[[], Any], timeout: float = 90, describe: Callable[[], str] | None = None) -> Any:
    """Poll ``check`` until it is truthy; on timeout fail with ``what`` and what ``describe`` says of the state."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            found = check()
            if found:
                return found
        except Exception:  # noqa: BLE001 - the page is still drawing
            pass
        time.sleep(0.2)
    detail = ""
    if describe is not None:
        try:
            detail = f"; {describe()}"
        except Exception as exc:  # noqa: BLE001 - the description must not hide the failure
            detail = f"; (no description: {exc!r})"
    raise AssertionError(f"never: {what}{detail}")


def mine_and_clickhouse(driver: Any, pipeline: Any) -> str:
    """What 我的上报 shows, and what ClickHouse holds, when a case number does not appear."""
    shot(driver, "failed-mine")
    db = pipeline.settings.clickhouse_database
    engine = pipeline.clickhouse()
    counts = {t: engine.execute(f"SELECT count() FROM {db}.{t} FINAL")[0][0] for t in ("reports", "cases")}
    return f"我的上报 shows {driver.find_element(By.ID, 'mine').text!r}; ClickHouse FINAL counts {counts}"


def shot(driver: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(SHOTS / f"{name}.png"))


def sign_in(driver: Any, url: str, user: str, password: str, lands_on: str) -> None:
    driver.get(f"{url}/index.html")
    driver.execute_script("localStorage.clear()")
    driver.get(f"{url}/index.html")
    driver.find_element(By.ID, "user").send_keys(user)
    driver.find_element(By.ID, "password").send_keys(password)
    driver.find_element(By.ID, "go").click()
    until(f"{user} lands on {lands_on}", lambda: driver.current_url.endswith(lands_on))


def fill_report(driver: Any, title: str, description: str = "石门村村口路灯坏了三天，晚上很黑，老人出行不便。") -> None:
    until("the grid picker is filled", lambda: len(driver.find_elements(By.CSS_SELECTOR, "#grid option")) > 40)
    Select(driver.find_element(By.ID, "grid")).select_by_value("XL-02-03")
    Select(driver.find_element(By.ID, "category")).select_by_value("URBAN")
    driver.find_element(By.ID, "title").send_keys(title)
    driver.find_element(By.ID, "description").send_keys(description)
    phone = driver.find_element(By.ID, "phone")
    phone.clear()
    phone.send_keys("13812345678")
    driver.find_element(By.ID, "send").click()


def card(driver: Any, box: str, text: str) -> Any:
    return next(c for c in driver.find_elements(By.CSS_SELECTOR, f"#{box} .card") if text in c.text)


def press(driver: Any, box: str, text: str, label: str) -> None:
    """Click ``label`` on the card holding ``text`` (pages redraw every second: find it afresh until it works)."""

    def attempt() -> bool:
        next(b for b in card(driver, box, text).find_elements(By.TAG_NAME, "button") if b.text == label).click()
        return True

    until(f"{label} on {text}", attempt, 30)


def accounts(settings: Settings) -> None:
    add_account(settings, "wgy-xl-0203", Role.GRID_WORKER, town="XL", password="wgy-pass-1")
    add_account(settings, "cg-zhang", Role.DEPARTMENT_STAFF, department="CG", password="cg-pass-01")
    add_account(settings, "zx-duty-2", Role.COMMAND_CENTRE, password="zx-pass-01")


def test_a_report_is_signed_resolved_and_verified_through_the_pages(pipeline_settings: Settings, browser: Any) -> None:
    pipeline = start_pipeline(pipeline_settings)
    try:
        settings, url, driver = pipeline.settings, pipeline.url, browser
        accounts(settings)

        sign_in(driver, url, "wgy-xl-0203", "wgy-pass-1", "report.html")
        shot(driver, "1-report-form")
        fill_report(driver, "村口路灯不亮", "石门村3组村口路灯坏了三天，晚上很黑，老人出行不便。")
        until("the case number under 我的上报", lambda: "XL-" in driver.find_element(By.ID, "mine").text,
              describe=lambda: mine_and_clickhouse(driver, pipeline))  # fmt: skip
        case_no = driver.find_element(By.CSS_SELECTOR, "#mine .card strong").text

        # The intake is cut: the report waits as 待发送, and is sent once the intake is back.
        pipeline.intake.stop()
        fill_report(driver, "桥头路灯也不亮", "石门村5组桥头的路灯也不亮了，晚上过桥很危险。")  # another light: two cases
        until("queued while the intake is away", lambda: driver.find_element(By.ID, "queued").text == "1")
        assert "待发送" in driver.find_element(By.ID, "outbox").text
        shot(driver, "2-report-queued-offline")
        pipeline.intake = services.intake(settings).start()
        services.wait_until(services.intake_ready(settings), 90, "intake back")
        driver.execute_script("window.dispatchEvent(new Event('online'))")
        until("the queue drains", lambda: driver.find_element(By.ID, "queued").text == "0", 120)
        until("both reports are cases", lambda: driver.find_element(By.ID, "mine").text.count("XL-") == 2,
              describe=lambda: mine_and_clickhouse(driver, pipeline))  # fmt: skip

        # The CG clerk: both in the inbox; sign the first, then resolve it with a note.
        sign_in(driver, url, "cg-zhang", "cg-pass-01", "console.html")
        until("the inbox lists both", lambda: driver.find_element(By.ID, "count").text == "2")
        shot(driver, "3-console-inbox")
        target = until("the card", lambda: card(driver, "inbox", case_no).text)
        assert "签收时限" in target and ("剩" in target or "超时" in target)
        press(driver, "inbox", case_no, "签收")
        until("signed", lambda: "已签收" in card(driver, "inbox", case_no).text, 60)
        press(driver, "inbox", case_no, "办结")
        driver.switch_to.alert.send_keys("已更换灯泡")
        driver.switch_to.alert.accept()
        until("resolved", lambda: "已办结" in card(driver, "inbox", case_no).text, 60)
        shot(driver, "4-console-resolved")

        # The grid worker verifies it from his own page: the case closes.
        sign_in(driver, url, "wgy-xl-0203", "wgy-pass-1", "report.html")
        until("resolved in 我的上报", lambda: "已办结" in card(driver, "mine", case_no).text, 60)
        press(driver, "mine", case_no, "核查通过")
        until("closed", lambda: "已结案" in card(driver, "mine", case_no).text, 60)
        shot(driver, "5-report-verified")

        # The command centre: backlog, the map of every grid, nothing fetched from outside.
        sign_in(driver, url, "zx-duty-2", "zx-pass-01", "centre.html")
        until("the backlog", lambda: "CG" in driver.find_element(By.ID, "backlog").text, 60)
        assert len(driver.find_elements(By.CSS_SELECTOR, "#map path")) == 48
        shot(driver, "6-centre")
        assert driver.execute_script("return document.documentElement.lang") == "zh-CN"
        resources = driver.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
        assert all(r.startswith(url) for r in resources), resources
    finally:
        pipeline.stop()


#: records every answer the page's fetch gets — (url, status, Retry-After) — and changes none
WATCH_FETCH = """
window.__answers = [];
const real = window.fetch;
window.fetch = async (...args) => {
  const r = await real(...args);
  window.__answers.push([String(args[0]), r.status, r.headers.get("Retry-After")]);
  return r;
};
"""


@pytest.mark.slow
def test_a_report_answered_503_stays_queued_and_is_sent_once_kafka_is_back(
    stack: Settings, pipeline_settings: Settings, browser: Any
) -> None:
    """Kafka down: the intake's 503 leaves the report in the outbox (待发送, no error, no 删除), sent when Kafka is back."""
    pipeline = start_pipeline(pipeline_settings)
    broker = KafkaServer(stack)
    try:
        settings, url, driver = pipeline.settings, pipeline.url, browser
        accounts(settings)
        sign_in(driver, url, "wgy-xl-0203", "wgy-pass-1", "report.html")
        driver.execute_script(WATCH_FETCH)
        broker.stop()
        fill_report(driver, "井盖缺失", "石门村2组路口井盖不见了，夜里有人差点掉下去。")

        def posts() -> list[list[Any]]:
            return [a for a in driver.execute_script("return window.__answers") if a[0] == "/api/v1/reports"]

        until("the form's post is answered", posts, 60)
        # Every try (the form's own timer may have tried again meanwhile) was a 503 with Retry-After in seconds …
        assert {(status, bool(after and after.isdigit())) for _, status, after in posts()} == {(503, True)}
        outbox = json.loads(driver.execute_script("return localStorage.getItem('gf_outbox')"))
        # … and the report is kept to be sent again: no `error` (a 4xx sets it and offers 删除 instead)
        assert [(item["body"]["title"], item["error"]) for item in outbox] == [("井盖缺失", None)]
        assert outbox[0]["tries"] >= 1
        assert driver.find_element(By.ID, "queued").text == "1"
        assert "已尝试" in driver.find_element(By.ID, "outbox").text
        assert "删除" not in driver.find_element(By.ID, "outbox").text
        driver.execute_script("document.getElementById('outbox').scrollIntoView()")
        shot(driver, "7-report-queued-after-503")

        start_again(broker, [broker.port, broker.controller_port])
        driver.execute_script("window.dispatchEvent(new Event('online'))")  # else the form's own 15 s timer
        until("the queue drains", lambda: driver.find_element(By.ID, "queued").text == "0", 180)
        assert posts()[-1][1] == 202
        until("the report is a case", lambda: "XL-" in driver.find_element(By.ID, "mine").text, 180)
    finally:
        try:
            if not broker.is_running():
                start_again(broker, [broker.port, broker.controller_port])
        finally:
            pipeline.stop()
