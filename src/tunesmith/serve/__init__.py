"""Stage 6, serve: a FastAPI app over a run folder's model."""
