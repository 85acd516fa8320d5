"""The course room on a real JupyterHub: the service under a room's load, and one learner's memory.

    .venv/bin/python benchmarks/bench_room.py [--learners 100] [--sends 10] [--skip-memory]

* 100 simulated learners (real hub users, real tokens), all at once, each
  sending 10 progress reports one after another (check, fix, check again),
  straight to the service as their servers do; the
  baseline is the same requests to the hub's own ``/hub/api/user`` (the
  identity lookup every first report needs). Reported: p50/p99 latency, and
  whether every learner's last report (10 checks) is what the room holds, so
  no update was lost.
* One learner's memory: their single-user server, its kernel and the
  throwaway PostgreSQL the kernel starts, sampled every 0.2 s while notebook 01
  runs cell by cell in that kernel, so the guide can size a hub.

Needs what the classroom test needs (jupyterhub, nbgitpuller, configurable-http-proxy, git).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.hub_harness import Hub, missing_parts, publish_course, running_hub  # noqa: E402


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


async def _fire(hub: Hub, learners: list[str], sends: int) -> tuple[list[float], list[float]]:
    limits = httpx.Limits(max_connections=200)
    async with httpx.AsyncClient(timeout=120, limits=limits) as client:

        async def whoami(name: str) -> float:
            started = time.perf_counter()
            reply = await client.get(
                f"{hub.url}/hub/api/user", headers={"Authorization": f"token {hub.tokens[name]}"}
            )
            reply.raise_for_status()
            return time.perf_counter() - started

        async def report(name: str, checks: int) -> float:
            body = {"exercises": [{"exercise": "ex00", "passed": checks == sends, "checks": checks,
                                   "hints_shown": 0, "hints_total": 3}]}  # fmt: skip
            started = time.perf_counter()
            reply = await client.post(
                f"{hub.room_url}/api/progress",
                json=body,
                headers={"Authorization": f"token {hub.tokens[name]}"},
            )
            assert reply.status_code == 204, reply.text
            return time.perf_counter() - started

        async def learner(name: str) -> list[float]:
            # One learner checks again and again; the room is all learners at once.
            return [await report(name, checks) for checks in range(1, sends + 1)]

        baseline = await asyncio.gather(*(whoami(n) for n in learners))
        per_learner = await asyncio.gather(*(learner(n) for n in learners))
    return list(baseline), [t for times in per_learner for t in times]


def bench_service(hub: Hub, learners: int, sends: int) -> None:
    names = [f"learner{i:03d}" for i in range(learners)]
    hub.add_users(names)
    started = time.perf_counter()
    baseline, latencies = asyncio.run(_fire(hub, names, sends))
    wall = time.perf_counter() - started
    with hub.api(hub.tokens["teacher"]) as api:
        room = api.get("/services/course-room/room.json").json()
    final = {r["learner"]: r["exercises"]["ex00"]["checks"] for r in room["learners"]}
    lost = [n for n in names if final.get(n) != sends]
    print(flush=True)
    print(f"## The room service: {learners} learners x {sends} reports, all at once")
    print("| what | p50 | p99 |")
    print("|---|---:|---:|")
    print(f"| baseline: hub `/hub/api/user` (one per learner) | {statistics.median(baseline) * 1000:.0f} ms "
          f"| {percentile(baseline, 0.99) * 1000:.0f} ms |")  # fmt: skip
    print(f"| a progress report to the room | {statistics.median(latencies) * 1000:.0f} ms "
          f"| {percentile(latencies, 0.99) * 1000:.0f} ms |")  # fmt: skip
    print(f"{len(latencies)} reports in {wall:.1f} s; updates lost: {len(lost)}")


def bench_memory(hub: Hub) -> None:
    hub.add_users(["memory"])
    hub.start_servers(["memory"])
    events = hub.git_pull("memory", f"file://{publish_course(hub.folder)}")
    assert events[-1]["phase"] == "finished", events[-3:]
    server = psutil.Process(hub.server_process("memory"))
    idle = sum(p.memory_info().rss for p in [server, *server.children(recursive=True)])
    peak = {"rss": idle}
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            total = 0
            for process in [server, *server.children(recursive=True)]:
                with contextlib.suppress(psutil.Error):
                    total += process.memory_info().rss
            peak["rss"] = max(peak["rss"], total)
            done.wait(0.2)

    sampler = threading.Thread(target=sample)
    sampler.start()
    notebook = json.loads((ROOT / "notebooks" / "01_repository.ipynb").read_text())
    cells = ["".join(c["source"]) for c in notebook["cells"] if c["cell_type"] == "code"]
    code = "import os\nos.chdir(os.path.expanduser('~/course/notebooks'))\n"
    try:
        hub.run_in_kernel("memory", code + "\n".join(f"exec({c!r})" for c in cells), timeout=600)
    finally:
        done.set()
        sampler.join()
    print("## One learner's memory (single-user server + kernel + throwaway PostgreSQL)")
    print(f"| idle server | {idle / 2**20:.0f} MB RSS |")
    print(
        f"| peak while notebook 01 runs | {peak['rss'] / 2**20:.0f} MB RSS (sum over the process tree) |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--learners", type=int, default=100)
    parser.add_argument("--sends", type=int, default=10)
    parser.add_argument("--skip-memory", action="store_true")
    args = parser.parse_args()
    if missing_parts():
        raise SystemExit(f"needs {', '.join(missing_parts())}")
    with tempfile.TemporaryDirectory(prefix="bench-room-") as tmp, running_hub(Path(tmp)) as hub:
        hub.add_users(["teacher"])
        bench_service(hub, args.learners, args.sends)
        if not args.skip_memory:
            bench_memory(hub)


if __name__ == "__main__":
    main()
