"""The one interface every task type implements, and every stage calls.

A task owns what differs between task types: what a valid example and label are, the model
head, how a batch is encoded, how a loaded model answers, and which metrics and plots judge it.
An *example* is a dict holding the task's `inputs` (`text`, and `text_pair` for two-text tasks);
a prepared *record* is an example plus its `label` and `id`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerBase

    from tunesmith.metrics.uncertainty import SubsetMetric

# what a task's inference graph reads, in its argument order (the tokenizer's names)
GRAPH_INPUTS = ("input_ids", "attention_mask", "token_type_ids")


class Runtime(Protocol):
    """What a task's `outputs` may use of a loaded model (the `Predictor` is one)."""

    model: Any
    tokenizer: Any
    recipe: Any
    labels: list[str]
    state: dict[str, Any] | None
    model_dir: Path
    cache: dict[str, Any]  # per-loaded-model memo, e.g. the knowledge base's embeddings
    extras: dict[str, np.ndarray]  # what `export_extras` stored with the loaded export ({} for PyTorch)
    # the model reads examples, not token tensors: learners of n-grams or columns, an ensemble;
    # `infer({"examples": [...]})` gives their logits
    reads_examples: bool

    def locked(self) -> Any:
        """A context manager held around every model call (the server answers from threads)."""
        ...

    def infer(self, tensors: Mapping[str, Any]) -> dict[str, np.ndarray]:
        """The task's `inference_graph` on the backend this runtime was loaded with (PyTorch,
        ONNX Runtime, TorchScript): token tensors in, its named outputs as float32 arrays out."""
        ...


class ModelEngine:
    """A trained model that answers as an export engine does, so its own answers and its export's
    go through the same path: `{"examples": [...]}` in (the learners read the examples
    themselves: n-grams, columns, an ensemble with the transformer), the task's `logits` out."""

    name = "model"
    reads_examples = True

    def __call__(self, tensors: Mapping[str, Any]) -> dict[str, np.ndarray]:
        raise NotImplementedError


Clean = Callable[[str], str]
# text -> (de-identified text, [(start, end, replacement)] in the input): edits move entity spans
Redact = Callable[[str], tuple[str, list[tuple[int, int, str]]]]


class Task(Protocol):
    type: str
    categorical: bool  # labels are names (counted, stratified, advised on) rather than numbers/text
    best_metric: str  # the validation metric that picks the best checkpoint by default
    greater_is_better: bool
    headline: tuple[str, ...]  # the metrics tables and the model card show
    inputs: tuple[str, ...]  # ("text",) or ("text", "text_pair")
    label_is_text: bool  # the label is text (an answer, a translation): cleaned and de-identified too
    annotated: bool  # the label lives inside the text (NER): read by `read_annotated`
    keeps_columns: bool  # prepared records also keep the template's raw columns (tabular baseline)
    label_paths: dict[str, str]  # several labels read into one dict (multitask heads); {}: data.label_field
    # One softmax over `labels` (single-label): class weights, focal loss and oversampling apply, and
    # so do the label-level evaluation extras (errors, slices, robustness, compare).
    weighs_classes: bool
    weighs_positives: bool  # one sigmoid per label (multi-label): positive weights apply
    learning_rate_scale: float  # times the auto learning rate (train/auto.py) for this task's head
    step_budget: int  # the optimizer steps auto epochs aim at (train/auto.py)
    max_epochs: int  # and the most epochs they may be
    # What `inference_graph` returns, by name; (): the task generates text and is not exported.
    graph_outputs: tuple[str, ...]
    # What the logits mean, for learners other than the transformer and for ensembles: softmax
    # (one label of several), sigmoid (several labels), value (a number); None: transformer only.
    learner_outputs: str | None
    # examples the model reads to fit `fit_search` after training (a time limit reserves them)
    fit_search_examples: int
    # Answering calls the tokenizer only for padded ids of texts (and pairs), so an export answers
    # with the `tokenizers` library alone (export/tokenizer.py); False: it needs transformers'
    # tokenizer (offsets, overflowing windows).
    plain_tokens: bool

    def read_annotated(
        self, text_value: Any, label_value: Any, clean: Clean, redact: Redact
    ) -> tuple[str, Any]:
        """For an `annotated` task: (clean de-identified text, its label); ValueError if invalid."""
        ...

    def parse_label(self, value: Any) -> Any:
        """Normalise a raw label; raise ValueError with the reason when it is not valid."""
        ...

    def check_example(self, record: dict[str, Any]) -> None:
        """Raise ValueError when a parsed record cannot be learned from (e.g. the answer is not in
        the context); the prepare stage quarantines it with the reason."""
        ...

    def label_space(self, labels: Sequence[Any]) -> list[str]:
        """The ordered label names the model head is built for."""
        ...

    def stratify_key(self, label: Any) -> str:
        """The value splits are stratified on."""
        ...

    def count_keys(self, label: Any) -> list[str]:
        """The names a label is counted under in the data report (several for multi-label)."""
        ...

    def learners(self, run_dir: Path) -> tuple[str, ...]:
        """The learners that can train on the prepared run folder, fast ones first (names of
        learners/catalog.py, and "transformer"); `training.learners` may keep a subset. Several:
        each is fitted, and the best on validation - or their weighted ensemble - is the model."""
        ...

    def build_model(self, model_dir: Path, labels: list[str], trust_remote_code: bool) -> Any:
        """Load the pretrained model with a fresh head for `labels`."""
        ...

    def load_model(self, model_dir: Path, trust_remote_code: bool) -> Any:
        """Load a fine-tuned model saved by the train stage."""
        ...

    def inference_graph(self, model: Any) -> Any:
        """The torch module from token tensors to the `graph_outputs` (see tasks/graph.py): what
        eager PyTorch runs and what is exported."""
        ...

    def export_extras(self, runtime: Runtime) -> dict[str, np.ndarray]:
        """Arrays an export stores beside its graph, computed by that backend (the bi-encoder's
        knowledge-base vectors); {}: none."""
        ...

    def encode(
        self,
        batch: dict[str, list[Any]],
        tokenizer: PreTrainedTokenizerBase,
        max_length: int,
        labels: list[str],
    ) -> dict[str, Any]:
        """Tokenize a batch of prepared records (no padding: the collator pads per batch). May
        return more features than records (a long context cut into windows)."""
        ...

    def collator(self, tokenizer: PreTrainedTokenizerBase) -> Any:
        """Pads a list of encoded features into a batch."""
        ...

    def save_extras(self, run_dir: Path, model_dir: Path) -> None:
        """Write what answering needs besides the weights into the bundle (e.g. a knowledge base)."""
        ...

    def outputs(
        self, runtime: Runtime, examples: Sequence[dict[str, Any]], batch_size: int, show: bool
    ) -> Any:
        """The raw model outputs for examples, in input order (logits, spans, generated text)."""
        ...

    def outputs_of_logits(self, logits: np.ndarray) -> Any:
        """The task's raw outputs (what `outputs` gives) from learner logits: the logits themselves,
        or for matching each pair's score."""
        ...

    def decode(
        self,
        outputs: Any,
        examples: Sequence[dict[str, Any]],
        labels: list[str],
        state: dict[str, Any] | None = None,
    ) -> list[dict[str, Any]]:
        """Turn outputs into answers: what `predict` and the server return. `state` is what
        `calibrate` returned (e.g. tuned thresholds)."""
        ...

    def calibrate(
        self,
        outputs: Any,
        references: Sequence[Any],
        labels: list[str],
        class_weights: Sequence[float] | None = None,
    ) -> dict[str, Any] | None:
        """After training, fit decision settings on validation outputs; None: nothing to fit.
        `class_weights`: the weights `class_weights: auto` trained with, which a single-label task
        keeps only where they raise validation macro-F1."""
        ...

    def fit_search(self, runtime: Runtime, records: Sequence[dict[str, Any]]) -> dict[str, Any]:
        """After `calibrate`, settings fitted by running the model on validation again (the
        knowledge-base hand-over threshold of matching); {}: none."""
        ...

    def trainer_metrics(self, labels: list[str]) -> Callable[[Any], dict[str, float]] | None:
        """The `compute_metrics` function the Trainer calls on validation (None: loss only)."""
        ...

    def evaluate(
        self,
        records: Sequence[dict[str, Any]],
        answers: Sequence[dict[str, Any]],
        labels: list[str],
        out_dir: Path,
        split: str,
    ) -> dict[str, Any]:
        """Metrics for one split; may write plots and tables into `out_dir`."""
        ...

    def subset_metrics(
        self, records: Sequence[dict[str, Any]], answers: Sequence[dict[str, Any]], labels: list[str]
    ) -> dict[str, SubsetMetric]:
        """Headline metrics as functions of record positions: bootstrap intervals, slices and
        `compare` resample records through them. {}: none (no intervals, slices or compare)."""
        ...

    def trivial_answers(
        self, train_labels: Sequence[Any], records: Sequence[dict[str, Any]], labels: list[str]
    ) -> tuple[str, list[dict[str, Any]]] | None:
        """What a model that learned nothing would answer for `records` - the largest class, the
        label prior, the mean, the input copied - shaped like `decode`'s answers, and its name.
        A model must beat it clearly (the default release gate); None: no such baseline."""
        ...


class TaskDefaults:
    """What most tasks share; a task class overrides what differs."""

    def __init__(self, options: Any) -> None:
        self.options = options  # the recipe's `task` section

    categorical = True
    greater_is_better = True
    inputs: tuple[str, ...] = ("text",)
    label_is_text = False
    annotated = False
    keeps_columns = False
    weighs_classes = False
    weighs_positives = False
    learning_rate_scale = 1.0
    step_budget = 2500
    max_epochs = 20
    graph_outputs: tuple[str, ...] = ("logits",)
    learner_outputs: str | None = None
    fit_search_examples = 0
    plain_tokens = False
    label_paths: dict[str, str] = {}  # noqa: RUF012 - read-only; multitask sets its own per instance

    def read_annotated(
        self, text_value: Any, label_value: Any, clean: Clean, redact: Redact
    ) -> tuple[str, Any]:
        raise NotImplementedError(f"{type(self).__name__} does not read annotated text")

    def learners(self, run_dir: Path) -> tuple[str, ...]:
        return ("transformer",)

    def check_example(self, record: dict[str, Any]) -> None:
        return None

    def outputs_of_logits(self, logits: np.ndarray) -> Any:
        return logits

    def label_space(self, labels: Sequence[Any]) -> list[str]:
        return sorted({str(label) for label in labels})

    def stratify_key(self, label: Any) -> str:
        return str(label)

    def count_keys(self, label: Any) -> list[str]:
        return [str(label)]

    def collator(self, tokenizer: PreTrainedTokenizerBase) -> Any:
        from transformers import DataCollatorWithPadding

        return DataCollatorWithPadding(tokenizer)

    def save_extras(self, run_dir: Path, model_dir: Path) -> None:
        return None

    def inference_graph(self, model: Any) -> Any:
        if not self.graph_outputs:
            raise NotImplementedError(f"{type(self).__name__} generates text: it has no one-pass graph")
        from tunesmith.tasks.graph import OutputsGraph

        return OutputsGraph(model, self.graph_outputs)

    def export_extras(self, runtime: Runtime) -> dict[str, np.ndarray]:
        return {}

    def calibrate(
        self,
        outputs: Any,
        references: Sequence[Any],
        labels: list[str],
        class_weights: Sequence[float] | None = None,
    ) -> dict[str, Any] | None:
        return None

    def fit_search(self, runtime: Runtime, records: Sequence[dict[str, Any]]) -> dict[str, Any]:
        return {}

    def subset_metrics(
        self, records: Sequence[dict[str, Any]], answers: Sequence[dict[str, Any]], labels: list[str]
    ) -> dict[str, SubsetMetric]:
        return {}

    def trivial_answers(
        self, train_labels: Sequence[Any], records: Sequence[dict[str, Any]], labels: list[str]
    ) -> tuple[str, list[dict[str, Any]]] | None:
        return None


class TextLabelDefaults(TaskDefaults):
    """A task whose label is text (an answer span, a translation, a reply): nothing to count or
    stratify, and the validation loss picks the checkpoint (generating or decoding spans during
    every evaluation is slow on a CPU)."""

    categorical = False
    label_is_text = True
    graph_outputs: tuple[str, ...] = ()  # generated text: no one-pass graph (extractive QA has one)
    best_metric = "loss"
    greater_is_better = False

    def parse_label(self, value: Any) -> str:
        text = str(value).strip()
        if not text:
            raise ValueError("the label text is empty")
        return text

    def label_space(self, labels: Sequence[Any]) -> list[str]:
        return []

    def stratify_key(self, label: Any) -> str:
        return ""

    def count_keys(self, label: Any) -> list[str]:
        return []

    def trainer_metrics(self, labels: list[str]) -> None:
        return None
