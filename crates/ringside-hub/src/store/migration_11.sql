-- Version 11: a Zammad user's link to the "new ticket" screen with them as the customer,
-- written by the sync beside the profile link, so that the popup reads both from the
-- directory as they are.
ALTER TABLE contacts ADD COLUMN new_ticket_url TEXT;
