-- Entra's "Allow public client flows": an app that may use the password
-- grant without a secret or certificate of its own. Without it, a password
-- grant must carry the app's credential (AADSTS7000218).
ALTER TABLE apps ADD COLUMN public_client BOOLEAN NOT NULL DEFAULT FALSE;
