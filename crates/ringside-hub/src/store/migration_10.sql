-- Version 10: calls logged as Zammad tickets. They go through the relay's outbox as items
-- whose event is 'ticket' and whose call_id is 'ticket-{the journal entry id}', with the
-- ticket job's JSON as body; at most one such item per call, however often the PBX repeats
-- itself or an agent asks. The ticket made is kept in the call's body. Safe to run again.
CREATE UNIQUE INDEX IF NOT EXISTS zammad_outbox_one_ticket ON zammad_outbox (call_id)
    WHERE event = 'ticket';
