"""Who may see a photo: its uploader, and whoever may see a case that cites it — on the real pipeline.

A grid worker of XL uploads a photo and reports a street light with it (CG
leads). Before the report only he sees it; after, so do the case's
department, the district centre and the admin, but not a grid worker, a
department or a sub-centre of another town or trade. Citing a photo one
did not upload is a 422 naming the field, for reports and actions alike.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

import httpx
import pytest
from harness import report_body, start_pipeline, wait_for_state

from accounts.directory import add_account
from infra.settings import Settings
from schemas.vocabulary import Role

pytestmark = pytest.mark.integration

JPEG = b"\xff\xd8\xff\xe0" + b"\x00\x10JFIF" + b"street light " * 20
OTHER_JPEG = b"\xff\xd8\xff\xe0" + b"\x00\x10JFIF" + b"new bulb fitted " * 20


def _upload(client: httpx.Client, data: bytes) -> str:
    r = client.post("/api/v1/photos", content=data, headers={"Content-Type": "image/jpeg"})
    assert r.status_code == 201, r.text
    return r.json()["photo_id"]


def _until_answered(send: Callable[[], httpx.Response], timeout: float = 60) -> httpx.Response:
    """Send an action until it is answered (a 202 pending is retried with the same action_id, as a client does)."""
    deadline = time.monotonic() + timeout
    answer = send()
    while answer.status_code == 202 and time.monotonic() < deadline:
        time.sleep(1)
        answer = send()
    return answer


def _sees(clients: dict[str, httpx.Client], photo_id: str) -> dict[str, int]:
    return {who: c.get(f"/api/v1/photos/{photo_id}").status_code for who, c in clients.items()}


def test_photo_reads_follow_the_cases_that_cite_them(pipeline_settings: Settings) -> None:
    pipeline = start_pipeline(pipeline_settings)
    try:
        settings = pipeline.settings
        tokens = {
            **pipeline.tokens,
            "centre_dh": add_account(settings, "zx-dh", Role.COMMAND_CENTRE, town="DH"),
            "rs": add_account(settings, "rs-01", Role.DEPARTMENT_STAFF, department="RS"),
        }
        who = ("worker", "worker2", "staff", "rs", "centre", "centre_dh", "admin")
        clients = {
            w: httpx.Client(base_url=pipeline.url, headers={"Authorization": f"Bearer {tokens[w]}"}, timeout=30)
            for w in who
        }
        try:
            worker, stranger, cg = clients["worker"], clients["worker2"], clients["staff"]
            photo = _upload(worker, JPEG)
            nobody_else = {w: 404 for w in who} | {"worker": 200}
            assert _sees(clients, photo) == nobody_else  # uploaded, cited by nothing: its uploader's alone

            # Citing someone else's photo, or one never uploaded: 422 naming the field, nothing accepted.
            theirs = stranger.post("/api/v1/reports", json=report_body(grid_id="DH-01-01", photo_ids=[photo]))
            assert (theirs.status_code, theirs.json()["field"]) == (422, "photo_ids"), theirs.text
            assert theirs.json()["refused"] == [photo]
            unknown = worker.post("/api/v1/reports", json=report_body(photo_ids=["0" * 32]))
            assert (unknown.status_code, unknown.json()["field"]) == (422, "photo_ids"), unknown.text
            assert _sees(clients, photo) == nobody_else  # the refused reports cited nothing

            body = report_body(photo_ids=[photo])  # a street light in XL: CG leads
            assert worker.post("/api/v1/reports", json=body).status_code == 202
            case_id = wait_for_state(worker, body["report_id"], "dispatched", timeout=90)["case_id"]
            assert _sees(clients, photo) == {
                "worker": 200, "worker2": 404, "staff": 200, "rs": 404, "centre": 200, "centre_dh": 404, "admin": 200,
            }  # fmt: skip
            assert worker.get(f"/api/v1/photos/{photo}").headers["cache-control"] == "private"

            # An action may cite its actor's own photos only; the ones it cites are the case's to see.
            url = f"/api/v1/cases/{case_id}/actions"
            borrowed = cg.post(url, json={"action": "note", "note": "见照片", "photos": [photo]})
            assert (borrowed.status_code, borrowed.json()["field"]) == (422, "photos"), borrowed.text
            fixed = _upload(cg, OTHER_JPEG)
            assert worker.get(f"/api/v1/photos/{fixed}").status_code == 404
            note = {"action": "note", "note": "已更换灯泡", "photos": [fixed], "action_id": str(uuid.uuid4())}
            noted = _until_answered(lambda: cg.post(url, json=note))
            assert noted.status_code == 200, noted.text
            seen = _sees(clients, fixed)
            assert seen == {
                "worker": 200, "worker2": 404, "staff": 200, "rs": 404, "centre": 200, "centre_dh": 404, "admin": 200,
            }, seen  # fmt: skip

            # The same bytes uploaded by another account: one photo, two uploaders, each may cite it.
            assert _upload(stranger, JPEG) == photo
            assert stranger.get(f"/api/v1/photos/{photo}").status_code == 200
            mine_too = stranger.post("/api/v1/reports", json=report_body(grid_id="DH-01-01", photo_ids=[photo]))
            assert mine_too.status_code == 202, mine_too.text
        finally:
            for c in clients.values():
                c.close()
    finally:
        pipeline.stop()
