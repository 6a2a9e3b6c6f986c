-- The Windows accounts that can sign in on a machine, as the world declares
-- them (DESIGN.md 4.2): a connection to a group whose machines declare
-- accounts must name one of them, with its password (Argon2id here).
CREATE TABLE machine_accounts (
    machine_id     TEXT NOT NULL REFERENCES machines (id),
    username       TEXT NOT NULL,
    username_key   TEXT NOT NULL,
    password_hash  TEXT NOT NULL,
    -- Moves on with each new password, so a connection can tell that the
    -- password it was written with is no longer the account's.
    version        BIGINT NOT NULL,
    PRIMARY KEY (machine_id, username_key)
);

-- The account a connection's credentials matched when it was written, and
-- that account's version then.
CREATE TABLE connection_credentials (
    environment_id  TEXT NOT NULL,
    connection_id   TEXT NOT NULL,
    machine_id      TEXT NOT NULL,
    username_key    TEXT NOT NULL,
    version         BIGINT NOT NULL,
    PRIMARY KEY (environment_id, connection_id)
);

-- Whether the machine answers (the world's `online = false`: it does not);
-- a connection whose target has machines but none online says so.
ALTER TABLE machines ADD COLUMN online BIGINT NOT NULL DEFAULT 1;
