-- Version 4: the event log is pruned by age.
CREATE INDEX events_at ON events (at);
