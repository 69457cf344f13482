-- Signature nonces, shared by every instance on this database: a request one
-- instance accepted is refused as a replay by all of them, across restarts,
-- until its signature expires. Expired rows are pruned a few at a time through
-- the expiry index; a row found expired on insert is simply reused.
CREATE TABLE nonces (
    id      text COLLATE "C" PRIMARY KEY, -- "<AccessKeyId>:<nonce>"
    expires timestamptz NOT NULL
);
CREATE INDEX nonces_by_expiry ON nonces (expires);
