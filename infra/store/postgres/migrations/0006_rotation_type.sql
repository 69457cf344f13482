-- How each version came to be (core.RotationType): 'Automatic' or
-- 'OnDemand' for the versions rotations made. Versions written before have
-- '', as the version a key is made with does: nothing says which rotation
-- made them.
ALTER TABLE key_versions ADD COLUMN rotation_type text NOT NULL DEFAULT '';
