-- Secrets (core.GenericSecret), one row each with its versions. The versions
-- are one json array, read and written whole, so that listings, which read
-- no versions, do not fetch their values. Tags, stages and versions are json,
-- not jsonb, for the same reason as partition contexts; the versions' sealed
-- values are base64 in it.
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
    versions    json        NOT NULL -- [{"id", "createdAt", "dataType", "sealed"}], oldest first
);
