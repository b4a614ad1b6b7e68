"""Scoring searched configurations on earlier years and comparing recalibrations: a process pool gives what one process gives."""
import json
import shutil

from electricity_optimizer.tuning import (BASELINE, SEARCH_SPACE, chosen_recalibration, compare_recalibrations, ranked_configs,
                                         score_windows, tune_cnn_lstm)


def test_scores_are_the_same_in_parallel_processes(tmp_path, shared_data):
    small = {**SEARCH_SPACE, "epochs": ("int", 1, 2, 1), "train_days": ("cat", [56]), "lookback_days": ("cat", [7]),
             "channels": ("cat", [4]), "hidden": ("cat", [8])}
    first = {**BASELINE, "epochs": 1, "train_days": 56, "channels": 4, "hidden": 8}
    one, two = tmp_path / "one", tmp_path / "two"
    tune_cnn_lstm("PJM", n_trials=3, out_dir=one, mirror=shared_data, val_days=14, refit_every=7, space=small,
                  baseline=first, progress=False)
    two.mkdir()
    shutil.copy(one / "PJM.json", two / "PJM.json")
    a = score_windows("PJM", windows=2, top=3, out_dir=one, mirror=shared_data, jobs=1)
    b = score_windows("PJM", windows=2, top=3, out_dir=two, mirror=shared_data, jobs=2)
    assert a["complete"] and b["complete"] and len(a["ranking"]) == 3
    assert {k: {p: v["mae"] for p, v in d.items()} for k, d in a["scores"].items()} == \
           {k: {p: v["mae"] for p, v in d.items()} for k, d in b["scores"].items()}
    assert [r["number"] for r in a["ranking"]] == [r["number"] for r in b["ranking"]]
    assert ranked_configs("PJM", two)[0] == json.loads((two / "PJM.windows.json").read_text())["ranking"]
    variants = {"none": {}, "finetune": {"update_every": 3, "finetune_epochs": 1, "finetune_lr": 0.3}, "level": {"level_days": 7}}
    a = compare_recalibrations("PJM", variants, out_dir=one, mirror=shared_data, jobs=1)
    b = compare_recalibrations("PJM", variants, out_dir=two, mirror=shared_data, jobs=2)
    assert a["complete"] and b["complete"] and a["spec"]["trial"] == ranked_configs("PJM", one)[0][0]["number"]
    assert {k: v["mae"] for k, v in a["mae"].items()} == {k: v["mae"] for k, v in b["mae"].items()}
    assert chosen_recalibration("PJM", two) == (a["choice"], a["settings"])
