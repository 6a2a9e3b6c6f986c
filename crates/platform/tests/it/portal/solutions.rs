//! Solutions in the portal: the list, and a solution's references and
//! flows with the reason an off flow stays off, as each viewer may see them.

use padconnect_solution::Version;
use serde_json::Value;
use uuid::Uuid;

use super::{
    ADMIN, ADMIN_PASSWORD, MAKER, MAKER_PASSWORD, Visitor, app_token_for, env_path, start,
};

#[tokio::test]
async fn solutions_show_their_references_and_why_a_flow_is_off() {
    let (platform, _dir) = start().await;
    let token = app_token_for(&platform, "https://contoso.crm.dynamics.com/.default").await;
    let cloud = Uuid::new_v4();
    let zip = crate::solutions::desktop_solution(Version::new(1, 2, 0, 0), cloud, Uuid::new_v4());
    let (job, _) = crate::solutions::import(&platform, &token, &zip, Value::Null).await;
    assert_eq!(job["statuscode"], 30, "{job}");

    let mut admin = Visitor::new(&platform);
    admin.sign_in(ADMIN, ADMIN_PASSWORD).await;
    let list = admin.get(&env_path("/solutions")).await;
    assert_eq!(list.status, 200, "{}", list.body);
    assert_eq!(
        list.texts("nav.side a[aria-current=\"page\"] > span:last-child"),
        ["Solutions"],
        "{}",
        list.body
    );
    let cells = list.texts("tbody td").concat();
    assert!(
        cells.contains("PayrollBot") && cells.contains("1.2.0.0"),
        "{}",
        list.body
    );
    let solution_id = platform
        .store()
        .solutions(&crate::support::ENVIRONMENT.parse().unwrap())
        .await
        .unwrap()[0]
        .id;
    let page = admin
        .get(&env_path(&format!("/solutions/{solution_id}")))
        .await;
    assert_eq!(page.status, 200, "{}", page.body);
    let cells = page.texts("tbody td").concat();
    assert!(cells.contains("new_sharedUiflow_5a1b2"), "{}", page.body);
    assert!(
        page.texts("tbody td > span.status.bad")
            .contains(&"No connection".to_owned()),
        "{}",
        page.body
    );
    assert!(cells.contains("Run payroll export"), "{}", page.body);
    assert!(
        cells.contains("XrmConnectionReferenceMissingConnection"),
        "{}",
        page.body
    );
    assert!(
        cells.contains(
            "Connection Id missing for connection reference logical name 'new_sharedUiflow_5a1b2'."
        ),
        "{}",
        page.body
    );

    // A maker sees the solution, not the app's flows.
    let mut maker = Visitor::new(&platform);
    maker.sign_in(MAKER, MAKER_PASSWORD).await;
    let page = maker
        .get(&env_path(&format!("/solutions/{solution_id}")))
        .await;
    assert_eq!(page.status, 200);
    assert!(
        page.body_text().contains("no flows you can see"),
        "{}",
        page.body
    );
    assert!(!page.body.contains("Run payroll export"), "{}", page.body);

    // An id of no solution is a 404 inside the layout.
    let missing = admin
        .get(&env_path(&format!("/solutions/{}", Uuid::new_v4())))
        .await;
    assert_eq!(missing.status, 404);
}
