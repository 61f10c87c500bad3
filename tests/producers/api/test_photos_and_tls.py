"""Photos are stored by the project (type and size checked), and the intake speaks HTTPS when given a certificate."""

from __future__ import annotations

import re
import ssl
import subprocess
from pathlib import Path

import httpx
import pytest

from accounts.directory import add_account
from district import load_registry
from gridflow import services
from infra.kafka import ensure_topics
from infra.settings import Settings
from schemas.topics import declared
from schemas.vocabulary import PHOTO_ID, Role

pytestmark = pytest.mark.integration

JPEG = b"\xff\xd8\xff\xe0" + b"\x00\x10JFIF" + bytes(range(200))
PNG = b"\x89PNG\r\n\x1a\n" + bytes(300)


def _self_signed(folder: Path) -> tuple[Path, Path]:
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


def test_photos_over_https(pipeline_settings: Settings, tmp_path: Path) -> None:
    cert, key = _self_signed(tmp_path)
    settings = pipeline_settings.replace(intake_tls_cert=str(cert), intake_tls_key=str(key), photo_max_bytes=4096)
    assert settings.intake_url.startswith("https://")
    ensure_topics(settings, declared(load_registry().department_codes))
    intake = services.intake(settings).start()
    try:
        services.wait_until(services.intake_ready(settings), 90, "intake over HTTPS")
        token = add_account(settings, "wgy-xl-0203", Role.GRID_WORKER, town="XL")
        auth = {"Authorization": f"Bearer {token}"}
        trust = ssl.create_default_context(cafile=str(cert))
        with httpx.Client(base_url=settings.intake_url, verify=trust, headers=auth, timeout=10) as c:
            first = c.post("/api/v1/photos", content=JPEG, headers={"Content-Type": "image/jpeg"})
            assert first.status_code == 201, first.text
            photo_id = first.json()["photo_id"]
            again = c.post("/api/v1/photos", content=JPEG, headers={"Content-Type": "image/jpeg"})
            assert again.json()["photo_id"] == photo_id  # a resend is the same photo
            back = c.get(f"/api/v1/photos/{photo_id}")
            assert (back.status_code, back.content, back.headers["content-type"]) == (200, JPEG, "image/jpeg")
            assert c.post("/api/v1/photos", content=PNG, headers={"Content-Type": "image/png"}).status_code == 201

            lie = c.post("/api/v1/photos", content=PNG, headers={"Content-Type": "image/jpeg"})
            assert (lie.status_code, lie.json()["field"]) == (415, "body")
            pdf = c.post("/api/v1/photos", content=b"%PDF-1.4", headers={"Content-Type": "application/pdf"})
            assert (pdf.status_code, pdf.json()["field"]) == (415, "Content-Type")
            big = c.post("/api/v1/photos", content=JPEG + bytes(5000), headers={"Content-Type": "image/jpeg"})
            assert big.status_code == 413 and big.json()["max_bytes"] == 4096
            assert c.get(f"/api/v1/photos/{'0' * 32}").status_code == 404
            assert c.get("/api/v1/photos/../../etc/passwd").status_code == 404
        stored = [p for p in settings.photo_dir.rglob("*") if p.is_file() and re.fullmatch(PHOTO_ID, p.name)]
        assert len(stored) == 2  # two photos, nothing of the refused ones
        # plain HTTP is not served on the TLS port
        with pytest.raises(httpx.HTTPError):
            httpx.get(f"http://127.0.0.1:{settings.intake_port}/healthz", timeout=3).raise_for_status()
    finally:
        intake.stop()
