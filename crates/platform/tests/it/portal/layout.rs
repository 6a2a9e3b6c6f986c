//! The look and flow of the real portal: the left navigation on every
//! page, the Machines | Machine groups tabs, Share as a side panel over the
//! page it belongs to (a group's and a standalone machine's), Share only
//! where sharing is possible, delete behind a confirmation, the table a page
//! at a time, and error pages in the error style inside the layout.

use super::*;

/// The left navigation's markup.
fn side_nav(page: &Page) -> &str {
    let start = page
        .body
        .find("<nav class=\"side\"")
        .expect("a left navigation");
    let end = start + page.body[start..].find("</nav>").unwrap();
    &page.body[start..end]
}

/// Whether the left navigation links `path` of this environment, unmarked,
/// with its icon and its visible `label`.
fn nav_entry(page: &Page, path: &str, label: &str) -> bool {
    let start = format!(
        "<a href=\"{}\"><svg class=\"icon\" aria-hidden=\"true\"",
        env_path(path)
    );
    let nav = side_nav(page);
    nav.find(&start).is_some_and(|at| {
        let entry = &nav[at..at + nav[at..].find("</a>").unwrap()];
        entry.ends_with(&format!("<span>{label}</span>"))
    })
}

/// The left navigation's entries, each linked in this environment.
fn assert_navigation(page: &Page, current: &str) {
    for (path, label) in [
        ("/home", "Home"),
        ("/flows", "My flows"),
        ("/machines", "Machines"),
        ("/tables", "Tables"),
        ("/connections", "Connections"),
    ] {
        let link = format!("<a href=\"{}\"", env_path(path));
        assert!(page.body.contains(&link), "no {label} entry: {}", page.body);
    }
    let marked = format!("<a href=\"{}\" aria-current=\"page\">", env_path(current));
    assert!(
        page.body.contains(&marked),
        "{current} is not marked current"
    );
    assert_eq!(side_nav(page).matches("aria-current=\"page\"").count(), 1);
    assert!(page.body.contains("id=\"environment-picker\""));
    assert!(page.body.contains(">Sign out</button>"));
}

#[tokio::test]
async fn every_page_has_the_portals_navigation_and_machines_has_two_tabs() {
    let (platform, _dir) = start().await;
    let (mut admin, _) = Visitor::signed_in(&platform, ADMIN, ADMIN_PASSWORD).await;
    for (path, current) in [
        ("/home", "/home"),
        ("/flows", "/flows"),
        ("/machines", "/machines"),
        ("/machines/groups", "/machines"),
        (&format!("/machines/groups/{GROUP}") as &str, "/machines"),
        ("/tables", "/tables"),
        ("/tables/flowmachinegroup", "/tables"),
        ("/connections", "/connections"),
    ] {
        let page = admin.get(&env_path(path)).await;
        assert_eq!(page.status, StatusCode::OK, "{path}");
        assert_navigation(&page, current);
    }

    // Machines: the machines, not the groups' form; Machine groups: the
    // groups, their ids, and the form for a new one.
    let machines = admin.get(&env_path("/machines")).await;
    let tab = |path: &str, label: &str| {
        format!(
            "<a href=\"{}\" aria-current=\"page\">{label}</a>",
            env_path(path)
        )
    };
    assert!(
        machines.body.contains(&tab("/machines", "Machines")),
        "{}",
        machines.body
    );
    assert!(machines.body.contains("FIN-VM-01") && machines.body.contains("HR-LAPTOP-07"));
    assert!(!machines.body.contains("New machine group"));
    let groups = admin.get(&env_path("/machines/groups")).await;
    assert!(
        groups
            .body
            .contains(&tab("/machines/groups", "Machine groups"))
    );
    assert!(groups.body.contains(&format!("<code>{GROUP}</code>")));
    assert!(groups.body.contains("New machine group"));
    assert!(
        !groups.body.contains("HR-LAPTOP-07"),
        "a standalone machine's group is hidden"
    );

    // Tables › All leads to Flow Machine Group.
    let tables = admin.get(&env_path("/tables")).await;
    assert!(tables.body.contains(&format!(
        "href=\"{}\"",
        env_path("/tables/flowmachinegroup")
    )));

    // Someone who may not create groups sees the tab without the form, and
    // an empty list says what to do.
    let (mut carol, _) = Visitor::signed_in(&platform, MAKER, MAKER_PASSWORD).await;
    let theirs = carol.get(&env_path("/machines")).await;
    assert!(theirs.body.contains("class=\"empty\""), "{}", theirs.body);
    platform.shutdown().await.unwrap();
}

#[tokio::test]
async fn share_is_a_side_panel_over_the_group_and_over_a_standalone_machine() {
    let (platform, _dir) = start().await;
    let (mut admin, csrf) = Visitor::signed_in(&platform, ADMIN, ADMIN_PASSWORD).await;
    let app_user = app_user_id(&platform).await;

    let group_share = env_path(&format!("/machines/groups/{GROUP}/share"));
    let panel = admin.get(&format!("{group_share}?q=deploy")).await;
    assert_eq!(panel.status, StatusCode::OK);
    // The page under the panel is the group's own, out of the keyboard's reach.
    assert!(
        panel.body.contains("<div class=\"shell\" inert>"),
        "{}",
        panel.body
    );
    assert!(
        panel
            .body
            .contains(&format!("<code id=\"group-id\">{GROUP}</code>"))
    );
    assert!(
        panel
            .body
            .contains("role=\"dialog\" aria-modal=\"true\" aria-labelledby=\"panel-title\"")
    );
    assert!(
        panel
            .body
            .contains("<h1 id=\"panel-title\">Share Finance bots</h1>")
    );
    let close = format!(
        "<a class=\"button\" href=\"{}\">Close</a>",
        env_path(&format!("/machines/groups/{GROUP}"))
    );
    assert!(panel.body.contains(&close));
    // The first result has focus after a search, so Space picks it.
    assert!(
        panel
            .body
            .contains(&format!("value=\"{app_user}\" required autofocus>"))
    );

    // A standalone machine has a panel of its own, over the machine's page.
    let machine = platform
        .store()
        .machines_in_group(STANDALONE_GROUP.parse().unwrap())
        .await
        .unwrap()
        .remove(0);
    let machine_page = admin
        .get(&env_path(&format!("/machines/{}", machine.id)))
        .await;
    let machine_share = env_path(&format!("/machines/{}/share", machine.id));
    assert!(
        machine_page
            .body
            .contains(&format!("href=\"{machine_share}\""))
    );
    let panel = admin.get(&machine_share).await;
    assert!(panel.body.contains("Share HR-LAPTOP-07"), "{}", panel.body);
    assert!(panel.body.contains("<div class=\"shell\" inert>"));
    let saved = admin
        .post(
            &machine_share,
            &[("principal", &app_user), ("role", "user"), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(
        saved.location.as_deref(),
        Some(format!("{machine_share}?notice=shared").as_str())
    );
    let shares = platform
        .store()
        .shares_of(RecordRef::MachineGroup(STANDALONE_GROUP.parse().unwrap()))
        .await
        .unwrap();
    assert_eq!(shares.len(), 1, "shared through the machine's hidden group");
    let removed = admin
        .post(
            &format!("{machine_share}/remove"),
            &[("principal", &app_user), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(removed.status, StatusCode::SEE_OTHER);
    assert!(
        platform
            .store()
            .shares_of(RecordRef::MachineGroup(STANDALONE_GROUP.parse().unwrap()))
            .await
            .unwrap()
            .is_empty()
    );

    // A machine in a group is shared through the group, and says so.
    let grouped = platform
        .store()
        .machines_in_group(GROUP.parse().unwrap())
        .await
        .unwrap()
        .remove(0);
    let refused = admin
        .get(&env_path(&format!("/machines/{}/share", grouped.id)))
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert!(
        refused.body.contains("share the group instead"),
        "{}",
        refused.body
    );
    platform.shutdown().await.unwrap();
}

#[tokio::test]
async fn connections_offer_share_only_where_possible_and_delete_after_a_confirmation() {
    let (platform, _dir) = start().await;
    let (mut admin, csrf) = Visitor::signed_in(&platform, ADMIN, ADMIN_PASSWORD).await;
    let run_owner = admins_connection(&platform, "azureRelayRunOwner").await;
    let plain = admins_connection(&platform, "azureRelay").await;
    let list = admin.get(&env_path("/connections")).await;
    let share_of = |id: &str| format!("href=\"{}\"", env_path(&format!("/connections/{id}/share")));
    assert!(list.body.contains(&share_of(&run_owner)), "{}", list.body);
    assert!(
        !list.body.contains(&share_of(&plain)),
        "an azureRelay connection cannot be shared"
    );
    assert!(
        list.body
            .contains("<span class=\"status ok\">Connected</span>")
    );

    // Delete is a link to a page that asks; only its form deletes.
    let delete = env_path(&format!("/connections/{plain}/delete"));
    assert!(list.body.contains(&format!("href=\"{delete}\"")));
    let ask = admin.get(&delete).await;
    assert_eq!(ask.status, StatusCode::OK);
    assert!(
        ask.body.contains("Delete azureRelay connection?"),
        "{}",
        ask.body
    );
    assert!(
        ask.body
            .contains("<button class=\"danger\" type=\"submit\">Delete</button>")
    );
    assert!(ask.body.contains(&format!(
        "<a class=\"button\" href=\"{}\">Cancel</a>",
        env_path("/connections")
    )));
    let env = ENVIRONMENT.parse().unwrap();
    let id: padconnect_core::ConnectionId = plain.parse().unwrap();
    assert!(
        platform
            .store()
            .connection(&env, &id)
            .await
            .unwrap()
            .is_some(),
        "asking deletes nothing"
    );
    let done = admin.post(&delete, &[("csrf", &csrf)]).await;
    assert_eq!(
        done.location.as_deref(),
        Some(env_path("/connections?notice=deleted").as_str())
    );
    assert!(
        platform
            .store()
            .connection(&env, &id)
            .await
            .unwrap()
            .is_none()
    );
    let after = admin.get(done.location.as_deref().unwrap()).await;
    assert!(
        after
            .body
            .contains("class=\"notice\">The connection was deleted.")
    );

    // An error's reason in plain words: the service principal's connection
    // after its access to the group is removed.
    let app_user = app_user_id(&platform).await;
    let share = env_path(&format!("/machines/groups/{GROUP}/share"));
    admin
        .post(
            &share,
            &[("principal", &app_user), ("role", "user"), ("csrf", &csrf)],
        )
        .await;
    let token = app_token(&platform).await;
    assert_eq!(
        put_connection(&platform, &token, GROUP).await,
        StatusCode::CREATED
    );
    admin
        .post(
            &format!("{share}/remove"),
            &[("principal", &app_user), ("csrf", &csrf)],
        )
        .await;
    let broken = admin.get(&env_path("/connections")).await;
    assert!(
        broken.body.contains(
            "<span class=\"status bad\">Error</span><br>The connection&#39;s owner no longer has access to machine group &#39;Finance bots&#39;"
        ),
        "{}",
        broken.body
    );
    assert!(
        broken
            .body
            .contains("<small>MachineGroupAccessRevoked</small>")
    );

    // Someone who may not delete it is not asked either.
    let (mut bob, _) = Visitor::signed_in(&platform, MAKER, MAKER_PASSWORD).await;
    let hidden = bob
        .get(&env_path(&format!("/connections/{run_owner}/delete")))
        .await;
    assert_eq!(hidden.status, StatusCode::NOT_FOUND);
    platform.shutdown().await.unwrap();
}

#[tokio::test]
async fn the_flow_machine_group_table_shows_a_page_at_a_time_and_keeps_the_search() {
    let (platform, _dir) = start().await;
    let (mut admin, csrf) = Visitor::signed_in(&platform, ADMIN, ADMIN_PASSWORD).await;
    for n in 0..30 {
        let name = format!("Bulk {n:02}");
        let created = admin
            .post(
                &env_path("/machines/groups"),
                &[("name", &name), ("csrf", &csrf)],
            )
            .await;
        assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
    }
    let rows = |page: &Page| page.body.matches("<tr><td").count();
    let table = env_path("/tables/flowmachinegroup");
    let first = admin.get(&format!("{table}?q=bulk")).await;
    assert_eq!(rows(&first), 25);
    assert!(first.body.contains("rows 1 to 25 of 30"), "{}", first.body);
    assert!(first.body.contains("Page 1 of 2"));
    let next = format!("href=\"{table}?q=bulk&amp;page=2\">Next</a>");
    assert!(first.body.contains(&next), "{}", first.body);
    assert!(!first.body.contains(">Previous</a>"));
    let second = admin.get(&format!("{table}?q=bulk&page=2")).await;
    assert_eq!(rows(&second), 5);
    assert!(second.body.contains("rows 26 to 30 of 30"));
    assert!(second.body.contains(">Previous</a>") && !second.body.contains(">Next</a>"));
    // A page past the end shows the last; an unreadable one the first.
    assert_eq!(
        rows(&admin.get(&format!("{table}?q=bulk&page=99")).await),
        5
    );
    assert_eq!(
        rows(&admin.get(&format!("{table}?q=bulk&page=x")).await),
        25
    );
    // One row is one row, not "1 rows".
    let one = admin.get(&format!("{table}?q=bulk%2007")).await;
    assert!(one.body.contains("rows 1 to 1 of 1"), "{}", one.body);
    assert!(!one.body.contains("Page 1 of"));
    let none = admin.get(&format!("{table}?q=nothing-like-this")).await;
    assert!(none.body.contains("class=\"empty\""));
    platform.shutdown().await.unwrap();
}

#[tokio::test]
async fn errors_are_in_the_error_style_and_inside_the_layout_when_signed_in() {
    let (platform, _dir) = start().await;
    // A failed sign-in is an error, not a success notice.
    let mut visitor = Visitor::new(&platform);
    let refused = visitor.sign_in(ADMIN, "wrong-password").await;
    assert!(
        refused
            .body
            .contains("<p class=\"field-error\" id=\"password-error\">"),
        "{}",
        refused.body
    );
    assert!(
        refused
            .body
            .contains("aria-invalid=\"true\" aria-describedby=\"password-error\"")
    );
    assert!(!refused.body.contains("class=\"notice\""));

    let (mut admin, _) = Visitor::signed_in(&platform, ADMIN, ADMIN_PASSWORD).await;
    let missing = admin.get(&env_path("/no-such-page")).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert!(
        missing
            .body
            .contains("<p role=\"alert\" class=\"error\">There is no page at")
    );
    // The environment's navigation, nothing marked, and a way home.
    assert!(
        nav_entry(&missing, "/machines", "Machines"),
        "{}",
        missing.body
    );
    assert!(
        !side_nav(&missing).contains("aria-current"),
        "{}",
        missing.body
    );
    assert!(
        missing
            .body
            .contains(&format!("<a href=\"{}\">Go to Home</a>", env_path("/home")))
    );

    // A 403 too: Bob may use the group, not share it.
    let csrf = missing.csrf();
    let bob_user = maker_user_id(&platform).await;
    admin
        .post(
            &env_path(&format!("/machines/groups/{GROUP}/share")),
            &[("principal", &bob_user), ("role", "user"), ("csrf", &csrf)],
        )
        .await;
    let (mut bob, _) = Visitor::signed_in(&platform, MAKER, MAKER_PASSWORD).await;
    let forbidden = bob
        .get(&env_path(&format!("/machines/groups/{GROUP}/share")))
        .await;
    assert_eq!(
        forbidden.status,
        StatusCode::FORBIDDEN,
        "{}",
        forbidden.body
    );
    assert!(forbidden.body.contains("only its owner and co-owners can"));
    assert!(forbidden.body.contains("<title>Forbidden"));
    assert!(nav_entry(&forbidden, "/machines", "Machines"));

    // An unknown environment gets the layout without any environment's
    // navigation.
    let elsewhere = admin
        .get(&format!("/environments/{}/machines", Uuid::new_v4()))
        .await;
    assert_eq!(elsewhere.status, StatusCode::NOT_FOUND);
    assert!(elsewhere.body.contains(">Sign out</button>"));
    let environments = side_nav(&elsewhere);
    assert!(
        environments.contains("<a href=\"/environments\">")
            && environments.contains("<span>Environments</span>"),
        "{environments}"
    );

    // Signed out, the same page is bare: nothing about anyone.
    let mut anonymous = Visitor::new(&platform);
    let bare = anonymous
        .post(&env_path("/connections/x/delete"), &[("csrf", "x")])
        .await;
    assert_eq!(bare.status, StatusCode::FORBIDDEN);
    assert!(!bare.body.contains("Sign out"));
    assert!(bare.body.contains("class=\"error\""));
    platform.shutdown().await.unwrap();
}

/// Bob's systemuser id in the environment.
async fn maker_user_id(platform: &RunningPlatform) -> String {
    let tenant = TENANT_ID.parse().unwrap();
    let bob = platform
        .store()
        .user_by_upn(tenant, MAKER)
        .await
        .unwrap()
        .unwrap();
    let kind = padconnect_store::SystemUserKind::Person {
        object_id: bob.object_id,
    };
    let env = ENVIRONMENT.parse().unwrap();
    let user = platform
        .store()
        .system_user_for(&env, kind)
        .await
        .unwrap()
        .unwrap();
    user.id.to_string()
}
