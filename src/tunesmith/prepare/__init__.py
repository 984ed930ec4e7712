"""Stage 1, prepare: read the recipe's files, clean, de-identify, validate, split and write the
model inputs to the run folder (`stage`), with the token-length check (`token_lengths`). The
record-level pieces it uses live in `tunesmith.data`."""
