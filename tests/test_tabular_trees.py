"""The trees learner's parts: how a row's columns become numbers, LightGBM fitted, saved without a
pickle and exported to ONNX with the same scores, and the threshold chosen for a cost."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
from helpers import fit_on_first

from tunesmith.data.column_table import ColumnTable
from tunesmith.learners.member import FeatureMember
from tunesmith.learners.outputs import Targets, probabilities
from tunesmith.tasks.binary_scores import cost_threshold, total_cost


def _rows(n: int, seed: int = 0) -> tuple[list[dict], list[str]]:
    """Transactions where fraud is a large transfer at night."""
    rng = random.Random(seed)
    rows, labels = [], []
    for i in range(n):
        kind = rng.choice(["PAYMENT", "TRANSFER", "CASH_OUT"])
        hour = rng.randrange(24)
        amount = round(rng.uniform(5, 9000), 2)
        rows.append(
            {
                "amount": amount,
                "type": kind,
                "when": f"2019-01-{i % 28 + 1:02d} {hour:02d}:{rng.randrange(60):02d}:00",
                "note": " ".join(
                    rng.choice(["late", "order", "card", "gift", "shop", "wire"]) for _ in range(5)
                )
                + f" {i}",
                "account": f"C{rng.getrandbits(40):x}",
                "flag": rng.random() < 0.5,
            }
        )
        labels.append(str(int(kind == "TRANSFER" and amount > 4000 and hour < 6)))
    return rows, labels


def test_columns_become_numbers_categories_and_date_parts() -> None:
    rows, _ = _rows(600)
    table = ColumnTable.fit(rows)
    assert table.numeric == ["amount", "flag"] and list(table.categories) == ["type"]
    assert table.dates == ["when"]
    assert table.left_out["note"].startswith("free text") and table.free_text == ["note"]
    assert "an id or a name" in table.left_out["account"]
    features = table.features([{**rows[0], "type": "NEVER_SEEN"}, {"amount": None}])
    assert features.dtype == np.float32 and features.shape == (2, len(table.feature_names))
    names = table.feature_names
    assert np.isnan(features[0, names.index("type")])  # an unseen category is missing, not a code
    assert features[0, names.index("when.hour")] == int(rows[0]["when"][11:13])
    assert np.isnan(features[1]).all()  # a row without the columns: all missing


def test_trees_fit_stop_early_save_as_text_and_export_the_same_scores(tmp_path: Path) -> None:
    rows, labels = _rows(2000)
    examples = [{"columns": row} for row in rows]
    targets = Targets.of("softmax", ["0", "1"], labels)
    trees, fitted = fit_on_first("lightgbm", examples, targets, 1600)
    assert 0 < fitted["rounds"][0] < 2000 and "log loss" in fitted["curves"]
    trees.save(tmp_path / "trees")
    text = (tmp_path / "trees" / "booster_0.txt").read_text(encoding="utf-8")
    assert text.startswith("tree\n")  # LightGBM's own text format: nothing is unpickled to load it
    loaded = FeatureMember.load(tmp_path / "trees")
    held_out = examples[1600:]
    assert np.array_equal(loaded.logits(held_out), trees.logits(held_out))
    probabilities = np.exp(trees.logits(held_out))
    probabilities /= probabilities.sum(axis=1, keepdims=True)
    truth = np.asarray([int(y) for y in labels[1600:]])
    assert ((probabilities[:, 1] > 0.5) == truth).mean() > 0.97  # the rule is found
    trees.write_onnx(tmp_path / "trees.onnx")
    exported = FeatureMember.from_onnx(tmp_path / "trees", tmp_path / "trees.onnx").logits(held_out)
    assert np.abs(exported - trees.logits(held_out)).max() < 1e-4


def test_average_precision_is_scikit_learns_with_ties() -> None:
    from sklearn.metrics import average_precision_score

    from tunesmith.tasks.binary_scores import average_precision

    rng = np.random.default_rng(2)
    for _ in range(20):
        truth = (rng.random(400) < rng.uniform(0.02, 0.5)).astype(int)
        truth[0] = 1
        scores = (rng.random(400) + truth * rng.uniform(0, 1)).round(rng.integers(1, 4))  # ties
        assert abs(average_precision(truth, scores) - average_precision_score(truth, scores)) < 1e-12


def test_the_cost_threshold_spends_least_and_breaks_ties_towards_fewer_alarms() -> None:
    rng = np.random.default_rng(1)
    truth = (rng.random(3000) < 0.04).astype(int)
    scores = np.clip(truth * 0.35 + rng.random(3000) * 0.7, 0, 1).round(3)  # many equal scores
    cost = {"miss": 100.0, "false_alarm": 1.0}
    chosen = cost_threshold(scores, truth, cost)
    spent = total_cost(scores >= chosen["threshold"], truth, cost)
    candidates = [*np.unique(scores), 2.0]
    assert spent == chosen["validation_cost"] == min(total_cost(scores >= t, truth, cost) for t in candidates)
    # a free miss: flagging nothing costs nothing, so nothing is flagged
    assert (scores >= cost_threshold(scores, truth, {"miss": 0, "false_alarm": 1})["threshold"]).sum() == 0


def test_split_thresholds_decide_alike_in_lightgbm_and_in_the_float32_graph(tmp_path: Path) -> None:
    """Values 8 apart near 1e8 (float32's spacing there, as Unix times are): LightGBM splits
    halfway between two of them, which float32 cannot hold; its thresholds are kept at the float32
    below, so LightGBM and the ONNX graph send every row the same way."""
    rng = np.random.default_rng(0)
    times = (1e8 + 8 * rng.integers(0, 400, 3000)).astype(np.float32)
    rows = [{"time": float(t), "noise": float(v)} for t, v in zip(times, rng.random(3000), strict=True)]
    labels = [str(int((t // 8) % 7 < 3)) for t in times]  # many thresholds, each between two values
    targets = Targets.of("softmax", ["0", "1"], labels)
    examples = [{"columns": r} for r in rows]
    trees, _ = fit_on_first("lightgbm_large", examples, targets, 2500)
    trees.save(tmp_path / "t")
    trees.write_onnx(tmp_path / "t.onnx")
    exported = FeatureMember.from_onnx(tmp_path / "t", tmp_path / "t.onnx").logits(examples)
    assert np.abs(exported - trees.logits(examples)).max() < 1e-4


def test_trees_fit_where_no_column_tells_the_classes_apart() -> None:
    """One value in every row: LightGBM grows one-leaf trees (an empty threshold list) and the
    float32 rewrite keeps them; the model answers each class's share."""
    examples = [{"columns": {"channel": "web"}} for _ in range(60)]
    targets = Targets.of("softmax", ["a", "b"], ["a", "b", "a"] * 20)
    trees, _ = FeatureMember.fit("lightgbm", examples, targets, [], None, seed=0)
    shares = np.exp(trees.logits(examples[:1]))
    assert shares[0, 0] > shares[0, 1]


def test_a_random_forest_answers_the_mean_of_its_trees_in_process_and_from_onnx(tmp_path: Path) -> None:
    """`lightgbm_rf` grows all its trees (no early stop) and answers their mean: the softmax of its
    logits is LightGBM's own forest probability (LightGBM's raw score of a forest is the sum)."""
    from tunesmith.learners.boosted import FOREST_TREES, trees_per_class

    rows, _ = _rows(900, seed=3)
    labels = [row["type"] if row["amount"] > 3000 else "small" for row in rows]
    examples = [{"columns": row} for row in rows]
    targets = Targets.of("softmax", ["CASH_OUT", "PAYMENT", "TRANSFER", "small"], labels)
    forest, _ = fit_on_first("lightgbm_rf", examples, targets, 700)
    booster = forest.model.boosters[0]
    assert booster.forest_trees == FOREST_TREES == trees_per_class(2)
    assert trees_per_class(10) == 120 and trees_per_class(40) == 50  # many classes: fewer trees each
    x = forest.featurizer.transform(examples[700:])
    logits = forest.logits(examples[700:])
    shares = probabilities("softmax", logits)
    assert np.abs(shares - booster.model.predict(np.asarray(x, dtype=np.float32))).max() < 1e-5
    assert (logits.argmax(axis=1) == targets.take(np.arange(700, 900)).y).mean() > 0.9
    forest.save(tmp_path / "f")
    forest.write_onnx(tmp_path / "f.onnx")
    exported = FeatureMember.from_onnx(tmp_path / "f", tmp_path / "f.onnx").logits(examples[700:])
    assert np.abs(exported - logits).max() < 1e-4
