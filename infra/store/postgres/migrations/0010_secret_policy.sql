-- A secret's own policy document, JSON as it was put; '' is the default
-- policy, which every secret written before has.
ALTER TABLE secrets ADD COLUMN policy text NOT NULL DEFAULT '';
