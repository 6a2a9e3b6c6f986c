//! Forms answer on their own page: a blank or wrong field brings the same
//! form back (in its side panel, over its page) with the message beside the
//! field, the field marked invalid and described by it, the other values
//! kept and passwords never written back; commands open the panels.

use super::*;

/// `id` is invalid, described by its message, which says `message`.
fn assert_invalid(page: &Page, id: &str, message: &str) {
    let field = format!("#{id}[aria-invalid=\"true\"][aria-describedby=\"{id}-error\"]");
    assert!(page.has(&field), "{field}: {}", page.body);
    let note = page.text(&format!("p.field-error#{id}-error"));
    assert!(note.contains(message), "{note}");
    assert_eq!(page.count("[aria-invalid=\"true\"]"), 1, "one field");
    assert!(!page.title().starts_with("Bad Request"));
}

/// A side panel is open over its page, which is out of the keyboard's reach.
fn assert_panel(page: &Page, title: &str) {
    assert!(page.has("div.shell[inert]"), "{}", page.body);
    assert!(
        page.has(
            "div.panel[role=\"dialog\"][aria-modal=\"true\"][aria-labelledby=\"panel-title\"]"
        )
    );
    assert_eq!(
        page.text("div.panel h1#panel-title"),
        title,
        "{}",
        page.body
    );
}

#[tokio::test]
async fn new_machine_group_is_a_command_and_a_panel_that_keeps_what_was_typed() {
    let (platform, _dir) = start().await;
    let (mut admin, csrf) = Visitor::signed_in(&platform, ADMIN, ADMIN_PASSWORD).await;
    let groups = env_path("/machines/groups");
    let list = admin.get(&groups).await;
    let command = format!("a.command[href=\"{groups}?panel=new\"] > span");
    assert_eq!(list.text(&command), "New machine group", "{}", list.body);
    assert!(!list.has("#group-name"), "no form until asked");

    let panel = admin.get(&format!("{groups}?panel=new")).await;
    assert_eq!(panel.status, StatusCode::OK);
    assert_panel(&panel, "New machine group");
    assert!(panel.has(&format!(
        "form[method=\"post\"][action=\"{groups}\"][novalidate] > input[type=\"hidden\"][name=\"csrf\"]:first-child"
    )));
    assert!(panel.has("input#group-name[autofocus]"));

    // A blank name: the same panel, 400, the message beside the name.
    let blank = admin
        .post(
            &groups,
            &[
                ("name", "  "),
                ("description", "a <nightly> run"),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(blank.status, StatusCode::BAD_REQUEST);
    assert_panel(&blank, "New machine group");
    assert_invalid(&blank, "group-name", "Name is required.");
    assert_eq!(
        blank.attr("#group-description", "value").as_deref(),
        Some("a <nightly> run"),
        "the description is kept: {}",
        blank.body
    );
    assert!(
        !blank.has("nightly") && !blank.has("script"),
        "as text, not markup"
    );
    // An attribute's value parses the same escaped or not: the raw page
    // shows it was.
    assert!(
        blank.body.contains("value=\"a &lt;nightly&gt; run\""),
        "{}",
        blank.body
    );
    let long = "x".repeat(padconnect_domain::fleet::GROUP_DESCRIPTION.max + 1);
    let too_long = admin
        .post(
            &groups,
            &[("name", "Payroll"), ("description", &long), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(too_long.status, StatusCode::BAD_REQUEST);
    assert_invalid(&too_long, "group-description", "Description is too long");
    assert_eq!(
        too_long.attr("#group-name", "value").as_deref(),
        Some("Payroll")
    );
    // A missing field is a blank one, not a malformed form.
    let missing = admin.post(&groups, &[("csrf", &csrf)]).await;
    assert_eq!(missing.status, StatusCode::BAD_REQUEST);
    assert_invalid(&missing, "group-name", "Name is required.");

    // Someone who may not create groups gets no command, and no panel.
    let (mut carol, _) = Visitor::signed_in(&platform, OUTSIDER, OUTSIDER_PASSWORD).await;
    assert_eq!(
        carol.get(&format!("{groups}?panel=new")).await.status,
        StatusCode::NOT_FOUND,
        "not a user of the environment"
    );
    platform.shutdown().await.unwrap();
}

#[tokio::test]
async fn the_group_password_panel_never_writes_a_password_back() {
    let (platform, _dir) = start().await;
    let (mut admin, csrf) = Visitor::signed_in(&platform, ADMIN, ADMIN_PASSWORD).await;
    let group = env_path(&format!("/machines/groups/{GROUP}"));
    let page = admin.get(&group).await;
    let bar = "div.command-bar[role=\"group\"][aria-label=\"Machine group commands\"]";
    assert!(page.has(bar), "{}", page.body);
    assert!(page.has(&format!("{bar} a.command[href=\"{group}/share\"]")));
    assert!(page.has(&format!("{bar} a.command[href=\"{group}?panel=password\"]")));
    assert!(!page.has("#confirmation"), "no form until asked");

    let panel = admin.get(&format!("{group}?panel=password")).await;
    assert_eq!(panel.status, StatusCode::OK);
    assert_panel(&panel, "Set the group password");
    assert!(panel.has(&format!(
        "div.panel form[action=\"{group}/password\"][novalidate]"
    )));

    let differ = admin
        .post(
            &format!("{group}/password"),
            &[
                ("password", "group-pass-1"),
                ("confirmation", "group-pass-2"),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(differ.status, StatusCode::BAD_REQUEST);
    assert_panel(&differ, "Set the group password");
    assert_invalid(&differ, "confirmation", "The two passwords differ.");
    assert!(!differ.body.contains("group-pass-"), "no password echoed");
    let short = admin
        .post(
            &format!("{group}/password"),
            &[
                ("password", "short"),
                ("confirmation", "short"),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(short.status, StatusCode::BAD_REQUEST);
    assert_invalid(&short, "password", "8 to 256 characters");
    assert!(!short.body.contains("value=\"short\""));

    // Bob may use the group once shared, but has no password to set.
    let bob = share_with_bob(&mut admin, &csrf).await;
    let (mut bob_visitor, _) = Visitor::signed_in(&platform, MAKER, MAKER_PASSWORD).await;
    let his = bob_visitor.get(&group).await;
    assert!(!his.has("[href*=\"?panel=password\"]"), "{bob}");
    assert!(!his.body.contains("?panel=password"), "{bob}");
    assert_eq!(
        bob_visitor
            .get(&format!("{group}?panel=password"))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    platform.shutdown().await.unwrap();
}

/// Shares the group with Bob as User; his systemuser id.
async fn share_with_bob(admin: &mut Visitor, csrf: &str) -> String {
    let group = env_path(&format!("/machines/groups/{GROUP}"));
    let panel = admin.get(&format!("{group}/share?q=bob")).await;
    let bob = panel
        .attr(
            "input[type=\"radio\"][name=\"principal\"][id^=\"p-\"]",
            "value",
        )
        .unwrap();
    let saved = admin
        .post(
            &format!("{group}/share"),
            &[("principal", &bob), ("role", "user"), ("csrf", csrf)],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    bob
}

#[tokio::test]
async fn the_share_panel_names_the_choice_that_is_missing_and_keeps_the_search() {
    let (platform, _dir) = start().await;
    let (mut admin, csrf) = Visitor::signed_in(&platform, ADMIN, ADMIN_PASSWORD).await;
    let share = env_path(&format!("/machines/groups/{GROUP}/share"));
    let nobody = admin
        .post(
            &share,
            &[("role", "user"), ("q", "deploy"), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(nobody.status, StatusCode::BAD_REQUEST);
    assert_panel(&nobody, "Share Finance bots");
    let fieldset = "fieldset[aria-invalid=\"true\"][aria-describedby=\"principal-error\"]";
    assert_eq!(
        nobody.text(&format!("{fieldset} > legend:first-child")),
        "Share with",
        "{}",
        nobody.body
    );
    assert!(
        nobody
            .text(&format!("{fieldset} > p.field-error#principal-error"))
            .contains("Choose a user or application user")
    );
    assert_eq!(
        nobody
            .attr("input[name=\"q\"][type=\"search\"]", "value")
            .as_deref(),
        Some("deploy"),
        "the search is kept"
    );
    let app_user = app_user_id(&platform).await;
    let wrong_role = admin
        .post(
            &share,
            &[("principal", &app_user), ("role", "owner"), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(wrong_role.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        wrong_role.text("fieldset[aria-describedby=\"role-error\"] > legend:first-child"),
        "Permission"
    );
    assert!(
        wrong_role.has(&format!(
            "input[type=\"radio\"][name=\"principal\"][value=\"{app_user}\"][required][checked]"
        )),
        "the choice is kept"
    );
    platform.shutdown().await.unwrap();
}

/// Save refuses whom the panel does not offer (fleet::not_offered):
/// the group's owner, and a user disabled since the panel was drawn, as a
/// hand-made or stale form may post them; the panel comes back with the
/// reason beside the choice.
#[tokio::test]
async fn the_share_panel_refuses_the_owner_and_a_disabled_user_beside_the_choice() {
    let (platform, _dir) = start().await;
    let (mut admin, csrf) = Visitor::signed_in(&platform, ADMIN, ADMIN_PASSWORD).await;
    let share = env_path(&format!("/machines/groups/{GROUP}/share"));
    let store = platform.store();
    let group = store.machine_group(GROUP.parse().unwrap()).await.unwrap();
    let owner = group.unwrap().stamp.owner_id.to_string();
    let app_user = app_user_id(&platform).await;
    let user = store
        .system_user(app_user.parse().unwrap())
        .await
        .unwrap()
        .unwrap();
    padconnect_domain::system_users::set_disabled(store, &user, None, true)
        .await
        .unwrap();
    let picker = admin.get(&share).await;
    for left_out in [&owner, &app_user] {
        let radio = format!("input[name=\"principal\"][value=\"{left_out}\"]");
        assert!(!picker.has(&radio), "{left_out} is not offered");
    }
    assert!(picker.has("input[name=\"principal\"]"), "Bob is");
    for (principal, reason) in [
        (&owner, "The owner already holds every right on the group."),
        (&app_user, "This user is disabled"),
    ] {
        let refused = admin
            .post(
                &share,
                &[("principal", principal), ("role", "user"), ("csrf", &csrf)],
            )
            .await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
        assert_panel(&refused, "Share Finance bots");
        let note = refused.text("fieldset[aria-invalid=\"true\"] > p.field-error#principal-error");
        assert!(note.contains(reason), "{note}");
    }
    platform.shutdown().await.unwrap();
}

#[tokio::test]
async fn sign_in_names_the_blank_field_and_keeps_the_account_only() {
    let (platform, _dir) = start().await;
    let mut visitor = Visitor::new(&platform);
    let form = visitor.get("/signin").await;
    assert!(form.has("section.signin-card"));
    assert!(form.has("section.signin-card input#upn[autofocus]"));
    let csrf = form.csrf();
    let blank_upn = visitor
        .post(
            "/signin",
            &[("upn", ""), ("password", "x"), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(blank_upn.status, StatusCode::BAD_REQUEST);
    assert_invalid(&blank_upn, "upn", "Enter your email or UPN.");
    let csrf = blank_upn.csrf();
    let blank_password = visitor
        .post(
            "/signin",
            &[("upn", ADMIN), ("password", ""), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(blank_password.status, StatusCode::BAD_REQUEST);
    assert_invalid(&blank_password, "password", "Enter your password.");
    assert_eq!(
        blank_password.attr("input#upn", "value").as_deref(),
        Some(ADMIN)
    );
    let csrf = blank_password.csrf();
    let wrong = visitor
        .post(
            "/signin",
            &[
                ("upn", ADMIN),
                ("password", "wrong-password"),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert_invalid(&wrong, "password", "is wrong");
    assert!(!wrong.body.contains("wrong-password"));
    platform.shutdown().await.unwrap();
}

#[tokio::test]
async fn the_navigation_has_icons_and_tables_label_every_value() {
    let (platform, _dir) = start().await;
    let (mut admin, _) = Visitor::signed_in(&platform, ADMIN, ADMIN_PASSWORD).await;
    let page = admin.get(&env_path("/tables/flowmachinegroup")).await;
    let links = page.count("nav.side a[href]");
    assert_eq!(links, 7, "{}", page.body);
    assert_eq!(
        page.count(
            "nav.side a[href] > svg.icon[aria-hidden=\"true\"][focusable=\"false\"]:first-child"
        ),
        links
    );
    // On a phone each row stacks, every value under its column's label.
    for label in ["Name", "Flow Machine Group", "Created On", "Modified On"] {
        assert!(
            page.has(&format!("tbody td[data-label=\"{label}\"]")),
            "{label}"
        );
    }
    let region = page
        .attr(
            "div.grid[role=\"region\"][tabindex=\"0\"]",
            "aria-labelledby",
        )
        .unwrap();
    assert!(region.starts_with("cap-"), "{region}");
    assert!(page.has(&format!("div.grid > table > caption#{region}")));
    platform.shutdown().await.unwrap();
}
