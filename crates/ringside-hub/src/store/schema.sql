-- Ringside hub schema, version 1.
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- The journal: one row per call; `body` is the whole call as JSON, the other columns are
-- what the hub searches by.
CREATE TABLE calls (
    id             INTEGER PRIMARY KEY,
    provider       TEXT NOT NULL,
    call_id        TEXT NOT NULL,
    direction      TEXT NOT NULL,
    state          TEXT NOT NULL,
    done           INTEGER NOT NULL,
    answered_by    TEXT,
    initialized_at INTEGER,
    body           TEXT NOT NULL,
    UNIQUE (provider, call_id)
);
CREATE INDEX calls_open ON calls (state, done);

-- The durable event log the stream replays from.
CREATE TABLE events (
    seq  INTEGER PRIMARY KEY,
    at   INTEGER NOT NULL,
    body TEXT NOT NULL
);

CREATE TABLE agents (
    id         INTEGER PRIMARY KEY,
    login      TEXT NOT NULL UNIQUE,
    name       TEXT NOT NULL,
    role       TEXT NOT NULL,
    numbers    TEXT NOT NULL,
    dnd        INTEGER NOT NULL DEFAULT 0,
    token_hash TEXT NOT NULL UNIQUE
);

-- An agent's own numbers, normalized, to find who answered and whose number was called.
CREATE TABLE agent_numbers (
    number   TEXT NOT NULL,
    agent_id INTEGER NOT NULL REFERENCES agents (id) ON DELETE CASCADE
);
CREATE INDEX agent_numbers_number ON agent_numbers (number);

CREATE TABLE contacts (
    id           INTEGER PRIMARY KEY,
    key          TEXT NOT NULL UNIQUE,
    name         TEXT NOT NULL,
    organization TEXT,
    email        TEXT,
    profile_url  TEXT,
    note         TEXT
);
CREATE INDEX contacts_email ON contacts (email);

CREATE TABLE tickets (
    id             INTEGER PRIMARY KEY,
    external_id    TEXT NOT NULL UNIQUE,
    title          TEXT NOT NULL,
    state          TEXT,
    customer_email TEXT,
    customer_e164  TEXT,
    url            TEXT,
    updated_at     INTEGER,
    contact_id     INTEGER REFERENCES contacts (id) ON DELETE SET NULL
);
CREATE INDEX tickets_contact ON tickets (contact_id, updated_at);
CREATE INDEX tickets_email ON tickets (customer_email);
CREATE INDEX tickets_e164 ON tickets (customer_e164);

-- Caller identification: a `known` number belongs to a contact, a `maybe` number was found
-- in a ticket's text.
CREATE TABLE caller_numbers (
    id         INTEGER PRIMARY KEY,
    e164       TEXT NOT NULL,
    level      TEXT NOT NULL,
    contact_id INTEGER REFERENCES contacts (id) ON DELETE CASCADE,
    ticket_id  INTEGER REFERENCES tickets (id) ON DELETE CASCADE
);
-- Covers the lookup: newest first, with no visit to the table.
CREATE INDEX caller_numbers_e164 ON caller_numbers (e164, id, level, contact_id, ticket_id);
CREATE INDEX caller_numbers_contact ON caller_numbers (contact_id);
CREATE INDEX caller_numbers_ticket ON caller_numbers (ticket_id);
