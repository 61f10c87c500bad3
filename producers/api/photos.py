"""Photos (现场照片): uploaded before the report or action that names them, stored by the project.

``POST /api/v1/photos`` takes the image itself as the body (``Content-Type:
image/jpeg``, ``image/png`` or ``image/webp``) — no multipart, so a phone on a
weak network can resend the same bytes and get the same id: the id is the
first 32 hex digits of the content's SHA-256. The declared type must match
the file's own signature (415 otherwise); a body over
``GRIDFLOW_PHOTO_MAX_BYTES`` is refused with 413 before it is read whole.
Files live under ``GRIDFLOW_HOME/photos/<id[:2]>/<id>`` with a small JSON
record (type, size, time) and the uploaders and citations beside them
(:mod:`producers.api.photo_store`).

``GET /api/v1/photos/{id}`` answers the uploader, and whoever may see a
case that cites the photo (:mod:`producers.api.photo_access`); anyone else
gets the same 404 as for a photo that does not exist — the id is the
content's hash, so a 403 would tell whoever holds a picture that someone
uploaded it. A report or an action may cite only photos its author
uploaded (:func:`require_own`: 422 naming the field).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from fastapi import Depends, FastAPI, Request
from fastapi.responses import FileResponse
from pydantic import BaseModel

from accounts.policy import Permission
from infra.settings import Settings
from producers.api.auth import require
from producers.api.errors import ApiError, unavailable
from producers.api.photo_access import may_see
from producers.api.photo_store import PhotoStore
from producers.api.worker_client import CaseReader, WorkersUnavailable
from schemas.account import Account
from schemas.vocabulary import PHOTO_ID

#: content type → the bytes its files start with (and where)
SIGNATURES: dict[str, tuple[bytes, int]] = {
    "image/jpeg": (b"\xff\xd8\xff", 0),
    "image/png": (b"\x89PNG\r\n\x1a\n", 0),
    "image/webp": (b"WEBP", 8),
}


class PhotoReceipt(BaseModel):
    """照片已保存: the id to put in ``photo_ids`` or an action's ``photos``."""

    photo_id: str
    content_type: str
    bytes: int


def require_own(store: PhotoStore, photo_ids: Iterable[str], account: Account, field: str) -> None:
    """422 naming ``field`` unless ``account`` uploaded every one of ``photo_ids`` (unknown ids included)."""
    foreign = store.not_uploaded_by(photo_ids, account.user_id)
    if foreign:
        raise ApiError(
            422, "invalid", "只能引用本人上传的照片，请先上传", field=field, refused=foreign,
        )  # fmt: skip


def add_photo_routes(app: FastAPI, settings: Settings, store: PhotoStore, cases: CaseReader) -> None:
    """Register the photo endpoints on the intake ``app``."""
    limit = settings.photo_max_bytes

    @app.post(
        "/api/v1/photos",
        status_code=201,
        response_model=PhotoReceipt,
        responses={413: {}, 415: {}, 400: {}},
        summary="上传照片 Upload a photo (the image as the body)",
    )
    async def post_photo(
        request: Request, account: Account = Depends(require(Permission.REPORT_CREATE, Permission.CASE_ACT))
    ) -> PhotoReceipt:
        """Store one JPEG, PNG or WebP image; answer its id."""
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type not in SIGNATURES:
            raise ApiError(415, "unsupported_type", "只接受 JPEG、PNG 或 WebP 图片", field="Content-Type")
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            raise _too_large(limit)
        data = bytearray()
        async for chunk in request.stream():
            data.extend(chunk)
            if len(data) > limit:
                raise _too_large(limit)
        magic, offset = SIGNATURES[content_type]
        if not data:
            raise ApiError(400, "empty", "照片内容为空", field="body")
        if bytes(data[offset : offset + len(magic)]) != magic:
            raise ApiError(415, "type_mismatch", f"文件内容不是 {content_type}", field="body")
        photo_id = store.save(bytes(data), content_type, account.user_id)
        return PhotoReceipt(photo_id=photo_id, content_type=content_type, bytes=len(data))

    @app.get("/api/v1/photos/{photo_id}", summary="查看照片 A stored photo", responses={404: {}})
    async def get_photo(
        photo_id: str,
        account: Account = Depends(
            require(Permission.CASE_READ, Permission.REPORT_READ_OWN, Permission.REPORT_READ_ANY)
        ),
    ) -> FileResponse:
        """The image, with its own content type: to its uploader, and to whoever may see a case citing it."""
        meta = store.meta(photo_id) if re.fullmatch(PHOTO_ID, photo_id) else None
        try:
            visible = meta is not None and await may_see(account, photo_id, store, cases)
        except WorkersUnavailable:
            raise unavailable("暂时无法查询，请稍后重试") from None
        if not visible or meta is None:
            raise ApiError(404, "not_found", "没有这张照片", photo_id=photo_id)
        # private: a shared cache must not hand one person's answer to another
        return FileResponse(store.path(photo_id), media_type=meta["content_type"], headers={"Cache-Control": "private"})


def _too_large(limit: int) -> ApiError:
    return ApiError(413, "too_large", f"照片超过 {limit // (1024 * 1024)} MB 上限", field="body", max_bytes=limit)
