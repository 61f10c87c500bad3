"""Schemathesis over the intake's OpenAPI document: no 5xx — a 503 no more than a 500 — for three roles.

The schemathesis CLI runs once per token (a grid worker, the command centre,
an admin) against a real pipeline, with ``--checks not_a_server_error``, a
fixed seed and a bounded number of examples per operation, every phase
(examples, coverage, fuzzing, stateful). Left out: the live stream (it
never ends) and sign-out (it would revoke the very token the run uses).

A fuzzer that only ever meets 404s tests the 404 path: so before the runs
the test files one real report (with a photo) and gives schemathesis its
ids, the grids and times inside the accepted window as dictionaries, which
it mixes into what it generates half of the time. Each run's requests are
counted from its NDJSON report and written to
``test-artifacts/fuzz-openapi.json``.
"""

from __future__ import annotations

import collections
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from harness import (
    Pipeline,
    make_pipeline_settings,
    report_body,
    start_pipeline,
    wait_for_state,
)

from infra.settings import Settings

pytestmark = pytest.mark.integration

ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts"
HOOKS = Path(__file__).resolve().parent / "schemathesis_hooks.py"
TOKENS = ("worker", "centre", "admin")
SEED = 20261125
#: examples per operation and phase: a bounded run in `make test` (about a minute for the three tokens on a
#: busy 2-core machine) and a longer one in `make test-slow`
QUICK_EXAMPLES, SLOW_EXAMPLES = 12, 100
RUNS = [pytest.param(who, QUICK_EXAMPLES, id=who) for who in TOKENS] + [
    pytest.param(who, SLOW_EXAMPLES, id=f"{who}-{SLOW_EXAMPLES}", marks=pytest.mark.slow) for who in TOKENS
]
STREAM = "/api/v1/alerts/stream"
SIGN_OUT = "sign_out_api_v1_sessions_delete"
STATEFUL = "Stateful tests"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(64)


@pytest.fixture(scope="module")
def pipeline(stack: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pipeline]:
    settings = make_pipeline_settings(stack, tmp_path_factory.mktemp("fuzz"))
    p = start_pipeline(settings)
    yield p
    p.stop()


@pytest.fixture(scope="module")
def runs() -> dict[str, Any]:
    """Each run's counts, by token, for test-artifacts/fuzz-openapi.json."""
    return {}


@pytest.fixture(scope="module")
def seeded(pipeline: Pipeline) -> dict[str, str]:
    """A photo and a dispatched report of the grid worker: ids the fuzzer can hit."""
    with pipeline.client("worker") as c:
        photo = c.post("/api/v1/photos", content=PNG, headers={"Content-Type": "image/png"})
        assert photo.status_code == 201, photo.text
        body = report_body(photo_ids=[photo.json()["photo_id"]])
        assert c.post("/api/v1/reports", json=body).status_code == 202
        status = wait_for_state(c, body["report_id"], "dispatched")
    return {"case_id": status["case_id"], "report_id": body["report_id"], "photo_id": photo.json()["photo_id"]}


def _config(path: Path, seeded: dict[str, str]) -> Path:
    """schemathesis.toml: real ids, grids and in-window times, mixed into half of the generated values."""
    now = datetime.now(UTC)
    times = [(now - timedelta(minutes=m)).isoformat() for m in (1, 90, 60 * 24 * 6)] + ["2000-01-01T00:00:00+08:00"]
    dictionaries = {
        "case_ids": [seeded["case_id"]],
        "report_ids": [seeded["report_id"]],
        "photo_ids": [seeded["photo_id"]],
        "grids": ["XL-02-03", "DH-01-01"],
        "times": times,
        "departments": ["CG", "SW", "HB"],
    }
    bindings = {
        "path.case_id": "case_ids",
        "path.report_id": "report_ids",
        "path.photo_id": "photo_ids",
        "body.grid_id": "grids",
        "body.occurred_at": "times",
        "body.merge_into": "case_ids",
        "body.department": "departments",
        "body.photos[*]": "photo_ids",
        "body.photo_ids[*]": "photo_ids",
        "query.department": "departments",
    }
    lines = [f"[dictionaries.{name}]\nvalues = {json.dumps(values)}" for name, values in dictionaries.items()]
    lines.append("[parameters]")
    lines += [f'"{key}" = {{ dictionary = "{name}", probability = 0.5 }}' for key, name in bindings.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _operations(pipeline: Pipeline) -> set[str]:
    """Every documented operation the runs must test: all but the stream and sign-out."""
    document = httpx.get(pipeline.url + "/openapi.json", timeout=30).json()
    return {
        f"{method.upper()} {path}"
        for path, ops in document["paths"].items()
        for method, op in ops.items()
        if path != STREAM and op.get("operationId") != SIGN_OUT
    }


def _count(ndjson: Path) -> dict[str, collections.Counter[int]]:
    """Responses by operation (and the stateful phase's, together) and status code, from the NDJSON report."""
    statuses: dict[str, collections.Counter[int]] = collections.defaultdict(collections.Counter)
    for line in ndjson.read_text(encoding="utf-8").splitlines():
        event = json.loads(line)
        recorder = event.get("ScenarioFinished", {}).get("recorder")
        for interaction in (recorder or {}).get("interactions", {}).values():
            if interaction.get("response"):
                statuses[recorder["label"]][interaction["response"]["status_code"]] += 1
    return statuses


@pytest.mark.parametrize(("who", "examples"), RUNS)
def test_no_request_gets_a_server_error(
    pipeline: Pipeline, seeded: dict[str, str], runs: dict[str, Any], who: str, examples: int, tmp_path: Path
) -> None:
    ndjson = tmp_path / "run.ndjson"
    command = [
        sys.executable, "-m", "schemathesis.cli",
        "--config-file", str(_config(tmp_path / "schemathesis.toml", seeded)),
        "run", f"{pipeline.url}/openapi.json",
        "--checks", "not_a_server_error",
        "--header", f"Authorization: Bearer {pipeline.tokens[who]}",
        "--seed", str(SEED),
        "--max-examples", str(examples),
        "--exclude-path", STREAM,
        "--exclude-operation-id", SIGN_OUT,
        "--workers", "1",  # one request at a time: what is measured is the input, not a flood
        "--request-timeout", "20",
        "--generation-database", "none",
        "--no-color",
        "--report", "ndjson,junit",
        "--report-ndjson-path", str(ndjson),
        "--report-junit-path", str(tmp_path / "junit.xml"),
    ]  # fmt: skip
    started = time.monotonic()
    run = subprocess.run(
        command, check=False, cwd=tmp_path, capture_output=True, text=True, timeout=600,
        env={**os.environ, "SCHEMATHESIS_HOOKS": str(HOOKS)},
    )  # fmt: skip
    seconds = round(time.monotonic() - started, 1)
    output = run.stdout + run.stderr
    statuses = _count(ndjson) if ndjson.exists() else {}
    tested = {label for label in statuses if label != STATEFUL}
    requests = sum(sum(c.values()) for c in statuses.values())
    by_status = sum((c for c in statuses.values()), collections.Counter())
    runs[f"{who}-{examples}"] = {
        "exit_code": run.returncode, "seconds": seconds, "operations_tested": len(tested), "requests": requests,
        "stateful_requests": sum(statuses.get(STATEFUL, {}).values()), "by_status": dict(sorted(by_status.items())),
    }  # fmt: skip
    ARTIFACTS.mkdir(exist_ok=True)
    summary = {"seed": SEED, "command": " ".join(command[2:]).replace(pipeline.tokens[who], "…"),
               "runs": runs}  # fmt: skip
    (ARTIFACTS / "fuzz-openapi.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    print(f"schemathesis as {who}, {examples} examples: {json.dumps(runs[f'{who}-{examples}'])}")

    assert run.returncode == 0, f"schemathesis as {who} exited {run.returncode}:\n{output[-20000:]}"
    assert not [s for s in by_status if s >= 500], by_status  # the check's own verdict, counted again
    missing = _operations(pipeline) - tested
    assert not missing, f"operations never called: {sorted(missing)}"
    assert requests >= 20 * len(tested), f"only {requests} requests over {len(tested)} operations"
    # the token worked: the run got past authentication, not 401s all along
    assert statuses["GET /api/v1/me"][200] > 0 and by_status[200] >= 50, by_status


def test_a_body_that_is_not_utf8_is_invalid_json_naming_the_body(pipeline: Pipeline) -> None:
    """Found by the fuzzing: such a body got FastAPI's English 400 without a field."""
    with pipeline.client("worker") as c:
        for path in ("/api/v1/reports", "/api/v1/sessions", f"/api/v1/cases/{'0' * 8}-0000-0000-0000-{'0' * 12}/actions"):
            r = c.post(path, content=b'{"title": "\xff\xfe"}', headers={"Content-Type": "application/json"})
            assert r.status_code == 400, (path, r.text)
            assert r.json()["error"] == "invalid_json" and r.json()["fields"][0]["field"] == "body", (path, r.text)
