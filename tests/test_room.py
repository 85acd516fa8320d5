"""The room's parts without a hub: states, tables, storage, the sender's budget, the room command."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import psycopg
import pytest

from patterns.course.cli import main
from patterns.course.room import STUCK_AFTER_CHECKS, LearnerRow, room_csv, room_json, room_text
from patterns.course.room.client import BUDGET_SECONDS, send_progress
from patterns.course.room.local import read_room
from patterns.course.room.store import ProgressStore
from patterns.lab import TemporaryServer


def row(learner: str = "ada", exercise: str = "ex00", **fields: Any) -> LearnerRow:
    values: dict[str, Any] = {
        "exercise": exercise, "passed": False, "checks": 0, "hints_shown": 0, "hints_total": 3,
        **fields,
    }  # fmt: skip
    return LearnerRow.from_progress(learner, values)


@pytest.mark.parametrize(
    ("fields", "state"),
    [
        ({}, "todo"),
        ({"checks": 1}, "tried"),
        ({"checks": STUCK_AFTER_CHECKS - 1}, "tried"),
        ({"checks": STUCK_AFTER_CHECKS}, "stuck"),
        ({"checks": 1, "hints_shown": 3}, "stuck"),
        ({"checks": 9, "passed": True}, "passed"),
        ({"checks": 3, "passes_now": False, "ever_passed": True, "passed": True}, "tried"),
    ],
)
def test_each_learner_state_follows_its_rule(fields: dict[str, Any], state: str) -> None:
    """passed now, stuck (many checks or every hint), tried, todo."""
    assert row(**fields).state == state


@pytest.mark.parametrize(
    "bad",
    [
        {"exercise": "", "passed": False},
        {"exercise": "ex00", "passed": False, "checks": -1},
        {"exercise": "ex00", "passed": False, "checks": True},
        {"exercise": "ex00", "passed": False, "hints_shown": "2"},
        {"exercise": "x" * 100, "passed": False},
        {"passed": False},
    ],
)
def test_a_malformed_progress_row_is_refused_naming_the_field(bad: dict[str, Any]) -> None:
    """The service answers 400 with this sentence instead of storing nonsense."""
    with pytest.raises(ValueError, match=r"exercise|checks|hints_shown"):
        LearnerRow.from_progress("ada", bad)


def test_the_room_tables_agree_on_counts() -> None:
    """JSON, text and CSV views of the same rows tell the same story."""
    rows = [
        row("ada", checks=1, passed=True),
        row("bo", checks=STUCK_AFTER_CHECKS),
        row("cy", checks=1),
        row("ada", "ex01"),
    ]
    room = room_json(rows)
    assert room["counts"]["ex00"] == {"passed": 1, "stuck": 1, "tried": 1}
    text = room_text(rows)
    assert "Stuck: bo (ex00)." in text and text.splitlines()[1].startswith("ada")
    assert room_csv(rows).count("\n") == 1 + len(rows)


@pytest.fixture(params=["sqlite", "postgres"])
def store(
    request: pytest.FixtureRequest, tmp_path: Path, postgres_server: TemporaryServer
) -> Iterator[ProgressStore]:
    if request.param == "sqlite":
        opened = ProgressStore(str(tmp_path / "room.sqlite"))
    else:
        with psycopg.connect(postgres_server.url, autocommit=True) as conn:
            conn.execute("DROP TABLE IF EXISTS room_progress")
        opened = ProgressStore(postgres_server.url)
    try:
        yield opened
    finally:
        opened.close()


def test_a_late_older_send_never_replaces_a_newer_one(store: ProgressStore) -> None:
    """Sends can arrive out of order; counters only grow, so the larger one wins."""
    store.save([row(checks=3, hints_shown=1)])
    store.save([row(checks=2, hints_shown=3)])  # older, arriving late
    store.save([row(checks=3, hints_shown=2)])  # as many checks, one more hint: newer
    (kept,) = store.rows()
    assert (kept.checks, kept.hints_shown) == (3, 2)


def test_concurrent_sends_lose_no_update(store: ProgressStore) -> None:
    """Twenty learners sending ten times each from threads: every final count is ten."""

    def learner(name: str) -> None:
        for checks in range(1, 11):
            store.save([row(name, checks=checks), row(name, "ex01", checks=checks)])

    threads = [threading.Thread(target=learner, args=(f"l{i}",)) for i in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    rows = store.rows()
    assert len(rows) == 40 and {r.checks for r in rows} == {10}


class _SlowRoom(BaseHTTPRequestHandler):
    received: ClassVar[list[bytes]] = []

    def do_POST(self) -> None:
        time.sleep(float(self.headers.get("X-Delay", "0")))  # a slow room, on loopback
        _SlowRoom.received.append(self.rfile.read(int(self.headers["Content-Length"])))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def room_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _SlowRoom)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("JUPYTERHUB_API_TOKEN", "learner-token")
    monkeypatch.setenv("COURSE_ROOM_URL", f"http://127.0.0.1:{server.server_port}/services/room")
    _SlowRoom.received = []
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_the_sender_delivers_the_whole_progress(room_server: ThreadingHTTPServer) -> None:
    """Inside a hub, a check's progress reaches the room, every exercise included."""
    rows = [{"exercise": "ex00", "passed": True}, {"exercise": "ex01", "passed": False}]
    assert send_progress(rows, wait=5) is True
    assert json.loads(_SlowRoom.received[0]) == {"exercises": rows}


def test_a_slow_room_costs_a_check_at_most_the_budget(
    room_server: ThreadingHTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A room that answers after 0.5 s delays the check by no more than 50 ms, and fails nothing."""
    import urllib.request

    original = urllib.request.Request

    def delayed(*args: Any, **kwargs: Any) -> urllib.request.Request:
        request = original(*args, **kwargs)
        request.add_header("X-Delay", "0.5")
        return request

    monkeypatch.setattr(urllib.request, "Request", delayed)
    started = time.perf_counter()
    finished = send_progress([{"exercise": "ex00", "passed": False}])
    waited = time.perf_counter() - started
    assert finished is False
    assert waited < BUDGET_SECONDS + 0.04, f"the check waited {waited:.3f} s for the room"


def test_outside_a_hub_nothing_is_sent(monkeypatch: pytest.MonkeyPatch) -> None:
    """No hub token in the environment: no thread, no request, no delay."""
    monkeypatch.delenv("JUPYTERHUB_API_TOKEN", raising=False)
    monkeypatch.setenv("COURSE_ROOM_URL", "http://127.0.0.1:9/nowhere")
    assert send_progress([{"exercise": "ex00"}]) is False


def _copy(home: Path, progress: object) -> Path:
    course = home / "course"
    (course / ".course").mkdir(parents=True)
    (course / ".course" / "progress.json").write_text(json.dumps(progress))
    return course


def test_the_room_command_reads_many_copies(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`room /home/*`: one row per learner, named after their folder; damage is a note."""
    _copy(tmp_path / "ada", {"ex00": {"checks": 2, "passed": True, "last_result": "pass"}})
    _copy(tmp_path / "bo", {"ex00": {"checks": 7, "last_result": "fail"}})
    (tmp_path / "cy" / "course" / ".course").mkdir(parents=True)
    (tmp_path / "cy" / "course" / ".course" / "progress.json").write_text("{not json")
    homes = [str(tmp_path / name) for name in ("ada", "bo", "cy")]
    assert main(["room", *homes, "--json"]) == 0
    out, err = capsys.readouterr()
    room = json.loads(out)
    states = {r["learner"]: r["exercises"]["ex00"]["state"] for r in room["learners"]}
    assert states == {"ada": "passed", "bo": "stuck"}
    assert "cy" in err and "unreadable" in err
    assert (tmp_path / "cy" / "course" / ".course" / "progress.json").read_text() == "{not json"


def test_the_room_command_says_when_it_found_nobody(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An empty folder: exit 1 and a sentence, not an empty table."""
    assert main(["room", str(tmp_path)]) == 1
    out, err = capsys.readouterr()
    assert "No progress found yet." in out and "no course copy" in err


def test_read_room_names_copies_when_one_folder_holds_several(tmp_path: Path) -> None:
    """Two copies under one path are two rows, told apart by their folder."""
    _copy(tmp_path / "lab" / "a", {"ex00": {"checks": 1}})
    _copy(tmp_path / "lab" / "b", {})
    rows, problems = read_room([tmp_path / "lab"])
    assert {r.learner for r in rows} == {"lab/a/course", "lab/b/course"} and problems == []
