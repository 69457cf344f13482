-- Certificates (core.Certificate), one row each, in columns of their own
-- rather than one JSON record: the DER values are large next to the rest,
-- and bytea holds them as they are. The chain is bytea[], not json of
-- base64: pgx reads and writes it with no encoding step, base64 would make
-- each certificate a third larger, and an array keeps the upload's order.
-- Subject alternative names and tags are json, not jsonb, for the same
-- reason as partition contexts. The ID's "C" collation makes listings walk
-- the primary key in byte order, as the embedded store does.
CREATE TABLE certificates (
    id                        text COLLATE "C" PRIMARY KEY,
    key_spec                  text        NOT NULL,
    subject                   text        NOT NULL,
    subject_alternative_names json,
    exportable                boolean     NOT NULL,
    status                    text        NOT NULL,
    creator                   text        NOT NULL,
    created_at                timestamptz NOT NULL,
    updated_at                timestamptz NOT NULL,
    tags                      json,
    private_key               bytea       NOT NULL, -- wrapped by the root key; never plaintext
    root_key_id               text        NOT NULL, -- core.RootKey.ID of the key that wrapped it
    csr                       bytea       NOT NULL,
    certificate               bytea,                -- NULL while the certificate is PENDING
    chain                     bytea[],              -- NULL when none was uploaded
    revision                  bigint      NOT NULL
);
