//! A machine's Windows accounts in the portal: its owner gives one a new
//! password, and the connections written with the old one say so until
//! they are written again; a world reload with the same password changes
//! nothing.

use padconnect_platform::Platform;
use reqwest::StatusCode;

use super::Visitor;
use crate::connections::{app_token, call, connection_path};
use crate::support::*;
use crate::windows_accounts::{PAYROLL_GROUP, body, start};

#[tokio::test]
async fn a_new_account_password_turns_its_connections_to_error_until_they_are_updated() {
    let (platform, dir) = start().await;
    let token = app_token(&platform, SECRET_APP).await;
    let path = connection_path(&uuid::Uuid::new_v4().to_string());
    let put = async |platform: &padconnect_platform::RunningPlatform, password: &str| {
        let body = body(PAYROLL_GROUP, "FABRIKAM\\payroll-svc", password);
        call(
            platform,
            reqwest::Method::PUT,
            &path,
            Some(&token),
            Some(&body),
        )
        .await
    };
    let status = async |platform: &padconnect_platform::RunningPlatform| {
        let read = call(platform, reqwest::Method::GET, &path, Some(&token), None).await;
        read.body["properties"]["statuses"][0].clone()
    };
    assert!(put(&platform, "Payr0ll-Pass!").await.status.is_success());
    assert_eq!(status(&platform).await["status"], "Connected");

    let env = ENVIRONMENT.parse().unwrap();
    let machine = platform
        .store()
        .machine_named(&env, "PAY-01")
        .await
        .unwrap()
        .unwrap();
    let (mut owner, csrf) = Visitor::signed_in(&platform, USER, PASSWORD).await;
    let page = owner
        .get(&format!(
            "/environments/{ENVIRONMENT}/machines/{}",
            machine.id
        ))
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body_text().contains("FABRIKAM\\payroll-svc"),
        "{}",
        page.body
    );
    assert!(
        page.body_text().contains("Change account password"),
        "{}",
        page.body
    );
    let action = format!(
        "/environments/{ENVIRONMENT}/machines/{}/accounts/password",
        machine.id
    );
    let differ = owner
        .post(
            &action,
            &[
                ("username", "FABRIKAM\\payroll-svc"),
                ("password", "N3w-Pass!"),
                ("confirmation", "typo"),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(differ.status, StatusCode::BAD_REQUEST);
    // The panel again, the account kept, the message beside the confirmation.
    assert!(
        differ.has("[aria-invalid=\"true\"][aria-describedby=\"account-confirmation-error\"]"),
        "{}",
        differ.body
    );
    assert_eq!(
        differ.texts("div.panel select > option[selected]"),
        ["FABRIKAM\\payroll-svc"]
    );
    assert!(!differ.body.contains("N3w-Pass!"), "no password echoed");
    let unknown = owner
        .post(
            &action,
            &[
                ("username", "FABRIKAM\\nobody"),
                ("password", "N3w-Pass!"),
                ("confirmation", "N3w-Pass!"),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST, "{}", unknown.body);
    assert!(
        unknown.has("[aria-invalid=\"true\"][aria-describedby=\"account-error\"]"),
        "{}",
        unknown.body
    );
    assert_eq!(
        status(&platform).await["status"],
        "Connected",
        "refusals change nothing"
    );

    let changed = owner
        .post(
            &action,
            &[
                ("username", "FABRIKAM\\payroll-svc"),
                ("password", "N3w-Pass!"),
                ("confirmation", "N3w-Pass!"),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(changed.status, StatusCode::SEE_OTHER, "{}", changed.body);
    let after = status(&platform).await;
    assert_eq!(after["status"], "Error", "{after}");
    assert_eq!(after["error"]["code"], "MachineCredentialsChanged");
    // The old password is refused now, the new one brings it back.
    let old = put(&platform, "Payr0ll-Pass!").await;
    assert_eq!(
        old.body["error"]["code"], "ApiHubsRequestFailed",
        "{}",
        old.text
    );
    assert!(put(&platform, "N3w-Pass!").await.status.is_success());
    assert_eq!(status(&platform).await["status"], "Connected");

    // A restart reloads the world, whose password for the account is the
    // first one again: the world is the source, so the account's password
    // moves back, and the connection written with the portal's says so.
    platform.shutdown().await.unwrap();
    let restart = async || {
        let mut config = config(&dir.path().join("data"));
        config.world = Some(dir.path().join("world.toml"));
        Platform::start(config).await.unwrap()
    };
    let platform = restart().await;
    assert_eq!(status(&platform).await["status"], "Error");
    assert!(put(&platform, "Payr0ll-Pass!").await.status.is_success());
    // Reloading the same password again keeps the account as it was.
    platform.shutdown().await.unwrap();
    let platform = restart().await;
    assert_eq!(status(&platform).await["status"], "Connected");
    platform.shutdown().await.unwrap();
}
