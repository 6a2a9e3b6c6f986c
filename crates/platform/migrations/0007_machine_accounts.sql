-- The Windows accounts that can sign in on a machine, as the world declares
-- them (DESIGN.md 4.2): a connection to a group whose machines declare
-- accounts must name one of them, with its password (Argon2id here).
CREATE TABLE machine_accounts (
    machine_id     TEXT NOT NULL REFERENCES machines (id),
    username       TEXT NOT NULL,
    username_key   TEXT NOT NULL,
    password_hash  TEXT NOT NULL,
    PRIMARY KEY (machine_id, username_key)
);

-- Whether the machine answers (the world's `online = false`: it does not);
-- a connection whose target has machines but none online says so.
ALTER TABLE machines ADD COLUMN online BIGINT NOT NULL DEFAULT 1;
