"""Two runs of the same benchmark members side by side (for example the CPU run and a GPU run of NP).

    .venv/bin/python bench/compare_runs.py reports/benchmarks/cache/NP reports/benchmarks/gpu/cache/NP \
        --out reports/benchmarks/gpu/compare_NP.md

Members are paired by their settings (spec.json apart from the member's name), so a member renumbered since one of
the runs is still paired with its counterpart, and members without one are listed. For each pair: the MAE of each run
over the days both cover, the mean absolute difference between the two runs' forecasts and the compute seconds stored;
then the same for the mean of the paired members, with Diebold-Mariano p-values both ways.
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

    def members(root: Path) -> dict[str, str]:  # settings (as JSON, without the name) -> member folder name
        out = {}
        for p in sorted(root.glob(a.prefix + "*")):
            if (p / "spec.json").exists() and any(p.glob("*.csv")):
                spec = json.loads((p / "spec.json").read_text())
                spec.pop("model", None)
                out[json.dumps(spec, sort_keys=True)] = p.name
        return out
    in_a, in_b = members(a.a), members(a.b)
    pairs = [(in_a[k], in_b[k]) for k in in_b if k in in_a]  # (name in A, name in B)
    alone = [f"{n} (B)" for k, n in in_b.items() if k not in in_a] + [f"{n} (A)" for k, n in in_a.items() if k not in in_b]
    if not pairs:
        print(f"compare: no member {a.prefix}* of {a.b} has a counterpart with the same settings in {a.a}", file=sys.stderr)
        return 2
    fc = pd.read_parquet(a.a / "forecasts.parquet")
    days = pd.Index(fc["day"].unique())
    actual = pd.DataFrame(fc["actual"].to_numpy().reshape(-1, 24), index=days)
    hours = [f"h{h}" for h in range(24)]
    A, B = {nb: _member(a.a / na) for na, nb in pairs}, {nb: _member(a.b / nb) for na, nb in pairs}
    names = [nb for _, nb in pairs]
    label = {nb: nb if na == nb else f"{nb} (A: {na})" for na, nb in pairs}
    common = days.intersection(pd.Index(sorted(set.intersection(*[set(t.index) for t in (*A.values(), *B.values())]))))
    y = actual.loc[common].to_numpy()
    lines = [f"# {a.a} (A) against {a.b} (B)", "", f"{len(common)} days both runs cover, {common[0]} .. {common[-1]}; {len(pairs)} members with the same settings in both"
             + (f"; without a counterpart: {', '.join(alone)}" if alone else "") + ".", "",
             "| member | MAE A | MAE B | mean abs(A - B) | compute s A | compute s B |", "|---|---:|---:|---:|---:|---:|"]
    fa, fb = {}, {}
    for n in names:
        fa[n], fb[n] = A[n].loc[common, hours].to_numpy(), B[n].loc[common, hours].to_numpy()
        lines.append(f"| {label[n]} | {np.abs(fa[n] - y).mean():.3f} | {np.abs(fb[n] - y).mean():.3f} | {np.abs(fa[n] - fb[n]).mean():.3f} | "
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
