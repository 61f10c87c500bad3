"""The intake's HTTP API (FastAPI).

FastAPI because the report's pydantic model is then, at once, the request
validation (a 422 that names the field), the OpenAPI document and the
record written to Kafka — one definition, no glue.
"""

from __future__ import annotations

import asyncio
import logging
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, AsyncIterator
from uuid import UUID

from fastapi import Depends, FastAPI, Response
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field

import district
import web
from accounts.directory import AccountDirectory
from accounts.policy import Permission, allowed, in_town_scope
from district import load_registry
from infra.settings import Settings
from producers.api import errors
from producers.api.acceptance import Acceptance, ReportReceipt
from producers.api.alert_hub import AlertHub
from producers.api.auth import require
from producers.api.cases import add_case_routes
from producers.api.errors import ApiError, unavailable
from producers.api.index import ReportIndex
from producers.api.limits import BodyLimit
from producers.api.listings import add_listing_routes
from producers.api.live import add_live_routes
from producers.api.networks import add_network_routes
from producers.api.photo_store import PhotoStore
from producers.api.photos import add_photo_routes
from producers.api.redrive import Redrive
from producers.api.sessions import add_session_routes
from producers.api.verdicts import Verdicts
from producers.api.worker_client import CaseReader, WorkersUnavailable
from producers.api.writer import ReportWriter
from producers.networks.adapt import NetworkMaps, load_maps
from schemas.account import Account
from schemas.report import Report
from schemas.vocabulary import CaseState, Role

logger = logging.getLogger(__name__)
#: merged cases followed to the one that survives (a chain longer than this is a loop)
MAX_MERGE_HOPS = 8
#: the pages: login, the grid worker's form, the department console, the command centre
WEB_DIR = Path(web.__file__).resolve().parent


class ReportStatus(BaseModel):
    """What became of a report (办理状态)."""

    report_id: UUID
    state: CaseState
    received_at: datetime
    case_id: UUID | None = Field(default=None, description="The case that handles it: after a merge, the surviving one")
    case_no: str | None = None
    department: str | None = None
    report_case_id: UUID | None = Field(default=None, description="The report's own case (merged, if it was)")
    merged_into: UUID | None = Field(default=None, description="The case its own case was merged into (一事多报)")


class GridEntry(BaseModel):
    """网格: one grid of the district, for clients' pickers."""

    grid_id: str
    name: str
    town: str
    town_name: str
    village: str
    village_name: str


class ErrorBody(BaseModel):
    error: str
    message: str
    fields: list[dict[str, str]] | None = None


def _town_check(account: Account, town: str | None) -> None:
    """A town's sub-centre reads its own town's reports only."""
    if not in_town_scope(account.role, account.town, town):
        raise ApiError(403, "forbidden", "只能查看本镇街的上报")


def _can_read(account: Account, reporter_id: str) -> bool:
    if allowed(account.role, Permission.REPORT_READ_ANY):
        return True
    return allowed(account.role, Permission.REPORT_READ_OWN) and account.user_id == reporter_id


def create_app(
    *,
    directory: AccountDirectory,
    index: ReportIndex,
    writer: ReportWriter,
    cases: CaseReader,
    verdicts: Verdicts,
    settings: Settings,
    redrive: Redrive | None = None,
    maps: NetworkMaps | None = None,
) -> FastAPI:
    """The intake application; the caller owns the Kafka-facing parts passed in.

    ``maps``: the source networks' mapping tables (by default the shipped ones).
    """
    maps = maps or load_maps()
    photos = PhotoStore(settings.photo_dir)
    live = AlertHub(settings, directory)  # the live streams' consumers: started by the first stream

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        directory.start()
        index.start()
        verdicts.start()
        follow_up = asyncio.create_task(redrive.run()) if redrive else None
        try:
            yield
        finally:
            if follow_up is not None:
                follow_up.cancel()
            await live.stop()
            await cases.close()
            await asyncio.to_thread(writer.close)
            verdicts.stop()
            index.stop()
            directory.stop()

    app = FastAPI(
        title="gridflow intake 网格事件上报接口",
        version="1",
        description="Reports from grid workers and source networks. Every call needs a bearer token.",
        lifespan=lifespan,
        responses={401: {"model": ErrorBody}, 403: {"model": ErrorBody}, 503: {"model": ErrorBody}},
    )
    app.state.directory = directory
    errors.install(app)
    app.add_middleware(BodyLimit, max_bytes=settings.intake_body_max_bytes)
    acceptance = Acceptance(index, writer, cases, photos)

    @app.post(
        "/api/v1/reports",
        status_code=202,
        response_model=ReportReceipt,
        responses={409: {"model": ErrorBody}, 422: {"model": ErrorBody}, 400: {"model": ErrorBody}},
        summary="上报事件 Submit a report",
    )
    async def post_report(
        report: Report, response: Response, account: Account = Depends(require(Permission.REPORT_CREATE))
    ) -> ReportReceipt:
        """Accept a report once Kafka acknowledged it; a repeat with the same body gets the same answer.

        An integrator speaks for its network: the report's ``source`` is its
        network's (a body may name that network or none; another is a 403).
        """
        if account.role is Role.INTEGRATOR:
            if "source" in report.model_fields_set and report.source is not account.network:
                raise ApiError(
                    403, "forbidden", f"该接入账号只能上报{account.network.value if account.network else '本网络'}的事件",
                    field="source",
                )  # fmt: skip
            report = report.model_copy(update={"source": account.network})
        done = await acceptance.accept(report, account)
        response.headers.update(done.headers())
        return done.receipt

    @app.get(
        "/api/v1/reports/{report_id}",
        response_model=ReportStatus,
        responses={404: {"model": ErrorBody}},
        summary="查询上报 Where a report stands",
    )
    async def get_report(report_id: UUID, account: Account = Depends(require(Permission.REPORT_READ_OWN, Permission.REPORT_READ_ANY))) -> ReportStatus:
        """``received`` from the 202 until a worker opened its case; then the case's state."""
        key = str(report_id)
        seen = index.get(key)
        try:
            link: dict[str, Any] | None = await cases.report(key)
            workers_down = False
        except WorkersUnavailable:
            link, workers_down = None, True
        if link is None and seen is None:
            if workers_down or not index.ready:
                raise unavailable("暂时无法查询，请稍后重试")
            raise ApiError(404, "not_found", "没有这份上报", report_id=key)
        reporter_id = link["reporter_id"] if link else seen.reporter_id  # type: ignore[union-attr]
        if not _can_read(account, reporter_id):
            raise ApiError(403, "forbidden", "只能查看本人的上报")
        received_at = datetime.fromisoformat(link["received_at"]) if link else seen.received_at  # type: ignore[union-attr]
        status = ReportStatus(report_id=report_id, state=CaseState.RECEIVED, received_at=received_at)
        if link and link.get("case_id"):
            try:
                case = await cases.case(link["case_id"])
            except WorkersUnavailable:
                case = None
            status.case_id = status.report_case_id = UUID(link["case_id"])
            case = await _surviving(case, status)
            if case is not None:
                _town_check(account, case.get("town"))
                status.state = CaseState(case["state"])
                status.case_no = case["case_no"]
                status.department = case.get("lead_department")
        elif seen is not None and seen.report is not None and seen.report.grid_id:
            _town_check(account, seen.report.grid_id[:2])
        return status

    async def _surviving(case: dict[str, Any] | None, status: ReportStatus) -> dict[str, Any] | None:
        """Follow a merged case to the case it was merged into (chains too): that is where the report stands."""
        for _ in range(MAX_MERGE_HOPS):
            if case is None or case.get("state") != CaseState.MERGED.value or not case.get("merged_into"):
                return case
            status.merged_into = status.merged_into or UUID(case["merged_into"])
            try:
                onward = await cases.case(case["merged_into"])
            except WorkersUnavailable:
                return case
            if onward is None:
                return case
            status.case_id = UUID(onward["case_id"])
            case = onward
        return case

    grid_list = [
        GridEntry(
            grid_id=g.grid_id,
            name=g.name,
            town=g.town_code,
            town_name=g.town_name,
            village=g.village_code,
            village_name=g.village_name,
        )
        for g in load_registry().grids
    ]

    @app.get("/api/v1/grids", response_model=list[GridEntry], summary="网格目录 The district's grids")
    async def get_grids(account: Account = Depends(require(Permission.GRIDS_READ))) -> list[GridEntry]:
        """Every grid of the district registry (id, name, town, village)."""
        return grid_list

    add_network_routes(app, acceptance, maps)
    add_case_routes(app, settings=settings, writer=writer, verdicts=verdicts, cases=cases, photos=photos)
    add_photo_routes(app, settings, photos, cases)
    add_session_routes(app, settings, directory)
    add_live_routes(app, settings, live)
    add_listing_routes(
        app, settings, Path(district.__file__).resolve().parent / "data" / "grids.geojson", directory.accounts
    )

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, Any]:
        return {
            "ready": index.ready and directory.ready,
            "reports_indexed": len(index),
            "redriven": redrive.redriven if redrive else 0,
            "live": live.stats(),
        }

    # The pages (web/), last: every /api path above wins over a file of the same name.
    app.mount("/", StaticFiles(directory=WEB_DIR, html=True), name="pages")
    return app
