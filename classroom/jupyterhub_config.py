"""JupyterHub configuration for a course room on one host (The Littlest JupyterHub style).

Drop this file into TLJH's ``/opt/tljh/config/jupyterhub_config.d/`` (or pass it
with ``jupyterhub -f``; it only adds to what is already configured) on a hub
whose user environment has the course installed (``pip install
"patterns-course[hub] @ git+<repository>"``, see classroom/README.md). It adds:

* the ``course-room`` service: learners' ``check`` results arrive there, and
  instructors see the room live at ``/services/course-room/``;
* the ``course-instructor`` role: access to that page for hub admins (always)
  and for the members of the group ``COURSE_INSTRUCTORS_GROUP`` (``instructors``);
* ``COURSE_ROOM_URL`` in every learner's server, so ``check`` knows where to send.

Settings, all optional, read from the hub's environment:
``COURSE_ROOM_PORT`` (10101), ``COURSE_ROOM_DB`` (a SQLite file, default
``/srv/course-room/room.sqlite``, or a ``postgresql://`` URL for large hubs),
``COURSE_INSTRUCTORS_GROUP`` (``instructors``), ``COURSE_INSTRUCTORS`` (a comma
list of user names to put in that group at start-up).
"""

import os
import sys
from pathlib import Path

c = get_config()  # type: ignore[name-defined]  # noqa: F821 (JupyterHub provides it)

ROOM = "course-room"
room_port = int(os.environ.get("COURSE_ROOM_PORT", "10101"))
room_db = os.environ.get("COURSE_ROOM_DB", "/srv/course-room/room.sqlite")
instructors_group = os.environ.get("COURSE_INSTRUCTORS_GROUP", "instructors")
instructors = [n.strip() for n in os.environ.get("COURSE_INSTRUCTORS", "").split(",") if n.strip()]

if "://" not in room_db:
    Path(room_db).parent.mkdir(parents=True, exist_ok=True)

c.JupyterHub.services = [
    *c.JupyterHub.get("services", []),
    {
        "name": ROOM,
        "url": f"http://127.0.0.1:{room_port}",
        "command": [sys.executable, "-m", "patterns.course.room.service"],
        "environment": {"COURSE_ROOM_DB": room_db},
        "oauth_no_confirm": True,  # instructors are not asked to "authorize" the room
        "display": True,  # listed in the hub's Services menu
    },
]
c.JupyterHub.load_roles = [
    *c.JupyterHub.get("load_roles", []),
    {
        "name": "course-instructor",
        "description": "See the course room (every learner's progress).",
        "scopes": [f"access:services!service={ROOM}"],
        "groups": [instructors_group],
    },
]
c.JupyterHub.load_groups = {
    **c.JupyterHub.get("load_groups", {}),
    instructors_group: {"users": instructors},
}
# Where `check` sends progress: straight to the service on this host (a learner's
# server reaches 127.0.0.1:<port> without going through the proxy).
c.Spawner.environment = {
    **c.Spawner.get("environment", {}),
    "COURSE_ROOM_URL": f"http://127.0.0.1:{room_port}/services/{ROOM}",
}
c.Spawner.default_url = "/lab"
