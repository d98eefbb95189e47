-- Version 6: the caller lookup reads one match level of a number, newest first, and stops
-- after a bounded number of rows; the covering index leads with the level for that.
DROP INDEX caller_numbers_e164;
CREATE INDEX caller_numbers_e164 ON caller_numbers (e164, level, id, contact_id, ticket_id);
