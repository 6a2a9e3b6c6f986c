//! Forms answer on their own page: a blank or wrong field brings the same
//! form back (in its side panel, over its page) with the message beside the
//! field, the field marked invalid and described by it, the other values
//! kept and passwords never written back; commands open the panels.

use super::*;

/// The opening tag of the element with `id="{id}"`.
fn tag_of<'a>(page: &'a Page, id: &str) -> &'a str {
    let at = page
        .body
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no #{id}: {}", page.body));
    let start = page.body[..at].rfind('<').unwrap();
    let end = at + page.body[at..].find('>').unwrap();
    &page.body[start..=end]
}

/// `id` is invalid, described by its message, which says `message`.
fn assert_invalid(page: &Page, id: &str, message: &str) {
    let tag = tag_of(page, id);
    let described = format!("aria-invalid=\"true\" aria-describedby=\"{id}-error\"");
    assert!(tag.contains(&described), "{tag}");
    let note = format!("<p class=\"field-error\" id=\"{id}-error\">");
    let at = page.body.find(&note).expect("the message");
    let text = &page.body[at..at + page.body[at..].find("</p>").unwrap()];
    assert!(text.contains(message), "{text}");
    assert_eq!(
        page.body.matches("aria-invalid=\"true\"").count(),
        1,
        "one field"
    );
    assert!(!page.body.contains("<title>Bad Request"));
}

/// A side panel is open over its page, which is out of the keyboard's reach.
fn assert_panel(page: &Page, title: &str) {
    assert!(
        page.body.contains("<div class=\"shell\" inert>"),
        "{}",
        page.body
    );
    assert!(page.body.contains(
        "<div class=\"panel\" role=\"dialog\" aria-modal=\"true\" aria-labelledby=\"panel-title\">"
    ));
    assert!(
        page.body
            .contains(&format!("<h1 id=\"panel-title\">{title}</h1>")),
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
    let command = format!("<a class=\"command\" href=\"{groups}?panel=new\">");
    assert!(list.body.contains(&command), "{}", list.body);
    assert!(list.body.contains("<span>New machine group</span>"));
    assert!(
        !list.body.contains("id=\"group-name\""),
        "no form until asked"
    );

    let panel = admin.get(&format!("{groups}?panel=new")).await;
    assert_eq!(panel.status, StatusCode::OK);
    assert_panel(&panel, "New machine group");
    assert!(panel.body.contains(&format!(
        "<form method=\"post\" action=\"{groups}\" novalidate><input type=\"hidden\" name=\"csrf\""
    )));
    assert!(tag_of(&panel, "group-name").contains("autofocus"));

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
    assert!(
        blank.body.contains("value=\"a &lt;nightly&gt; run\""),
        "the description is kept, escaped: {}",
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
    assert!(tag_of(&too_long, "group-name").contains("value=\"Payroll\""));
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
    let bar = "<div class=\"command-bar\" role=\"group\" aria-label=\"Machine group commands\">";
    assert!(page.body.contains(bar), "{}", page.body);
    assert!(page.body.contains(&format!("href=\"{group}/share\"")));
    assert!(
        page.body
            .contains(&format!("href=\"{group}?panel=password\""))
    );
    assert!(
        !page.body.contains("id=\"confirmation\""),
        "no form until asked"
    );

    let panel = admin.get(&format!("{group}?panel=password")).await;
    assert_eq!(panel.status, StatusCode::OK);
    assert_panel(&panel, "Set the group password");
    assert!(
        panel
            .body
            .contains(&format!("action=\"{group}/password\" novalidate>"))
    );

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
    let marker = "name=\"principal\" id=\"p-";
    let start = panel.body.find(marker).unwrap() + marker.len();
    let bob = panel.body[start..start + 36].to_owned();
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
    let fieldset = "<fieldset aria-invalid=\"true\" aria-describedby=\"principal-error\"><legend>Share with</legend>";
    assert!(nobody.body.contains(fieldset), "{}", nobody.body);
    assert!(nobody.body.contains("Choose a user or application user"));
    assert!(
        nobody
            .body
            .contains("name=\"q\" type=\"search\" value=\"deploy\""),
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
    assert!(
        wrong_role
            .body
            .contains("aria-describedby=\"role-error\"><legend>Permission</legend>")
    );
    assert!(
        wrong_role
            .body
            .contains(&format!("value=\"{app_user}\" required checked")),
        "the choice is kept"
    );
    platform.shutdown().await.unwrap();
}

#[tokio::test]
async fn sign_in_names_the_blank_field_and_keeps_the_account_only() {
    let (platform, _dir) = start().await;
    let mut visitor = Visitor::new(&platform);
    let form = visitor.get("/signin").await;
    assert!(form.body.contains("<section class=\"signin-card\""));
    assert!(tag_of(&form, "upn").contains("autofocus"));
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
    assert!(tag_of(&blank_password, "upn").contains(&format!("value=\"{ADMIN}\"")));
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
    let nav_start = page.body.find("<nav class=\"side\"").unwrap();
    let nav = &page.body[nav_start..nav_start + page.body[nav_start..].find("</nav>").unwrap()];
    let links = nav.matches("<a href=").count();
    assert_eq!(links, 7, "{nav}");
    assert_eq!(
        nav.matches("<svg class=\"icon\" aria-hidden=\"true\" focusable=\"false\"")
            .count(),
        links
    );
    // On a phone each row stacks, every value under its column's label.
    for label in ["Name", "Flow Machine Group", "Created On", "Modified On"] {
        assert!(
            page.body.contains(&format!("<td data-label=\"{label}\">")),
            "{label}"
        );
    }
    assert!(page.body.contains("role=\"region\" aria-labelledby=\"cap-"));
    platform.shutdown().await.unwrap();
}
