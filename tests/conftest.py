"""Shared fixtures: the real data folder, and one `dvc repro` of the CI params in a copy of the repo."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"
BIN = Path(sys.executable).parent


def run_env(**extra) -> dict:
    "Environment for subprocesses: the venv first on PATH, offline hygiene, the real data mirror."
    env = dict(os.environ)
    env.update(PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}", DVC_STUDIO_OFFLINE="1", DVC_NO_ANALYTICS="1",
               MLFLOW_DISABLE_TELEMETRY="true", DO_NOT_TRACK="1", EO_DATA_MIRROR=str(SHARED_DATA))
    env.update(extra)
    return env


def run(cmd, cwd, timeout=1200, check=True, **env):
    r = subprocess.run(cmd, cwd=cwd, env=run_env(**env), capture_output=True, text=True, timeout=timeout)
    if check and r.returncode != 0:
        raise AssertionError(f"{cmd} failed ({r.returncode}):\n{r.stdout[-4000:]}\n{r.stderr[-4000:]}")
    return r


@pytest.fixture(scope="session")
def shared_data() -> Path:
    assert SHARED_DATA.is_dir(), f"real data folder {SHARED_DATA} is missing"
    return SHARED_DATA


def _copy_repo(dest: Path) -> Path:
    "A copy of the working tree without the venv, outputs and tracking store."
    skip = {".venv", ".git", "data", "mlruns", ".pytest_cache", ".hypothesis", "_proc", "_docs"}
    dvc_local = {"cache", "tmp", "config.local"}  # what a fresh clone does not have
    shutil.copytree(ROOT, dest, ignore=lambda d, names: [n for n in names if
                    (Path(d) == ROOT and n in skip) or (Path(d) == ROOT / ".dvc" and n in dvc_local)
                    or n in {"__pycache__", ".ipynb_checkpoints", "build"}])
    return dest


@pytest.fixture(scope="session")
def repro_repo(tmp_path_factory, shared_data) -> dict:
    "Copy the repo, put the CI params in place, run `dvc repro` twice; return paths and outputs."
    repo = _copy_repo(tmp_path_factory.mktemp("repo") / "electricity-optimizer")
    shutil.copy(repo / "tests" / "params-ci.yaml", repo / "params.yaml")
    for cmd in (["git", "init", "-q"], ["git", "add", "-A"],
                ["git", "-c", "user.name=ci", "-c", "user.email=ci@localhost", "commit", "-qm", "ci copy"]):
        run(cmd, repo)
    first = run(["dvc", "repro"], repo, timeout=1500)
    second = run(["dvc", "repro"], repo)
    return {"repo": repo, "first": first.stdout + first.stderr, "second": second.stdout + second.stderr}
