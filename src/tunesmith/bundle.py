"""The run folder as a bundle: a manifest with the sha256 of every file, written last.

The export stage adds `export/<format>/` folders and calls `write_manifest` again;
`verify_bundle` refuses a folder that does not match it.
"""

from __future__ import annotations

import json
import platform
from importlib import metadata
from pathlib import Path
from typing import Any

from tunesmith import __version__, atomic
from tunesmith.errors import BundleError, TunesmithError
from tunesmith.hashing import checksum_problems, sha256_of
from tunesmith.recipe import RECIPE_FILE, Recipe, dump

MANIFEST = "manifest.json"
MODEL_DIR = "model"  # the trained model, its tokenizer and these two files:
LABELS_FILE = "labels.json"
TASK_STATE_FILE = "task_state.json"  # fitted on validation after training: temperature, thresholds
_SKIP_DIRS = {"checkpoints", "__pycache__"}
_LIBRARIES = (
    "torch",
    "transformers",
    "tokenizers",
    "datasets",
    "accelerate",
    "safetensors",
    "onnxruntime",
    "scikit-learn",
    "numpy",
    "pydantic",
    "fastapi",
)


def bundle_files(run_dir: Path) -> list[Path]:
    files = []
    for path in sorted(run_dir.rglob("*")):
        rel = path.relative_to(run_dir)
        if not path.is_file() or rel.name == MANIFEST or rel.name.startswith("."):
            continue
        if rel.parts[0] in _SKIP_DIRS or any(p.startswith(".") for p in rel.parts):
            continue
        files.append(path)
    return files


def library_versions() -> dict[str, str]:
    versions = {"python": platform.python_version(), "tunesmith": __version__}
    for name in _LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


def write_manifest(run_dir: Path, extra: dict[str, Any]) -> dict[str, Any]:
    files = {str(p.relative_to(run_dir)): sha256_of(p) for p in bundle_files(run_dir)}
    manifest = {"format": "tunesmith-bundle/1", **extra, "libraries": library_versions(), "files": files}
    atomic.write_json(run_dir / MANIFEST, manifest)
    return manifest


def read_json_if_present(path: Path) -> dict[str, Any]:
    """The JSON object a run folder holds in `path`, or {} when the file is not there (yet)."""
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def read_manifest(run_dir: Path) -> dict[str, Any]:
    path = run_dir / MANIFEST
    if not path.is_file():
        raise BundleError(
            f"{run_dir}: no {MANIFEST}; this is not a finished run (run `tunesmith run` or "
            "`tunesmith evaluate` on it)"
        )
    return json.loads(path.read_text(encoding="utf-8"))


def verify_bundle(run_dir: Path) -> dict[str, Any]:
    """Check every file listed in the manifest; raise BundleError naming the ones that differ."""
    manifest = read_manifest(run_dir)
    problems = checksum_problems(run_dir, manifest["files"], "the manifest")
    if problems:
        shown = "\n  ".join(problems[:10])
        raise BundleError(
            f"{run_dir}: the bundle does not match its manifest, refusing to load it:\n  {shown}"
        )
    return manifest


# Where a run goes, and its first file: light on purpose (no stage imported), so `tunesmith prepare`
# starts without PyTorch.
def default_output(recipe: Recipe) -> Path:
    return Path(recipe.output.dir) if recipe.output.dir else Path("runs") / recipe.name


def check_output_free(output: Path, overwrite: bool) -> None:
    if output.exists() and any(output.iterdir()) and not overwrite:
        raise TunesmithError(f"{output} already holds a run; choose another --output or pass --overwrite")


def start_run_folder(recipe: Recipe, run_dir: Path) -> None:
    run_dir.mkdir(parents=True, exist_ok=True)
    atomic.write_text(run_dir / RECIPE_FILE, dump(recipe))
