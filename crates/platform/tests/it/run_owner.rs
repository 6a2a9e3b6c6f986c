//! `azureRelayRunOwner` connections: the run owner's certificate proven by a
//! PFX, secrets kept sealed, and sharing with service principals only.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use p12_keystore::{
    Certificate, EncryptionAlgorithm, KeyStore, KeyStoreEntry, PrivateKey, PrivateKeyChain,
};
use padconnect_platform::RunningPlatform;
use reqwest::{Method, StatusCode};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivatePkcs8KeyDer};
use serde_json::{Value, json};

use crate::connections::*;
use crate::support::*;

const PFX_PASSWORD: &str = "pfx-export-password";

/// A PFX of the certificate and key in `pem`, as Windows exports one.
fn pfx(pem: &str, password: &str) -> String {
    pfx_of(pem, pem, password)
}

/// A PFX of the certificate in one PEM and the key in another.
fn pfx_of(cert_pem: &str, key_pem: &str, password: &str) -> String {
    let cert = CertificateDer::from_pem_slice(cert_pem.as_bytes()).unwrap();
    let key = PrivatePkcs8KeyDer::from_pem_slice(key_pem.as_bytes()).unwrap();
    let chain = PrivateKeyChain::new(
        vec![1u8; 20],
        PrivateKey::from_der(key.secret_pkcs8_der()).unwrap(),
        [Certificate::from_der(cert.as_ref()).unwrap()],
    );
    let mut store = KeyStore::new();
    store.add_entry("run-owner", KeyStoreEntry::PrivateKeyChain(chain));
    STANDARD.encode(store.writer(password).write().unwrap())
}

/// A PFX as a caller may shape it: `iterations` for its encryption and its
/// MAC, and the run owner's key and certificate `copies` times.
fn costly_pfx(
    pem: &str,
    password: &str,
    (algorithm, iterations): (EncryptionAlgorithm, u32),
    copies: u8,
) -> String {
    let cert = CertificateDer::from_pem_slice(pem.as_bytes()).unwrap();
    let key = PrivatePkcs8KeyDer::from_pem_slice(pem.as_bytes()).unwrap();
    let mut store = KeyStore::new();
    for copy in 0..copies {
        let chain = PrivateKeyChain::new(
            vec![copy + 1; 20],
            PrivateKey::from_der(key.secret_pkcs8_der()).unwrap(),
            [Certificate::from_der(cert.as_ref()).unwrap()],
        );
        store.add_entry(
            &format!("run-owner-{copy}"),
            KeyStoreEntry::PrivateKeyChain(chain),
        );
    }
    let written = store
        .writer(password)
        .encryption_algorithm(algorithm)
        .encryption_iterations(iterations)
        .mac_iterations(iterations)
        .write()
        .unwrap();
    STANDARD.encode(written)
}

fn run_owner_body(group: &str, client_id: &str, pfx: &str, password: &str) -> Value {
    json!({
        "properties": {
            "environment": {"name": ENVIRONMENT},
            "connectionParametersSet": {
                "name": "azureRelayRunOwner",
                "values": {
                    "username": {"value": "CONTOSO\\svc-bot"},
                    "password": {"value": WINDOWS_PASSWORD},
                    "targetId": {"value": group},
                    "tokenRunOwnerCert:clientId": {"value": client_id},
                    "tokenRunOwnerCert:clientCertificateSecret": {"value": {"pfx": pfx, "password": password}}
                }
            }
        }
    })
}

fn object_id(token: &str) -> String {
    let payload = token.split('.').nth(1).unwrap();
    let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
    claims["oid"].as_str().unwrap().to_owned()
}

async fn put(platform: &RunningPlatform, token: &str, id: &str, body: &Value) -> Reply {
    call(
        platform,
        Method::PUT,
        &connection_path(id),
        Some(token),
        Some(body),
    )
    .await
}

#[tokio::test]
async fn a_run_owner_connection_needs_the_apps_registered_certificate() {
    let (platform, world) = start_identity(false).await;
    let token = app_token(&platform, SECRET_APP).await;
    let good_pfx = pfx(&world.cert_pem, PFX_PASSWORD);
    let id = uuid::Uuid::new_v4().to_string();

    let wrong_password = put(
        &platform,
        &token,
        &id,
        &run_owner_body(SHARED_GROUP, CERT_APP, &good_pfx, "not-the-password"),
    )
    .await;
    assert_error(
        &wrong_password,
        StatusCode::BAD_REQUEST,
        "InvalidParameterValue",
    );
    assert!(
        wrong_password.text.contains("cannot be opened"),
        "{}",
        wrong_password.text
    );
    let stranger = put(
        &platform,
        &token,
        &id,
        &run_owner_body(
            SHARED_GROUP,
            CERT_APP,
            &pfx(&world.stranger_pem, PFX_PASSWORD),
            PFX_PASSWORD,
        ),
    )
    .await;
    assert_error(&stranger, StatusCode::BAD_REQUEST, "InvalidParameterValue");
    assert!(
        stranger
            .text
            .contains("not registered for app 'cert-pipeline'"),
        "{}",
        stranger.text
    );
    let mismatched = put(
        &platform,
        &token,
        &id,
        &run_owner_body(
            SHARED_GROUP,
            CERT_APP,
            &pfx_of(&world.cert_pem, &world.stranger_pem, PFX_PASSWORD),
            PFX_PASSWORD,
        ),
    )
    .await;
    assert_error(
        &mismatched,
        StatusCode::BAD_REQUEST,
        "InvalidParameterValue",
    );
    assert!(
        mismatched.text.contains("does not belong"),
        "{}",
        mismatched.text
    );
    let no_certificate = put(
        &platform,
        &token,
        &id,
        &run_owner_body(SHARED_GROUP, LONELY_APP, &good_pfx, PFX_PASSWORD),
    )
    .await;
    assert_error(
        &no_certificate,
        StatusCode::BAD_REQUEST,
        "InvalidParameterValue",
    );
    assert!(
        no_certificate.text.contains("no certificate credential"),
        "{}",
        no_certificate.text
    );
    let unknown_app = put(
        &platform,
        &token,
        &id,
        &run_owner_body(
            SHARED_GROUP,
            "99999999-8888-4777-8666-555555555555",
            &good_pfx,
            PFX_PASSWORD,
        ),
    )
    .await;
    assert_error(
        &unknown_app,
        StatusCode::BAD_REQUEST,
        "InvalidParameterValue",
    );
    let not_base64 = put(
        &platform,
        &token,
        &id,
        &run_owner_body(SHARED_GROUP, CERT_APP, "%%%", PFX_PASSWORD),
    )
    .await;
    assert_error(
        &not_base64,
        StatusCode::BAD_REQUEST,
        "InvalidParameterValue",
    );
    let mut no_secret = run_owner_body(SHARED_GROUP, CERT_APP, &good_pfx, PFX_PASSWORD);
    no_secret["properties"]["connectionParametersSet"]["values"]
        .as_object_mut()
        .unwrap()
        .remove("tokenRunOwnerCert:clientCertificateSecret");
    let missing = put(&platform, &token, &id, &no_secret).await;
    assert_eq!(missing.status, StatusCode::BAD_REQUEST, "{}", missing.text);
    assert!(
        missing
            .text
            .contains("tokenRunOwnerCert:clientCertificateSecret")
    );
    let mut no_pfx_password = run_owner_body(SHARED_GROUP, CERT_APP, &good_pfx, PFX_PASSWORD);
    no_pfx_password["properties"]["connectionParametersSet"]["values"]
        ["tokenRunOwnerCert:clientCertificateSecret"]["value"]
        .as_object_mut()
        .unwrap()
        .remove("password");
    // No password is an empty one ("Can be left empty if null", the
    // run-owner doc); this PFX has a password, so it cannot be opened.
    let half = put(&platform, &token, &id, &no_pfx_password).await;
    assert_error(&half, StatusCode::BAD_REQUEST, "InvalidParameterValue");
    assert!(half.text.contains("cannot be opened"), "{}", half.text);
    // Nothing was stored by any of them.
    let nothing = call(
        &platform,
        Method::GET,
        &connection_path(&id),
        Some(&token),
        None,
    )
    .await;
    assert_error(&nothing, StatusCode::NOT_FOUND, "ConnectionNotFound");

    // A PFX exported without a password, sent with an empty one.
    let open_pfx = pfx(&world.cert_pem, "");
    let unprotected = put(
        &platform,
        &token,
        &uuid::Uuid::new_v4().to_string(),
        &run_owner_body(SHARED_GROUP, CERT_APP, &open_pfx, ""),
    )
    .await;
    assert_eq!(
        unprotected.status,
        StatusCode::CREATED,
        "{}",
        unprotected.text
    );

    let created = put(
        &platform,
        &token,
        &id,
        &run_owner_body(SHARED_GROUP, CERT_APP, &good_pfx, PFX_PASSWORD),
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let properties = &created.body["properties"];
    assert_eq!(
        properties["connectionParametersSet"]["name"],
        "azureRelayRunOwner"
    );
    assert_eq!(
        properties["connectionParametersSet"]["values"]["tokenRunOwnerCert:clientId"]["value"],
        CERT_APP
    );
    assert_eq!(properties["allowSharing"], true);
    assert_eq!(properties["statuses"][0]["status"], "Connected");
    for secret in [PFX_PASSWORD, WINDOWS_PASSWORD, &good_pfx[..40]] {
        assert!(!created.text.contains(secret), "a secret in the response");
    }
    let fetched = call(
        &platform,
        Method::GET,
        &connection_path(&id),
        Some(&token),
        None,
    )
    .await;
    assert!(!fetched.text.contains(PFX_PASSWORD) && !fetched.text.contains(&good_pfx[..40]));

    // The run owner cannot be removed by an update.
    let downgrade = put(
        &platform,
        &token,
        &id,
        &seed_body(ENVIRONMENT, SHARED_GROUP),
    )
    .await;
    assert_error(
        &downgrade,
        StatusCode::BAD_REQUEST,
        "ConnectionParameterSetChangeNotAllowed",
    );
    let again = put(
        &platform,
        &token,
        &id,
        &run_owner_body(SHARED_GROUP, CERT_APP, &good_pfx, PFX_PASSWORD),
    )
    .await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.text);
    platform.shutdown().await.unwrap();
}

#[tokio::test]
async fn run_owner_connections_are_shared_with_service_principals_only() {
    let (platform, world) = start_identity(false).await;
    let owner = app_token(&platform, SECRET_APP).await;
    let lonely = app_token(&platform, LONELY_APP).await;
    let lonely_oid = object_id(&lonely);
    let id = uuid::Uuid::new_v4().to_string();
    let created = put(
        &platform,
        &owner,
        &id,
        &run_owner_body(
            SHARED_GROUP,
            CERT_APP,
            &pfx(&world.cert_pem, PFX_PASSWORD),
            PFX_PASSWORD,
        ),
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let base = format!("/connectivity/connectors/shared_uiflow/connections/{id}");
    let modify = format!("{base}/modifyPermissions?api-version=1");
    let share = |principal: &str, kind: &str, role: &str| json!({"properties": {"roleName": role, "capabilities": [], "principal": {"id": principal, "type": kind, "tenantId": TENANT_ID}}});
    let post = |token: &str, body: Value| {
        let token = token.to_owned();
        let platform = &platform;
        let modify = modify.clone();
        async move { call(platform, Method::POST, &modify, Some(&token), Some(&body)).await }
    };

    let hidden = call(
        &platform,
        Method::GET,
        &connection_path(&id),
        Some(&lonely),
        None,
    )
    .await;
    assert_error(&hidden, StatusCode::NOT_FOUND, "ConnectionNotFound");

    // Each bad entry is refused, and a batch with one bad entry writes nothing.
    let user = post(
        &owner,
        json!({"put": [share(&lonely_oid, "User", "CanView")]}),
    )
    .await;
    assert_error(&user, StatusCode::BAD_REQUEST, "ConnectionNotShareable");
    let role = post(
        &owner,
        json!({"put": [share(&lonely_oid, "ServicePrincipal", "Owner")]}),
    )
    .await;
    assert_error(&role, StatusCode::BAD_REQUEST, "InvalidRoleName");
    let stranger = post(
        &owner,
        json!({"put": [share("12345678-1234-4234-8234-123456789012", "ServicePrincipal", "CanView")]}),
    )
    .await;
    assert_error(&stranger, StatusCode::BAD_REQUEST, "PrincipalNotFound");
    let client_id = post(
        &owner,
        json!({"put": [share(LONELY_APP, "ServicePrincipal", "CanView")]}),
    )
    .await;
    assert_error(&client_id, StatusCode::BAD_REQUEST, "PrincipalNotFound");
    let itself = post(
        &owner,
        json!({"put": [share(SECRET_APP_OID, "ServicePrincipal", "CanView")]}),
    )
    .await;
    assert_error(&itself, StatusCode::BAD_REQUEST, "InvalidPrincipal");
    let no_id = post(&owner, json!({"put": [{"properties": {"roleName": "CanView", "principal": {"type": "ServicePrincipal"}}}]})).await;
    assert_error(&no_id, StatusCode::BAD_REQUEST, "InvalidPrincipal");
    let mixed = post(
        &owner,
        json!({"put": [share(&lonely_oid, "ServicePrincipal", "CanView"), share(&lonely_oid, "Group", "CanView")]}),
    )
    .await;
    assert_error(&mixed, StatusCode::BAD_REQUEST, "ConnectionNotShareable");
    assert_error(
        &call(
            &platform,
            Method::GET,
            &connection_path(&id),
            Some(&lonely),
            None,
        )
        .await,
        StatusCode::NOT_FOUND,
        "ConnectionNotFound",
    );

    let shared = post(
        &owner,
        json!({"put": [share(&lonely_oid, "ServicePrincipal", "CanView")], "delete": []}),
    )
    .await;
    assert_eq!(shared.status, StatusCode::OK, "{}", shared.text);
    assert!(shared.text.is_empty());
    let permissions = call(
        &platform,
        Method::GET,
        &format!("{base}/permissions?api-version=1"),
        Some(&owner),
        None,
    )
    .await;
    let roles: Vec<(&str, &str)> = permissions.body["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["name"].as_str().unwrap(),
                p["properties"]["roleName"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        roles,
        [(SECRET_APP_OID, "Owner"), (lonely_oid.as_str(), "CanView")]
    );

    // The share sees and uses it, but may not share it on or change it.
    let seen = call(
        &platform,
        Method::GET,
        &connection_path(&id),
        Some(&lonely),
        None,
    )
    .await;
    assert_eq!(seen.status, StatusCode::OK, "{}", seen.text);
    let reshare = post(
        &lonely,
        json!({"put": [share(SECRET_APP_OID, "ServicePrincipal", "CanEdit")]}),
    )
    .await;
    assert_error(
        &reshare,
        StatusCode::FORBIDDEN,
        "ConnectionAuthorizationFailed",
    );

    let permission_id = permissions.body["value"][1]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let unshared = post(
        &owner,
        json!({"put": [], "delete": [{"id": permission_id}]}),
    )
    .await;
    assert_eq!(unshared.status, StatusCode::OK, "{}", unshared.text);
    assert_error(
        &call(
            &platform,
            Method::GET,
            &connection_path(&id),
            Some(&lonely),
            None,
        )
        .await,
        StatusCode::NOT_FOUND,
        "ConnectionNotFound",
    );
    let bad_delete = post(&owner, json!({"delete": [{"id": "everyone"}]})).await;
    assert_error(&bad_delete, StatusCode::BAD_REQUEST, "InvalidPrincipal");

    // A CanViewWithShare holder shares on, but not over a CanEdit holder.
    let editor = platform
        .store()
        .app(TENANT_ID.parse().unwrap(), CERT_APP.parse().unwrap())
        .await
        .unwrap()
        .unwrap()
        .object_id
        .to_string();
    let both = post(
        &owner,
        json!({"put": [share(&lonely_oid, "ServicePrincipal", "CanViewWithShare"), share(&editor, "ServicePrincipal", "CanEdit")]}),
    )
    .await;
    assert_eq!(both.status, StatusCode::OK, "{}", both.text);
    let demote = post(
        &lonely,
        json!({"put": [share(&editor, "ServicePrincipal", "CanView")]}),
    )
    .await;
    assert_error(
        &demote,
        StatusCode::FORBIDDEN,
        "ConnectionAuthorizationFailed",
    );
    let remove = post(&lonely, json!({"delete": [{"id": editor.clone()}]})).await;
    assert_error(
        &remove,
        StatusCode::FORBIDDEN,
        "ConnectionAuthorizationFailed",
    );
    let promote = post(
        &lonely,
        json!({"put": [share(&lonely_oid, "ServicePrincipal", "CanEdit")]}),
    )
    .await;
    assert_error(
        &promote,
        StatusCode::FORBIDDEN,
        "ConnectionAuthorizationFailed",
    );
    platform.shutdown().await.unwrap();
}

/// `powerplatform_connection_share`, call by call as the Terraform
/// provider's `api_connection.go` makes them (`ShareConnection`,
/// `GetConnectionShares`, `UpdateConnectionShare`, `DeleteConnectionShare`):
/// its `$filter`, its `Content-Type` on every method, its bodies (principal
/// `tenantId` null, `NotifyShareTargetOption` "Notify", empty `delete`),
/// its expected 200s; the shares list in the recorded shape, each principal
/// with the display name the provider requires.
#[tokio::test]
async fn the_terraform_providers_share_calls_replayed() {
    let (platform, world) = start_identity(false).await;
    let owner = app_token(&platform, SECRET_APP).await;
    let lonely_oid = object_id(&app_token(&platform, LONELY_APP).await);
    let id = uuid::Uuid::new_v4().simple().to_string();
    let body = run_owner_body(
        SHARED_GROUP,
        CERT_APP,
        &pfx(&world.cert_pem, PFX_PASSWORD),
        PFX_PASSWORD,
    );
    let created = put(&platform, &owner, &id, &body).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let filter = format!("api-version=1&%24filter=environment+eq+%27{ENVIRONMENT}%27");
    let base = format!("/connectivity/connectors/shared_uiflow/connections/{id}");
    let send = async |method: Method, path: &str, body: Option<Value>| {
        let bytes = body.map(|b| b.to_string().into_bytes());
        call_raw(&platform, method, ENV_HOST, path, Some(&owner), bytes).await
    };
    let share = |role: &str| {
        json!({
            "put": [{"properties": {
                "roleName": role,
                "capabilities": [],
                "principal": {"id": lonely_oid, "type": "ServicePrincipal", "tenantId": null},
                "NotifyShareTargetOption": "Notify",
            }}],
            "delete": [],
        })
    };
    let modify = format!("{base}/modifyPermissions?{filter}");
    let shared = send(Method::POST, &modify, Some(share("CanView"))).await;
    assert_eq!(shared.status, StatusCode::OK, "{}", shared.text);

    let permissions = format!("{base}/permissions?{filter}");
    let listed = send(Method::GET, &permissions, None).await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.text);
    let recorded: Value = serde_json::from_str(
        &std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/it/fixtures/terraform_connection/get_connection_shares.json"),
        )
        .unwrap(),
    )
    .unwrap();
    crate::solutions::assert_shape(&listed.body, &recorded, "permissions");
    let grantee = |body: &Value| -> Value {
        body["value"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["properties"]["principal"]["id"] == lonely_oid.as_str())
            .cloned()
            .unwrap_or(Value::Null)
    };
    let entry = grantee(&listed.body);
    assert_eq!(
        entry["properties"]["roleName"], "CanView",
        "{}",
        listed.text
    );
    assert!(
        entry["properties"]["principal"]["displayName"]
            .as_str()
            .is_some_and(|n| !n.is_empty())
    );

    let updated = send(Method::POST, &modify, Some(share("CanViewWithShare"))).await;
    assert_eq!(updated.status, StatusCode::OK, "{}", updated.text);
    let listed = send(Method::GET, &permissions, None).await;
    assert_eq!(
        grantee(&listed.body)["properties"]["roleName"],
        "CanViewWithShare"
    );

    let share_id = entry["name"].as_str().unwrap();
    let delete = json!({
        "put": [],
        "delete": [{"id": format!("/providers/Microsoft.PowerApps/apis/shared_uiflow/connections/{id}/permissions/{share_id}")}],
    });
    let removed = send(Method::POST, &modify, Some(delete)).await;
    assert_eq!(removed.status, StatusCode::OK, "{}", removed.text);
    let listed = send(Method::GET, &permissions, None).await;
    assert!(grantee(&listed.body).is_null(), "{}", listed.text);
    platform.shutdown().await.unwrap();
}

/// The probe's costly PFX shapes, sent at once, are refused before any
/// costly decryption (iterations above what Windows, OpenSSL and Java
/// write, and many password-protected items), each saying what to do; PFX
/// files as those tools write them (AES-256 with PBKDF2, and the legacy
/// 3DES) still pass, and a sign-in sent meanwhile is answered.
#[tokio::test]
async fn costly_pfx_shapes_are_refused_before_they_are_opened() {
    const AES: EncryptionAlgorithm = EncryptionAlgorithm::PbeWithHmacSha256AndAes256;
    const TRIPLE_DES: EncryptionAlgorithm = EncryptionAlgorithm::PbeWithShaAnd3KeyTripleDesCbc;
    let (platform, world) = start_identity(false).await;
    let token = app_token(&platform, SECRET_APP).await;
    let shapes = [
        (
            costly_pfx(&world.cert_pem, PFX_PASSWORD, (AES, 150_000), 1),
            "key-derivation iterations",
        ),
        (
            costly_pfx(&world.cert_pem, PFX_PASSWORD, (AES, 2_048), 5),
            "password-protected items",
        ),
    ];
    let puts = shapes.iter().flat_map(|(pfx, _)| {
        let body = run_owner_body(SHARED_GROUP, CERT_APP, pfx, PFX_PASSWORD);
        let (platform, token) = (&platform, &token);
        (0..3).map(move |_| {
            let body = body.clone();
            async move { put(platform, token, &uuid::Uuid::new_v4().to_string(), &body).await }
        })
    });
    let (replies, signed_in) = tokio::join!(
        futures::future::join_all(puts),
        app_token(&platform, SECRET_APP)
    );
    assert!(!signed_in.is_empty());
    for (reply, (_, why)) in replies.iter().zip(shapes.iter().flat_map(|s| [s, s, s])) {
        assert_error(reply, StatusCode::BAD_REQUEST, "InvalidParameterValue");
        assert!(reply.text.contains(why), "{why}: {}", reply.text);
    }
    for usual in [(AES, 2_048), (TRIPLE_DES, 2_000)] {
        let body = run_owner_body(
            SHARED_GROUP,
            CERT_APP,
            &costly_pfx(&world.cert_pem, PFX_PASSWORD, usual, 1),
            PFX_PASSWORD,
        );
        let reply = put(&platform, &token, &uuid::Uuid::new_v4().to_string(), &body).await;
        assert!(reply.status.is_success(), "{usual:?}: {}", reply.text);
    }
}
