"""Stage 4, train: fine-tune with the Hugging Face Trainer and write the best model to `model/`."""
