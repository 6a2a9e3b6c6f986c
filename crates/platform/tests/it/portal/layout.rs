//! The look and flow of the real portal: the left navigation on every
//! page, the Machines | Machine groups tabs, Share as a side panel over the
//! page it belongs to (a group's and a standalone machine's), Share only
//! where sharing is possible, delete behind a confirmation, the table a page
//! at a time, and error pages in the error style inside the layout.

use super::*;

/// Whether the left navigation links `path` of this environment, unmarked,
/// with its icon first and its visible `label` last.
fn nav_entry(page: &Page, path: &str, label: &str) -> bool {
    let entry = format!(
        "nav.side a[href=\"{}\"]:not([aria-current])",
        env_path(path)
    );
    page.has(&format!(
        "{entry} > svg.icon[aria-hidden=\"true\"]:first-child"
    )) && page.texts(&format!("{entry} > span:last-child")) == [label]
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
        let link = format!("nav.side a[href=\"{}\"]", env_path(path));
        assert!(page.has(&link), "no {label} entry: {}", page.body);
    }
    let marked = format!(
        "nav.side a[href=\"{}\"][aria-current=\"page\"]",
        env_path(current)
    );
    assert!(page.has(&marked), "{current} is not marked current");
    assert_eq!(page.count("nav.side [aria-current=\"page\"]"), 1);
    assert!(page.has("select#environment-picker"));
    assert_eq!(
        page.text("form[action=\"/signout\"] > button[type=\"submit\"]"),
        "Sign out"
    );
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
    let tab = |path: &str| {
        format!(
            "nav.tabs a[href=\"{}\"][aria-current=\"page\"]",
            env_path(path)
        )
    };
    assert_eq!(
        machines.text(&tab("/machines")),
        "Machines",
        "{}",
        machines.body
    );
    let cells = machines.texts("tbody td").concat();
    assert!(cells.contains("FIN-VM-01") && cells.contains("HR-LAPTOP-07"));
    assert!(!machines.body.contains("New machine group"));
    let groups = admin.get(&env_path("/machines/groups")).await;
    assert_eq!(groups.text(&tab("/machines/groups")), "Machine groups");
    assert!(groups.texts("tbody td > code").contains(&GROUP.to_owned()));
    assert!(
        groups
            .texts("div.command-bar a.command > span")
            .contains(&"New machine group".to_owned())
    );
    assert!(
        !groups.body.contains("HR-LAPTOP-07"),
        "a standalone machine's group is hidden"
    );

    // Tables › All leads to Flow Machine Group.
    let tables = admin.get(&env_path("/tables")).await;
    assert!(tables.has(&format!(
        "main a[href=\"{}\"]",
        env_path("/tables/flowmachinegroup")
    )));

    // Someone who may not create groups sees the tab without the form, and
    // an empty list says what to do.
    let (mut carol, _) = Visitor::signed_in(&platform, MAKER, MAKER_PASSWORD).await;
    let theirs = carol.get(&env_path("/machines")).await;
    assert!(theirs.has("main p.empty"), "{}", theirs.body);
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
    assert!(panel.has("div.shell[inert]"), "{}", panel.body);
    assert_eq!(panel.text("div.shell[inert] main code#group-id"), GROUP);
    assert!(
        panel.has(
            "div.panel[role=\"dialog\"][aria-modal=\"true\"][aria-labelledby=\"panel-title\"]"
        )
    );
    assert_eq!(panel.text("div.panel h1#panel-title"), "Share Finance bots");
    let close = format!(
        "div.panel-head > a.button[href=\"{}\"]",
        env_path(&format!("/machines/groups/{GROUP}"))
    );
    assert_eq!(panel.text(&close), "Close");
    // The first result has focus after a search, so Space picks it.
    assert!(panel.has(&format!(
        "input[type=\"radio\"][value=\"{app_user}\"][required][autofocus]"
    )));

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
    assert!(machine_page.has(&format!("a[href=\"{machine_share}\"]")));
    let panel = admin.get(&machine_share).await;
    assert_eq!(
        panel.text("h1#panel-title"),
        "Share HR-LAPTOP-07",
        "{}",
        panel.body
    );
    assert!(panel.has("div.shell[inert]"));
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
        refused
            .text("p.error[role=\"alert\"]")
            .contains("share the group instead"),
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
    let share_of = |id: &str| {
        format!(
            "a[href=\"{}\"]",
            env_path(&format!("/connections/{id}/share"))
        )
    };
    assert!(list.has(&share_of(&run_owner)), "{}", list.body);
    assert!(
        !list.has(&share_of(&plain)),
        "an azureRelay connection cannot be shared"
    );
    assert!(
        list.texts("td > span.status.ok")
            .contains(&"Connected".to_owned())
    );

    // Delete is a link to a page that asks; only its form deletes.
    let delete = env_path(&format!("/connections/{plain}/delete"));
    assert!(list.has(&format!("a[href=\"{delete}\"]")));
    let ask = admin.get(&delete).await;
    assert_eq!(ask.status, StatusCode::OK);
    assert!(
        ask.body_text().contains("Delete azureRelay connection?"),
        "{}",
        ask.body
    );
    assert_eq!(
        ask.text(&format!(
            "form[method=\"post\"][action=\"{delete}\"] button.danger[type=\"submit\"]"
        )),
        "Delete"
    );
    assert_eq!(
        ask.text(&format!(
            "div.panel-actions > a.button[href=\"{}\"]",
            env_path("/connections")
        )),
        "Cancel"
    );
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
    assert_eq!(after.text("p.notice"), "The connection was deleted.");

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
    // The cell: the word, then (after a line break) the reason, then the
    // code in small type.
    let doc = broken.doc();
    let cell = doc
        .select(&css("tbody td"))
        .find(|td| td.select(&css("span.status.bad")).next().is_some())
        .unwrap_or_else(|| panic!("no cell with an error: {}", broken.body));
    let children: Vec<_> = cell
        .children()
        .map(|node| match node.value() {
            scraper::Node::Element(e) => format!("<{}>", e.name()),
            scraper::Node::Text(t) => t.to_string(),
            _ => String::new(),
        })
        .collect();
    assert_eq!(children[..2], ["<span>", "<br>"], "{children:?}");
    assert!(
        children[2].starts_with(
            "The connection's owner no longer has access to machine group 'Finance bots'"
        ),
        "{children:?}"
    );
    assert_eq!(children[3..], ["<br>", "<small>"], "{children:?}");
    assert_eq!(
        cell.select(&css("span.status.bad"))
            .map(|e| e.text().collect::<String>())
            .collect::<Vec<_>>(),
        ["Error"]
    );
    assert_eq!(
        cell.select(&css("small"))
            .map(|e| e.text().collect::<String>())
            .collect::<Vec<_>>(),
        ["MachineGroupAccessRevoked"]
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
    let rows = |page: &Page| page.count("tbody > tr");
    let links = |page: &Page| page.texts("nav.pager > a");
    let table = env_path("/tables/flowmachinegroup");
    let first = admin.get(&format!("{table}?q=bulk")).await;
    assert_eq!(rows(&first), 25);
    assert_eq!(
        first.text("caption"),
        "Flow Machine Group: rows 1 to 25 of 30",
        "{}",
        first.body
    );
    assert_eq!(first.text("nav.pager > span"), "Page 1 of 2");
    assert_eq!(links(&first), ["Next"], "{}", first.body);
    assert_eq!(
        first.attr("nav.pager > a[rel=\"next\"]", "href"),
        Some(format!("{table}?q=bulk&page=2"))
    );
    let second = admin.get(&format!("{table}?q=bulk&page=2")).await;
    assert_eq!(rows(&second), 5);
    assert_eq!(
        second.text("caption"),
        "Flow Machine Group: rows 26 to 30 of 30"
    );
    assert_eq!(links(&second), ["Previous"]);
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
    assert_eq!(
        one.text("caption"),
        "Flow Machine Group: rows 1 to 1 of 1",
        "{}",
        one.body
    );
    assert!(!one.has("nav.pager"));
    assert!(!one.body_text().contains("Page 1 of"));
    let none = admin.get(&format!("{table}?q=nothing-like-this")).await;
    assert!(none.has("main p.empty"));
    assert!(!none.has("table"));
    platform.shutdown().await.unwrap();
}

#[tokio::test]
async fn errors_are_in_the_error_style_and_inside_the_layout_when_signed_in() {
    let (platform, _dir) = start().await;
    // A failed sign-in is an error, not a success notice.
    let mut visitor = Visitor::new(&platform);
    let refused = visitor.sign_in(ADMIN, "wrong-password").await;
    assert!(
        refused.has("p.field-error#password-error"),
        "{}",
        refused.body
    );
    assert!(refused.has("#password[aria-invalid=\"true\"][aria-describedby=\"password-error\"]"));
    assert!(!refused.has(".notice"));

    let (mut admin, _) = Visitor::signed_in(&platform, ADMIN, ADMIN_PASSWORD).await;
    let missing = admin.get(&env_path("/no-such-page")).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert!(
        missing
            .text("main p.error[role=\"alert\"]")
            .starts_with("There is no page at")
    );
    // The environment's navigation, nothing marked, and a way home.
    assert!(
        nav_entry(&missing, "/machines", "Machines"),
        "{}",
        missing.body
    );
    assert!(!missing.has("nav.side [aria-current]"), "{}", missing.body);
    assert_eq!(
        missing.text(&format!("main a[href=\"{}\"]", env_path("/home"))),
        "Go to Home"
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
    assert!(
        forbidden
            .text("main p.error[role=\"alert\"]")
            .contains("only its owner and co-owners can")
    );
    assert!(forbidden.title().starts_with("Forbidden"));
    assert!(nav_entry(&forbidden, "/machines", "Machines"));

    // An unknown environment gets the layout without any environment's
    // navigation.
    let elsewhere = admin
        .get(&format!("/environments/{}/machines", Uuid::new_v4()))
        .await;
    assert_eq!(elsewhere.status, StatusCode::NOT_FOUND);
    assert_eq!(
        elsewhere.text("form[action=\"/signout\"] > button[type=\"submit\"]"),
        "Sign out"
    );
    assert_eq!(
        elsewhere.texts("nav.side a[href=\"/environments\"] > span"),
        ["Environments"],
        "{}",
        elsewhere.body
    );

    // Signed out, the same page is bare: nothing about anyone.
    let mut anonymous = Visitor::new(&platform);
    let bare = anonymous
        .post(&env_path("/connections/x/delete"), &[("csrf", "x")])
        .await;
    assert_eq!(bare.status, StatusCode::FORBIDDEN);
    assert!(!bare.body_text().contains("Sign out"));
    assert!(!bare.has("form[action=\"/signout\"]"));
    assert!(bare.has("main.bare p.error"));
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
