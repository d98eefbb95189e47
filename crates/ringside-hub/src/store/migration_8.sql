-- Version 8: the outbox of events forwarded to Zammad's caller log. The writer appends
-- to it in the transaction that records the call's change; the relay deletes an item once
-- Zammad has answered it, or marks it failed with Zammad's reason. Safe to run again.
CREATE TABLE IF NOT EXISTS zammad_outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    -- The call id Zammad knows the call by; one call's items are delivered in id order.
    call_id TEXT NOT NULL,
    -- newCall, answer or hangup.
    event TEXT NOT NULL,
    -- The JSON body to post.
    body TEXT NOT NULL,
    -- Milliseconds since the epoch.
    created_at INTEGER NOT NULL,
    -- Not to be tried before (milliseconds since the epoch).
    next_at INTEGER NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    -- 1 once a post of it has begun: Zammad may have it even if the hub never heard back.
    sent INTEGER NOT NULL DEFAULT 0,
    attempted_at INTEGER,
    -- 1 when Zammad refused it for good (or it waited too long); kept for the admin.
    failed INTEGER NOT NULL DEFAULT 0,
    last_error TEXT
);
CREATE INDEX IF NOT EXISTS zammad_outbox_pending ON zammad_outbox (call_id, id) WHERE failed = 0;
CREATE INDEX IF NOT EXISTS zammad_outbox_failed ON zammad_outbox (failed, created_at);
-- How many items the outbox holds (kept by triggers: counting would read the whole table
-- on every webhook) and how many were dropped because it was full.
CREATE TABLE IF NOT EXISTS zammad_outbox_size (
    items INTEGER NOT NULL,
    dropped INTEGER NOT NULL
);
INSERT INTO zammad_outbox_size (items, dropped)
    SELECT 0, 0 WHERE NOT EXISTS (SELECT 1 FROM zammad_outbox_size);
CREATE TRIGGER IF NOT EXISTS zammad_outbox_added AFTER INSERT ON zammad_outbox
BEGIN
    UPDATE zammad_outbox_size SET items = items + 1;
END;
CREATE TRIGGER IF NOT EXISTS zammad_outbox_removed AFTER DELETE ON zammad_outbox
BEGIN
    UPDATE zammad_outbox_size SET items = items - 1;
END;
