-- Dataverse's solution tables, as far as an import and a deployment touch
-- them (docs/evidence/solution-import.md, section 3). Rows of a component
-- table are keyed by environment and id: a package carries the same
-- workflow id into every environment it is imported into.

-- A zip that StageSolution accepted, for ImportSolutionAsync to name by
-- its StageSolutionUploadId from any replica.
CREATE TABLE solution_uploads (
    id              TEXT PRIMARY KEY,
    environment_id  TEXT NOT NULL REFERENCES environments (id),
    zip             BYTEA NOT NULL,
    created_by      TEXT NOT NULL,
    created_on      BIGINT NOT NULL
);

CREATE TABLE solutions (
    environment_id           TEXT NOT NULL REFERENCES environments (id),
    id                       TEXT NOT NULL,
    unique_name              TEXT NOT NULL,
    friendly_name            TEXT NOT NULL,
    version                  TEXT NOT NULL,
    is_managed               BOOLEAN NOT NULL,
    publisher_unique_name    TEXT NOT NULL,
    publisher_friendly_name  TEXT NOT NULL,
    publisher_prefix         TEXT NOT NULL,
    installed_by             TEXT NOT NULL,
    installed_on             BIGINT NOT NULL,
    modified_on              BIGINT NOT NULL,
    versionnumber            BIGINT NOT NULL,
    PRIMARY KEY (environment_id, id)
);
CREATE UNIQUE INDEX solutions_by_name ON solutions (environment_id, unique_name);

CREATE TABLE connection_references (
    environment_id  TEXT NOT NULL REFERENCES environments (id),
    id              TEXT NOT NULL,
    solution_id     TEXT NOT NULL,
    logical_name    TEXT NOT NULL,
    display_name    TEXT NOT NULL,
    connector_id    TEXT NOT NULL,
    connection_id   TEXT,
    description     TEXT NOT NULL,
    owner_id        TEXT NOT NULL,
    modified_on     BIGINT NOT NULL,
    versionnumber   BIGINT NOT NULL,
    PRIMARY KEY (environment_id, id)
);
CREATE UNIQUE INDEX connection_references_by_name ON connection_references (environment_id, logical_name);

CREATE TABLE workflows (
    environment_id  TEXT NOT NULL REFERENCES environments (id),
    id              TEXT NOT NULL,
    solution_id     TEXT NOT NULL,
    name            TEXT NOT NULL,
    category        BIGINT NOT NULL,
    ui_flow_type    BIGINT,
    statecode       BIGINT NOT NULL,
    statuscode      BIGINT NOT NULL,
    client_data     TEXT,
    owner_id        TEXT NOT NULL,
    created_on      BIGINT NOT NULL,
    modified_on     BIGINT NOT NULL,
    versionnumber   BIGINT NOT NULL,
    PRIMARY KEY (environment_id, id)
);

CREATE TABLE environment_variable_definitions (
    environment_id  TEXT NOT NULL REFERENCES environments (id),
    id              TEXT NOT NULL,
    solution_id     TEXT NOT NULL,
    schema_name     TEXT NOT NULL,
    display_name    TEXT NOT NULL,
    variable_type   BIGINT NOT NULL,
    default_value   TEXT,
    is_required     BOOLEAN NOT NULL,
    api_id          TEXT,
    parameter_key   TEXT,
    modified_on     BIGINT NOT NULL,
    PRIMARY KEY (environment_id, id)
);
CREATE UNIQUE INDEX environment_variable_definitions_by_name ON environment_variable_definitions (environment_id, schema_name);

CREATE TABLE environment_variable_values (
    environment_id  TEXT NOT NULL REFERENCES environments (id),
    id              TEXT NOT NULL,
    definition_id   TEXT NOT NULL,
    schema_name     TEXT NOT NULL,
    value           TEXT NOT NULL,
    modified_on     BIGINT NOT NULL,
    PRIMARY KEY (environment_id, id)
);
CREATE UNIQUE INDEX environment_variable_values_by_definition ON environment_variable_values (environment_id, definition_id);

-- System jobs (asyncoperation). An import is one: `request` holds what
-- ImportSolutionAsync was asked (JSON), `result` what RetrieveSolutionImportResult
-- answers once it is done. It runs when `due_on` has passed, in one
-- transaction, on whichever replica touches it first.
CREATE TABLE async_operations (
    id                TEXT PRIMARY KEY,
    environment_id    TEXT NOT NULL REFERENCES environments (id),
    name              TEXT NOT NULL,
    message_name      TEXT NOT NULL,
    operation_type    BIGINT NOT NULL,
    statecode         BIGINT NOT NULL,
    statuscode        BIGINT NOT NULL,
    owner_id          TEXT NOT NULL,
    import_job_id     TEXT,
    request           TEXT NOT NULL,
    result            TEXT,
    message           TEXT,
    friendly_message  TEXT,
    error_code        BIGINT,
    created_on        BIGINT NOT NULL,
    started_on        BIGINT,
    completed_on      BIGINT,
    due_on            BIGINT NOT NULL
);
CREATE INDEX async_operations_pending ON async_operations (statecode, due_on);
CREATE UNIQUE INDEX async_operations_by_job ON async_operations (environment_id, import_job_id);

-- How long an environment's imports take (the world's import_seconds).
ALTER TABLE environments ADD COLUMN import_seconds BIGINT NOT NULL DEFAULT 0;
