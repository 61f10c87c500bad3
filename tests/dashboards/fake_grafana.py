"""A recorded contract of Grafana's HTTP API: the few endpoints `gridflow dashboards push` uses.

No Grafana can run here (no registry serves one, and it is not fetched or
built), so the push is tested against this in-process server instead. It
answers as Grafana's HTTP API documentation says (docs/sources/developers/
http_api: data_source.md, folder.md, dashboard.md) and as Grafana behaves
for provisioned objects:

- ``GET /api/datasources/uid/:uid`` → the datasource (``secureJsonFields``,
  never the secrets; ``readOnly`` when provisioned), or 404 ``{"message":
  "Data source not found"}``; ``POST /api/datasources`` → ``{"datasource",
  "id", "message": "Datasource added", "name"}``, 409 on a taken name or uid;
  ``PUT /api/datasources/uid/:uid`` → ``"Datasource updated"``, 403 ``Cannot
  update read-only data source`` when provisioned; secrets not sent are kept.
- ``GET /api/folders/:uid`` → the folder or 404 ``folder not found``;
  ``POST /api/folders`` (409 on a taken uid); ``PUT /api/folders/:uid`` needs
  the current ``version`` or ``overwrite`` (else 412 ``version-mismatch``).
- ``GET /api/dashboards/uid/:uid`` → ``{"dashboard", "meta"}`` with
  ``meta.provisioned`` and ``meta.folderUid``, or 404 ``Dashboard not found``;
  ``POST /api/dashboards/db`` → ``{"id", "uid", "url", "status": "success",
  "version", "slug"}``; 400 ``Cannot save provisioned dashboard`` for a
  provisioned one; 412 ``name-exists`` without ``overwrite``; 400 for an
  unknown ``folderUid``.
- Any request without ``Authorization: Bearer <token>`` → 401 ``Invalid API key``;
  a write with ``viewer_token`` (a Viewer's service account) → 403 ``You'll
  need additional permissions to perform this action. Permissions needed: …``.

Every request is logged as ``(method, path)`` so a test can assert that a
push wrote nothing.
"""

from __future__ import annotations

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable

Answer = tuple[int, dict[str, Any]]


class FakeGrafana:
    """The fake server and its state; ``with FakeGrafana() as grafana:`` serves on a free 127.0.0.1 port."""

    def __init__(self, token: str = "gridflow-test-token", report_provisioned: bool = True) -> None:
        self.token = token
        self.viewer_token = "viewer-token"
        #: False plays a Grafana whose GET does not say ``meta.provisioned``: only the save refuses
        self.report_provisioned = report_provisioned
        self.datasources: dict[str, dict[str, Any]] = {}
        self.secrets: dict[str, dict[str, str]] = {}
        self.folders: dict[str, dict[str, Any]] = {}
        self.dashboards: dict[str, dict[str, Any]] = {}
        self.requests: list[tuple[str, str]] = []
        self._ids = 0
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._routes: list[tuple[str, re.Pattern[str], Callable[..., Answer]]] = [
            ("GET", re.compile(r"/api/datasources/uid/([^/]+)"), self._get_datasource),
            ("POST", re.compile(r"/api/datasources"), self._create_datasource),
            ("PUT", re.compile(r"/api/datasources/uid/([^/]+)"), self._update_datasource),
            ("GET", re.compile(r"/api/folders/([^/]+)"), self._get_folder),
            ("POST", re.compile(r"/api/folders"), self._create_folder),
            ("PUT", re.compile(r"/api/folders/([^/]+)"), self._update_folder),
            ("GET", re.compile(r"/api/dashboards/uid/([^/]+)"), self._get_dashboard),
            ("POST", re.compile(r"/api/dashboards/db"), self._save_dashboard),
        ]

    def __enter__(self) -> "FakeGrafana":
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    @property
    def writes(self) -> list[tuple[str, str]]:
        return [r for r in self.requests if r[0] != "GET"]

    # --- state a test sets up ----------------------------------------------------------------

    def provision_dashboard(self, board: dict[str, Any], folder_uid: str = "gridflow") -> None:
        """A dashboard loaded from a provisioning file, as docker-compose's Grafana holds it."""
        self.dashboards[board["uid"]] = {"board": {**board, "id": self._next_id(), "version": 1},
                                         "folderUid": folder_uid, "provisioned": True}  # fmt: skip

    def provision_datasource(self, uid: str, name: str, kind: str) -> None:
        """A datasource from a provisioning file: Grafana marks it read-only."""
        self._create_datasource({"uid": uid, "name": name, "type": kind, "access": "proxy", "jsonData": {}})
        self.datasources[uid]["readOnly"] = True

    # --- the endpoints -----------------------------------------------------------------------

    def answer(self, method: str, path: str, headers: Any, body: dict[str, Any] | None) -> Answer:
        self.requests.append((method, path))
        credential = headers.get("Authorization")
        if credential == f"Bearer {self.viewer_token}" and method != "GET":
            needed = f"{path.split('/')[2]}:write"
            return 403, {"message": f"You'll need additional permissions to perform this action. Permissions needed: {needed}"}
        if credential not in (f"Bearer {self.token}", f"Bearer {self.viewer_token}"):
            return 401, {"message": "Invalid API key"}
        for verb, pattern, endpoint in self._routes:
            match = pattern.fullmatch(path)
            if verb == method and match:
                return endpoint(*match.groups(), *([body] if method != "GET" else []))
        return 404, {"message": "Not found"}

    def _get_datasource(self, uid: str) -> Answer:
        if uid not in self.datasources:
            return 404, {"message": "Data source not found"}
        return 200, self.datasources[uid]

    def _create_datasource(self, body: dict[str, Any]) -> Answer:
        uid = body.get("uid") or f"ds{self._ids + 1}"
        if uid in self.datasources or any(d["name"] == body["name"] for d in self.datasources.values()):
            return 409, {"message": "data source with the same name or uid already exists"}
        self.datasources[uid] = {"id": self._next_id(), "uid": uid, "orgId": 1, "typeLogoUrl": "", "url": "",
                                 "user": "", "database": "", "basicAuth": False, "withCredentials": False,
                                 "isDefault": False, "jsonData": {}, "version": 0, "readOnly": False}  # fmt: skip
        self.secrets[uid] = {}
        return 200, self._store_datasource(uid, body, "Datasource added")

    def _update_datasource(self, uid: str, body: dict[str, Any]) -> Answer:
        if uid not in self.datasources:
            return 404, {"message": "Data source not found"}
        if self.datasources[uid]["readOnly"]:
            return 403, {"message": "Cannot update read-only data source"}
        return 200, self._store_datasource(uid, body, "Datasource updated")

    def _store_datasource(self, uid: str, body: dict[str, Any], message: str) -> dict[str, Any]:
        ds = self.datasources[uid]
        ds.update({k: body[k] for k in ("name", "type", "access", "url", "isDefault") if k in body})
        ds["jsonData"] = body.get("jsonData") or {}
        self.secrets[uid].update(body.get("secureJsonData") or {})  # secrets not sent are kept
        ds["secureJsonFields"] = {key: True for key in self.secrets[uid]}
        ds["version"] += 1
        return {"datasource": ds, "id": ds["id"], "message": message, "name": ds["name"]}

    def _get_folder(self, uid: str) -> Answer:
        if uid not in self.folders:
            return 404, {"message": "folder not found"}
        return 200, self.folders[uid]

    def _create_folder(self, body: dict[str, Any]) -> Answer:
        uid = body["uid"]
        if uid in self.folders:
            return 409, {"message": "a folder with the same uid already exists"}
        self.folders[uid] = {"id": self._next_id(), "uid": uid, "title": body["title"], "url": f"/dashboards/f/{uid}/",
                             "created": "2026-01-01T00:00:00Z", "updated": "2026-01-01T00:00:00Z", "version": 1}  # fmt: skip
        return 200, self.folders[uid]

    def _update_folder(self, uid: str, body: dict[str, Any]) -> Answer:
        folder = self.folders.get(uid)
        if folder is None:
            return 404, {"message": "folder not found"}
        if not body.get("overwrite") and body.get("version") != folder["version"]:
            return 412, {"message": "The folder has been changed by someone else", "status": "version-mismatch"}
        folder.update(title=body.get("title", folder["title"]), version=folder["version"] + 1)
        return 200, folder

    def _get_dashboard(self, uid: str) -> Answer:
        saved = self.dashboards.get(uid)
        if saved is None:
            return 404, {"message": "Dashboard not found"}
        meta = {"folderUid": saved["folderUid"], "canSave": not saved["provisioned"], "slug": uid,
                "created": "2026-01-01T00:00:00Z", "updated": "2026-01-01T00:00:00Z"}  # fmt: skip
        if self.report_provisioned:
            meta["provisioned"] = saved["provisioned"]
            meta["provisionedExternalId"] = f"{uid}.json" if saved["provisioned"] else ""
        return 200, {"dashboard": saved["board"], "meta": meta}

    def _save_dashboard(self, body: dict[str, Any]) -> Answer:
        board, folder_uid = body["dashboard"], body.get("folderUid", "")
        saved = self.dashboards.get(board["uid"])
        if saved and saved["provisioned"]:
            return 400, {"message": "Cannot save provisioned dashboard"}
        if saved and not body.get("overwrite") and board.get("version") != saved["board"]["version"]:
            return 412, {"message": "A dashboard with the same uid already exists", "status": "name-exists"}
        if folder_uid and folder_uid not in self.folders:
            return 400, {"message": "folder not found"}
        version = saved["board"]["version"] + 1 if saved else 1
        ident = saved["board"]["id"] if saved else self._next_id()
        self.dashboards[board["uid"]] = {"board": {**board, "id": ident, "version": version},
                                         "folderUid": folder_uid, "provisioned": False}  # fmt: skip
        uid = board["uid"]
        return 200, {"id": ident, "uid": uid, "url": f"/d/{uid}/{uid}", "status": "success", "version": version, "slug": uid}

    def _next_id(self) -> int:
        self._ids += 1
        return self._ids


def _handler(grafana: FakeGrafana) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length)) if length else None
            status, answer = grafana.answer(self.command, self.path.split("?")[0], self.headers, body)
            data = json.dumps(answer, ensure_ascii=False).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=UTF-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = _serve

        def log_message(self, format: str, *args: Any) -> None:  # quiet: pytest shows failures, not traffic
            pass

    return Handler
