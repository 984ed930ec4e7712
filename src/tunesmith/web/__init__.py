"""The web console (`tunesmith console`): server-rendered pages over the runs folder - runs and
their reports, a new run from an uploaded file, the run queue, compare, a playground and the
served models. Every page reads without JavaScript; the one script only streams a run's log."""
