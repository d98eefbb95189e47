-- Version 3: agents who are away (holiday, sick leave) are never rung.
ALTER TABLE agents ADD COLUMN out_of_office INTEGER NOT NULL DEFAULT 0;
