"""Two runs of the same benchmark members side by side (for example the CPU run and a GPU run of NP).

    .venv/bin/python bench/compare_runs.py reports/benchmarks/cache/NP reports/benchmarks/gpu/cache/NP \
        --out reports/benchmarks/gpu/compare_NP.md

For each member present in both cache folders (made with the same settings: their spec.json files must agree),
the MAE of each run over the days both cover, the mean absolute difference between the two runs' forecasts and the
compute seconds stored; then the same for the mean of the members, with Diebold-Mariano p-values both ways.
The prices come from the first folder's forecasts.parquet (written by every benchmark run).
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _member(folder: Path) -> pd.DataFrame:
    return pd.concat([pd.read_csv(f) for f in sorted(folder.glob("*.csv"))]).set_index("day").sort_index()


def main(argv=None) -> int:
    from electricity_optimizer.benchmark import dm_test
    from electricity_optimizer.storage import write_text
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("a", type=Path, help="cache folder of run A (with forecasts.parquet)")
    ap.add_argument("b", type=Path, help="cache folder of run B")
    ap.add_argument("--prefix", default="CNN-LSTM_", help="members compared: folder names starting with this")
    ap.add_argument("--out", type=Path, default=None, help="also write the table here (markdown)")
    a = ap.parse_args(argv)
    names = sorted(p.name for p in a.b.glob(a.prefix + "*") if (a.a / p.name).is_dir() and any(p.glob("*.csv")))
    if not names:
        print(f"compare: no member {a.prefix}* with forecasts in both {a.a} and {a.b}", file=sys.stderr)
        return 2
    for n in names:
        if json.loads((a.a / n / "spec.json").read_text()) != json.loads((a.b / n / "spec.json").read_text()):
            print(f"compare: {n} was made with other settings in the two runs: compare like with like", file=sys.stderr)
            return 2
    fc = pd.read_parquet(a.a / "forecasts.parquet")
    days = pd.Index(fc["day"].unique())
    actual = pd.DataFrame(fc["actual"].to_numpy().reshape(-1, 24), index=days)
    hours = [f"h{h}" for h in range(24)]
    A, B = {n: _member(a.a / n) for n in names}, {n: _member(a.b / n) for n in names}
    common = days.intersection(pd.Index(sorted(set.intersection(*[set(t.index) for t in (*A.values(), *B.values())]))))
    y = actual.loc[common].to_numpy()
    lines = [f"# {a.a} (A) against {a.b} (B)", "", f"{len(common)} days both runs cover, {common[0]} .. {common[-1]}.", "",
             "| member | MAE A | MAE B | mean abs(A - B) | compute s A | compute s B |", "|---|---:|---:|---:|---:|---:|"]
    fa, fb = {}, {}
    for n in names:
        fa[n], fb[n] = A[n].loc[common, hours].to_numpy(), B[n].loc[common, hours].to_numpy()
        lines.append(f"| {n} | {np.abs(fa[n] - y).mean():.3f} | {np.abs(fb[n] - y).mean():.3f} | {np.abs(fa[n] - fb[n]).mean():.3f} | "
                     f"{A[n]['seconds'].sum():.0f} | {B[n]['seconds'].sum():.0f} |")
    ea, eb = np.mean(list(fa.values()), axis=0), np.mean(list(fb.values()), axis=0)
    lines += [f"| mean of the members | {np.abs(ea - y).mean():.4f} | {np.abs(eb - y).mean():.4f} | {np.abs(ea - eb).mean():.4f} | "
              f"{sum(A[n]['seconds'].sum() for n in names):.0f} | {sum(B[n]['seconds'].sum() for n in names):.0f} |", "",
              f"Diebold-Mariano (daily mean absolute errors): B more accurate than A p = {dm_test(y, ea, eb):.3f}; "
              f"A more accurate than B p = {dm_test(y, eb, ea):.3f}."]
    text = "\n".join(lines) + "\n"
    print(text)
    if a.out: write_text(text, a.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
