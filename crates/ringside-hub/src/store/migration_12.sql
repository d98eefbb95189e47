-- Version 12: Zammad tickets whose first article the sync has read for `maybe` numbers
-- (a ticket's first article never changes, so each is read once), with what it gave: the
-- customer who wrote it and its numbers (none when an agent or the system wrote it). The
-- `maybe` rows derived from them name that customer's synced contact and the ticket.
CREATE TABLE zammad_ticket_scans (
    zammad_ticket_id INTEGER PRIMARY KEY,
    created_at       INTEGER NOT NULL,
    author_id        INTEGER,
    numbers          TEXT NOT NULL DEFAULT '[]'
);
-- No foreign key: the rows are derived again in the transaction that changes the scans.
ALTER TABLE caller_numbers ADD COLUMN zammad_ticket_id INTEGER;
CREATE INDEX caller_numbers_zammad_ticket ON caller_numbers (zammad_ticket_id)
    WHERE zammad_ticket_id IS NOT NULL;
