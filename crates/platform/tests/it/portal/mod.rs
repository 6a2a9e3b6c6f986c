//! The portal over real HTTP. This module holds the world and a cookie-
//! keeping visitor; `pages` the seed's pages and their rules (signing in,
//! sessions, CSRF, Machines, the Share panel and what it lets the APIs do,
//! connections, the Flow Machine Group table); `layout` the look and flow
//! of the real portal (navigation, tabs, the side panel, confirmations,
//! paging, error pages inside the layout); `forms` the command bar, the
//! create and edit panels, and refused forms answered beside their fields.

mod accounts;
mod forms;
mod layout;
mod pages;
mod runs;
mod solutions;

use std::collections::HashMap;

use padconnect_client::{ClientCredential, Secret, TokenClient};
use padconnect_domain::encoding::hex;
use padconnect_domain::secrets::password_matches;
use padconnect_platform::{Platform, RunningPlatform};
use padconnect_store::RecordRef;
use padconnect_testkit::{
    App, Client, Environment, Group, Machine, StandaloneMachine, Tenant, World,
};
use reqwest::StatusCode;
use reqwest::header::{HOST, LOCATION, SET_COOKIE};
use scraper::{Html, Selector};
use serde_json::json;
use tempfile::TempDir;
use uuid::Uuid;

use crate::support::{ENV_HOST, ENVIRONMENT, OTHER_ENV, SECRET, SECRET_APP, TENANT_ID, config};

pub(super) const ADMIN: &str = "admin@contoso.onmicrosoft.com";
pub(super) const ADMIN_PASSWORD: &str = "admin-password-1";
pub(super) const MAKER: &str = "bob@contoso.onmicrosoft.com";
pub(super) const MAKER_PASSWORD: &str = "bob-password-1";
pub(super) const OUTSIDER: &str = "carol@contoso.onmicrosoft.com";
pub(super) const OUTSIDER_PASSWORD: &str = "carol-password-1";
pub(super) const GROUP: &str = "a4f1c3d2-0b9e-4f8a-9c7d-6e5f4a3b2c1d";
pub(super) const STANDALONE_GROUP: &str = "c6f3e5d4-2b1a-4f0c-9e7d-8a7f6e5d4c3b";

/// An administrator who owns "Finance bots" (shared with no one), a maker
/// who owns nothing, a user of the tenant who is in no environment, and the
/// deployment app with its application user.
pub(super) fn world() -> World {
    let contoso = Tenant::new(TENANT_ID, "contoso.onmicrosoft.com")
        .admin(ADMIN)
        .app(App::new("deploy-pipeline", SECRET_APP).secret(SECRET))
        .user(ADMIN, "Contoso Admin", ADMIN_PASSWORD)
        .user(MAKER, "Bob Maker", MAKER_PASSWORD)
        .user(OUTSIDER, "Carol Outsider", OUTSIDER_PASSWORD)
        .environment(
            Environment::new(ENVIRONMENT, "Contoso Production", "contoso")
                .application_user(SECRET_APP)
                .maker(ADMIN)
                .maker(MAKER)
                .group(
                    Group::new(GROUP, "Finance bots", ADMIN)
                        .machine(Machine::new("FIN-VM-01"))
                        .machine(Machine::new("FIN-VM-02")),
                )
                .machine(StandaloneMachine::new("HR-LAPTOP-07", ADMIN).group_id(STANDALONE_GROUP)),
        )
        .environment(Environment::new(OTHER_ENV, "Contoso Test", "contosotest").maker(ADMIN));
    World::new().tenant(contoso)
}

pub(super) async fn start() -> (RunningPlatform, TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let mut config = config(&dir.path().join("data"));
    config.world = Some(world().write_to(dir.path()));
    (Platform::start(config).await.unwrap(), dir)
}

/// A browser without a browser: keeps cookies, follows no redirect.
pub(super) struct Visitor {
    pub(super) http: reqwest::Client,
    pub(super) base: String,
    pub(super) host: Option<&'static str>,
    pub(super) cookies: HashMap<String, String>,
}

pub(super) struct Page {
    pub(super) status: StatusCode,
    pub(super) location: Option<String>,
    pub(super) set_cookies: Vec<String>,
    pub(super) headers: reqwest::header::HeaderMap,
    pub(super) body: String,
}

impl Page {
    /// The body, parsed as a browser would.
    pub(super) fn doc(&self) -> Html {
        Html::parse_document(&self.body)
    }

    /// The value of the first hidden `csrf` field.
    pub(super) fn csrf(&self) -> String {
        let token = self
            .attr("input[type=hidden][name=csrf]", "value")
            .expect("a form with a CSRF token");
        assert_eq!(token.len(), 64, "{token}");
        token
    }

    /// The text of every element `selector` matches, in document order.
    pub(super) fn texts(&self, selector: &str) -> Vec<String> {
        self.doc()
            .select(&css(selector))
            .map(|e| e.text().collect())
            .collect()
    }

    /// The text of the one element `selector` matches.
    pub(super) fn text(&self, selector: &str) -> String {
        let texts = self.texts(selector);
        assert_eq!(texts.len(), 1, "{selector}: {texts:?}\n{}", self.body);
        texts.into_iter().next().unwrap()
    }

    /// How many elements `selector` matches.
    pub(super) fn count(&self, selector: &str) -> usize {
        self.doc().select(&css(selector)).count()
    }

    /// Whether `selector` matches any element.
    pub(super) fn has(&self, selector: &str) -> bool {
        self.count(selector) > 0
    }

    /// Attribute `name` of the first element `selector` matches.
    pub(super) fn attr(&self, selector: &str, name: &str) -> Option<String> {
        self.doc()
            .select(&css(selector))
            .next()
            .and_then(|e| e.value().attr(name).map(str::to_owned))
    }

    /// The page's `<title>`.
    pub(super) fn title(&self) -> String {
        self.text("head > title")
    }

    /// Everything the page says in its body, as text.
    pub(super) fn body_text(&self) -> String {
        self.texts("body").concat()
    }
}

/// A CSS selector; a test's typo fails loudly.
pub(super) fn css(selector: &str) -> Selector {
    Selector::parse(selector).unwrap_or_else(|e| panic!("{selector}: {e}"))
}

impl Visitor {
    pub(super) fn new(platform: &RunningPlatform) -> Self {
        Self::with(padconnect_testkit::http_builder(), platform.url())
    }

    pub(super) fn with(http: reqwest::ClientBuilder, base: String) -> Self {
        Self {
            http: http
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            base,
            host: None,
            cookies: HashMap::new(),
        }
    }

    pub(super) fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    pub(super) async fn send(&mut self, request: reqwest::RequestBuilder) -> Page {
        let mut request = request.header("Cookie", self.cookie_header());
        if let Some(host) = self.host {
            request = request.header(HOST, host);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let set_cookies: Vec<String> = headers
            .get_all(SET_COOKIE)
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .collect();
        for cookie in &set_cookies {
            let pair = cookie.split(';').next().unwrap();
            let (name, value) = pair.split_once('=').unwrap();
            if value.is_empty() {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_owned(), value.to_owned());
            }
        }
        Page {
            status,
            location: headers
                .get(LOCATION)
                .map(|l| l.to_str().unwrap().to_owned()),
            set_cookies,
            headers,
            body: response.text().await.unwrap(),
        }
    }

    pub(super) async fn get(&mut self, path: &str) -> Page {
        let request = self.http.get(format!("{}{path}", self.base));
        self.send(request).await
    }

    pub(super) async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Page {
        let request = self.http.post(format!("{}{path}", self.base)).form(form);
        self.send(request).await
    }

    pub(super) async fn sign_in(&mut self, upn: &str, password: &str) -> Page {
        let form = self.get("/signin").await;
        assert_eq!(form.status, StatusCode::OK);
        let csrf = form.csrf();
        self.post(
            "/signin",
            &[
                ("upn", upn),
                ("password", password),
                ("csrf", &csrf),
                ("next", "/"),
            ],
        )
        .await
    }

    /// Signs in and returns the CSRF token of the signed-in pages.
    pub(super) async fn signed_in(
        platform: &RunningPlatform,
        upn: &str,
        password: &str,
    ) -> (Self, String) {
        let mut visitor = Self::new(platform);
        let done = visitor.sign_in(upn, password).await;
        assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
        let page = visitor.get("/environments").await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        let csrf = page.csrf();
        (visitor, csrf)
    }
}

pub(super) fn env_path(rest: &str) -> String {
    format!("/environments/{ENVIRONMENT}{rest}")
}

pub(super) async fn app_token(platform: &RunningPlatform) -> String {
    app_token_for(platform, "https://api.powerplatform.com/.default").await
}

pub(super) async fn app_token_for(platform: &RunningPlatform, scope: &str) -> String {
    TokenClient::new(padconnect_testkit::http(), &platform.url())
        .client_credentials(
            TENANT_ID,
            SECRET_APP,
            &ClientCredential::Secret(Secret::new(SECRET)),
            scope,
        )
        .await
        .unwrap()
        .token
}

/// The service principal reads the group through the Dataverse Web API.
pub(super) async fn dataverse_read_group(platform: &RunningPlatform) -> StatusCode {
    let token = app_token_for(platform, "https://contoso.crm.dynamics.com/.default").await;
    Client::new(platform.url())
        .host("contoso.crm.dynamics.com")
        .token(&token)
        .get(&format!("/api/data/v9.2/flowmachinegroups({GROUP})"))
        .await
        .status
}

/// The seed's PUT, as the service principal, to `group`.
pub(super) async fn put_connection(
    platform: &RunningPlatform,
    token: &str,
    group: &str,
) -> StatusCode {
    let id = Uuid::new_v4();
    let body = json!({"properties": {
        "environment": {"id": format!("/providers/Microsoft.PowerApps/environments/{ENVIRONMENT}"), "name": ENVIRONMENT},
        "connectionParametersSet": {"name": "azureRelay", "values": {
            "username": {"value": "CONTOSO\\svc-bot"},
            "password": {"value": "Wind0ws-P@ss"},
            "targetId": {"value": group}}}}});
    Client::new(platform.url())
        .host(ENV_HOST)
        .token(token)
        .put_json(
            &format!("/connectivity/connectors/shared_uiflow/connections/{id}?api-version=1"),
            &body,
        )
        .await
        .status
}

pub(super) async fn app_user_id(platform: &RunningPlatform) -> String {
    let env = ENVIRONMENT.parse().unwrap();
    let kind = padconnect_store::SystemUserKind::Application {
        client_id: SECRET_APP.parse().unwrap(),
    };
    let user = platform
        .store()
        .system_user_for(&env, kind)
        .await
        .unwrap()
        .unwrap();
    user.id.to_string()
}

/// A connection of the administrator's, written to the store as the API
/// would, with the given parameter set.
pub(super) async fn admins_connection(platform: &RunningPlatform, parameter_set: &str) -> String {
    use padconnect_store::{Connection, Principal, PrincipalType};
    let tenant = TENANT_ID.parse().unwrap();
    let admin = platform
        .store()
        .user_by_upn(tenant, ADMIN)
        .await
        .unwrap()
        .unwrap();
    let id: padconnect_core::ConnectionId = Uuid::new_v4().to_string().parse().unwrap();
    let now = platform.store().now();
    let connection = Connection {
        environment_id: ENVIRONMENT.parse().unwrap(),
        id,
        connector: padconnect_core::ConnectorName::uiflow(),
        display_name: format!("{parameter_set} connection"),
        parameter_set: padconnect_core::ParameterSet::parse(parameter_set).unwrap(),
        parameter_values: json!({"username": "CONTOSO\\svc-bot", "targetId": GROUP}),
        sealed_secrets: Vec::new(),
        target_group_id: Some(GROUP.parse().unwrap()),
        credential_id: None,
        created_by: Principal {
            id: admin.object_id,
            kind: PrincipalType::User,
            display_name: admin.display_name,
        },
        created_at: now,
        modified_at: now,
    };
    let mut tx = platform.store().begin().await.unwrap();
    assert!(tx.insert_connection(&connection).await.unwrap());
    tx.commit().await.unwrap();
    id.to_string()
}
