"""Several heads over one shared encoder (e.g. a clause's unfair-category tags and its risk level).

Each head is a sequence-level task of its own (classification, multilabel or regression) with its
own label field and loss weight; the encoder's mean-pooled output, optionally through a small
bottleneck domain adapter, feeds every head. The loss is the weighted sum of the heads' losses.
Everything is one bundle: the encoder's folder plus `heads.safetensors` and `multitask.json`.

Labels of all heads travel as one float matrix (a column per classification or regression head,
one per label of a multilabel head), so the Trainer handles them as a single `labels` tensor;
`labels.json` names every head's labels as `head:label`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from safetensors.torch import load_file, save_file
from transformers import AutoModel, EvalPrediction, PreTrainedTokenizerBase
from transformers.modeling_outputs import SequenceClassifierOutput

from tunesmith.metrics.uncertainty import SubsetMetric
from tunesmith.models.pooling import mean_pool
from tunesmith.tasks.base import Runtime, TaskDefaults
from tunesmith.tasks.sequence_head import sequence_logits, tokenize

SPEC_FILE = "multitask.json"
HEADS_FILE = "heads.safetensors"


class MultiTaskModel(torch.nn.Module):
    def __init__(self, encoder: Any, spec: dict[str, Any]) -> None:
        super().__init__()
        self.encoder = encoder
        self.config = encoder.config
        self.spec = spec
        hidden = encoder.config.hidden_size
        width = spec["adapter"]
        self.adapter = (
            torch.nn.Sequential(
                torch.nn.Linear(hidden, width), torch.nn.GELU(), torch.nn.Linear(width, hidden)
            )
            if width
            else None
        )
        self.dropout = torch.nn.Dropout(getattr(encoder.config, "hidden_dropout_prob", 0.1) or 0.1)
        self.heads = torch.nn.ModuleDict(
            {h["name"]: torch.nn.Linear(hidden, h["outputs"]) for h in spec["heads"]}
        )

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        token_type_ids: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
        **_: Any,
    ) -> SequenceClassifierOutput:
        extra = {"token_type_ids": token_type_ids} if token_type_ids is not None else {}
        hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask, **extra).last_hidden_state
        pooled = mean_pool(hidden, attention_mask)
        if self.adapter is not None:
            pooled = pooled + self.adapter(pooled)  # residual: starts near the identity
        pooled = self.dropout(pooled)
        logits = torch.cat([self.heads[h["name"]](pooled) for h in self.spec["heads"]], dim=-1)
        loss = None if labels is None else self._loss(logits, labels.float())
        return SequenceClassifierOutput(loss=loss, logits=logits)

    def _loss(self, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        total = logits.new_zeros(())
        out_at = target_at = 0
        for head in self.spec["heads"]:
            outputs, targets = head["outputs"], head["targets"]
            guess = logits[:, out_at : out_at + outputs]
            truth = labels[:, target_at : target_at + targets]
            if head["type"] == "classification":
                loss = F.cross_entropy(guess, truth[:, 0].long())
            elif head["type"] == "multilabel":
                loss = F.binary_cross_entropy_with_logits(guess, truth)
            else:
                loss = F.mse_loss(guess[:, 0], truth[:, 0])
            total = total + head["weight"] * loss
            out_at, target_at = out_at + outputs, target_at + targets
        return total

    def save_pretrained(self, path: Any, **kwargs: Any) -> None:
        self.encoder.save_pretrained(path, **kwargs)
        state = {k: v.contiguous() for k, v in self.state_dict().items() if not k.startswith("encoder.")}
        save_file(state, str(Path(path) / HEADS_FILE))
        (Path(path) / SPEC_FILE).write_text(json.dumps(self.spec, indent=2), encoding="utf-8")


class MultiTask(TaskDefaults):
    type = "multitask"
    best_metric = "loss"
    greater_is_better = False

    def __init__(self, options: Any) -> None:
        from tunesmith.recipe import TaskSection
        from tunesmith.tasks import get_task

        super().__init__(options)
        self.heads = list(options.heads)
        self.subtasks = {h.name: get_task(TaskSection(type=h.type)) for h in self.heads}
        self.label_paths = {h.name: h.label_field for h in self.heads}
        self.headline = tuple(f"{h.name}.{self.subtasks[h.name].headline[0]}" for h in self.heads)

    def parse_label(self, value: Any) -> dict[str, Any]:
        parsed = {}
        for head in self.heads:
            try:
                parsed[head.name] = self.subtasks[head.name].parse_label(value[head.name])
            except ValueError as error:
                raise ValueError(f"{head.name} ({head.label_field}): {error}") from None
        return parsed

    def label_space(self, labels: Sequence[Any]) -> list[str]:
        names = []
        for head in self.heads:
            space = self.subtasks[head.name].label_space([label[head.name] for label in labels])
            names += [f"{head.name}:{name}" for name in space]
        return names

    def head_labels(self, labels: list[str]) -> dict[str, list[str]]:
        return {
            h.name: [n.split(":", 1)[1] for n in labels if n.split(":", 1)[0] == h.name] for h in self.heads
        }

    def stratify_key(self, label: Any) -> str:
        first = self.heads[0].name
        return self.subtasks[first].stratify_key(label[first])

    def count_keys(self, label: Any) -> list[str]:
        return [f"{h.name}:{k}" for h in self.heads for k in self.subtasks[h.name].count_keys(label[h.name])]

    def _spec(self, labels: list[str]) -> dict[str, Any]:
        per_head = self.head_labels(labels)
        heads = []
        for head in self.heads:
            width = len(per_head[head.name])
            outputs = 1 if head.type == "regression" else width
            targets = width if head.type == "multilabel" else 1
            heads.append(
                {
                    "name": head.name,
                    "type": head.type,
                    "weight": head.weight,
                    "outputs": outputs,
                    "targets": targets,
                }
            )
        return {"heads": heads, "adapter": self.options.domain_adapter}

    def build_model(self, model_dir: Path, labels: list[str], trust_remote_code: bool) -> Any:
        encoder = AutoModel.from_pretrained(model_dir, trust_remote_code=trust_remote_code)
        return MultiTaskModel(encoder, self._spec(labels))

    def load_model(self, model_dir: Path, trust_remote_code: bool) -> Any:
        spec = json.loads((model_dir / SPEC_FILE).read_text(encoding="utf-8"))
        model = MultiTaskModel(
            AutoModel.from_pretrained(model_dir, trust_remote_code=trust_remote_code), spec
        )
        missing, unexpected = model.load_state_dict(load_file(str(model_dir / HEADS_FILE)), strict=False)
        if unexpected or any(not k.startswith("encoder.") for k in missing):
            raise ValueError(f"{model_dir / HEADS_FILE} does not fit {SPEC_FILE}: {unexpected or missing}")
        return model.eval()

    def encode(
        self,
        batch: dict[str, list[Any]],
        tokenizer: PreTrainedTokenizerBase,
        max_length: int,
        labels: list[str],
    ) -> dict[str, Any]:
        encoded = tokenize(batch, tokenizer, max_length)
        per_head = self.head_labels(labels)
        rows = []
        for label in batch["label"]:
            row: list[float] = []
            for head in self.heads:
                names, value = per_head[head.name], label[head.name]
                if head.type == "classification":
                    row.append(float(names.index(str(value))))
                elif head.type == "multilabel":
                    row += [float(name in value) for name in names]
                else:
                    row.append(float(value))
            rows.append(row)
        encoded["labels"] = rows
        return encoded

    def outputs(
        self, runtime: Runtime, examples: Sequence[dict[str, Any]], batch_size: int, show: bool
    ) -> np.ndarray:
        return sequence_logits(runtime, examples, batch_size, show)

    def _slices(self, labels: list[str]) -> list[tuple[Any, slice, slice, list[str]]]:
        per_head = self.head_labels(labels)
        out, logit_at, target_at = [], 0, 0
        for head in self._spec(labels)["heads"]:
            out.append(
                (
                    head,
                    slice(logit_at, logit_at + head["outputs"]),
                    slice(target_at, target_at + head["targets"]),
                    per_head[head["name"]],
                )
            )
            logit_at += head["outputs"]
            target_at += head["targets"]
        return out

    def decode(
        self,
        outputs: Any,
        examples: Sequence[dict[str, Any]],
        labels: list[str],
        state: dict[str, Any] | None = None,
    ) -> list[dict[str, Any]]:
        answers: list[dict[str, Any]] = [{} for _ in examples]
        logits = np.asarray(outputs)
        for head, columns, _, names in self._slices(labels):
            sub = self.subtasks[head["name"]]
            decoded = sub.decode(logits[:, columns], examples, names, (state or {}).get(head["name"]))
            for answer, part in zip(answers, decoded, strict=True):
                answer[head["name"]] = part
        return answers

    def calibrate(
        self,
        outputs: Any,
        references: Sequence[Any],
        labels: list[str],
        class_weights: Sequence[float] | None = None,
    ) -> dict[str, Any] | None:
        logits = np.asarray(outputs)
        state = {}
        for head, columns, _, names in self._slices(labels):
            fitted = self.subtasks[head["name"]].calibrate(
                logits[:, columns], [r[head["name"]] for r in references], names
            )
            if fitted is not None:
                state[head["name"]] = fitted
        return state or None

    def trainer_metrics(self, labels: list[str]) -> Callable[[EvalPrediction], dict[str, float]]:
        def compute(prediction: EvalPrediction) -> dict[str, float]:
            logits = np.asarray(prediction.predictions)
            truth = np.asarray(prediction.label_ids)
            metrics = {}
            for head, columns, targets, names in self._slices(labels):
                head_truth = truth[:, targets]
                if head["type"] == "classification":
                    head_truth = head_truth[:, 0].astype(np.int64)
                elif head["type"] == "regression":
                    head_truth = head_truth[:, 0]
                compute_head = self.subtasks[head["name"]].trainer_metrics(names)
                if compute_head is not None:
                    scores = compute_head(
                        EvalPrediction(predictions=logits[:, columns], label_ids=head_truth)
                    )
                    metrics.update({f"{head['name']}.{k}": v for k, v in scores.items()})
            return metrics

        return compute

    def subset_metrics(
        self, records: Sequence[dict[str, Any]], answers: Sequence[dict[str, Any]], labels: list[str]
    ) -> dict[str, SubsetMetric]:
        """Each head's metrics, named `head.metric` as in the metrics table."""
        per_head = self.head_labels(labels)
        found: dict[str, SubsetMetric] = {}
        for head in self.heads:
            name = head.name
            head_records = [{**r, "label": r["label"][name]} for r in records]
            scorers = self.subtasks[name].subset_metrics(
                head_records, [a[name] for a in answers], per_head[name]
            )
            found.update({f"{name}.{key}": scorer for key, scorer in scorers.items()})
        return found

    def trivial_answers(
        self, train_labels: Sequence[Any], records: Sequence[dict[str, Any]], labels: list[str]
    ) -> tuple[str, list[dict[str, Any]]] | None:
        """Each head's own trivial answer."""
        per_head = self.head_labels(labels)
        answers: list[dict[str, Any]] = [{} for _ in records]
        names = []
        for head in self.heads:
            name = head.name
            head_records = [{**r, "label": r["label"][name]} for r in records]
            found = self.subtasks[name].trivial_answers(
                [label[name] for label in train_labels], head_records, per_head[name]
            )
            if found is None:
                return None
            names.append(f"{name}: {found[0]}")
            for answer, part in zip(answers, found[1], strict=True):
                answer[name] = part
        return "; ".join(names), answers

    def evaluate(
        self,
        records: Sequence[dict[str, Any]],
        answers: Sequence[dict[str, Any]],
        labels: list[str],
        out_dir: Path,
        split: str,
    ) -> dict[str, Any]:
        metrics: dict[str, Any] = {"count": len(records)}
        per_head = self.head_labels(labels)
        for head in self.heads:
            name = head.name
            head_records = [{**r, "label": r["label"][name]} for r in records]
            scores = self.subtasks[name].evaluate(
                head_records, [a[name] for a in answers], per_head[name], out_dir, f"{split}_{name}"
            )
            metrics[name] = scores
            for key in self.subtasks[name].headline:
                if key in scores:
                    metrics[f"{name}.{key}"] = scores[key]
        return metrics
