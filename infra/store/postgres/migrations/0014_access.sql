-- Access records (core.AccessRecord): the KMS instance API's network
-- rules, policies, application access points and client keys, one row
-- each. The doc is core's own encoding, kept as it is and never read here,
-- so bytea, not json. The "C" collation makes a kind's listing walk the
-- primary key in name byte order, as the embedded store does.
CREATE TABLE access_records (
    kind text COLLATE "C" NOT NULL,
    name text COLLATE "C" NOT NULL,
    doc  bytea NOT NULL,
    PRIMARY KEY (kind, name)
);
