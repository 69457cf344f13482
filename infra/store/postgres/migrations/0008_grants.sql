-- Grants (core.Grant), one row each: the record is the grant in
-- infra/store/records' JSON form, and the names grants are found by are
-- columns of their own, indexed. json, not jsonb, for the same reason as
-- partition contexts: a constraint's context may hold "\u0000". No foreign
-- key to keys: DeleteKey deletes a key's grants in its own statement, and a
-- grant outliving its key gives nothing (core.Grant.KeyCreated).
CREATE TABLE grants (
    key_id        text COLLATE "C" NOT NULL,
    grant_id      text COLLATE "C" NOT NULL,
    grantee_name  text COLLATE "C" NOT NULL,
    retiring_name text COLLATE "C", -- NULL when the grant names no retiring principal
    record        json NOT NULL,
    PRIMARY KEY (key_id, grant_id)
);
CREATE INDEX grants_by_grantee ON grants (grantee_name, key_id, grant_id);
CREATE INDEX grants_by_retiring ON grants (retiring_name, key_id, grant_id) WHERE retiring_name IS NOT NULL;
