"""Stage 3, evaluate: score the trained model on held-out splits and write metrics and plots."""
