-- Version 9: tickets fetched from Zammad when a call rings, kept as the cache a popup
-- shows first (and while Zammad is slow or down). A ticket's id in Zammad tells them from
-- imported tickets, so that the next fetch for the same customer replaces them.
ALTER TABLE tickets ADD COLUMN zammad_ticket_id INTEGER;
CREATE UNIQUE INDEX tickets_zammad ON tickets (zammad_ticket_id)
    WHERE zammad_ticket_id IS NOT NULL;
