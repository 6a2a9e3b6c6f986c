//! The token endpoint's rules: which grant, which client, which credential,
//! which resource; then the token.

use std::collections::HashMap;
use std::net::SocketAddr;

use axum::http::StatusCode;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use uuid::Uuid;

use super::{AadError, assertion};
use crate::auth::{
    AccessClaims, POWER_PLATFORM_APP_ID, POWER_PLATFORM_AUDIENCE, TOKEN_LIFETIME_SECS,
    dataverse_org_of, issuer,
};
use crate::origin::RequestOrigin;
use crate::state::AppState;
use padconnect_domain::secrets;
use padconnect_domain::sign_in::{self, Refusal};
use padconnect_store::{App, AppSecret, Tenant, Timestamp};

pub const CLIENT_ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/// OpenID scopes MSAL adds to user flows; they name no resource.
const RESERVED_SCOPES: [&str; 4] = ["openid", "profile", "offline_access", "email"];

/// Which of Entra's token endpoints was called (and which version of its
/// OpenID document); the route table names it on each route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    /// `/{tenant}/oauth2/token`: the resource is named by `resource`.
    V1,
    /// `/{tenant}/oauth2/v2.0/token`: the resource is named by `scope`.
    V2,
}

pub struct TokenRequest {
    pub endpoint: Endpoint,
    pub form: HashMap<String, String>,
    pub tenant: Tenant,
    /// The tenant as the path named it (GUID or domain).
    pub tenant_segment: String,
    pub origin: RequestOrigin,
    /// The local address of the connection the request came in on, when
    /// it came through the listener (not a CONNECT tunnel).
    pub served: Option<SocketAddr>,
}

impl TokenRequest {
    fn param(&self, name: &str) -> Option<&str> {
        self.form
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    fn required(&self, name: &str) -> Result<&str, AadError> {
        self.param(name).ok_or_else(|| AadError::missing(name))
    }
}

/// A signed token and what the endpoints say of it.
pub struct Issued {
    pub access_token: String,
    /// The token's `aud`: on v1, the resource as the client named it.
    pub resource: String,
    pub not_before: i64,
    pub expires_on: i64,
}

pub async fn issue(state: &AppState, request: &TokenRequest) -> Result<Issued, AadError> {
    let grant_type = request.required("grant_type")?;
    let grant = match grant_type {
        "client_credentials" => client_credentials(state, request).await?,
        "password" => password(state, request).await?,
        other => {
            return Err(AadError::new(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                70003,
                format!(
                    "The app requested an unsupported grant type '{other}'. Supported: client_credentials, password."
                ),
            ));
        }
    };
    let mut uti = [0u8; 16];
    aws_lc_rs::rand::fill(&mut uti)
        .map_err(|_| AadError::internal("the system random source failed".into()))?;
    let claims = claims(state.store.now(), &request.tenant, grant, uti);
    Ok(Issued {
        access_token: state
            .signing
            .sign(&claims)
            .map_err(|e| AadError::internal(e.to_string()))?,
        not_before: claims.nbf,
        expires_on: claims.exp,
        resource: claims.aud,
    })
}

async fn client_credentials(state: &AppState, request: &TokenRequest) -> Result<Grant, AadError> {
    let app = client(state, request).await?;
    let asked = requested_resource(request)?;
    let acr = authenticate(state, request, &app, true).await?;
    let resource = resource_of(state, &request.tenant, asked, ScopeRule::DefaultOnly).await?;
    Ok(Grant {
        subject: Subject::App(app.object_id),
        app,
        acr,
        audience: resource.audience,
    })
}

async fn password(state: &AppState, request: &TokenRequest) -> Result<Grant, AadError> {
    let app = client(state, request).await?;
    let username = request.required("username")?;
    let password = request.required("password")?;
    let asked = requested_resource(request)?;
    // A confidential client authenticates too (AADSTS7000218 without its
    // credential); only an app that allows public client flows need not.
    let acr = authenticate(state, request, &app, !app.public_client).await?;
    let user = match sign_in::check_password(
        &state.store,
        &state.sign_ins,
        request.tenant.id,
        username,
        password,
    )
    .await?
    {
        Ok(user) => user,
        Err(Refusal::Locked(wait)) => return Err(locked(wait)),
        Err(Refusal::BadCredentials) => {
            return Err(AadError::new(
                StatusCode::BAD_REQUEST,
                "invalid_grant",
                50126,
                "Error validating credentials due to invalid username or password.",
            ));
        }
    };
    let resource = resource_of(state, &request.tenant, asked, ScopeRule::Delegated).await?;
    let subject = Subject::User {
        object_id: user.object_id,
        upn: user.upn,
        name: user.display_name,
        scp: resource.scp,
    };
    Ok(Grant {
        app,
        acr,
        audience: resource.audience,
        subject,
    })
}

/// The app named by `client_id` in the tenant.
async fn client(state: &AppState, request: &TokenRequest) -> Result<App, AadError> {
    let client_id = request.required("client_id")?;
    let not_found = || {
        AadError::new(
            StatusCode::BAD_REQUEST,
            "unauthorized_client",
            700016,
            format!(
                "Application with identifier '{client_id}' was not found in the directory '{}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.",
                request.tenant.domain
            ),
        )
    };
    let id = Uuid::try_parse(client_id).map_err(|_| not_found())?;
    let client = state
        .directory
        .client(&state.store, request.tenant.id, id, false)
        .await?;
    client.map(|c| c.app.clone()).ok_or_else(not_found)
}

/// Checks the client's secret or certificate assertion; returns `appidacr`.
async fn authenticate(
    state: &AppState,
    request: &TokenRequest,
    app: &App,
    required: bool,
) -> Result<&'static str, AadError> {
    match (
        request.param("client_secret"),
        request.param("client_assertion"),
    ) {
        (Some(secret), None) => check_secret(state, app, secret).await.map(|()| "1"),
        (None, Some(jwt)) => {
            match request.param("client_assertion_type") {
                Some(CLIENT_ASSERTION_TYPE) => {}
                Some(other) => {
                    return Err(assertion::invalid(format!(
                        "client_assertion_type '{other}' is not supported; use '{CLIENT_ASSERTION_TYPE}'."
                    )));
                }
                None => return Err(AadError::missing("client_assertion_type")),
            }
            assertion::verify(state, request, app, jwt)
                .await
                .map(|()| "2")
        }
        (Some(_), Some(_)) => Err(AadError::new(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            9002313,
            "Send either client_secret or client_assertion, not both.",
        )),
        (None, None) if !required => Ok("0"),
        (None, None) => Err(AadError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            7000218,
            "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
        )),
    }
}

/// The app's secrets that `secret` hashes to.
async fn matching_secrets(
    state: &AppState,
    app: &App,
    secret: &str,
    fresh: bool,
) -> Result<Vec<AppSecret>, AadError> {
    let client = state
        .directory
        .client(&state.store, app.tenant_id, app.client_id, fresh)
        .await?;
    Ok(client
        .map(|c| {
            c.secrets
                .iter()
                .filter(|s| secrets::client_secret_matches(&state.keyring, secret, &s.hash))
                .cloned()
                .collect()
        })
        .unwrap_or_default())
}

/// AADSTS50053, Entra's smart lockout answer (wording as MSAL's own test
/// logs show it: AzureAD/microsoft-authentication-library-for-python#211).
fn locked(wait: std::time::Duration) -> AadError {
    AadError::new(
        StatusCode::BAD_REQUEST,
        "invalid_grant",
        50053,
        "The account is locked, you've tried to sign in too many times with an incorrect user ID or password.",
    )
    .with_retry_after(wait.as_secs().max(1))
}

async fn check_secret(state: &AppState, app: &App, secret: &str) -> Result<(), AadError> {
    let client = format!("{}/{}", app.tenant_id, app.client_id);
    if let Some(wait) = state.sign_ins.throttled_for(&client) {
        return Err(AadError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "temporarily_unavailable",
            90055,
            format!(
                "There are too many incoming requests: app '{}' sent too many wrong client secrets. Try again after the Retry-After delay.",
                app.client_id
            ),
        )
        .with_retry_after(wait.as_secs().max(1)));
    }
    // A secret added on another replica is not cached yet: look again.
    let mut matching = matching_secrets(state, app, secret, false).await?;
    if matching.is_empty() {
        matching = matching_secrets(state, app, secret, true).await?;
    }
    if matching.is_empty() {
        state.sign_ins.secret_failed(&client);
        return Err(AadError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            7000215,
            format!(
                "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '{}'.",
                app.client_id
            ),
        ));
    }
    let now = state.store.now();
    if matching
        .iter()
        .all(|s| s.expires_at.is_some_and(|at| at <= now))
    {
        return Err(AadError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            7000222,
            format!(
                "The provided client secret keys for app '{}' are expired.",
                app.client_id
            ),
        ));
    }
    Ok(())
}

/// What the client asked a token for, as its endpoint names it.
#[derive(Clone, Copy)]
enum Asked<'a> {
    /// v2's `scope`: `{resource}/.default` or named scopes of one resource.
    Scope(&'a str),
    /// v1's `resource`: the resource's URI or app id, alone.
    Resource(&'a str),
}

/// v1 reads `resource` (and ignores the `scope=openid` ADAL sends with it);
/// v2 reads `scope` and refuses `resource` with AADSTS901002, as Entra does.
fn requested_resource(request: &TokenRequest) -> Result<Asked<'_>, AadError> {
    match request.endpoint {
        Endpoint::V1 => request.required("resource").map(Asked::Resource),
        Endpoint::V2 if request.param("resource").is_some() => Err(AadError::new(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            901002,
            "The 'resource' request parameter is not supported. Ask for {resource}/.default in 'scope', or call the v1 endpoint /oauth2/token.",
        )),
        Endpoint::V2 => request.required("scope").map(Asked::Scope),
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum ScopeRule {
    /// Client credentials: `{resource}/.default` only.
    DefaultOnly,
    /// A user's token: `/.default` or named delegated scopes.
    Delegated,
}

struct Resource {
    audience: String,
    /// Delegated scopes granted (`user_impersonation` for `/.default`).
    scp: String,
}

/// The one resource a request asks for. A v1 `resource` is taken whole, and
/// its token's `aud` is the resource exactly as sent, trailing slash and all
/// (AzureAD/azure-activedirectory-library-for-python#60: ADAL does not
/// normalise it, and the v1 `aud` "can be the client ID or the resource URI
/// used in the request", Microsoft's access-token reference).
async fn resource_of(
    state: &AppState,
    tenant: &Tenant,
    asked: Asked<'_>,
    rule: ScopeRule,
) -> Result<Resource, AadError> {
    let scope = match asked {
        Asked::Scope(scope) => scope,
        Asked::Resource(resource) => {
            let canonical = audience_of(state, tenant, resource.trim_end_matches('/')).await?;
            // An app id names the resource; its token carries the URI.
            let audience = match Uuid::try_parse(resource) {
                Ok(_) => canonical,
                Err(_) => resource.to_owned(),
            };
            return Ok(Resource {
                audience,
                scp: "user_impersonation".to_owned(),
            });
        }
    };
    let invalid = |code, message: String| {
        AadError::new(StatusCode::BAD_REQUEST, "invalid_scope", code, message)
    };
    let scopes: Vec<&str> = scope
        .split_whitespace()
        .filter(|s| !RESERVED_SCOPES.contains(s))
        .collect();
    let mut resources = Vec::new();
    let mut names = Vec::new();
    for s in &scopes {
        let Some((resource, name)) = s.rsplit_once('/') else {
            return Err(match rule {
                ScopeRule::DefaultOnly => invalid(1002012, default_only_message(scope)),
                ScopeRule::Delegated => invalid(70011, invalid_scope_message(scope)),
            });
        };
        if rule == ScopeRule::DefaultOnly && name != ".default" {
            return Err(invalid(1002012, default_only_message(scope)));
        }
        resources.push(resource.trim_end_matches('/'));
        names.push(if name == ".default" {
            "user_impersonation"
        } else {
            name
        });
    }
    resources.dedup();
    match resources.as_slice() {
        [] => Err(invalid(70011, invalid_scope_message(scope))),
        [resource] => Ok(Resource {
            audience: audience_of(state, tenant, resource).await?,
            scp: names.join(" "),
        }),
        _ => Err(invalid(
            700022,
            format!(
                "The provided value for the input parameter scope is not valid because it contains more than one resource. Scope {scope} is not valid."
            ),
        )),
    }
}

fn default_only_message(scope: &str) -> String {
    format!(
        "The provided value for scope {scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI)."
    )
}

fn invalid_scope_message(scope: &str) -> String {
    format!(
        "The provided value for the input parameter 'scope' is not valid. The scope {scope} is not valid."
    )
}

/// The `aud` of a token for `resource` (with no trailing slash): the Power
/// Platform API (by URL or app id), Azure Resource Manager, or the Dataverse of one of the tenant's orgs, named by its cloud
/// URL or by a platform URL (`.../orgs/{org}`), kept as asked (a v1 token's
/// audience is its resource URI).
async fn audience_of(
    state: &AppState,
    tenant: &Tenant,
    resource: &str,
) -> Result<String, AadError> {
    if resource == POWER_PLATFORM_APP_ID {
        return Ok(POWER_PLATFORM_AUDIENCE.to_owned());
    }
    // Every cloud's Power Platform API, its token for the resource asked.
    if crate::auth::is_power_platform_resource(resource) {
        return Ok(resource.to_owned());
    }
    // ARM's tokens carry the slash the Azure CLI's scope keeps
    // (`https://management.core.windows.net//.default`).
    // BAP's too: `https://service.powerapps.com/.default` gives
    // `aud: https://service.powerapps.com/`.
    if padconnect_core::host::is_arm_audience(resource) || crate::auth::is_bap_resource(resource) {
        return Ok(format!("{resource}/"));
    }
    let not_found = || {
        AadError::new(
            StatusCode::BAD_REQUEST,
            "invalid_resource",
            500011,
            format!(
                "The resource principal named {resource} was not found in the tenant named {}. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.",
                tenant.domain
            ),
        )
    };
    let org = dataverse_org_of(resource).ok_or_else(not_found)?;
    let environment = state
        .directory
        .environment_by_org(&state.store, &org)
        .await?;
    match environment {
        Some(env) if env.tenant_id == tenant.id => Ok(resource.to_owned()),
        _ => Err(not_found()),
    }
}

/// What a grant established: the token's claims but for its times.
struct Grant {
    app: App,
    /// How the app authenticated (`appidacr`).
    acr: &'static str,
    audience: String,
    subject: Subject,
}

enum Subject {
    App(Uuid),
    User {
        object_id: Uuid,
        upn: String,
        name: String,
        scp: String,
    },
}

/// The token's claims; `uti`, the token's own id, is drawn by the caller.
fn claims(now: Timestamp, tenant: &Tenant, grant: Grant, uti: [u8; 16]) -> AccessClaims {
    let Grant {
        app,
        acr,
        audience,
        subject,
    } = grant;
    let now = now.unix_seconds();
    let iss = issuer(tenant.id);
    let base = |oid: Uuid, idtyp: &str| AccessClaims {
        aud: audience.clone(),
        iss: iss.clone(),
        iat: now,
        nbf: now,
        exp: now + TOKEN_LIFETIME_SECS,
        appid: app.client_id,
        appidacr: acr.to_owned(),
        idp: iss.clone(),
        idtyp: idtyp.to_owned(),
        oid,
        sub: oid.to_string(),
        tid: tenant.id,
        uti: URL_SAFE_NO_PAD.encode(uti),
        ver: "1.0".to_owned(),
        upn: None,
        unique_name: None,
        name: None,
        scp: None,
    };
    match subject {
        Subject::App(oid) => base(oid, "app"),
        Subject::User {
            object_id,
            upn,
            name,
            scp,
        } => AccessClaims {
            upn: Some(upn.clone()),
            unique_name: Some(upn),
            name: Some(name),
            scp: Some(scp),
            ..base(object_id, "user")
        },
    }
}
