-- An app's federated identity credentials (Entra's workload identity
-- federation, Microsoft Graph `federatedIdentityCredential`): a JWT from
-- `issuer` whose `sub` is `subject` and whose `aud` holds one of
-- `audiences` (a JSON array) signs the app in instead of a secret.
CREATE TABLE app_federated_credentials (
    tenant_id   TEXT NOT NULL,
    client_id   TEXT NOT NULL,
    issuer      TEXT NOT NULL,
    subject     TEXT NOT NULL,
    audiences   TEXT NOT NULL,
    PRIMARY KEY (tenant_id, client_id, issuer, subject),
    FOREIGN KEY (tenant_id, client_id) REFERENCES apps (tenant_id, client_id)
);
