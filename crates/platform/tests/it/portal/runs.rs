//! Monitor › Desktop flow runs: the runs an administrator sees, each with
//! its status, machine and error; a maker sees only its own flows' runs.
//! A machine's page follows its heartbeat.

use reqwest::StatusCode;
use uuid::Uuid;

use super::{Visitor, css, env_path};
use crate::runs::{
    FIRST_PASSWORD, OFFLINE_GROUP, OPS, OPS_PASSWORD, RUN_GROUP, RunWorld, connection, deployed,
    run_to_end,
};
use crate::support::{PASSWORD, USER};

#[tokio::test]
async fn the_runs_page_lists_each_run_with_its_status_machine_and_error() {
    let world = RunWorld::new(FIRST_PASSWORD);
    let platform = world.start().await;
    let (token, flow, good) = deployed(&platform, RUN_GROUP).await;
    let offline = Uuid::new_v4().simple().to_string();
    connection(&platform, &offline, OFFLINE_GROUP, FIRST_PASSWORD).await;
    assert_eq!(
        run_to_end(&platform, &token, flow, &good).await["statuscode"],
        4
    );
    assert_eq!(
        run_to_end(&platform, &token, flow, &offline).await["statuscode"],
        8
    );

    let (mut ops, _) = Visitor::signed_in(&platform, OPS, OPS_PASSWORD).await;
    let page = ops.get(&env_path("/desktop-flow-runs")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.title().starts_with("Desktop flow runs"));
    assert_eq!(
        page.texts("nav.side a[aria-current=\"page\"] > span:last-child"),
        ["Desktop flow runs"],
        "the Monitor entry is current"
    );
    assert_eq!(page.count("[aria-current=\"page\"]"), 1);
    assert_eq!(
        page.texts("tbody td")
            .concat()
            .matches("Payroll export")
            .count(),
        2
    );
    // The newest first: the failed run is above the one that succeeded.
    assert_eq!(
        page.texts("tbody td > span.status"),
        ["Failed", "Succeeded"]
    );
    assert!(
        page.texts("tbody td small > code")
            .contains(&"NoListenerConnected".to_owned())
    );
    assert!(page.texts("tbody td a").contains(&"RUN-01".to_owned()));

    // RUN-01 beats; OFF-01 never has.
    let machines = ops.get(&env_path("/machines")).await;
    // The status in the row whose link names the machine.
    let status_of = |name: &str| -> Vec<String> {
        let doc = machines.doc();
        let row = doc
            .select(&css("tbody > tr"))
            .find(|tr| {
                tr.select(&css("td a"))
                    .any(|a| a.text().collect::<String>() == name)
            })
            .unwrap_or_else(|| panic!("no row for {name}: {}", machines.body));
        row.select(&css("td span.status"))
            .map(|e| e.text().collect())
            .collect()
    };
    assert_eq!(status_of("RUN-01"), ["Connected"], "{}", machines.body);
    assert_eq!(
        status_of("OFF-01"),
        ["Never connected"],
        "{}",
        machines.body
    );

    // A maker sees no run of the app's flows.
    let (mut maker, _) = Visitor::signed_in(&platform, USER, PASSWORD).await;
    let page = maker.get(&env_path("/desktop-flow-runs")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.text("main p.empty")
            .contains("No desktop flow has run here yet")
    );
    platform.shutdown().await.unwrap();
}
