-- Each version's imported material: when it expires (core.KeyVersion.ExpireAt)
-- and the caller's description of it (MaterialDescription), since an
-- EXTERNAL key's versions each hold their own material, some imported for a
-- rotation not yet made. NULL means never expires, '' no description: what
-- every version written before has, and every version of other keys.
ALTER TABLE key_versions
    ADD COLUMN expire_at            timestamptz,
    ADD COLUMN material_description text NOT NULL DEFAULT '';
