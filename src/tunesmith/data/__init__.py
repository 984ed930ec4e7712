"""Stage 1, prepare: read records in any format and encoding, clean, quarantine, split."""
