-- When the automatic rotation schedule counts from, if not last_rotated_at:
-- a version made on demand leaves the schedule where it was. NULL means
-- last_rotated_at, as for every key written before.
ALTER TABLE keys ADD COLUMN rotation_base timestamptz;
