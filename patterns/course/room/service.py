"""The room as a JupyterHub service: learners post progress, instructors watch it live.

Run by the hub (``c.JupyterHub.services``, see ``classroom/jupyterhub_config.py``)
as ``python -m patterns.course.room.service``. It reads the hub's usual service
environment (``JUPYTERHUB_SERVICE_URL``, ``JUPYTERHUB_SERVICE_PREFIX``,
``JUPYTERHUB_API_TOKEN``...) and ``COURSE_ROOM_DB`` (a SQLite path, the default
``course-room.sqlite``, or a ``postgresql://`` URL) and ``COURSE_ROOM_BIND_IP``
(where to listen when the service URL names a host that cannot be bound, as on
Kubernetes).

* ``POST <prefix>api/progress``: a learner's ``progress --json`` body, with the
  learner's own token in ``Authorization``. The learner's name comes from the
  hub (whose token is it?), never from the body, so nobody can post as someone
  else.
* ``GET <prefix>``, ``<prefix>room.json``, ``<prefix>room.csv``: the room, for
  whoever holds ``access:services!service=<name>`` (hub admins, and the group the
  hub configuration gives the ``course-instructor`` role); everyone else gets 403.

Needs ``jupyterhub`` (and its tornado), which the hub's environment has.
"""

from __future__ import annotations

import asyncio
import html
import json
import os
from typing import Any
from urllib.parse import urlparse

from jupyterhub.services.auth import HubAuth, HubOAuthCallbackHandler, HubOAuthenticated
from tornado import web
from tornado.httpserver import HTTPServer
from tornado.ioloop import IOLoop

from patterns.course.room import LearnerRow, RoomJson, room_csv, room_json
from patterns.course.room.store import ProgressStore

#: A learner's whole progress is about 2 KB; anything far bigger is not one.
MAX_BODY_BYTES = 64 * 1024
_COLOURS: dict[str, str] = {
    "passed": "#c8f0d0", "stuck": "#f8c8c8", "tried": "#fff0b8", "todo": "#ffffff",
}  # fmt: skip


class TokenOwners:
    """Who owns a token, asked of the hub once per token however many reports arrive at once.

    HubAuth caches answers, but a room checking at the same moment would miss the
    cache together and send the hub one identity request per report; here
    concurrent reports with one token share one request.
    """

    def __init__(self, hub_auth: HubAuth) -> None:
        self.hub_auth = hub_auth
        self._pending: dict[str, asyncio.Future[dict[str, Any] | None]] = {}

    async def owner(self, token: str) -> dict[str, Any] | None:
        pending = self._pending.get(token)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[dict[str, Any] | None] = asyncio.get_running_loop().create_future()
        self._pending[token] = future
        try:
            model = await self.hub_auth.user_for_token(token, use_cache=True, sync=False)
            future.set_result(model)
            return model  # type: ignore[no-any-return]
        except BaseException as error:
            future.set_exception(error)
            future.exception()  # retrieved: waiters re-raise it, nobody else must
            raise
        finally:
            del self._pending[token]


class ProgressHandler(web.RequestHandler):
    """POST: store the progress of the learner who owns the token."""

    def initialize(self, store: ProgressStore, owners: TokenOwners) -> None:
        self.store = store
        self.owners = owners

    def check_xsrf_cookie(self) -> None:
        """Token-authenticated API: no cookies involved, so no XSRF to check."""

    async def post(self) -> None:
        header = self.request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() not in ("token", "bearer") or not token:
            raise web.HTTPError(403, "send the learner's JupyterHub token")
        model = await self.owners.owner(token.strip())
        if not model or model.get("kind", "user") != "user":
            raise web.HTTPError(403, "the token does not belong to a hub user")
        if len(self.request.body) > MAX_BODY_BYTES:
            raise web.HTTPError(413, "progress body too large")
        try:
            body = json.loads(self.request.body)
            rows = [LearnerRow.from_progress(model["name"], row) for row in body["exercises"]]
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            raise web.HTTPError(400, f"not a progress report: {error}") from None
        self.store.save(rows)
        self.set_status(204)


class RoomPage(HubOAuthenticated, web.RequestHandler):  # type: ignore[misc]
    """GET: the room for instructors (the hub's access scope decides who)."""

    def initialize(self, store: ProgressStore, kind: str) -> None:
        self.store = store
        self.kind = kind

    @web.authenticated
    def get(self) -> None:
        rows = self.store.rows()
        if self.kind == "json":
            self.set_header("Content-Type", "application/json")
            self.finish(json.dumps(room_json(rows), indent=2))
        elif self.kind == "csv":
            self.set_header("Content-Type", "text/csv; charset=utf-8")
            self.set_header("Content-Disposition", "attachment; filename=room.csv")
            self.finish(room_csv(rows))
        else:
            self.finish(room_html(room_json(rows), viewer=self.current_user["name"]))


def room_html(room: RoomJson, viewer: str, refresh_seconds: int = 10) -> str:
    """The instructor's page: learners by exercises, counts, exports; reloads itself."""
    exercises = room["exercises"]
    head = "".join(f"<th>{html.escape(ex)}</th>" for ex in exercises)
    body = []
    for learner in room["learners"]:
        cells = []
        for ex in exercises:
            cell = learner["exercises"].get(ex)
            state = cell["state"] if cell else "todo"
            title = (
                f"{cell['checks']} checks, hints {cell['hints_shown']}/{cell['hints_total']}"
                if cell else "never checked"
            )  # fmt: skip
            cells.append(
                f"<td class='{state}' style='background:{_COLOURS[state]}' "
                f"title='{html.escape(title)}'>{state}</td>"
            )
        body.append(f"<tr><th>{html.escape(learner['learner'])}</th>{''.join(cells)}</tr>")
    counts = "".join(
        f"<td>{room['counts'][ex]['passed']} passed, {room['counts'][ex]['stuck']} stuck</td>"
        for ex in exercises
    )
    return f"""<!doctype html>
<html><head><meta charset="utf-8"><meta http-equiv="refresh" content="{refresh_seconds}">
<title>Course room</title>
<style>body{{font-family:sans-serif}} td,th{{border:1px solid #ccc;padding:4px 8px}}
table{{border-collapse:collapse}}</style></head>
<body><h1>Course room</h1>
<p>{len(room["learners"])} learners. Refreshes every {refresh_seconds} s. Signed in as
{html.escape(viewer)}. Export: <a href="room.csv">CSV</a>, <a href="room.json">JSON</a>.</p>
<table id="room"><tr><th>learner</th>{head}</tr>{"".join(body)}
<tr><th>per exercise</th>{counts}</tr></table>
<p>stuck: no pass after many checks, or every hint shown.</p></body></html>"""


def make_app(store: ProgressStore, prefix: str) -> web.Application:
    owners = TokenOwners(HubAuth())
    return web.Application(
        [
            (prefix + "oauth_callback", HubOAuthCallbackHandler),
            (prefix + "api/progress", ProgressHandler, {"store": store, "owners": owners}),
            (prefix + "room.json", RoomPage, {"store": store, "kind": "json"}),
            (prefix + "room.csv", RoomPage, {"store": store, "kind": "csv"}),
            (prefix, RoomPage, {"store": store, "kind": "html"}),
        ],
        cookie_secret=os.urandom(32),
    )


def main() -> None:
    prefix = os.environ.get("JUPYTERHUB_SERVICE_PREFIX", "/services/course-room/")
    url = urlparse(os.environ["JUPYTERHUB_SERVICE_URL"])
    store = ProgressStore(os.environ.get("COURSE_ROOM_DB", "course-room.sqlite"))
    server = HTTPServer(make_app(store, prefix), max_body_size=MAX_BODY_BYTES * 2)
    # On Kubernetes the URL names the hub's Service ("http://hub:10101"), which a
    # process cannot bind to: COURSE_ROOM_BIND_IP (e.g. 0.0.0.0) says where to listen.
    server.listen(
        url.port or 80, os.environ.get("COURSE_ROOM_BIND_IP") or url.hostname or "127.0.0.1"
    )
    IOLoop.current().start()


if __name__ == "__main__":
    main()
