"""Benchmark for lesson 05: lazy vs eager pipelines, and three ways to read a big table.

Run it with ``.venv/bin/python benchmarks/bench_generators.py`` (about a
minute on 2 cores). ``--quick`` uses smaller sizes for a smoke run.

Every variant runs in its own child process (``patterns.lab.measure``):
a process's resident memory does not shrink when Python frees objects, so
measuring two variants in one process would charge the second for the first.
"Extra" memory is the child's peak RSS (VmHWM) after the variant minus its peak
just before the variant started (after imports and, for PostgreSQL, after connecting).

What it checks (and prints PASS/FAIL for):

* the lazy pipeline's peak memory grows by less than 10% when the input grows
  tenfold, while the eager one grows roughly linearly;
* the lazy pipeline's throughput is at least 0.8x the eager one's, both
  reported against a bare read of the same file in the same run;
* streaming a million rows with ``cursor.stream(size=...)`` stays within a few
  MB of extra memory, where ``fetchall()`` needs hundreds.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

import psycopg

from patterns.generators import write_sample_log
from patterns.lab import Measurement, measure, temporary_server

REPEATS = 3  # time is the median of this many runs; memory is the largest peak


def run(variant: str, *args: str) -> Measurement:
    runs = [measure(variant, *args) for _ in range(REPEATS)]
    results = {str(m.result) for m in runs}
    assert len(results) == 1, f"{variant} gave different answers on the same input"
    return runs[0]._replace(
        peak_rss_mb=max(m.peak_rss_mb for m in runs),
        extra_mb=max(m.extra_mb for m in runs),
        seconds=statistics.median(m.seconds for m in runs),
    )


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def bench_files(sizes: list[int], folder: Path) -> bool:
    print("## Log pipeline: lazy (generators) vs eager (lists)")
    print(f"each figure: its own child process; time = median of {REPEATS} runs\n")
    print("| lines | variant | peak RSS MB | extra MB | seconds | M lines/s | vs bare read |")
    print("|---:|---|---:|---:|---:|---:|---:|")
    table: dict[tuple[int, str], Measurement] = {}
    for lines in sizes:
        path = str(write_sample_log(folder / f"log-{lines}.txt", lines, seed=7))
        for variant in ("bare", "lazy", "eager"):
            table[lines, variant] = m = run(variant, path)
            bare = table[lines, "bare"]
            print(
                f"| {lines:,} | {variant} | {m.peak_rss_mb:.1f} | {m.extra_mb:.1f} | "
                f"{m.seconds:.3f} | {lines / m.seconds / 1e6:.2f} | "
                f"{m.seconds / bare.seconds:.1f}x |"
            )
        assert table[lines, "lazy"].result == table[lines, "eager"].result, "answers differ"
    small, big = sizes[0], sizes[-1]
    growth = big / small
    lazy_growth = table[big, "lazy"].peak_rss_mb / table[small, "lazy"].peak_rss_mb - 1
    eager_growth = table[big, "eager"].extra_mb / max(table[small, "eager"].extra_mb, 0.1)
    ratios = [table[n, "eager"].seconds / table[n, "lazy"].seconds for n in sizes]
    print()
    ok_lazy = lazy_growth < 0.10
    ok_eager = eager_growth > 0.5 * growth
    ok_speed = min(ratios) >= 0.8
    print(
        f"- {verdict(ok_lazy)} lazy peak RSS grows {lazy_growth:+.1%} for {growth:.0f}x input "
        f"(extra {table[small, 'lazy'].extra_mb:.1f} -> {table[big, 'lazy'].extra_mb:.1f} MB)"
    )
    print(
        f"- {verdict(ok_eager)} eager extra memory grows {eager_growth:.1f}x for "
        f"{growth:.0f}x input ({table[small, 'eager'].extra_mb:.1f} -> "
        f"{table[big, 'eager'].extra_mb:.1f} MB)"
    )
    print(
        "- "
        + verdict(ok_speed)
        + " lazy throughput / eager throughput: "
        + ", ".join(f"{r:.2f}x at {n:,} lines" for n, r in zip(sizes, ratios, strict=True))
        + " (at least 0.8x required)"
    )
    return ok_lazy and ok_eager and ok_speed


def bench_postgres(rows: int) -> bool:
    print(f"\n## PostgreSQL: reading {rows:,} rows three ways")
    print("(id bigint, service text, message text of 32 chars; the consumer counts rows)\n")
    query = "SELECT id, service, message FROM bench_events"
    with temporary_server() as server:
        with psycopg.connect(server.url, autocommit=True) as conn:
            conn.execute(
                "CREATE TABLE bench_events AS SELECT n::bigint AS id,"
                " (ARRAY['api','auth','billing','email','payments','search'])[1 + n %% 6]"
                " AS service, md5(n::text) AS message FROM generate_series(1, %s) AS n",
                (rows,),
            )
            conn.execute("VACUUM ANALYZE bench_events")
        print("| method | peak RSS MB | extra MB | seconds | rows/s |")
        print("|---|---:|---:|---:|---:|")
        found: dict[str, Measurement] = {}
        for variant, label in (
            ("pg-fetchall", "cursor.fetchall()"),
            ("pg-named", "named cursor, itersize=2000"),
            ("pg-stream", "cursor.stream(size=2000)"),
        ):
            found[variant] = m = run(variant, server.url, query)
            assert m.result[0] == rows, f"{variant} read {m.result[0]} rows, expected {rows}"
            print(
                f"| {label} | {m.peak_rss_mb:.1f} | {m.extra_mb:.1f} | {m.seconds:.2f} | "
                f"{rows / m.seconds:,.0f} |"
            )
    stream, fetchall = found["pg-stream"], found["pg-fetchall"]
    ok = stream.extra_mb <= 5
    print(
        f"\n- {verdict(ok)} stream(size=2000) extra memory {stream.extra_mb:.1f} MB "
        f"(fetchall: {fetchall.extra_mb:.1f} MB); at most 5 MB required"
    )
    return ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    args = parser.parse_args(argv)
    sizes = [10_000, 100_000] if args.quick else [100_000, 1_000_000]
    rows = 100_000 if args.quick else 1_000_000
    print(f"# bench_generators (Python {sys.version.split()[0]})\n")
    with tempfile.TemporaryDirectory(prefix="bench-generators-") as folder:
        files_ok = bench_files(sizes, Path(folder))
    postgres_ok = bench_postgres(rows)
    return 0 if files_ok and postgres_ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
