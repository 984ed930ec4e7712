"""Stage 2, choose: resolve `model.name` to a folder of weights available on this machine."""
