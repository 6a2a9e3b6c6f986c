-- Azure subscriptions a tenant's principals see through ARM's
-- GET /subscriptions (the Azure CLI's sign-in lists them).
CREATE TABLE subscriptions (
    tenant_id     TEXT NOT NULL REFERENCES tenants (id),
    id            TEXT NOT NULL,
    display_name  TEXT NOT NULL,
    state         TEXT NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
