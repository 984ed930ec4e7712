"""The recipe's data side: `data` (files and fields), `prepare` (clean, PII, dedup) and `split`."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from tunesmith.recipe.base import Section


class DataSection(Section):
    """Where the records are and which fields hold the text and the label."""

    train: str = Field(description="Path of the training file (or the only file).")
    validation: str | None = Field(None, description="Separate validation file, if any.")
    test: str | None = Field(None, description="Separate test file, if any.")
    format: Literal["auto", "json", "jsonl", "csv", "tsv", "parquet", "lines"] = Field(
        "auto",
        description="auto: by suffix and content. lines: one text per line (a .txt file), read as "
        "{text, file}; in a folder with one file per label, `file` is the label.",
    )
    encoding: str = Field("auto", description="'auto' detects UTF-8 (with or without BOM), GBK.")
    records_key: str | None = Field(
        None, description="For a JSON object that holds the records: the key of the list."
    )
    columns: list[str] | None = Field(
        None,
        description="A CSV/TSV without a header row: the names of its columns, in order (the first "
        "row is then a record).",
    )
    text_field: str | list[str] | None = Field(
        "text", description="Dotted path(s) of the text; several fields are joined."
    )
    text_template: str | None = Field(
        None, description="Build the text from fields, e.g. 'amount {amount} at {location}'."
    )
    pair_field: str | list[str] | None = Field(
        None,
        description="Second text of two-text tasks: the candidate answer (matching), the context "
        "(extractive_qa).",
    )
    label_field: str | None = Field(
        "label", description="Dotted path of the label (None: the label is inside the text, e.g. MSRA NER)."
    )
    split_field: str | None = Field(
        None, description="Column holding train/validation/test; overrides ratio splitting."
    )
    id_field: str | None = Field(None, description="Column holding a record id, if any.")
    list_separator: str = Field("; ", description="Joins list-valued fields into text.")


class CleanSection(Section):
    """Cleaning steps applied to every text, in this order. Chinese text and punctuation survive."""

    strip_html: bool = Field(True, description="Strip tags and unescape entities in text with markup.")
    remove_control: bool = Field(True, description="Drop control, zero-width and bidi characters.")
    nfkc: bool = Field(True, description="Unicode NFKC (Chinese punctuation is kept).")
    fullwidth_to_halfwidth: bool = Field(True, description="Full-width letters/digits to ASCII.")
    traditional_to_simplified: bool = Field(False, description="Needs the `zh` extra (zhconv).")
    collapse_whitespace: bool = True


PII_TYPES = (
    "ID_CARD",
    "PHONE",
    "EMAIL",
    "BANK_CARD",
    "IP_ADDRESS",
    "URL_CREDENTIALS",
    "PASSPORT",
    "LICENSE_PLATE",
    "DATE_OF_BIRTH",
    "PERSON",
    "ADDRESS",
)
COLUMN_POLICIES = ("keep", "mask", "partial", "pseudonym", "fake", "generalize", "drop")


class PiiSection(Section):
    """De-identification, on by default: personal data is replaced before anything is tokenized."""

    enabled: bool = True
    action: Literal["mask", "partial", "pseudonym", "fake", "drop"] = Field(
        "mask",
        description="mask: [PHONE]; partial: 138****5678; pseudonym: keyed HMAC token, stable "
        "across the dataset; fake: a realistic Faker value (zh_CN/en_US), stable per value; "
        "drop: quarantine the record.",
    )
    types: list[Literal[PII_TYPES]] = Field(list(PII_TYPES))  # type: ignore[valid-type]
    threshold: float = Field(0.75, ge=0, le=1, description="Lowest recognizer score acted on.")
    columns: dict[str, Literal[COLUMN_POLICIES]] = Field(  # type: ignore[valid-type]
        default_factory=dict,
        description="Per-column policies for tabular data, e.g. {user_id: pseudonym, location: "
        "generalize, amount: keep}; these columns are not scanned again.",
    )
    thorough_names: bool = Field(
        False, description="Also tag every Chinese sentence with jieba for names without a cue (slow)."
    )
    english_ner: Literal["rules", "presidio"] = Field(
        "rules", description="presidio: also find English names with Presidio and a local spaCy model."
    )
    english_ner_model: str = "en_core_web_sm"
    key_env: str = Field("TUNESMITH_PII_KEY", description="Environment variable with the HMAC key.")
    key_file: str | None = Field(None, description="File holding the HMAC key (wins over key_env).")


class DedupSection(Section):
    """Duplicates: a later exact duplicate in a split is removed; near duplicates are reported;
    a validation/test record that (nearly) repeats a training record is removed (leakage)."""

    enabled: bool = True
    near_threshold: float = Field(0.8, gt=0, le=1, description="MinHash Jaccard for 'near'.")
    allow_leakage: bool = Field(False, description="Keep test records that repeat training ones.")


class PrepareSection(Section):
    """Cleaning and length filters applied to every text before anything else sees it."""

    clean: CleanSection = CleanSection()
    pii: PiiSection = PiiSection()
    dedup: DedupSection = DedupSection()
    min_chars: int = Field(1, ge=0, description="Shorter texts are rejected.")
    min_tokens: int | None = Field(None, ge=1, description="Texts with fewer model tokens are rejected.")
    max_tokens: int | None = Field(
        None, ge=1, description="Texts with more model tokens are rejected (model.max_length only cuts)."
    )
    max_chars: int | None = Field(
        None, ge=1, description="Longer texts are cut to this many characters (None: keep)."
    )
    workers: int | Literal["auto"] = Field(
        "auto",
        description="Processes that read, clean and de-identify records: auto = every core (a file "
        "under 8 MB stays in one process); the output is the same for any number.",
    )
    engine: Literal["local", "ray"] = Field(
        "local",
        description="local: worker processes on this machine; ray: the same record code as Ray "
        "tasks on the cluster at ray_address (pip install 'tunesmith[ray]').",
    )
    ray_address: str | None = Field(
        None, description="Ray cluster address (ray://head:10001); None starts Ray on this machine."
    )

    @field_validator("workers")
    @classmethod
    def _positive_workers(cls, value: int | str) -> int | str:
        if isinstance(value, int) and value < 1:
            raise ValueError("prepare.workers must be auto or at least 1")
        return value


class SplitSection(Section):
    """How records are divided when the recipe gives only `data.train`.

    stratified: seeded, each label in proportion; random: seeded, ignoring labels;
    group: every record of one `group_field` value (a user or patient) in one split;
    time: earliest records train, latest test (by `time_field`);
    hash: by a hash of `data.id_field` (or `group_field`), so adding records never moves
    existing ones between splits.
    """

    method: Literal["stratified", "random", "group", "time", "hash"] = "stratified"
    validation: float = Field(0.1, ge=0.0, lt=1.0)
    test: float = Field(0.1, ge=0.0, lt=1.0)
    group_field: str | None = Field(None, description="Dotted path of the group id.")
    time_field: str | None = Field(None, description="Dotted path of the record's time.")

    @model_validator(mode="after")
    def _consistent(self) -> SplitSection:
        if self.validation + self.test >= 1.0:
            raise ValueError("split.validation + split.test must be below 1.0")
        if self.method == "group" and not self.group_field:
            raise ValueError("split.method 'group' needs split.group_field (e.g. user_id)")
        if self.method == "time" and not self.time_field:
            raise ValueError("split.method 'time' needs split.time_field (e.g. created_at)")
        return self
