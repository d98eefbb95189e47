-- Version 5: contact search by word prefix of name or organization through a full-text
-- index (FTS5) instead of scanning the contacts table. The index holds no text of its own
-- (external content: the contacts table); triggers keep it in step with every change. The
-- prefix indexes (1 to 8 characters) let a prefix that many words share, such as a common
-- first name being typed, be read like one word instead of merging every word it starts.
CREATE VIRTUAL TABLE contacts_search USING fts5 (
    name,
    organization,
    content = 'contacts',
    content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 2',
    prefix = '1 2 3 4 5 6 7 8'
);
INSERT INTO contacts_search (contacts_search) VALUES ('rebuild');

CREATE TRIGGER contacts_search_insert AFTER INSERT ON contacts BEGIN
    INSERT INTO contacts_search (rowid, name, organization)
    VALUES (new.id, new.name, new.organization);
END;
CREATE TRIGGER contacts_search_delete AFTER DELETE ON contacts BEGIN
    INSERT INTO contacts_search (contacts_search, rowid, name, organization)
    VALUES ('delete', old.id, old.name, old.organization);
END;
CREATE TRIGGER contacts_search_update AFTER UPDATE OF name, organization ON contacts BEGIN
    INSERT INTO contacts_search (contacts_search, rowid, name, organization)
    VALUES ('delete', old.id, old.name, old.organization);
    INSERT INTO contacts_search (rowid, name, organization)
    VALUES (new.id, new.name, new.organization);
END;
