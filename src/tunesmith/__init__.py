"""tunesmith: an offline-first line from raw enterprise records to a tested, served model."""

__version__ = "0.1.0"
