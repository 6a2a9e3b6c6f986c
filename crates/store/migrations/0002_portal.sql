-- Portal sessions, in the store so every replica sees them (DESIGN.md 3).
-- Only a SHA-256 of the session token is kept (lower-case hex): a copy of
-- the database lets no one sign in. Same portable types as 0001.

CREATE TABLE portal_sessions (
    token_hash      TEXT PRIMARY KEY,
    tenant_id       TEXT NOT NULL REFERENCES tenants (id),
    user_object_id  TEXT NOT NULL REFERENCES users (object_id),
    created_at      BIGINT NOT NULL,
    expires_at      BIGINT NOT NULL
);
CREATE INDEX portal_sessions_by_expiry ON portal_sessions (expires_at);
