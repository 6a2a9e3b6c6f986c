//! Checking a world file's apps: their secrets, certificates and federated
//! identity credentials (`Checker`'s half that knows sign-in).

use padconnect_core::federation::TOKEN_EXCHANGE_AUDIENCE;

use super::*;

/// Microsoft Graph's limit on a federated identity credential's `issuer`,
/// `subject` and each audience: 600 characters (learn.microsoft.com,
/// graph/api/resources/federatedidentitycredential).
const FEDERATED_FIELD_MAX: usize = 600;

impl Checker<'_> {
    pub(super) fn app(&mut self, path: &str, tenant: Uuid, a: &AppSpec) -> Option<WorldApp> {
        let display_name = self.non_empty(&format!("{path}.display_name"), &a.display_name);
        let client_id = self.guid(&format!("{path}.client_id"), &a.client_id);
        let object_id = match &a.object_id {
            Some(value) => self.guid(&format!("{path}.object_id"), value),
            None => client_id
                .map(|c| derived_id(&["service-principal", &tenant.to_string(), &c.to_string()])),
        };
        let secrets = a
            .secrets
            .iter()
            .enumerate()
            .filter_map(|(i, s)| self.secret(&format!("{path}.secrets[{i}]"), s))
            .collect();
        let certificates = a
            .certificates
            .iter()
            .enumerate()
            .filter_map(|(i, file)| self.certificate(&format!("{path}.certificates[{i}]"), file))
            .collect();
        let federated_credentials = self.federated_credentials(
            &format!("{path}.federated_credentials"),
            &a.federated_credentials,
        );
        Some(WorldApp {
            client_id: client_id?,
            object_id: object_id?,
            display_name: display_name?,
            secrets,
            certificates,
            federated_credentials,
            public_client: a.public_client,
        })
    }

    fn secret(&mut self, path: &str, s: &SecretSpec) -> Option<WorldSecret> {
        if s.value.is_empty() {
            self.problem(path, "a secret must not be empty");
            return None;
        }
        let expires = match &s.expires {
            None => None,
            Some(text) => match OffsetDateTime::parse(text, &Rfc3339) {
                Ok(at) => Some(Timestamp::from_datetime(at)),
                Err(_) => {
                    self.problem(
                        &format!("{path}.expires"),
                        format!("'{text}' is not an RFC 3339 time (2027-01-01T00:00:00Z)"),
                    );
                    return None;
                }
            },
        };
        Some(WorldSecret {
            value: s.value.clone(),
            expires,
        })
    }

    fn certificate(&mut self, path: &str, file: &str) -> Option<Vec<u8>> {
        let full = self.base_dir.join(file);
        match CertificateDer::from_pem_file(&full) {
            Ok(der) => Some(der.as_ref().to_vec()),
            Err(e) => {
                self.problem(
                    path,
                    format!("cannot read a PEM certificate from {}: {e}", full.display()),
                );
                None
            }
        }
    }

    /// An app's federated credentials: a URL issuer, a subject, audiences
    /// (default `api://AzureADTokenExchange`); each issuer and subject pair
    /// once, as Graph requires.
    fn federated_credentials(
        &mut self,
        path: &str,
        specs: &[FederatedCredentialSpec],
    ) -> Vec<FederatedCredential> {
        let mut credentials: Vec<FederatedCredential> = Vec::new();
        for (i, spec) in specs.iter().enumerate() {
            let path = format!("{path}[{i}]");
            let issuer = self.federated_field(&format!("{path}.issuer"), &spec.issuer);
            if issuer.is_some_and(|issuer| !is_issuer_url(issuer)) {
                self.problem(
                    &format!("{path}.issuer"),
                    format!(
                        "'{}' is not an issuer URL: use https://... (http:// only for a loopback issuer)",
                        spec.issuer
                    ),
                );
                continue;
            }
            let subject = self.federated_field(&format!("{path}.subject"), &spec.subject);
            let audiences = match &spec.audiences {
                None => vec![TOKEN_EXCHANGE_AUDIENCE.to_owned()],
                Some(list) if list.is_empty() => {
                    self.problem(
                        &format!("{path}.audiences"),
                        "must name at least one audience",
                    );
                    continue;
                }
                Some(list) => list.clone(),
            };
            let bad_audience = audiences.iter().enumerate().any(|(j, audience)| {
                self.federated_field(&format!("{path}.audiences[{j}]"), audience)
                    .is_none()
            });
            let (Some(issuer), Some(subject), false) = (issuer, subject, bad_audience) else {
                continue;
            };
            if credentials
                .iter()
                .any(|c| c.issuer == issuer && c.subject == subject)
            {
                self.problem(
                    &path,
                    format!("issuer '{issuer}' with subject '{subject}' is declared twice"),
                );
                continue;
            }
            credentials.push(FederatedCredential {
                issuer: issuer.to_owned(),
                subject: subject.to_owned(),
                audiences,
            });
        }
        credentials
    }

    /// A field compared exactly by the token endpoint: not empty, no
    /// surrounding or control characters, at most Graph's 600 characters.
    fn federated_field<'v>(&mut self, path: &str, value: &'v str) -> Option<&'v str> {
        let problem = if value.is_empty() {
            "must not be empty"
        } else if value.trim() != value || value.chars().any(char::is_control) {
            "must not have surrounding spaces or control characters (it is compared exactly)"
        } else if value.chars().count() > FEDERATED_FIELD_MAX {
            "must be at most 600 characters"
        } else {
            return Some(value);
        };
        self.problem(path, problem);
        None
    }
}

/// `https://...`, or `http://` for a loopback host (a test issuer), as a
/// real issuer is HTTPS.
fn is_issuer_url(text: &str) -> bool {
    if let Some(rest) = text.strip_prefix("https://") {
        return !rest.is_empty() && !rest.starts_with('/');
    }
    let Some(rest) = text.strip_prefix("http://") else {
        return false;
    };
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    matches!(
        padconnect_core::host::strip_port(host),
        Some("localhost" | "127.0.0.1" | "::1")
    )
}
