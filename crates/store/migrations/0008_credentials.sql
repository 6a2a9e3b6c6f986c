-- Dataverse's `credential` table, as far as a connection names one
-- (`properties.credentialId`, set-runowner-desktopflowconnection.md): an
-- Azure Key Vault or CyberArk credential of the environment, user-owned and
-- shared like any record (its shares are rows of `shares` with
-- record_type 'credential'). The secrets stay in the vault: nothing here.
CREATE TABLE credentials (
    id              TEXT PRIMARY KEY,
    environment_id  TEXT NOT NULL REFERENCES environments (id),
    name            TEXT NOT NULL,
    connectiontype  BIGINT NOT NULL,
    owner_id        TEXT NOT NULL REFERENCES system_users (id)
);
CREATE INDEX credentials_by_environment ON credentials (environment_id);

-- The credential a connection was written with, if any.
ALTER TABLE connections ADD COLUMN credential_id TEXT;
