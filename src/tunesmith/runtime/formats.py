"""Where each export lives in a run folder, and the backends a loaded model can answer with."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tunesmith.errors import TunesmithError

EXPORT_DIR = "export"
PARITY_FILE = "parity.json"
EXTRAS_FILE = "extras.safetensors"


@dataclass(frozen=True)
class ExportFormat:
    name: str  # also the backend name: --backend onnx-int8
    file: str  # the graph inside export/<name>/
    runtime: str  # what runs it
    fp32: bool  # exact parity is required (an int8 export is held to an agreement target instead)


FORMATS = {
    "onnx": ExportFormat("onnx", "model.onnx", "onnxruntime", True),
    "onnx-int8": ExportFormat("onnx-int8", "model.onnx", "onnxruntime", False),
    "torchscript": ExportFormat("torchscript", "model.pt", "torch.jit", True),
    # a distilled student of the trained transformer (export.student), judged like int8
    "student": ExportFormat("student", "model.onnx", "onnxruntime", False),
}
BACKENDS = ("auto", "torch", *FORMATS)
BACKEND_HELP = (
    "What answers: auto (the export chosen for serving, else PyTorch), torch, "
    "onnx, onnx-int8, torchscript, student."
)


def export_dir(run_dir: Path, name: str) -> Path:
    return run_dir / EXPORT_DIR / name


def format_named(fmt: str, quantize: str | None = None) -> ExportFormat:
    """`--format onnx --quantize int8` -> the onnx-int8 format; a one-line error otherwise."""
    if quantize not in (None, "int8"):
        raise TunesmithError(f"--quantize {quantize!r}: only int8 is supported")
    name = f"{fmt}-{quantize}" if quantize else fmt
    if fmt == "torchscript" and quantize:
        raise TunesmithError("--quantize int8 works with --format onnx; TorchScript exports stay fp32")
    if name not in FORMATS:
        raise TunesmithError(
            f"--format {fmt!r}: use one of onnx, torchscript, student (and --quantize int8 with onnx)"
        )
    return FORMATS[name]


def check_backend(name: str) -> str:
    if name not in BACKENDS:
        raise TunesmithError(f"--backend {name!r}: use one of {', '.join(BACKENDS)}")
    return name
