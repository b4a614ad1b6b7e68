"""Ingestion benchmark: full EPF file, incremental no-op, a year of daily requests through a faulty loopback API.

Run: taskset -c 0 .venv/bin/python bench/ingest.py [--runs 5]   (one core)
Writes reports/benchmarks/ingest.json and ingest.md (atomically).
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import random
import statistics
import tempfile
import threading
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no access log per request

import pandas as pd
from pytest_httpserver import HTTPServer
from werkzeug import Response

from electricity_optimizer.quality import check_prices
from electricity_optimizer.resilient import HttpPolicy
from electricity_optimizer.sources import EnergyChartsSource, EPFSource, day_chunks, local_day, read_entsoe_csv, utc
from electricity_optimizer.storage import write_json, write_text
from electricity_optimizer.store import _prices, missing_intervals, missing_ranges, update

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
OUT = ROOT / "reports" / "benchmarks"


def ingest_epf(store: Path, market_zone: str = "DE") -> dict:
    "Read the whole EPF file from the mirror, normalise, check and store it."
    df = EPFSource(mirror=DATA).fetch(market_zone, "2000-01-01", "2100-01-01")
    _, metrics = check_prices(df)
    summary = update(store, df)
    return dict(summary, rows=len(df), passed=metrics["passed"])


def incremental_noop(store: Path, zone: str, start, end) -> dict:
    "An incremental run: ask the store what is missing, fetch only that (here: nothing)."
    ranges = missing_ranges(store, zone, start, end)
    fetched = 0
    if ranges:
        src = EPFSource(mirror=DATA)
        for a, b in ranges:
            df = src.fetch(zone, a, b); fetched += len(df); update(store, df)
    return dict(ranges=len(ranges), fetched=fetched)


def faulty_year(tmp: Path, year: int = 2019, fail_p: float = 0.05, every_429: int = 50, seed: int = 0) -> dict:
    "One year of daily Energy-Charts requests against a loopback server that injects 500s and 429s."
    de = read_entsoe_csv(DATA / "entsoe" / "DE_LU.csv")
    secs = (de.timestamp.astype("int64") // 10**9).to_numpy()
    rng, lock = random.Random(seed), threading.Lock()
    counts = dict(requests=0, injected_500=0, injected_429=0)

    def handler(req):
        with lock:
            counts["requests"] += 1
            n = counts["requests"]
            if n % every_429 == 0:
                counts["injected_429"] += 1
                return Response("slow down", status=429, headers={"Retry-After": "1"})
            if rng.random() < fail_p:
                counts["injected_500"] += 1
                return Response("internal error", status=500)
        a, b = utc(req.args["start"]).value // 10**9, utc(req.args["end"]).value // 10**9
        m = (secs >= a) & (secs < b)
        return Response(json.dumps({"unix_seconds": secs[m].tolist(), "price": de.price_orig[m].tolist(), "unit": "EUR / MWh"}),
                        content_type="application/json")

    srv = HTTPServer(threaded=True); srv.start()
    srv.expect_request("/price").respond_with_handler(handler)
    try:
        policy = HttpPolicy(timeout_s=5, attempts=6, backoff_s=0.005, max_wait_s=0.05, rate_per_s=1000, burst=50, fail_max=20, reset_s=1)
        src = EnergyChartsSource(base_url=srv.url_for("/"), policy=policy, chunk_days=1)
        store = tmp / "faulty"
        start, end = local_day(f"{year}-01-01")[0], local_day(f"{year + 1}-01-01")[0]
        t0 = time.perf_counter()
        for a, b in missing_ranges(store, "DE_LU", start, end):
            update(store, src.fetch("DE_LU", a, b))
        wall = time.perf_counter() - t0
        missing = len(missing_intervals(store, "DE_LU", start, end))
        stats = dict(src.client.stats)
        src.client.close()
    finally:
        srv.clear(); srv.stop()
    return dict(requests=counts["requests"], injected_failures=counts["injected_500"] + counts["injected_429"],
                injected_500=counts["injected_500"], injected_429=counts["injected_429"], missing_intervals=missing,
                days=len(day_chunks(start, end, 1)), retries=stats["retries"],
                failed_fetches=stats["failures"], wall_s=round(wall, 3))


def main(runs: int = 5) -> dict:
    tmp = Path(tempfile.mkdtemp(prefix="eo-bench-"))
    full = []
    for i in range(runs):
        store = tmp / f"full{i}"
        t0 = time.perf_counter(); s = ingest_epf(store); full.append(time.perf_counter() - t0)
    assert s["rows"] == 52_416 and s["passed"] and s["written"], s
    store = tmp / "full0"
    p = _prices(store)
    before = (p.stat().st_mtime_ns, p.read_bytes())
    first, last = pd.read_parquet(p).timestamp.agg(["min", "max"])
    noop, noop_full = [], []
    for _ in range(runs):
        t0 = time.perf_counter(); r = incremental_noop(store, "DE", first, last + pd.Timedelta(hours=1)); noop.append(time.perf_counter() - t0)
        assert r == dict(ranges=0, fetched=0), r
    for _ in range(runs):  # the same full file offered again: merged, compared, nothing written
        df = EPFSource(mirror=DATA).fetch("DE", "2000-01-01", "2100-01-01")
        t0 = time.perf_counter(); u = update(store, df); noop_full.append(time.perf_counter() - t0)
        assert not u["written"], u
    unchanged = (p.stat().st_mtime_ns, p.read_bytes()) == before
    fy = faulty_year(tmp)
    res = {
        "epf_full_file_s": round(statistics.median(full), 4),
        "incremental_noop_s": round(statistics.median(noop), 4),
        "faulty_year": fy,
        "epf_full_file_runs_s": [round(x, 4) for x in full],
        "incremental_noop_runs_s": [round(x, 4) for x in noop],
        "noop_update_full_frame_s": round(statistics.median(noop_full), 4),
        "noop_file_unchanged": unchanged,
        "rows": s["rows"], "runs": runs,
        "machine": f"{platform.machine()}, {len(os.sched_getaffinity(0))} of {os.cpu_count()} cpus usable, python {platform.python_version()}, pandas {pd.__version__}",
    }
    OUT.mkdir(parents=True, exist_ok=True)
    write_json(res, OUT / "ingest.json")
    md = ["# Ingestion benchmark", "",
          f"`taskset -c 0 .venv/bin/python bench/ingest.py --runs {runs}` on {res['machine']}. Medians of {runs} runs.", "",
          "| measure | value | target |", "| --- | --- | --- |",
          f"| EPF DE full file (52,416 rows): read from mirror, normalise, `check_prices`, store | {res['epf_full_file_s']:.3f} s | < 2 s |",
          f"| incremental run with nothing new (missing-interval query, no fetch, no write) | {res['incremental_noop_s']:.3f} s | < 1 s |",
          f"| full file offered again to `update` (merge and compare, no write) | {res['noop_update_full_frame_s']:.3f} s | < 1 s |",
          f"| store file unchanged after the no-op runs (mtime and bytes) | {unchanged} | True |",
          f"| faulty year 2019 (local): one request per UTC day ({fy['days']} days), HTTP requests made | {fy['requests']} | |",
          f"| faulty year: injected failures (5% HTTP 500: {fy['injected_500']}, 429 every 50th: {fy['injected_429']}) | {fy['injected_failures']} | |",
          f"| faulty year: retries / failed fetches | {fy['retries']} / {fy['failed_fetches']} | |",
          f"| faulty year: missing intervals after the run | {fy['missing_intervals']} | 0 |",
          f"| faulty year: wall time (retry waits capped at 50 ms) | {fy['wall_s']:.2f} s | seconds |", ""]
    write_text("\n".join(md), OUT / "ingest.md")
    return res


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5, help="repetitions of the timed runs (median reported)")
    print(json.dumps(main(ap.parse_args().runs), indent=2))
