"""Case endpoints: act on a case (办理) and read it, for department clerks, the centre and grid workers.

``POST /api/v1/cases/{case_id}/actions`` sends the action to the case agent
over Kafka (keyed by case id, so actions on one case apply in order, in one
place) and waits, up to ``GRIDFLOW_INTAKE_ACTION_WAIT_S``, for its verdict on
the replies topic: 200 applied, 403 / 409 / 422 refused (with the state and
the actions this person may take), 404 unknown case, or 202 ``pending`` when
the bound passes. A retry with the same ``action_id`` is applied once.

The client's ``action_id`` is an idempotency key of that person on that case:
the case agent sees the action under a key derived from (case, actor,
action_id) (:func:`producers.api.verdicts.replay_key`), so the same
``action_id`` sent by someone else, or on another case, is a new action of
its own and never answered with another person's verdict. Photos an action
cites must be the actor's own uploads (422 naming ``photos``).
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from fastapi import Depends, FastAPI
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from accounts.policy import Permission
from infra.settings import Settings
from producers.api.auth import require
from producers.api.case_access import can_read
from producers.api.errors import ApiError, unavailable
from producers.api.photo_store import PhotoStore
from producers.api.photos import require_own
from producers.api.verdicts import Verdicts, replay_key
from producers.api.worker_client import CaseReader, WorkersUnavailable
from producers.api.writer import KafkaUnavailable, ReportWriter
from schemas.account import Account
from schemas.case_flow import ActionCommand, CaseActionRequest
from schemas.pii import mask_free_text, mask_phone
from schemas.vocabulary import CaseEventType, Role

_STATUS = {"forbidden": 403, "not_allowed": 409, "invalid": 422, "not_found": 404}
_FIELD = re.compile(r"字段 (\w+)")


class ActionResult(BaseModel):
    """办理结果: the case agent applied the action (or it is still pending)."""

    action_id: UUID
    status: str  # applied | pending
    state: str | None = None
    seq: int | None = None
    allowed: list[str] = []
    message: str


def reports_of(case: dict[str, Any], history: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The reports of the case's incident (一事多报): its own, then each joined one with network, time and evidence.

    From the case's history, so they are as current as the case; the count
    (``report_count``) is exact even past the links the history keeps.
    """
    own = {"report_id": case.get("report_id"), "case_id": case.get("case_id"), "source": case.get("source"),
           "at": case.get("received_at"), "merge": None}  # fmt: skip
    joined: dict[str, dict[str, Any]] = {}
    for event in history:
        payload = event.get("payload") or {}
        if event.get("type") == CaseEventType.LINKED.value:
            joined[str(payload.get("report_case_id"))] = {
                "report_id": payload.get("report_id"),
                "case_id": payload.get("report_case_id"),
                "source": payload.get("source"),
                "at": payload.get("occurred_at"),
                "merge": {k: payload.get(k) for k in ("rule", "metres", "minutes", "text_similarity", "summary")},
            }
        elif event.get("type") == CaseEventType.UNLINKED.value:
            joined.pop(str(payload.get("report_case_id")), None)
    return [own, *joined.values()]


def add_case_routes(
    app: FastAPI, *, settings: Settings, writer: ReportWriter, verdicts: Verdicts, cases: CaseReader,
    photos: PhotoStore,
) -> None:  # fmt: skip
    """Register the case endpoints on the intake ``app``."""

    @app.post(
        "/api/v1/cases/{case_id}/actions",
        response_model=ActionResult,
        responses={202: {"model": ActionResult}, 404: {}, 409: {}, 422: {}},
        summary="办理案件 CaseAction on a case (sign, resolve, return …)",
    )
    async def post_action(
        case_id: UUID, body: CaseActionRequest, account: Account = Depends(require(Permission.CASE_ACT))
    ) -> Any:
        """Apply ``body.action`` as the token's owner; answer with the case agent's verdict."""
        require_own(photos, body.photos, account, field="photos")
        asked = body.action_id or uuid.uuid4()  # what the client knows the action by
        action = ActionCommand(
            **body.model_dump(exclude={"action_id"}),
            action_id=replay_key(case_id, account.user_id, asked),
            case_id=case_id,
            actor_id=account.user_id,
            actor_role=account.role,
            actor_department=account.department,
            actor_town=account.town,
            at=datetime.now(UTC),
        )
        key = str(action.action_id)
        verdict = await verdicts.wait(key, 0) if body.action_id else None  # a retry already answered
        if verdict is None:
            # Cited before it is sent: an action applied after its request gave up (202) still shows its photos.
            photos.cite(body.photos, case_id=str(case_id))
            try:
                await writer.write_action(action)
            except KafkaUnavailable:
                raise unavailable("消息队列暂不可用，操作未提交，请稍后重试") from None
            verdict = await verdicts.wait(key, settings.intake_action_wait_s)
        if verdict is None:
            pending = ActionResult(action_id=asked, status="pending", message="已提交，正在办理")
            return JSONResponse(pending.model_dump(mode="json"), status_code=202)
        if not verdict.applied:
            field = _FIELD.search(verdict.message)
            extra: dict[str, Any] = {"state": verdict.state.value if verdict.state else None, "allowed": verdict.allowed}
            if field:
                extra["field"] = field.group(1)
            raise ApiError(_STATUS.get(verdict.code, 409), verdict.code, verdict.message, action_id=str(asked), **extra)
        return ActionResult(
            action_id=asked,
            status="applied",
            state=verdict.state.value if verdict.state else None,
            seq=verdict.seq,
            allowed=verdict.allowed,
            message=verdict.message,
        )

    @app.get(
        "/api/v1/cases/{case_id}",
        responses={404: {}, 403: {}},
        summary="查看案件 A case: state, departments, deadlines, history",
    )
    async def get_case(case_id: UUID, account: Account = Depends(require(Permission.CASE_READ))) -> dict[str, Any]:
        """The case as the case agent holds it, with its event history (phone masked but for the centre)."""
        try:
            case = await cases.case(str(case_id))
            history = await cases.history(str(case_id)) if case is not None else None
        except WorkersUnavailable:
            raise unavailable("暂时无法查询，请稍后重试") from None
        if case is None:
            raise ApiError(404, "not_found", "案件不存在", case_id=str(case_id))
        if not can_read(account, case):
            raise ApiError(403, "forbidden", "无权查看此案件")
        case["history"] = history or []
        case["reports"] = reports_of(case, case["history"])
        if account.role is not Role.COMMAND_CENTRE:  # DESIGN "Personal information"
            case["reporter_phone"] = mask_phone(case.get("reporter_phone"))
            case["original_payload"] = None  # a network's event holds names and phones: the centre's only
            case = mask_free_text(case)  # and phones typed into the title, description, notes and reasons
        return case
