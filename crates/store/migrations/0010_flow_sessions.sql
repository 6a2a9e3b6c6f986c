-- Desktop flow runs (Dataverse's `flowsession` table) and what the
-- simulated machines need to run them (the world file's machine settings, README "Runs").

-- How a machine behaves when it runs a flow, as the world declares it:
-- how long a run takes, a code every run on it fails with, and the
-- Windows "Account lockout threshold" (0: never; 10 is Windows 11's default).
ALTER TABLE machines ADD COLUMN run_seconds BIGINT NOT NULL DEFAULT 1;
ALTER TABLE machines ADD COLUMN fail_with TEXT;
ALTER TABLE machines ADD COLUMN lockout_threshold BIGINT NOT NULL DEFAULT 10;

-- An account's logon right on the machine (KB 5021230), whether its user
-- is signed in there (attended runs need it, unattended ones refuse it),
-- and the bad sign-ins counted towards its lockout.
ALTER TABLE machine_accounts ADD COLUMN can_log_on BIGINT NOT NULL DEFAULT 1;
ALTER TABLE machine_accounts ADD COLUMN signed_in BIGINT NOT NULL DEFAULT 0;
ALTER TABLE machine_accounts ADD COLUMN failed_logons BIGINT NOT NULL DEFAULT 0;
ALTER TABLE machine_accounts ADD COLUMN locked_until BIGINT;

CREATE TABLE flow_sessions (
    id                    TEXT PRIMARY KEY,
    environment_id        TEXT NOT NULL REFERENCES environments (id),
    workflow_id           TEXT NOT NULL,
    name                  TEXT NOT NULL,
    owner_id              TEXT NOT NULL,
    connection_id         TEXT NOT NULL,
    -- The connection reference's logical name when the run named one.
    connection_reference  TEXT,
    machine_group_id      TEXT NOT NULL,
    machine_id            TEXT,
    run_mode              BIGINT NOT NULL,
    priority              TEXT NOT NULL,
    timeout_seconds       BIGINT NOT NULL,
    inputs                TEXT,
    outputs               TEXT,
    callback_url          TEXT,
    statuscode            BIGINT NOT NULL,
    error_code            TEXT,
    error_message         TEXT,
    created_on            BIGINT NOT NULL,
    started_on            BIGINT,
    completed_on          BIGINT,
    modified_on           BIGINT NOT NULL,
    -- When the runner looks at it next; NULL once it is over.
    due_on                BIGINT,
    versionnumber         BIGINT NOT NULL
);
CREATE INDEX flow_sessions_due ON flow_sessions (due_on);
CREATE INDEX flow_sessions_by_connection ON flow_sessions (environment_id, connection_id, created_on);
CREATE INDEX flow_sessions_by_group ON flow_sessions (machine_group_id, statuscode);
CREATE INDEX flow_sessions_by_environment ON flow_sessions (environment_id, created_on);
