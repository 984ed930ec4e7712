"""The learners' parts: n-gram and column features, the linear model and its ONNX graph, the
greedy ensemble and the choice on held-out scores, the time plan of the transformer."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from helpers import fit_on_first

from tunesmith.data.column_table import ColumnTable, ShapeError
from tunesmith.data.ngrams import NgramOptions, NgramVocabulary, TfidfIndex
from tunesmith.learners.catalog import TRANSFORMER
from tunesmith.learners.combine import greedy_ensemble
from tunesmith.learners.features import PAIR_FEATURES, PairFeatures, PairNgrams, readable_table
from tunesmith.learners.linear import LinearModel
from tunesmith.learners.member import FeatureMember
from tunesmith.learners.outputs import Targets, as_logits, probabilities
from tunesmith.recipe.training import TrainingSection
from tunesmith.train.choose import Candidate, choose
from tunesmith.train.time_plan import PROBE_BATCHES, measure_step_seconds, plan


def test_ngrams_read_chinese_characters_and_english_words_and_round_trip(tmp_path: Path) -> None:
    texts = ["我的密码忘了", "密码怎么重置", "reset my password please", "password reset link"]
    vocabulary = NgramVocabulary.fit(texts, NgramOptions(min_df=2))
    assert {"密", "码", "密 码", "password", "reset"} <= set(vocabulary.words)  # a hanzi is a word
    assert " pa" in vocabulary.chars and "密码" in vocabulary.chars  # char n-grams inside tokens
    assert "please" not in vocabulary.words  # in one text only: below min_df
    weights = vocabulary.weights("密码 reset")
    words = [c for c in weights if c < len(vocabulary.words)]
    chars = [c for c in weights if c >= len(vocabulary.words)]
    assert abs(sum(weights[c] ** 2 for c in words) - 1) < 1e-9  # each block has unit length
    assert abs(sum(weights[c] ** 2 for c in chars) - 1) < 1e-9
    vocabulary.save(tmp_path / "ngrams.json")
    loaded = NgramVocabulary.load(tmp_path / "ngrams.json")
    a, b = vocabulary.transform(texts), loaded.transform(texts)
    assert np.array_equal(a.indices, b.indices) and np.allclose(a.values, b.values)


def _intents(n: int, seed: int = 0) -> tuple[list[dict], list[str]]:
    rng = np.random.default_rng(seed)
    cues = {
        "card": ["卡片丢失", "挂失信用卡"],
        "refund": ["退款多久", "申请退款"],
        "delivery": ["包裹没到", "快递物流"],
    }
    examples, labels = [], []
    for _ in range(n):
        label = str(rng.choice(sorted(cues)))
        examples.append({"text": f"{rng.choice(['请问', '你好', '客服'])}{rng.choice(cues[label])}"})
        labels.append(label)
    return examples, labels


@pytest.mark.parametrize("kind", ["softmax", "sigmoid", "value"])
def test_the_linear_member_answers_alike_natively_after_loading_and_from_onnx(
    kind: str, tmp_path: Path
) -> None:
    examples, names = _intents(240)
    labels = sorted(set(names))
    raw: list[object] = list(names)
    if kind == "sigmoid":
        raw = [[n] if i % 5 else [] for i, n in enumerate(names)]  # some texts carry no label
    if kind == "value":
        raw = [float(labels.index(n)) for n in names]
    targets = Targets.of(kind, labels, raw)  # type: ignore[arg-type]
    member, details = fit_on_first("ngram_linear", examples, targets, 200)
    logits = member.logits(examples[200:])
    assert logits.shape == (40, 1 if kind == "value" else 3) and details["seconds"] > 0
    if kind == "softmax":
        assert (logits.argmax(axis=1) == targets.y[200:]).mean() > 0.95
    member.save(tmp_path / "m")
    loaded = FeatureMember.load(tmp_path / "m")
    assert np.array_equal(loaded.logits(examples[200:]), logits)
    member.write_onnx(tmp_path / "m.onnx")
    exported = FeatureMember.from_onnx(tmp_path / "m", tmp_path / "m.onnx").logits(examples[200:])
    assert np.abs(exported - logits).max() < 1e-4


def test_a_label_absent_from_training_is_never_answered() -> None:
    x = np.asarray([[1.0, 0.0], [0.0, 1.0]] * 20)
    targets = Targets.of("softmax", ["a", "b", "c"], ["a", "b"] * 20)
    model = LinearModel.fit(x, targets, strength=1.0)
    assert (model.logits(x).argmax(axis=1) != 2).all() and model.bias[2] < -20


def test_pair_features_see_the_same_text_as_identical_and_the_pair_ngrams_share_columns() -> None:
    pairs = [
        {"text": "如何修改密码", "text_pair": "怎么更改密码"},
        {"text": "如何修改密码", "text_pair": "如何修改密码"},
    ]
    features = PairFeatures.fit(pairs * 3)
    row = features.transform(pairs)
    names = ["char_jaccard", "tfidf_cosine", "edit_similarity", "bm25"]
    for name in names:
        assert row[1, PAIR_FEATURES.index(name)] == pytest.approx(1.0, abs=1e-6), name
        assert row[0, PAIR_FEATURES.index(name)] < 1.0, name
    sparse = PairNgrams.fit(pairs * 3).transform(pairs)
    assert sparse.width % 2 == 0 and len(sparse) == 2


def test_columns_of_lists_and_maps_and_a_request_of_the_wrong_shape() -> None:
    rows = [
        {"symptoms": ["cough", "fever"], "findings": {"rash": False, "fever": True}, "age": 3},
        {"symptoms": ["cough"], "findings": {"rash": True}, "age": 5},
        {"symptoms": ["fever", "cough"], "findings": {"fever": False}, "age": 2},
    ]
    table = ColumnTable.fit(rows)
    assert table.items == {"symptoms": ["cough", "fever"]} and table.keys == {"findings": ["fever", "rash"]}
    names = table.feature_names
    features = table.features([{"symptoms": ["fever", "unseen"], "findings": {"rash": True}, "age": 4}])
    assert (
        features[0, names.index("symptoms[fever]")] == 1 and features[0, names.index("symptoms[cough]")] == 0
    )
    assert features[0, names.index("findings.rash")] == 1 and np.isnan(
        features[0, names.index("findings.fever")]
    )
    with pytest.raises(ShapeError, match="field 'symptoms' must be a list of items"):
        table.check({"symptoms": "cough", "findings": {}})
    with pytest.raises(ShapeError, match="field 'findings' must be an object"):
        table.check({"symptoms": [], "findings": ["rash"]})
    with pytest.raises(ValueError, match="no field becomes a column"):
        readable_table([{"columns": {"note": f"a long free text note number {i} here"}} for i in range(300)])


def test_the_greedy_ensemble_combines_learners_that_err_apart_and_not_one_that_only_adds_noise() -> None:
    rng = np.random.default_rng(0)
    truth = rng.integers(0, 2, 400)
    targets = Targets("softmax", ["0", "1"], truth)
    # two learners, each sure and right on its own half of the records, unsure on the other
    half = np.arange(400) < 200
    first = np.where(half, truth, 0.5 + rng.normal(0, 0.2, 400))
    second = np.where(~half, truth, 0.5 + rng.normal(0, 0.2, 400))
    as_p = lambda s: np.column_stack([1 - np.clip(s, 0.01, 0.99), np.clip(s, 0.01, 0.99)])  # noqa: E731
    blend = greedy_ensemble({"a": as_p(first), "b": as_p(second)}, targets, "softmax", positive=1)
    assert set(blend.weights) == {"a", "b"} and abs(blend.weights["a"] - 0.5) < 0.2
    good = as_p(np.clip(truth + rng.normal(0, 0.1, 400), 0, 1))
    noise = as_p(rng.random(400))
    alone = greedy_ensemble({"good": good, "noise": noise}, targets, "softmax", positive=1)
    assert alone.weights == {"good": 1.0}


def _three_labels(seed: int, train_rows: int) -> tuple[Any, ...]:
    """(train labels, 30 validation labels, their Targets, and `logits(labels, noise)`: a
    learner's scores, right by a margin of 3 before the noise)."""
    rng = np.random.default_rng(seed)
    train_y, valid_y = rng.integers(0, 3, train_rows), rng.integers(0, 3, 30)
    train, valid = Targets("softmax", ["a", "b", "c"], train_y), Targets("softmax", ["a", "b", "c"], valid_y)

    def logits(y: np.ndarray, noise: float) -> np.ndarray:
        return np.eye(3)[y] * 3 + rng.normal(0, noise, (len(y), 3))

    return train_y, valid_y, train, valid, logits


def test_choosing_on_out_of_fold_scores_when_every_learner_is_bagged() -> None:
    train_y, valid_y, train, valid, logits = _three_labels(1, 300)
    strong = Candidate("strong", logits(valid_y, 2.0), oof=logits(train_y, 1.0))
    weak = Candidate("weak", logits(valid_y, 1.0), oof=logits(train_y, 4.0))  # lucky on 30 rows
    choice = choose([strong, weak], train, valid, "softmax", None, ensemble=False)
    assert choice["served"] == "strong" and "330 held-out rows" in choice["chosen_on"], choice
    assert strong.score is not None and weak.score is not None  # each keeps its validation figure


def test_bagged_learners_join_the_transformer_as_their_out_of_fold_combination() -> None:
    """A bagged learner lucky on 30 validation rows but weak out of fold gets no more of the
    ensemble than its out-of-fold share: on validation only the combination of the bagged learners
    and the unbagged transformer are weighed."""
    train_y, valid_y, train, valid, logits = _three_labels(2, 400)
    strong = Candidate("strong", logits(valid_y, 2.5), oof=logits(train_y, 1.5))
    lucky = Candidate("lucky", logits(valid_y, 0.8), oof=logits(train_y, 5.0))
    transformer = Candidate(TRANSFORMER, logits(valid_y, 2.5))
    choice = choose([strong, lucky, transformer], train, valid, "softmax", None, ensemble=True)
    weights = {m["learner"]: m["weight"] for m in choice["members"]}
    assert weights.get("lucky", 0.0) <= 0.25 * weights.get("strong", 0.0), choice
    # two bagged learners that err apart out of fold: their combination, weighed on all their
    # held-out rows, joins the transformer; on validation neither is re-weighed alone
    first_half = np.arange(400) < 200
    a_oof, b_oof = logits(train_y, 1.5), logits(train_y, 1.5)
    a_oof[~first_half] = logits(train_y[~first_half], 6.0)
    b_oof[first_half] = logits(train_y[first_half], 6.0)
    a = Candidate("a", logits(valid_y, 2.0), oof=a_oof)
    b = Candidate("b", logits(valid_y, 2.0), oof=b_oof)
    together = choose([a, b, transformer], train, valid, "softmax", None, ensemble=True)
    shares = {m["learner"]: m["weight"] for m in together["members"]}
    both = Targets("softmax", ["a", "b", "c"], np.concatenate([train_y, valid_y]))
    held = {
        c.name: probabilities("softmax", np.concatenate([c.oof, c.validation]), c.temperature)  # type: ignore[list-item]
        for c in (a, b)
    }
    group = greedy_ensemble(held, both, "softmax", positive=None).weights
    assert set(group) == {"a", "b"} and set(shares) == {"a", "b", TRANSFORMER}, (group, together)
    assert shares["a"] / shares["b"] == pytest.approx(group["a"] / group["b"]), (group, together)


def test_bagging_folds_keep_groups_together_else_each_labels_share() -> None:
    from tunesmith.train.learners import fold_split

    labels = ["a"] * 60 + ["b"] * 25 + ["c"] * 15
    targets = Targets.of("softmax", ["a", "b", "c"], labels)
    for _, held in fold_split([{} for _ in labels], targets, seed=0):
        assert np.bincount(targets.y[held], minlength=3).tolist() == [12, 5, 3]  # stratified
    records = [{"group": i // 10} for i in range(len(labels))]
    groups = np.asarray([r["group"] for r in records])
    for fitted, held in fold_split(records, targets, seed=0):
        assert not set(groups[held]) & set(groups[fitted])


def test_probabilities_and_logits_invert_each_other() -> None:
    z = np.asarray([[0.1, 2.0, -1.0]])
    for kind in ("softmax", "sigmoid"):
        p = probabilities(kind, z)  # type: ignore[arg-type]
        assert np.allclose(probabilities(kind, as_logits(kind, p)), p, atol=1e-6)  # type: ignore[arg-type]


def test_the_time_plan_cuts_steps_to_what_fits_and_keeps_a_plan_that_fits() -> None:
    fits = plan(
        planned=100,
        steps_per_epoch=50,
        examples_per_step=32,
        step_seconds=0.5,
        validation_examples=320,
        seconds_left=600,
    )
    assert not fits.cut and fits.steps == 100
    cut = plan(
        planned=1000,
        steps_per_epoch=50,
        examples_per_step=32,
        step_seconds=1.0,
        validation_examples=320,
        seconds_left=300,
        checkpoint=2.0,
    )
    assert cut.cut and 200 < cut.steps < 290, cut
    assert "of its 1,000 planned steps" in cut.describe()
    short = plan(
        planned=1000,
        steps_per_epoch=500,
        examples_per_step=32,
        step_seconds=1.0,
        validation_examples=0,
        seconds_left=200,
    )
    assert "training examples seen once" in short.describe()  # under one epoch: a part of the set


def test_time_limits_read_as_a_person_writes_them() -> None:
    assert TrainingSection(time_limit="20m").time_limit == 1200
    assert TrainingSection(time_limit="1h30m").time_limit == 5400
    assert TrainingSection(time_limit=90).time_limit == 90
    with pytest.raises(ValueError, match="not a duration"):
        TrainingSection(time_limit="soon")


def test_a_tfidf_index_finds_the_nearest_answers() -> None:
    answers = ["在设置里点击忘记密码即可重置", "退款会在三个工作日内原路退回", "快递一般两天到达"]
    index = TfidfIndex(answers * 20)
    assert index.nearest("密码怎么重置", 1)[0] % 3 == 0
    assert index.nearest("退款多久到账", 1)[0] % 3 == 1


def test_a_learner_far_behind_the_best_joins_no_ensemble() -> None:
    rng = np.random.default_rng(3)
    y = rng.integers(0, 3, 60)
    valid = Targets("softmax", ["a", "b", "c"], y)
    strong = Candidate("strong", np.eye(3)[y] * 2 + rng.normal(0, 1.2, (60, 3)))
    weak = Candidate("weak", rng.normal(0, 1, (60, 3)))  # guesses: any help it gives is noise
    choice = choose(
        [strong, weak],
        Targets("softmax", ["a", "b", "c"], np.zeros(0, int)),
        valid,
        "softmax",
        None,
        ensemble=True,
    )
    assert choice["served"] == "strong" and choice["left_out_of_ensembles"] == ["weak"], choice
    assert "too far behind to join one" in choice["reason"]


def test_the_step_probe_times_the_tasks_own_loss_where_it_has_one() -> None:
    """A decoder that learns through its task's loss (the output layer on target positions only) is
    timed through that loss, not through the model's own full-vocabulary one."""
    import torch

    class FullLossModel(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.layer = torch.nn.Linear(4, 4)

        def forward(self, features: torch.Tensor) -> Any:
            raise AssertionError("the probe ran the model's own loss")

    calls = []

    def task_loss(model: Any, batch: dict[str, Any]) -> Any:
        calls.append(len(batch["features"]))
        return model.layer(batch["features"]).pow(2).mean()

    rows = [{"features": torch.ones(4) * i} for i in range(10)]

    def collate(examples: list[dict[str, Any]]) -> dict[str, Any]:
        return {"features": torch.stack([e["features"] for e in examples])}

    model = FullLossModel()
    seconds = measure_step_seconds(model, collate, rows, 4, 1, seed=0, grouped=False, task_loss=task_loss)
    assert seconds > 0 and calls == [4] * (PROBE_BATCHES + 1)
    assert all(p.grad is None for p in model.parameters())  # the gradients are thrown away
