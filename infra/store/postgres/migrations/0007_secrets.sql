-- Secrets (core.GenericSecret), one row each with its versions. The versions
-- are one value in records.EncodeVersions' binary form, read and written
-- whole, in a column of their own so that listings, which read no versions,
-- do not fetch their values. Tags and stages are json, not jsonb, for the
-- same reason as partition contexts.
CREATE TABLE secrets (
    name        text COLLATE "C" PRIMARY KEY,
    description text        NOT NULL,
    key_id      text        NOT NULL,
    creator     text        NOT NULL,
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL,
    delete_at   timestamptz,
    tags        json,
    stages      json,
    revision    bigint      NOT NULL,
    versions    bytea       NOT NULL -- records.EncodeVersions, oldest first
);
