//! Monitor › Desktop flow runs: the runs an administrator sees, each with
//! its status, machine and error; a maker sees only its own flows' runs.
//! A machine's page follows its heartbeat.

use reqwest::StatusCode;
use uuid::Uuid;

use super::{Visitor, env_path};
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
    assert!(page.body.contains("<title>Desktop flow runs"));
    let current = page.body.find("aria-current=\"page\">").unwrap();
    let entry = &page.body[current..current + page.body[current..].find("</a>").unwrap()];
    assert!(
        entry.ends_with("<span>Desktop flow runs</span>"),
        "the Monitor entry is current"
    );
    assert_eq!(page.body.matches("aria-current=\"page\"").count(), 1);
    assert_eq!(page.body.matches("Payroll export").count(), 2);
    assert!(page.body.contains(">Succeeded</span>"));
    assert!(page.body.contains(">Failed</span>"));
    assert!(page.body.contains("<code>NoListenerConnected</code>"));
    assert!(page.body.contains(">RUN-01</a>"));
    // The newest first: the failed run is above the one that succeeded.
    assert!(page.body.find(">Failed</span>") < page.body.find(">Succeeded</span>"));

    // RUN-01 beats; OFF-01 never has.
    let machines = ops.get(&env_path("/machines")).await;
    let status_of = |name: &str| {
        let at = machines.body.find(&format!(">{name}</a>")).unwrap();
        let rest = &machines.body[at..];
        rest[..rest.find("</tr>").unwrap()].to_owned()
    };
    assert!(
        status_of("RUN-01").contains(">Connected</span>"),
        "{}",
        status_of("RUN-01")
    );
    assert!(
        status_of("OFF-01").contains(">Never connected</span>"),
        "{}",
        status_of("OFF-01")
    );

    // A maker sees no run of the app's flows.
    let (mut maker, _) = Visitor::signed_in(&platform, USER, PASSWORD).await;
    let page = maker.get(&env_path("/desktop-flow-runs")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("No desktop flow has run here yet"));
    platform.shutdown().await.unwrap();
}
