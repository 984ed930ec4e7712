"""Errors a user can act on. The CLI prints their message (no traceback) and exits non-zero."""


class TunesmithError(Exception):
    """A problem with the user's input, recipe, data or run folder: the message says what to do."""


class RecipeError(TunesmithError):
    """The recipe does not validate."""


class DataError(TunesmithError):
    """A data file cannot be read at all (a bad single record is quarantined instead)."""


class ModelNotFoundError(TunesmithError):
    """model.name does not resolve to weights on this machine."""


class BundleError(TunesmithError):
    """A run folder is missing files or its checksums do not match its manifest."""


class TrainingStopped(TunesmithError):
    """Ctrl-C or SIGTERM during training: the step finished, a checkpoint was written, training stopped."""


class GatesFailed(TunesmithError):
    """The run is complete but misses a release gate of its recipe (exit code 3)."""
