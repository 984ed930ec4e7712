"""The console's pages, one module per part: runs, a new run, the queue, compare, playground,
served models, signing in."""
