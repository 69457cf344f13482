-- Identifiers use the "C" collation so that listings sort by bytes, as the
-- embedded store does, whatever the database's locale.

CREATE TABLE keys (
    id                 text COLLATE "C" PRIMARY KEY,
    description        text        NOT NULL,
    key_spec           text        NOT NULL,
    key_usage          text        NOT NULL,
    origin             text        NOT NULL,
    protection_level   text        NOT NULL,
    creator            text        NOT NULL,
    state              text        NOT NULL,
    created_at         timestamptz NOT NULL,
    delete_at          timestamptz,
    primary_version_id text        NOT NULL,
    automatic_rotation boolean     NOT NULL,
    rotation_interval  bigint      NOT NULL, -- nanoseconds, as Go's time.Duration
    last_rotated_at    timestamptz,
    revision           bigint      NOT NULL
);
CREATE INDEX keys_by_creation ON keys (created_at, id);

-- Versions are immutable. seq breaks ties between versions created in the same
-- instant, so "oldest first" is insertion order among equals.
CREATE TABLE key_versions (
    key_id     text COLLATE "C" NOT NULL REFERENCES keys (id) ON DELETE CASCADE,
    version_id text COLLATE "C" NOT NULL,
    seq        bigint GENERATED ALWAYS AS IDENTITY,
    created_at timestamptz NOT NULL,
    wrapped    bytea       NOT NULL, -- sealed under the root key; never plaintext
    PRIMARY KEY (key_id, version_id)
);
CREATE INDEX key_versions_by_creation ON key_versions (key_id, created_at, seq);

CREATE TABLE aliases (
    name       text COLLATE "C" PRIMARY KEY,
    key_id     text COLLATE "C" NOT NULL REFERENCES keys (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);
CREATE INDEX aliases_by_key ON aliases (key_id, name);

-- Partition records reference no key: a partition keeps its ciphertext even if
-- its key is later deleted. The context is json, not jsonb, because jsonb cannot
-- hold "\u0000".
CREATE TABLE partitions (
    id                 text COLLATE "C" PRIMARY KEY,
    key_id             text        NOT NULL,
    key_version_id     text        NOT NULL,
    ciphertext_blob    bytea       NOT NULL,
    encryption_context json,
    created_at         timestamptz NOT NULL
);
