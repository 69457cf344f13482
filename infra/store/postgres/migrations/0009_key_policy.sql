-- A key's own policy document, JSON as it was put; '' is the default
-- policy, which every key written before has.
ALTER TABLE keys ADD COLUMN policy text NOT NULL DEFAULT '';
