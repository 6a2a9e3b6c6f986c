-- A new environment's connections API answers 404
-- ServiceToServiceEnvironmentNotFound until this time (Unix ms, as
-- Timestamp), as the cloud's does for a while after creation. NULL: ready.
ALTER TABLE environments ADD COLUMN ready_at BIGINT;
