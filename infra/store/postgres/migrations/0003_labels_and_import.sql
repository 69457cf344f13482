-- Tags, deletion protection and the expiry of imported key material. Tags are
-- json, not jsonb, for the same reason as partition contexts.
ALTER TABLE keys
    ADD COLUMN tags                            json,
    ADD COLUMN deletion_protection             boolean NOT NULL DEFAULT false,
    ADD COLUMN deletion_protection_description text    NOT NULL DEFAULT '',
    ADD COLUMN material_expire_at              timestamptz;

-- An EXTERNAL key's version is written without material, which import sets
-- and deletion clears; the digest keeps re-imports to the same material.
ALTER TABLE key_versions ADD COLUMN digest bytea;
