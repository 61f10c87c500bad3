"""A real headless Chromium (Debian's chromium + chromium-driver, installed with apt if missing)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Iterator

import pytest

CHROMIUM = Path("/usr/bin/chromium")
DRIVER = Path("/usr/bin/chromedriver")


def _install() -> None:
    if CHROMIUM.exists() and DRIVER.exists():
        return
    apt = shutil.which("apt-get")
    if apt is None:
        pytest.fail("Chromium is missing and there is no apt-get to install chromium and chromium-driver")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    print("web tests: apt-get install -y chromium chromium-driver", flush=True)
    subprocess.run([apt, "update"], check=True, env=env, stdout=subprocess.DEVNULL)
    subprocess.run([apt, "install", "-y", "-o", "Dpkg::Use-Pty=0", "chromium", "chromium-driver"], check=True, env=env)


@pytest.fixture
def browser(tmp_path: Path) -> Iterator["object"]:
    """A phone-sized headless Chromium driven by Selenium, with an empty profile."""
    _install()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    # The flags this machine needs (no sandbox as root; no calls to the outside).
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-quic", "--window-size=412,915", f"--user-data-dir={tmp_path / 'chromium'}"):  # fmt: skip
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(str(DRIVER)), options=options)
    driver.implicitly_wait(0)
    try:
        yield driver
    finally:
        driver.quit()
