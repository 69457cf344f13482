-- Which root key wrapped each version (core.RootKey.ID), so that a root
-- rotation can tell what is left to re-wrap. Versions written before have ''.
ALTER TABLE key_versions ADD COLUMN root_key_id text NOT NULL DEFAULT '';
