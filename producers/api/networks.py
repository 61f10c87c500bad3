"""A source network's push (多网合一): ``POST /api/v1/networks/{network}/events`` in the network's own format.

The event is read by that network's adapter (:mod:`producers.networks`) into
the unified report, whose id is derived from the network's own event id: a
network resending its event is a repeat (the same 202), a changed resend a
409. An integrator account belongs to one network and pushes only its events.
An unknown grid or category code does not refuse the event: the answer's
``mapping_note`` says which, and the case waits for manual triage.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

from fastapi import Body, Depends, FastAPI, Path, Response

from accounts.policy import Permission
from producers.api.acceptance import Acceptance, ReportReceipt
from producers.api.auth import require
from producers.api.errors import ApiError
from producers.networks.adapt import AdapterError, NetworkMaps, adapt
from schemas.account import Account
from schemas.vocabulary import INTEGRATED_NETWORKS, SourceNetwork


def _examples() -> dict[str, dict[str, Any]]:
    """One valid sample payload per network, for the OpenAPI document."""
    found: dict[str, dict[str, Any]] = {}
    root = resources.files("schemas") / "examples"
    for network in INTEGRATED_NETWORKS:
        folder = root / network.value
        samples = sorted(p.name for p in folder.iterdir() if p.name.startswith("valid__")) if folder.is_dir() else []
        if samples:
            found[network.value] = {
                "summary": network.value,
                "value": json.loads((folder / samples[0]).read_text(encoding="utf-8")),
            }
    return found


def add_network_routes(app: FastAPI, acceptance: Acceptance, maps: NetworkMaps) -> None:
    """Register the push endpoint on the intake ``app``."""
    names = ", ".join(n.value for n in INTEGRATED_NETWORKS)

    @app.post(
        "/api/v1/networks/{network}/events",
        status_code=202,
        response_model=ReportReceipt,
        responses={404: {}, 409: {}, 422: {}, 400: {}},
        summary="网络事件推送 Push an event in a source network's own format",
    )
    async def push_event(
        response: Response,
        network: SourceNetwork = Path(description=f"The source network: {names}"),
        payload: dict[str, Any] = Body(
            description="The event in the network's own format (see schemas/examples/<network>/)",
            openapi_examples=_examples(),
        ),
        account: Account = Depends(require(Permission.NETWORK_PUSH)),
    ) -> ReportReceipt:
        """Adapt the event to a unified report and accept it, once; 202 with the ``report_id`` it became."""
        if network is SourceNetwork.MOBILE:
            raise ApiError(404, "not_found", "mobile 不是接入网络；手机端请用 POST /api/v1/reports", field="network")
        if account.network is not network:
            raise ApiError(403, "forbidden", f"该接入账号只能推送 {account.network.value if account.network else '-'} 的事件",
                           field="network")  # fmt: skip
        try:
            adapted = adapt(network, payload, maps)
        except AdapterError as exc:
            raise ApiError(
                422, "invalid_event", f"字段有误: {exc.field}", fields=[{"field": exc.field, "message": exc.message}]
            ) from None
        done = await acceptance.accept(adapted.report, account, adapted.origin)
        response.headers.update(done.headers())
        return done.receipt
