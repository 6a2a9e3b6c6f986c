-- Which rows the world file wrote, so that a later world that no longer
-- lists them takes them away, while what callers made through the APIs and
-- the portal (a GrantAccess, a systemuser POSTed) stays. A row the APIs
-- touch afterwards becomes theirs (`from_world` false).
ALTER TABLE shares ADD COLUMN from_world BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE system_users ADD COLUMN from_world BOOLEAN NOT NULL DEFAULT FALSE;
