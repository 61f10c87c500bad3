"""The three faces in a real browser: a grid worker reports (also offline), a clerk signs, the centre sees it."""

from __future__ import annotations

import time
from typing import Any, Callable

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from gridflow.accounts.directory import add_account
from gridflow.settings import Settings
from harness import start_pipeline
from schemas.vocabulary import Role

pytestmark = pytest.mark.integration


def _until(what: str, check: Callable[[], Any], timeout: float = 60) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            found = check()
            if found:
                return found
        except Exception:  # noqa: BLE001 - the page is still drawing
            pass
        time.sleep(0.3)
    raise AssertionError(f"never: {what}")


def _sign_in(driver: Any, url: str, user: str, password: str, lands_on: str) -> None:
    driver.get(f"{url}/index.html")
    driver.execute_script("localStorage.clear()")
    driver.get(f"{url}/index.html")
    driver.find_element(By.ID, "user").send_keys(user)
    driver.find_element(By.ID, "password").send_keys(password)
    driver.find_element(By.ID, "go").click()
    _until(f"{user} lands on {lands_on}", lambda: driver.current_url.endswith(lands_on))


def _report(driver: Any, title: str) -> None:
    _until("the grid picker is filled", lambda: len(driver.find_elements(By.CSS_SELECTOR, "#grid option")) > 40)
    Select(driver.find_element(By.ID, "grid")).select_by_value("XL-02-03")
    driver.find_element(By.ID, "title").send_keys(title)
    driver.find_element(By.ID, "description").send_keys("石门村村口路灯坏了三天，晚上很黑，老人出行不便。")
    phone = driver.find_element(By.ID, "phone")
    phone.clear()
    phone.send_keys("13812345678")
    driver.find_element(By.ID, "send").click()


def test_report_offline_then_sign_then_see_it_at_the_centre(pipeline_settings: Settings, browser: Any) -> None:
    pipeline = start_pipeline(pipeline_settings)
    try:
        settings, url, driver = pipeline.settings, pipeline.url, browser
        add_account(settings, "wgy-xl-0203", Role.GRID_WORKER, town="XL", password="wgy-pass-1")
        add_account(settings, "cg-zhang", Role.DEPARTMENT_STAFF, department="CG", password="cg-pass-1")
        add_account(settings, "zx-duty-2", Role.COMMAND_CENTRE, password="zx-pass-1")

        # The grid worker reports; the case number appears under 我的上报.
        _sign_in(driver, url, "wgy-xl-0203", "wgy-pass-1", "report.html")
        _report(driver, "村口路灯不亮")
        _until("the case number", lambda: "XL-" in driver.find_element(By.ID, "mine").text, 90)

        # Offline: the report waits as 待发送; back online it is sent, once.
        driver.set_network_conditions(offline=True, latency=0, throughput=0)
        _report(driver, "桥头路灯也不亮")
        _until("queued while offline", lambda: driver.find_element(By.ID, "queued").text == "1")
        assert "待发送" in driver.find_element(By.ID, "outbox").text
        time.sleep(2)
        assert driver.find_element(By.ID, "queued").text == "1"  # retries failed: still queued
        driver.set_network_conditions(offline=False, latency=0, throughput=500 * 1024)
        driver.execute_script("window.dispatchEvent(new Event('online'))")
        _until("the queue drains", lambda: driver.find_element(By.ID, "queued").text == "0", 60)
        _until("both reports are cases", lambda: driver.find_element(By.ID, "mine").text.count("XL-") == 2, 90)

        # The CG clerk sees both in the live inbox and signs one.
        _sign_in(driver, url, "cg-zhang", "cg-pass-1", "console.html")
        _until("the inbox lists both", lambda: driver.find_element(By.ID, "count").text == "2", 60)
        first = driver.find_elements(By.CSS_SELECTOR, "#inbox .card")[0]
        assert "签收时限" in first.text and ("剩" in first.text or "超时" in first.text)
        next(b for b in first.find_elements(By.TAG_NAME, "button") if b.text == "签收").click()
        _until("the sign is applied", lambda: "已签收" in driver.find_element(By.ID, "inbox").text, 30)

        # The command centre: backlog for CG and the map with every grid.
        _sign_in(driver, url, "zx-duty-2", "zx-pass-1", "centre.html")
        _until("the backlog", lambda: "CG" in driver.find_element(By.ID, "backlog").text, 30)
        assert len(driver.find_elements(By.CSS_SELECTOR, "#map path")) == 48
        assert driver.execute_script("return document.documentElement.lang") == "zh-CN"
        # nothing was fetched from outside: every resource came from the intake
        resources = driver.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
        assert all(r.startswith(url) for r in resources), resources
    finally:
        pipeline.stop()
