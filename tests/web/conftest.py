"""A real headless Chromium (Debian's chromium + chromium-driver, installed with apt if missing).

A server has no Chinese fonts; ``fonts-wqy-microhei`` (5 MB) is installed with
them, so that the screenshots show the pages as a phone does.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Iterator

import pytest

CHROMIUM = Path("/usr/bin/chromium")
DRIVER = Path("/usr/bin/chromedriver")
CJK_FONT = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")
PACKAGES = ("chromium", "chromium-driver", "fonts-wqy-microhei")


def _install() -> None:
    if CHROMIUM.exists() and DRIVER.exists() and CJK_FONT.exists():
        return
    apt = shutil.which("apt-get")
    if apt is None:
        pytest.fail(f"Chromium is missing and there is no apt-get to install {' '.join(PACKAGES)}")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    print(f"web tests: apt-get install -y {' '.join(PACKAGES)}", flush=True)
    subprocess.run([apt, "update"], check=True, env=env, stdout=subprocess.DEVNULL)
    subprocess.run([apt, "install", "-y", "-o", "Dpkg::Use-Pty=0", *PACKAGES], check=True, env=env)


def _chromium(profile: Path, size: str) -> "object":
    _install()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    # The flags this machine needs (no sandbox as root; no calls to the outside).
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-quic", f"--window-size={size}", f"--user-data-dir={profile}"):  # fmt: skip
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(str(DRIVER)), options=options)
    driver.implicitly_wait(0)
    return driver


@pytest.fixture
def browser(tmp_path: Path) -> Iterator["object"]:
    """A phone-sized (412×915) headless Chromium driven by Selenium, with an empty profile."""
    driver = _chromium(tmp_path / "phone", "412,915")
    try:
        yield driver
    finally:
        driver.quit()  # type: ignore[attr-defined]


@pytest.fixture
def desk_browser(tmp_path: Path) -> Iterator["object"]:
    """A second, desktop-sized Chromium: the department clerk's."""
    driver = _chromium(tmp_path / "desk", "1280,900")
    try:
        yield driver
    finally:
        driver.quit()  # type: ignore[attr-defined]
