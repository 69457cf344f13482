-- Each key's last use (core.KeyUsage), one row per key used since; not to
-- be confused with keys.key_usage, what a key is for. A use is recorded by
-- one INSERT … ON CONFLICT that keeps the later time. Unlike grants, a use
-- references its key, with a cascade: the foreign key refuses a use of a
-- key that does not exist, and a use recorded while its key is deleted
-- waits for the delete and is refused, or is deleted with the key.
CREATE TABLE key_usage (
    key_id     text COLLATE "C" PRIMARY KEY REFERENCES keys (id) ON DELETE CASCADE,
    action     text        NOT NULL, -- core's action name, as "Encrypt"
    at         timestamptz NOT NULL, -- when the request arrived, to the millisecond
    request_id text        NOT NULL
);

-- Since when uses are kept: from this migration on, in its one row.
CREATE TABLE key_usage_since (
    one   boolean PRIMARY KEY DEFAULT true CHECK (one),
    since timestamptz NOT NULL DEFAULT now()
);
INSERT INTO key_usage_since DEFAULT VALUES;
