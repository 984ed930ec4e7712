"""`tunesmith insights`: a trained classifier scores customer records (tickets, reviews, call
notes) from a file or a SQL table, writes the scores back incrementally, and writes an insight
report: label shares over time, segments, characteristic terms, spikes and example records."""
