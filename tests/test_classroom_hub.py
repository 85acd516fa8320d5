"""The classroom path, end to end, on a real JupyterHub on this machine.

Five learners log in (dummy authenticator, local-process spawner, homes in a
temporary folder), get the course through an nbgitpuller link pointing at a
local git repository, and check ex00 through a kernel in their own server.
The instructor's room page then shows five rows with the right states; a plain
learner gets 403 and cannot post progress as someone else; an upstream change
merges into a learner's copy without touching their edited exercise.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from patterns.course import catalog
from tests.hub_harness import (
    INSTRUCTOR,
    PASSWORD,
    Hub,
    git,
    missing_parts,
    publish_course,
    running_hub,
)

pytestmark = [
    pytest.mark.hub,
    pytest.mark.skipif(bool(missing_parts()), reason=f"needs {', '.join(missing_parts())}"),
]

ROOT = Path(__file__).resolve().parent.parent
LEARNERS = ["ada", "bo", "cy", "di", "ed"]
ARTIFACTS = ROOT / "test-artifacts" / "browser"


CHECK = """
import os
os.chdir(os.path.expanduser("~/course"))
from patterns.course import check, hint
{hints}
view = check("ex00")
print(view.verdict.headline())
"""


def _check(hub: Hub, user: str, hints: int = 0) -> str:
    return hub.run_in_kernel(user, CHECK.format(hints='hint("ex00")\n' * hints))


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hub]:
    folder = tmp_path_factory.mktemp("hub")
    with running_hub(folder) as running:
        running.repo = publish_course(folder)  # type: ignore[attr-defined]
        running.add_users([*LEARNERS, INSTRUCTOR])
        running.start_servers(LEARNERS)
        yield running
    leftovers = [
        p
        for p in psutil.process_iter(["cmdline"])
        if any(str(folder) in part for part in (p.info["cmdline"] or []))
    ]
    assert not leftovers, f"left running after the hub stopped: {leftovers}"


def test_learners_pull_check_and_the_instructor_sees_the_room(hub: Hub) -> None:
    """Five learners through their own servers; the room shows each one's state."""
    repo = f"file://{hub.repo}"  # type: ignore[attr-defined]
    for user in LEARNERS:
        events = hub.git_pull(user, repo)
        assert events[-1]["phase"] == "finished", events[-3:]
    solution = (ROOT / "solutions" / "ex00_warmup.py").read_text()
    for user in ("ada", "bo"):  # solved it
        hub.put_file(user, "course/exercises/ex00_warmup.py", solution)
        assert "passes" in _check(hub, user)
    assert "could not be checked" not in _check(hub, "cy")  # tried once, the stub fails
    for _ in range(5):  # di: many checks without a pass
        _check(hub, "di")
    # ed: every hint shown, still failing. A first check sets the failing behaviour;
    # then its aimed hint and the general ones, and a check that reports them.
    _check(hub, "ed")
    _check(hub, "ed", hints=1 + len(catalog.get("ex00").hints))

    with hub.api(hub.tokens[INSTRUCTOR]) as api:
        reply = api.get("/services/course-room/room.json")
    assert reply.status_code == 200, reply.text
    room = reply.json()
    states = {row["learner"]: row["exercises"]["ex00"]["state"] for row in room["learners"]}
    assert states == {"ada": "passed", "bo": "passed", "cy": "tried", "di": "stuck", "ed": "stuck"}
    assert room["counts"]["ex00"] == {"passed": 2, "stuck": 2, "tried": 1}
    with hub.api(hub.tokens[INSTRUCTOR]) as api:
        csv_reply = api.get("/services/course-room/room.csv")
    assert csv_reply.status_code == 200 and csv_reply.text.startswith("learner,exercise,state")


def test_a_plain_learner_can_neither_see_the_room_nor_post_as_someone_else(hub: Hub) -> None:
    """403 on the page; a post naming another learner is stored under the sender's own name."""
    with hub.api(hub.tokens["cy"]) as api:
        assert api.get("/services/course-room/").status_code == 403
        assert api.get("/services/course-room/room.json").status_code == 403
        forged = {
            "learner": "ada",
            "exercises": [
                {
                    "exercise": "ex07",
                    "learner": "ada",
                    "passed": True,
                    "checks": 1,
                    "hints_shown": 0,
                    "hints_total": 3,
                }
            ],
        }
        assert api.post("/services/course-room/api/progress", json=forged).status_code == 204
    with hub.api(hub.tokens["ada"]) as api:  # a bad token or none: refused
        assert (
            api.post(
                "/services/course-room/api/progress",
                json=forged,
                headers={"Authorization": "token nope"},
            ).status_code
            == 403
        )
    with hub.api(hub.tokens[INSTRUCTOR]) as api:
        room = api.get("/services/course-room/room.json").json()
    by_learner = {row["learner"]: row["exercises"] for row in room["learners"]}
    assert by_learner["cy"]["ex07"]["state"] == "passed", "the post was not stored as its sender"
    assert by_learner["ada"]["ex07"]["state"] == "todo", "a learner posted as someone else"


def test_an_upstream_change_merges_without_touching_a_learners_exercise(hub: Hub) -> None:
    """Re-opening the link after a push brings the change; the learner's edit stays."""
    repo: Path = hub.repo  # type: ignore[attr-defined]
    edited = "# ada's own work\n" + (ROOT / "solutions" / "ex00_warmup.py").read_text()
    hub.put_file("ada", "course/exercises/ex00_warmup.py", edited)
    (repo / "notebooks" / "UPDATE.md").write_text("A note the instructor added during the day.\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "an update")
    events = hub.git_pull("ada", f"file://{repo}")
    assert events[-1]["phase"] == "finished", events[-3:]
    home = hub.folder / "homes" / "ada" / "course"
    assert (home / "notebooks" / "UPDATE.md").exists(), "the upstream change did not arrive"
    assert (home / "exercises" / "ex00_warmup.py").read_text() == edited


def test_the_room_page_renders_for_the_instructor_in_a_browser(hub: Hub) -> None:
    """Log in as the instructor in Chromium, open the room, keep a screenshot."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    playwright = pytest.importorskip("playwright.sync_api")
    if chromium is None:
        pytest.skip("no Chromium (apt-get install chromium)")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=chromium, args=["--no-sandbox", "--disable-gpu"]
        )
        try:
            page = browser.new_page()
            page.goto(f"{hub.url}/hub/login")
            page.fill("#username_input", INSTRUCTOR)
            page.fill("#password_input", PASSWORD)
            page.click("#login_submit")
            page.wait_for_url("**/hub/**")
            page.goto(f"{hub.url}/services/course-room/")
            page.wait_for_selector("#room")
            text = page.inner_text("#room")
            page.screenshot(path=str(ARTIFACTS / "course_room.png"), full_page=True)
        finally:
            browser.close()
    for learner in LEARNERS:
        assert learner in text
    assert "stuck" in text and "passed" in text
