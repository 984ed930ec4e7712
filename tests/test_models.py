"""model.name resolution: local folder, Hub cache (faked: the Hub cannot exist here), errors."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tunesmith.errors import ModelNotFoundError
from tunesmith.models.resolve import resolve_model


def test_local_folder_resolves(tiny_model: Path) -> None:
    assert resolve_model(str(tiny_model)) == tiny_model.resolve()


def test_folder_without_config_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ModelNotFoundError, match=r"no config\.json"):
        resolve_model(str(tmp_path))


def test_hub_id_found_in_the_local_hub_cache_offline(
    tiny_model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A Hub cache laid out as huggingface_hub writes it; the remote Hub itself cannot exist here.
    cache = tmp_path / "hub"
    repo = cache / "models--acme--tiny-bert"
    commit = "0" * 40
    shutil.copytree(tiny_model, repo / "snapshots" / commit)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(commit)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_CACHE", str(cache))
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_OFFLINE", True)
    path = resolve_model("acme/tiny-bert")
    assert (path / "config.json").is_file() and path.name == commit


def test_uncached_hub_id_offline_explains_the_local_folder_route(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ModelNotFoundError, match=r"set model\.name: DIR"):
        resolve_model("acme/not-cached-anywhere")
