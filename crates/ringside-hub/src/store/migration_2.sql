-- Version 2: agents' ids at the phone providers.
ALTER TABLE agents ADD COLUMN identities TEXT NOT NULL DEFAULT '{}';

CREATE TABLE agent_identities (
    provider TEXT NOT NULL,
    identity TEXT NOT NULL,
    agent_id INTEGER NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    PRIMARY KEY (provider, identity)
);
