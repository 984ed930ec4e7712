"""Why int8 changes a model's answers, and what keeps them: int8 variants of a run's proven fp32
ONNX export, each judged by the share of answers identical to the fp32 export's over many texts
(the run's validation and test texts plus `--extra` unlabelled ones: agreement needs no label,
and 2,000 texts resolve 99.5% where a 113-record validation split cannot) and by the latency of
one text, all in one process against the fp32 graph and eager PyTorch.

Variants, each the whole graph but the nodes named:
- dynamic, all: every weight in int8 with one scale per activation tensor (onnxruntime's dynamic
  quantization: the first int8 of tunesmith)
- one group dynamic: only that group's nodes in int8 (which group changes the answers)
- block-wise: MatMul nodes as MatMulNBits (8 bits, blocks of 32, accuracy level 4), attention and
  embeddings dynamic (what `tunesmith export --quantize int8` tries first), then with the
  embeddings, and the attention too, in fp32 (its next steps)

    python benchmarks/int8_study.py --run /tmp/tunesmith-scenarios/atec/run \\
        --extra ../shared/datasets/customer_service/atec_zh/train.tsv --texts 2000
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import tempfile
from pathlib import Path
from typing import Any

from tunesmith.export.int8 import name_nodes, op_types, quantize, quantize_dynamic_nodes
from tunesmith.prepare.stage import read_split
from tunesmith.runtime.engines import OnnxEngine
from tunesmith.runtime.parity import agreement, speed
from tunesmith.runtime.predict import Predictor


def weight_shapes(path: Path) -> dict[str, tuple[int, ...]]:
    """Node name -> the shape of its constant weight (the first 2-D initializer it reads)."""
    import onnx

    graph = onnx.load(str(path)).graph
    dims = {i.name: tuple(i.dims) for i in graph.initializer if len(i.dims) == 2}
    return {n.name: next((dims[i] for i in n.input if i in dims), ()) for n in graph.node}


def _widens(shape: tuple[int, ...]) -> bool:
    return len(shape) == 2 and shape[1] >= 3 * shape[0]


def _narrows(shape: tuple[int, ...]) -> bool:
    return len(shape) == 2 and shape[0] >= 3 * shape[1]


def extra_examples(path: Path, inputs: tuple[str, ...], count: int, seed: int) -> list[dict[str, str]]:
    """Texts (and pairs) from a delimited or JSONL file: the first text-like columns."""
    rows: list[list[str]] = []
    if path.suffix == ".jsonl":
        for line in path.read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            rows.append([str(v) for v in record.values() if isinstance(v, str)])
    else:
        delimiter = "\t" if path.suffix == ".tsv" else ","
        with path.open(encoding="utf-8") as handle:
            rows = [
                [c for c in row if not c.strip().isdigit()] for row in csv.reader(handle, delimiter=delimiter)
            ]
    rows = [r for r in rows if len(r) >= len(inputs)]
    random.Random(seed).shuffle(rows)
    return [dict(zip(inputs, r[: len(inputs)], strict=True)) for r in rows[:count]]


def latency_ms(engine: Any, singles: list[dict[str, Any]]) -> float:
    """The median time of one text through the graph (parity.speed, as `tunesmith export` times it)."""
    return speed(engine, singles, [])["latency_ms_p50"]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--run", type=Path, required=True, help="A run with a proven export/onnx.")
    parser.add_argument("--extra", type=Path, default=None, help="More texts for agreement (unlabelled).")
    parser.add_argument("--texts", type=int, default=2000)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    torch_run = Predictor.from_run(args.run, backend="torch")
    task = torch_run.task
    fp32 = args.run / "export" / "onnx" / "model.onnx"
    base = torch_run.on_engine(OnnxEngine(fp32, task.graph_outputs))
    examples = [
        {k: r[k] for k in task.inputs if k in r}
        for s in ("validation", "test")
        for r in read_split(args.run, s)
    ]
    if args.extra:
        examples += extra_examples(args.extra, task.inputs, max(0, args.texts - len(examples)), 0)
    size = 64
    expected = base.predict(examples, size, show=True)
    singles = torch_run.engine_batches(examples[:200], 1)
    eager_ms = latency_ms(torch_run.infer, singles)
    fp32_ms = latency_ms(base.engine, singles)
    rows = [("eager PyTorch", 1.0, eager_ms, None), ("ONNX fp32", 1.0, fp32_ms, fp32.stat().st_size)]
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        named = work / "named.onnx"
        nodes = name_nodes(fp32, named)
        kinds = op_types(named)
        shapes = weight_shapes(named)
        groups = {
            "embeddings": [n for n in nodes if kinds[n] in ("EmbedLayerNormalization", "Gather")],
            "attention (fused QKV)": [n for n in nodes if kinds[n] == "Attention"],
            "FFN input (d -> 4d)": [n for n in nodes if kinds[n] == "MatMul" and _widens(shapes[n])],
            "FFN output (4d -> d)": [n for n in nodes if kinds[n] == "MatMul" and _narrows(shapes[n])],
        }
        blocks = [n for n in nodes if kinds[n] == "MatMul"]
        variants: dict[str, tuple[str, list[str], list[str]]] = {"dynamic, all": ("dynamic", nodes, [])}
        variants |= {
            f"dynamic, {name} only": ("dynamic", chosen, []) for name, chosen in groups.items() if chosen
        }
        embeddings, attention = groups["embeddings"], groups["attention (fused QKV)"]
        variants["block-wise, all"] = ("mixed", nodes, [])
        variants["block-wise, embeddings fp32"] = ("mixed", nodes, embeddings)
        variants["block-wise, embeddings + attention fp32"] = ("mixed", nodes, embeddings + attention)
        variants["block-wise MatMul only"] = ("mixed", blocks, [])
        for name, (scheme, chosen, kept) in variants.items():
            target = work / "variant.onnx"
            picked = [n for n in chosen if n not in kept]
            if scheme == "dynamic":
                quantize_dynamic_nodes(named, target, picked, per_channel=True)
            else:
                quantize(named, target, picked, per_channel=True)
            candidate = torch_run.on_engine(OnnxEngine(target, task.graph_outputs))
            found = candidate.predict(examples, size)
            rows.append(
                (
                    name,
                    agreement(expected, found),
                    latency_ms(candidate.engine, singles),
                    target.stat().st_size,
                )
            )
            print(rows[-1], flush=True)
    print(f"{args.run}: {len(examples):,} texts ({len(singles)} timed one at a time)")
    print("| model | answers = fp32 ONNX | one text p50 | x eager | file |")
    print("|---|--:|--:|--:|--:|")
    for name, share, ms, size_bytes in rows:
        file = f"{size_bytes / 2**20:.0f} MB" if size_bytes else "-"
        print(f"| {name} | {share:.2%} | {ms:.2f} ms | {eager_ms / ms:.2f} | {file} |")
    if args.out:
        args.out.write_text(
            json.dumps([dict(zip(("model", "agreement", "ms", "bytes"), r, strict=True)) for r in rows])
        )


if __name__ == "__main__":
    main()
