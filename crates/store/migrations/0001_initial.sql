-- One schema for SQLite and PostgreSQL: portable types only (TEXT, BIGINT,
-- BOOLEAN, BYTEA), no backend-specific functions, so PostgreSQL-compatible
-- distributed databases can run it too. Ids are lower-case text; times are
-- Unix microseconds (UTC).

CREATE TABLE tenants (
    id          TEXT PRIMARY KEY,
    domain      TEXT NOT NULL UNIQUE,
    created_at  BIGINT NOT NULL
);

-- Power Platform administrators: a user's UPN or an app's client id.
CREATE TABLE tenant_admins (
    tenant_id   TEXT NOT NULL REFERENCES tenants (id),
    principal   TEXT NOT NULL,
    PRIMARY KEY (tenant_id, principal)
);

-- An app registration with its service principal in the tenant.
CREATE TABLE apps (
    tenant_id     TEXT NOT NULL REFERENCES tenants (id),
    client_id     TEXT NOT NULL,
    object_id     TEXT NOT NULL UNIQUE,
    display_name  TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, client_id)
);

-- Client secrets: SHA-256 of the value, never the value.
CREATE TABLE app_secrets (
    tenant_id    TEXT NOT NULL,
    client_id    TEXT NOT NULL,
    secret_hash  BYTEA NOT NULL,
    hint         TEXT NOT NULL,
    expires_at   BIGINT,
    created_at   BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, client_id, secret_hash),
    FOREIGN KEY (tenant_id, client_id) REFERENCES apps (tenant_id, client_id)
);

CREATE TABLE app_certificates (
    tenant_id          TEXT NOT NULL,
    client_id          TEXT NOT NULL,
    thumbprint_sha256  TEXT NOT NULL,
    thumbprint_sha1    TEXT NOT NULL,
    der                BYTEA NOT NULL,
    created_at         BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, client_id, thumbprint_sha256),
    FOREIGN KEY (tenant_id, client_id) REFERENCES apps (tenant_id, client_id)
);

CREATE TABLE users (
    object_id      TEXT PRIMARY KEY,
    tenant_id      TEXT NOT NULL REFERENCES tenants (id),
    upn            TEXT NOT NULL,
    display_name   TEXT NOT NULL,
    password_hash  TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    UNIQUE (tenant_id, upn)
);

CREATE TABLE environments (
    id            TEXT PRIMARY KEY,
    tenant_id     TEXT NOT NULL REFERENCES tenants (id),
    display_name  TEXT NOT NULL,
    org           TEXT NOT NULL UNIQUE,
    created_at    BIGINT NOT NULL
);

-- Dataverse systemuser rows: application users (application_id set) and
-- people (user_object_id set).
CREATE TABLE system_users (
    id              TEXT PRIMARY KEY,
    environment_id  TEXT NOT NULL REFERENCES environments (id),
    application_id  TEXT,
    user_object_id  TEXT,
    fullname        TEXT NOT NULL,
    domainname      TEXT NOT NULL,
    accessmode      BIGINT NOT NULL,
    isdisabled      BOOLEAN NOT NULL,
    maker           BOOLEAN NOT NULL,
    created_on      BIGINT NOT NULL,
    modified_on     BIGINT NOT NULL,
    versionnumber   BIGINT NOT NULL,
    UNIQUE (environment_id, application_id),
    UNIQUE (environment_id, user_object_id)
);

CREATE TABLE machine_groups (
    id              TEXT PRIMARY KEY,
    environment_id  TEXT NOT NULL REFERENCES environments (id),
    name            TEXT NOT NULL,
    description     TEXT NOT NULL,
    flowgrouptype   BIGINT NOT NULL,
    statecode       BIGINT NOT NULL,
    statuscode      BIGINT NOT NULL,
    password_hash   TEXT,
    owner_id        TEXT NOT NULL REFERENCES system_users (id),
    created_on      BIGINT NOT NULL,
    created_by      TEXT NOT NULL,
    modified_on     BIGINT NOT NULL,
    modified_by     TEXT NOT NULL,
    versionnumber   BIGINT NOT NULL
);
CREATE INDEX machine_groups_by_environment ON machine_groups (environment_id, name);

CREATE TABLE machines (
    id                 TEXT PRIMARY KEY,
    environment_id     TEXT NOT NULL REFERENCES environments (id),
    group_id           TEXT NOT NULL REFERENCES machine_groups (id),
    name               TEXT NOT NULL,
    description        TEXT NOT NULL,
    agentversion       TEXT,
    lastheartbeatdate  BIGINT,
    statecode          BIGINT NOT NULL,
    statuscode         BIGINT NOT NULL,
    owner_id           TEXT NOT NULL REFERENCES system_users (id),
    created_on         BIGINT NOT NULL,
    created_by         TEXT NOT NULL,
    modified_on        BIGINT NOT NULL,
    modified_by        TEXT NOT NULL,
    versionnumber      BIGINT NOT NULL
);
CREATE INDEX machines_by_group ON machines (group_id);
CREATE INDEX machines_by_environment ON machines (environment_id, name);

-- Dataverse sharing (principal object access): rights granted on a record.
CREATE TABLE shares (
    record_type   TEXT NOT NULL,
    record_id     TEXT NOT NULL,
    principal_id  TEXT NOT NULL REFERENCES system_users (id),
    access_mask   BIGINT NOT NULL,
    PRIMARY KEY (record_type, record_id, principal_id)
);
CREATE INDEX shares_by_principal ON shares (principal_id);

-- Power Platform connections. Non-secret parameter values are JSON; secret
-- values are sealed by the key ring, bound to the connection's identity.
CREATE TABLE connections (
    environment_id       TEXT NOT NULL REFERENCES environments (id),
    id                   TEXT NOT NULL,
    connector            TEXT NOT NULL,
    display_name         TEXT NOT NULL,
    parameter_set        TEXT NOT NULL,
    parameter_values     TEXT NOT NULL,
    sealed_secrets       BYTEA NOT NULL,
    target_group_id      TEXT,
    created_by_id        TEXT NOT NULL,
    created_by_type      TEXT NOT NULL,
    created_by_name      TEXT NOT NULL,
    created_at           BIGINT NOT NULL,
    modified_at          BIGINT NOT NULL,
    PRIMARY KEY (environment_id, id)
);
CREATE INDEX connections_by_target ON connections (target_group_id);

CREATE TABLE connection_permissions (
    environment_id   TEXT NOT NULL,
    connection_id    TEXT NOT NULL,
    principal_id     TEXT NOT NULL,
    principal_type   TEXT NOT NULL,
    role_name        TEXT NOT NULL,
    PRIMARY KEY (environment_id, connection_id, principal_id),
    FOREIGN KEY (environment_id, connection_id) REFERENCES connections (environment_id, id) ON DELETE CASCADE
);
CREATE INDEX connection_permissions_by_principal ON connection_permissions (principal_id);

-- Token signing keys, private halves sealed by the key ring. Shared by every
-- replica on one database; a key signs until retire_at and stays published
-- until expire_at (its last token's expiry).
CREATE TABLE signing_keys (
    kid             TEXT PRIMARY KEY,
    sealed_private  BYTEA NOT NULL,
    certificate     BYTEA NOT NULL,
    created_at      BIGINT NOT NULL,
    retire_at       BIGINT NOT NULL,
    expire_at       BIGINT NOT NULL
);

-- Client assertion ids already used, kept until the assertion expires.
CREATE TABLE seen_assertions (
    jti         TEXT PRIMARY KEY,
    expires_at  BIGINT NOT NULL
);
