"""The incremental price store on real data: idempotence, deduplication, revisions, missing intervals, atomicity under kill."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from electricity_optimizer.ingest import DataError, read_epf
from electricity_optimizer.quality import check_prices
from electricity_optimizer.sources import EPFSource, local_day, read_entsoe_csv
from electricity_optimizer.store import missing_intervals, missing_ranges, read_revisions, read_store, update

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
ES = read_entsoe_csv(DATA / "entsoe" / "ES.csv")


def days(df, first, last):
    return df[(df.timestamp >= local_day(first)[0]) & (df.timestamp < local_day(last)[1])]


def snapshot(store: Path) -> dict:
    return {p.name: (p.stat().st_mtime_ns, p.read_bytes()) for p in sorted(store.iterdir())}


def test_full_epf_file_then_noop(tmp_path):
    df = EPFSource(DATA).fetch("NO_SYS", "2000-01-01", "2100-01-01")
    s = update(tmp_path / "s", df)
    assert (s["added"], s["written"]) == (52_416, True)
    before = snapshot(tmp_path / "s")
    s2 = update(tmp_path / "s", df)
    assert (s2["added"], s2["revised"], s2["written"]) == (0, 0, False)
    assert snapshot(tmp_path / "s") == before
    stored = read_store(tmp_path / "s")
    assert stored.timestamp.equals(df.timestamp) and stored.price.equals(df.price)
    assert check_prices(stored)[1]["passed"]


def test_overlapping_fetches_deduplicate(tmp_path):
    store = tmp_path / "s"
    update(store, days(ES, "2021-03-20", "2021-03-28"))
    r = update(store, days(ES, "2021-03-25", "2021-04-02"))
    assert r["added"] == len(days(ES, "2021-03-29", "2021-04-02")) and r["revised"] == 0
    stored = read_store(store)
    assert stored.timestamp.is_unique and len(stored) == len(days(ES, "2021-03-20", "2021-04-02"))
    assert len(days(stored, "2021-03-28", "2021-03-28")) == 23  # the spring-forward day, stored in UTC
    assert read_revisions(store).empty


def test_revisions_are_recorded_not_silently_overwritten(tmp_path):
    store = tmp_path / "s"
    base = days(ES, "2022-06-01", "2022-06-03")
    update(store, base)
    revised = base.copy()
    idx = revised.index[[5, 30]]
    revised.loc[idx, "price"] += 12.5
    revised.loc[idx, "price_orig"] += 12.5
    revised["source"] = "entsoe"
    r = update(store, revised, now="2022-06-05 10:00")
    assert (r["revised"], r["added"], r["written"]) == (2, 0, True)
    rev = read_revisions(store)
    p = rev[rev.column == "price"].sort_values("timestamp")
    assert p.old.tolist() == base.loc[idx, "price"].tolist() and p.new.tolist() == (base.loc[idx, "price"] + 12.5).tolist()
    assert set(rev.source) == {"entsoe"} and set(rev.revised_at) == {pd.Timestamp("2022-06-05 10:00", tz="UTC")}
    stored = read_store(store).set_index("timestamp")
    assert stored.loc[base.timestamp[idx], "price"].tolist() == (base.loc[idx, "price"] + 12.5).tolist()
    assert stored.loc[base.timestamp[idx], "source"].tolist() == ["entsoe", "entsoe"]
    # the original values come back: a second revision, recorded too
    update(store, base, now="2022-06-06")
    assert len(read_revisions(store)) == 8
    assert read_store(store).price.tolist() == base.price.tolist()


def test_missing_intervals_drive_fetching(tmp_path):
    store = tmp_path / "s"
    update(store, days(ES, "2020-10-20", "2020-10-23"))
    update(store, days(ES, "2020-10-26", "2020-10-27"))
    start, end = local_day("2020-10-20")[0], local_day("2020-10-27")[1]
    ranges = missing_ranges(store, "ES", start, end)
    assert ranges == [(local_day("2020-10-24")[0], local_day("2020-10-25")[1])]
    assert len(missing_intervals(store, "ES", *ranges[0])) == 24 + 25  # the fall-back day has 25 hours
    for a, b in ranges:
        update(store, ES[(ES.timestamp >= a) & (ES.timestamp < b)])
    assert missing_ranges(store, "ES", start, end) == []
    assert len(missing_intervals(store, "ES", start, end, resolution=15)) == 0
    assert len(missing_intervals(store, "NL", start, end)) == (end - start) / pd.Timedelta(hours=1)


def test_bad_frames_are_refused(tmp_path):
    df = days(ES, "2020-01-01", "2020-01-01")
    with pytest.raises(DataError, match="lacks column 'price'"):
        update(tmp_path / "s", df.drop(columns="price"))
    with pytest.raises(DataError, match="not datetime64"):
        update(tmp_path / "s", df.assign(timestamp=df.timestamp.dt.tz_localize(None)))
    assert not (tmp_path / "s").exists()


_WRITER = """
import sys, pandas as pd
from electricity_optimizer.store import update
a, b = pd.read_parquet(sys.argv[2]), pd.read_parquet(sys.argv[3])
i = 0
print("ready", flush=True)
while True:
    update(sys.argv[1], a if i % 2 == 0 else b); i += 1
"""


def test_kill_during_writes_leaves_a_valid_version(tmp_path):
    "SIGKILL a process that keeps rewriting the store: afterwards it is always one complete version."
    a = read_epf(DATA / "epf" / "DE.csv", "DE")
    b = a.assign(price=a.price + 1.0)
    a.to_parquet(tmp_path / "a.parquet"); b.to_parquet(tmp_path / "b.parquet")
    store = tmp_path / "s"
    update(store, a)
    for delay in (0.3, 0.55, 0.8):
        p = subprocess.Popen([sys.executable, "-c", _WRITER, str(store), str(tmp_path / "a.parquet"), str(tmp_path / "b.parquet")],
                             stdout=subprocess.PIPE, text=True)
        assert p.stdout.readline().strip() == "ready"
        time.sleep(delay)
        os.kill(p.pid, signal.SIGKILL); p.wait()
        got = read_store(store)
        assert len(got) == len(a) and (got.price.equals(a.price) or got.price.equals(b.price))
        rev = read_revisions(store)
        assert rev.empty or set(rev.column) == {"price"}
    update(store, a)  # a temp file a killed writer may have left never blocks the next update
    assert read_store(store).price.equals(a.price)
