-- Contacts synced from Zammad beside imported ones: each contact says where it came from
-- ('import' or 'zammad') and, for Zammad's, the id of its user or organization there, so
-- that a sync updates it in place and a full pass removes those Zammad no longer has.
ALTER TABLE contacts ADD COLUMN source TEXT NOT NULL DEFAULT 'import';
ALTER TABLE contacts ADD COLUMN zammad_user_id INTEGER;
ALTER TABLE contacts ADD COLUMN zammad_organization_id INTEGER;
CREATE UNIQUE INDEX contacts_zammad_user ON contacts (zammad_user_id)
    WHERE zammad_user_id IS NOT NULL;
CREATE UNIQUE INDEX contacts_zammad_organization ON contacts (zammad_organization_id)
    WHERE zammad_organization_id IS NOT NULL;

-- The state of the Zammad sync, one row: readable by the admin API and the command line.
-- Times are Unix milliseconds.
CREATE TABLE zammad_sync (
    id                  INTEGER PRIMARY KEY CHECK (id = 1),
    mode                TEXT,
    last_full_at        INTEGER,
    last_incremental_at INTEGER,
    users               INTEGER NOT NULL DEFAULT 0,
    organizations       INTEGER NOT NULL DEFAULT 0,
    numbers             INTEGER NOT NULL DEFAULT 0,
    last_error          TEXT,
    last_error_at       INTEGER
);
INSERT INTO zammad_sync (id) VALUES (1);
