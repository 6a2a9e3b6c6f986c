//! The seed's portal pages and the rules behind them.

use super::*;

#[tokio::test]
async fn sign_in_sets_a_hashed_http_only_session_and_sign_out_ends_it() {
    let (platform, _dir) = start().await;
    let mut visitor = Visitor::new(&platform);

    let anonymous = visitor.get(&env_path("/machines")).await;
    assert_eq!(anonymous.status, StatusCode::SEE_OTHER);
    assert!(
        anonymous
            .location
            .unwrap()
            .starts_with("/signin?next=%2Fenvironments%2F")
    );

    let refused = visitor.sign_in(ADMIN, "wrong-password").await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    assert!(
        refused
            .text("p.field-error#password-error")
            .contains("wrong"),
        "{}",
        refused.body
    );
    assert!(
        !refused.body.contains("wrong-password"),
        "the password is never echoed"
    );
    assert!(!visitor.cookies.contains_key("padconnect_session"));
    let unknown = visitor
        .sign_in("nobody@contoso.onmicrosoft.com", ADMIN_PASSWORD)
        .await;
    assert_eq!(unknown.status, StatusCode::UNAUTHORIZED);
    let other_tenant = visitor
        .sign_in("admin@fabrikam.example", ADMIN_PASSWORD)
        .await;
    assert_eq!(other_tenant.status, StatusCode::UNAUTHORIZED);

    let done = visitor.sign_in(ADMIN, ADMIN_PASSWORD).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER);
    let cookie = done
        .set_cookies
        .iter()
        .find(|c| c.starts_with("padconnect_session="))
        .expect("a session cookie");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Lax"), "{cookie}");
    assert!(!cookie.contains("Secure"), "plain HTTP: {cookie}");
    let token = visitor.cookies["padconnect_session"].clone();
    assert!(token.len() >= 43);

    // The store keeps the token's SHA-256, never the token.
    let hash =
        hex(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, token.as_bytes()).as_ref());
    let session = platform
        .store()
        .portal_session(&hash, platform.store().now())
        .await
        .unwrap()
        .expect("the session is in the store");
    assert!(session.expires_at > platform.store().now());
    assert!(
        platform
            .store()
            .portal_session(&token, platform.store().now())
            .await
            .unwrap()
            .is_none()
    );

    let machines = visitor.get(&env_path("/machines")).await;
    assert_eq!(machines.status, StatusCode::OK);
    assert!(machines.title().starts_with("Machines"));
    assert!(machines.texts("tbody td").concat().contains("Finance bots"));
    assert_eq!(machines.headers["cache-control"], "no-store");
    let csp = machines.headers["content-security-policy"]
        .to_str()
        .unwrap();
    assert!(csp.starts_with("default-src 'none'"), "{csp}");

    let csrf = machines.csrf();
    let out = visitor.post("/signout", &[("csrf", &csrf)]).await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert!(
        out.set_cookies
            .iter()
            .any(|c| c.starts_with("padconnect_session=;") && c.contains("Max-Age=0"))
    );
    assert!(
        platform
            .store()
            .portal_session(&hash, platform.store().now())
            .await
            .unwrap()
            .is_none()
    );

    // A copy of the old cookie is worthless now.
    visitor.cookies.insert("padconnect_session".into(), token);
    let after = visitor.get(&env_path("/machines")).await;
    assert_eq!(after.status, StatusCode::SEE_OTHER);
    platform.shutdown().await.unwrap();
}

#[tokio::test]
async fn sign_in_after_a_redirect_goes_back_but_never_off_site() {
    let (platform, _dir) = start().await;
    let mut visitor = Visitor::new(&platform);
    let form = visitor.get("/signin?next=//evil.example/").await;
    assert!(!form.body.contains("evil.example"), "{}", form.body);
    let csrf = form.csrf();
    let done = visitor
        .post(
            "/signin",
            &[
                ("upn", ADMIN),
                ("password", ADMIN_PASSWORD),
                ("csrf", &csrf),
                ("next", "https://evil.example/"),
            ],
        )
        .await;
    assert_eq!(done.location.as_deref(), Some("/"));

    let mut visitor = Visitor::new(&platform);
    let csrf = visitor.get("/signin").await.csrf();
    let path = env_path("/connections");
    let done = visitor
        .post(
            "/signin",
            &[
                ("upn", ADMIN),
                ("password", ADMIN_PASSWORD),
                ("csrf", &csrf),
                ("next", &path),
            ],
        )
        .await;
    assert_eq!(done.location.as_deref(), Some(path.as_str()));
    platform.shutdown().await.unwrap();
}

#[tokio::test]
async fn forms_without_the_right_csrf_token_are_refused() {
    let (platform, _dir) = start().await;

    // The sign-in form: no pre-session cookie, or a token of another one.
    let mut visitor = Visitor::new(&platform);
    let no_cookie = visitor
        .post(
            "/signin",
            &[("upn", ADMIN), ("password", ADMIN_PASSWORD), ("csrf", "00")],
        )
        .await;
    assert_eq!(no_cookie.status, StatusCode::FORBIDDEN);
    visitor.get("/signin").await;
    let wrong = visitor
        .post(
            "/signin",
            &[
                ("upn", ADMIN),
                ("password", ADMIN_PASSWORD),
                ("csrf", &"0".repeat(64)),
            ],
        )
        .await;
    assert_eq!(wrong.status, StatusCode::FORBIDDEN);
    assert!(wrong.title().starts_with("Forbidden"), "{}", wrong.body);

    let (mut visitor, csrf) = Visitor::signed_in(&platform, ADMIN, ADMIN_PASSWORD).await;
    let create = env_path("/machines/groups");
    let missing = visitor.post(&create, &[("name", "Payroll bots")]).await;
    assert_eq!(missing.status, StatusCode::FORBIDDEN);
    let wrong = visitor
        .post(
            &create,
            &[("name", "Payroll bots"), ("csrf", &"a".repeat(64))],
        )
        .await;
    assert_eq!(wrong.status, StatusCode::FORBIDDEN);
    // Another session's token does not do either.
    let (_other, other_csrf) = Visitor::signed_in(&platform, ADMIN, ADMIN_PASSWORD).await;
    assert_ne!(other_csrf, csrf);
    let crossed = visitor
        .post(&create, &[("name", "Payroll bots"), ("csrf", &other_csrf)])
        .await;
    assert_eq!(crossed.status, StatusCode::FORBIDDEN);
    let signout = visitor.post("/signout", &[]).await;
    assert_eq!(signout.status, StatusCode::FORBIDDEN);
    let groups = platform
        .store()
        .machine_groups(&ENVIRONMENT.parse().unwrap())
        .await
        .unwrap();
    assert!(
        !groups.iter().any(|g| g.name == "Payroll bots"),
        "nothing was created"
    );

    // Without any session a form post is refused too.
    let mut anonymous = Visitor::new(&platform);
    let refused = anonymous
        .post(&create, &[("name", "x"), ("csrf", &csrf)])
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    platform.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_new_group_has_its_id_in_its_page_url_and_a_rotatable_password() {
    let (platform, _dir) = start().await;
    let (mut visitor, csrf) = Visitor::signed_in(&platform, ADMIN, ADMIN_PASSWORD).await;
    let created = visitor
        .post(
            &env_path("/machines/groups"),
            &[
                ("name", "Payroll <bots>"),
                ("description", "nightly"),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
    let location = created.location.unwrap();
    let prefix = env_path("/machines/groups/");
    assert!(location.starts_with(&prefix), "{location}");
    let id: Uuid = location[prefix.len()..prefix.len() + 36].parse().unwrap();
    let group = platform.store().machine_group(id).await.unwrap().unwrap();
    assert_eq!(group.name, "Payroll <bots>");
    assert!(group.password_hash.is_none());

    let page = visitor.get(&location).await;
    assert_eq!(page.status, StatusCode::OK);
    // The name is text, never markup.
    assert!(
        page.title().starts_with("Payroll <bots> - "),
        "{}",
        page.body
    );
    assert_eq!(page.text("main h1"), "Payroll <bots>", "{}", page.body);
    // A title's text is read as text whether escaped or not: the raw page
    // shows it was.
    assert!(
        page.body.contains("<title>Payroll &lt;bots&gt; - "),
        "{}",
        page.body
    );
    assert!(
        !page.has("bots") && !page.has("script"),
        "escaped: {}",
        page.body
    );
    assert_eq!(page.text("code#group-id"), id.to_string());
    assert!(
        page.texts("div.command-bar a.command > span")
            .contains(&"Set password".to_owned())
    );

    let password_path = format!("{prefix}{id}/password");
    let short = visitor
        .post(
            &password_path,
            &[
                ("password", "short"),
                ("confirmation", "short"),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(short.status, StatusCode::BAD_REQUEST);
    let differ = visitor
        .post(
            &password_path,
            &[
                ("password", "group-pass-1"),
                ("confirmation", "group-pass-2"),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(differ.status, StatusCode::BAD_REQUEST);
    let set = visitor
        .post(
            &password_path,
            &[
                ("password", "group-pass-1"),
                ("confirmation", "group-pass-1"),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(set.status, StatusCode::SEE_OTHER);
    let first = platform
        .store()
        .machine_group(id)
        .await
        .unwrap()
        .unwrap()
        .password_hash
        .unwrap();
    assert!(password_matches("group-pass-1", &first));
    assert!(!first.contains("group-pass-1"));
    let page = visitor.get(&format!("{prefix}{id}")).await;
    assert!(
        page.texts("div.command-bar a.command > span")
            .contains(&"Rotate password".to_owned())
    );
    visitor
        .post(
            &password_path,
            &[
                ("password", "group-pass-2"),
                ("confirmation", "group-pass-2"),
                ("csrf", &csrf),
            ],
        )
        .await;
    let rotated = platform.store().machine_group(id).await.unwrap().unwrap();
    assert!(password_matches(
        "group-pass-2",
        rotated.password_hash.as_deref().unwrap()
    ));
    assert!(rotated.stamp.versionnumber > group.stamp.versionnumber);

    let missing_name = visitor
        .post(
            &env_path("/machines/groups"),
            &[("name", "  "), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(missing_name.status, StatusCode::BAD_REQUEST);
    platform.shutdown().await.unwrap();
}

#[tokio::test]
async fn sharing_in_the_panel_decides_what_the_service_principal_may_do() {
    let (platform, _dir) = start().await;
    let token = app_token(&platform).await;
    assert_eq!(
        put_connection(&platform, &token, GROUP).await,
        StatusCode::FORBIDDEN,
        "not shared yet"
    );
    assert_eq!(dataverse_read_group(&platform).await, StatusCode::FORBIDDEN);

    let (mut visitor, csrf) = Visitor::signed_in(&platform, ADMIN, ADMIN_PASSWORD).await;
    let panel_path = env_path(&format!("/machines/groups/{GROUP}/share"));
    let panel = visitor.get(&format!("{panel_path}?q=deploy")).await;
    assert_eq!(panel.status, StatusCode::OK);
    assert!(panel.title().starts_with("Share Finance bots"));
    let app_user = app_user_id(&platform).await;
    assert!(
        panel.has(&format!(
            "div.panel input[name=\"principal\"][value=\"{app_user}\"]"
        )),
        "the application user is found: {}",
        panel.body
    );
    assert!(panel.texts("div.panel label").concat().contains(SECRET_APP));
    let none = visitor.get(&format!("{panel_path}?q=zzz-nobody")).await;
    assert!(!none.body.contains(&app_user));

    let saved = visitor
        .post(
            &panel_path,
            &[("principal", &app_user), ("role", "user"), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let record = RecordRef::MachineGroup(GROUP.parse().unwrap());
    let rights = platform
        .store()
        .share_rights(record, app_user.parse().unwrap())
        .await
        .unwrap();
    assert_eq!(rights, padconnect_core::ShareRole::User.rights());
    let panel = visitor.get(&panel_path).await;
    // The application user's row says User.
    let doc = panel.doc();
    let row = doc
        .select(&css("div.panel tbody > tr"))
        .find(|tr| tr.text().collect::<String>().contains("deploy-pipeline"))
        .unwrap_or_else(|| panic!("no deploy-pipeline row: {}", panel.body));
    assert_eq!(
        row.select(&css("td[data-label=\"Permission\"]"))
            .map(|td| td.text().collect::<String>())
            .collect::<Vec<_>>(),
        ["User"],
        "{}",
        panel.body
    );
    assert_eq!(
        put_connection(&platform, &token, GROUP).await,
        StatusCode::CREATED
    );
    assert_eq!(dataverse_read_group(&platform).await, StatusCode::OK);

    let co_owner = visitor
        .post(
            &panel_path,
            &[
                ("principal", &app_user),
                ("role", "co-owner"),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(co_owner.status, StatusCode::SEE_OTHER);
    let rights = platform
        .store()
        .share_rights(record, app_user.parse().unwrap())
        .await
        .unwrap();
    assert_eq!(rights, padconnect_core::AccessRights::all());

    let removed = visitor
        .post(
            &format!("{panel_path}/remove"),
            &[("principal", &app_user), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(removed.status, StatusCode::SEE_OTHER);
    let rights = platform
        .store()
        .share_rights(record, app_user.parse().unwrap())
        .await
        .unwrap();
    assert!(rights.is_empty());
    assert_eq!(dataverse_read_group(&platform).await, StatusCode::FORBIDDEN);
    assert_eq!(
        put_connection(&platform, &token, GROUP).await,
        StatusCode::FORBIDDEN
    );

    // Bad input: an HTML 400, never a 500.
    let bad_role = visitor
        .post(
            &panel_path,
            &[("principal", &app_user), ("role", "owner"), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(bad_role.status, StatusCode::BAD_REQUEST);
    let bad_principal = visitor
        .post(
            &panel_path,
            &[("principal", "nope"), ("role", "user"), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(bad_principal.status, StatusCode::BAD_REQUEST);
    let stranger = Uuid::new_v4().to_string();
    let unknown = visitor
        .post(
            &panel_path,
            &[("principal", &stranger), ("role", "user"), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST);
    let missing_field = visitor
        .post(&panel_path, &[("role", "user"), ("csrf", &csrf)])
        .await;
    assert_eq!(missing_field.status, StatusCode::BAD_REQUEST);
    assert!(
        missing_field.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    platform.shutdown().await.unwrap();
}

#[tokio::test]
async fn users_see_and_change_only_what_their_rights_allow() {
    let (platform, _dir) = start().await;
    let group_path = env_path(&format!("/machines/groups/{GROUP}"));

    // A user of the tenant who is in no environment: nothing to open.
    let (mut carol, _) = Visitor::signed_in(&platform, OUTSIDER, OUTSIDER_PASSWORD).await;
    let home = carol.get("/environments").await;
    assert!(
        home.text("main p.empty")
            .contains("not a user of any environment")
    );
    assert_eq!(
        carol.get(&env_path("/machines")).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(carol.get(&group_path).await.status, StatusCode::NOT_FOUND);

    // A maker who was given nothing: the group does not exist for him.
    let (mut bob, bob_csrf) = Visitor::signed_in(&platform, MAKER, MAKER_PASSWORD).await;
    let machines = bob.get(&env_path("/machines")).await;
    assert_eq!(machines.status, StatusCode::OK);
    // On the raw page: not in any attribute either.
    assert!(!machines.body.contains("Finance bots"));
    assert!(!machines.body.contains("FIN-VM-01"));
    assert_eq!(bob.get(&group_path).await.status, StatusCode::NOT_FOUND);
    let table = bob.get(&env_path("/tables/flowmachinegroup")).await;
    assert!(!table.body.contains(GROUP));
    let share = bob
        .post(
            &format!("{group_path}/share"),
            &[
                ("principal", &app_user_id(&platform).await),
                ("role", "user"),
                ("csrf", &bob_csrf),
            ],
        )
        .await;
    assert_eq!(share.status, StatusCode::NOT_FOUND);
    // An environment of the tenant he is not a user of.
    assert_eq!(
        bob.get(&format!("/environments/{OTHER_ENV}/machines"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );

    // Shared with him as User: he sees the group, but may not share it or
    // change its password.
    let (mut admin, csrf) = Visitor::signed_in(&platform, ADMIN, ADMIN_PASSWORD).await;
    let bob_user = {
        let panel = admin.get(&format!("{group_path}/share?q=bob")).await;
        panel
            .attr(
                "input[type=\"radio\"][name=\"principal\"][id^=\"p-\"]",
                "value",
            )
            .unwrap()
    };
    let saved = admin
        .post(
            &format!("{group_path}/share"),
            &[("principal", &bob_user), ("role", "user"), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER);
    let page = bob.get(&group_path).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.texts("tbody td").concat().contains("FIN-VM-01"));
    assert!(!page.body_text().contains("Set password"));
    assert!(!page.has("[href$=\"?panel=password\"]"));
    assert_eq!(
        bob.get(&format!("{group_path}/share")).await.status,
        StatusCode::FORBIDDEN
    );
    let share = bob
        .post(
            &format!("{group_path}/share"),
            &[
                ("principal", &bob_user),
                ("role", "co-owner"),
                ("csrf", &bob_csrf),
            ],
        )
        .await;
    assert_eq!(share.status, StatusCode::FORBIDDEN);
    let password = bob
        .post(
            &format!("{group_path}/password"),
            &[
                ("password", "group-pass-1"),
                ("confirmation", "group-pass-1"),
                ("csrf", &bob_csrf),
            ],
        )
        .await;
    assert_eq!(password.status, StatusCode::FORBIDDEN);
    assert!(
        platform
            .store()
            .machine_group(GROUP.parse().unwrap())
            .await
            .unwrap()
            .unwrap()
            .password_hash
            .is_none()
    );
    platform.shutdown().await.unwrap();
}

#[tokio::test]
async fn connections_show_to_those_who_may_see_them_and_delete_with_rights() {
    let (platform, _dir) = start().await;
    let (mut admin, csrf) = Visitor::signed_in(&platform, ADMIN, ADMIN_PASSWORD).await;
    let app_user = app_user_id(&platform).await;
    admin
        .post(
            &env_path(&format!("/machines/groups/{GROUP}/share")),
            &[("principal", &app_user), ("role", "user"), ("csrf", &csrf)],
        )
        .await;
    let token = app_token(&platform).await;
    assert_eq!(
        put_connection(&platform, &token, GROUP).await,
        StatusCode::CREATED
    );
    let env = ENVIRONMENT.parse().unwrap();
    let connection = platform
        .store()
        .visible_connections_page(&env, None, None, 10)
        .await
        .unwrap()
        .items
        .remove(0);

    let list = admin.get(&env_path("/connections")).await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(
        list.texts("tbody td > code")
            .contains(&connection.id.to_string()),
        "an administrator sees it: {}",
        list.body
    );
    assert!(
        list.texts("tbody td > span.status")
            .contains(&"Connected".to_owned())
    );
    let cells = list.texts("tbody td").concat();
    assert!(cells.contains("Finance bots"));
    assert!(cells.contains("ServicePrincipal"));
    assert!(!list.body.contains("Wind0ws-P@ss"), "no secret on the page");

    let (mut bob, bob_csrf) = Visitor::signed_in(&platform, MAKER, MAKER_PASSWORD).await;
    let hidden = bob.get(&env_path("/connections")).await;
    assert!(!hidden.body.contains(&connection.id.to_string()));
    let delete_path = env_path(&format!("/connections/{}/delete", connection.id));
    assert_eq!(
        bob.post(&delete_path, &[("csrf", &bob_csrf)]).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        admin
            .post(
                &env_path("/connections/not-a-guid/delete"),
                &[("csrf", &csrf)]
            )
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let deleted = admin.post(&delete_path, &[("csrf", &csrf)]).await;
    assert_eq!(deleted.status, StatusCode::SEE_OTHER);
    assert!(
        platform
            .store()
            .connection(&env, &connection.id)
            .await
            .unwrap()
            .is_none()
    );
    platform.shutdown().await.unwrap();
}

#[tokio::test]
async fn the_flow_machine_group_table_finds_a_standalone_machines_group() {
    let (platform, _dir) = start().await;
    let (mut admin, _) = Visitor::signed_in(&platform, ADMIN, ADMIN_PASSWORD).await;
    let table = admin
        .get(&env_path("/tables/flowmachinegroup?q=hr-laptop"))
        .await;
    assert_eq!(table.status, StatusCode::OK);
    assert!(table.title().starts_with("Flow Machine Group"));
    let notes = table.texts("thead th > small");
    for column in ["(name)", "(flowmachinegroupid)", "(flowgrouptype)"] {
        assert!(notes.contains(&column.to_owned()), "{column}: {notes:?}");
    }
    assert!(table.texts("tbody td").concat().contains(STANDALONE_GROUP));
    assert!(!table.body.contains(GROUP), "filtered by name");
    let all = admin.get(&env_path("/tables/flowmachinegroup")).await;
    let cells = all.texts("tbody td").concat();
    assert!(cells.contains(GROUP) && cells.contains(STANDALONE_GROUP));

    // The machine's own page names the same group id.
    let machines = admin.get(&env_path("/machines")).await;
    assert!(machines.texts("tbody td").concat().contains("HR-LAPTOP-07"));
    // Online, it has beaten since the platform started.
    let statuses = machines.texts("tbody td span.status");
    assert!(statuses.contains(&"Connected".to_owned()), "{statuses:?}");
    assert!(!machines.body_text().contains("Never connected"));
    let machine = platform
        .store()
        .machines_in_group(STANDALONE_GROUP.parse().unwrap())
        .await
        .unwrap()
        .remove(0);
    let page = admin
        .get(&env_path(&format!("/machines/{}", machine.id)))
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(page.text("code#group-id"), STANDALONE_GROUP);
    platform.shutdown().await.unwrap();
}

#[tokio::test]
async fn bad_addresses_get_html_error_pages_and_the_cloud_host_works() {
    let (platform, _dir) = start().await;
    let (mut admin, _) = Visitor::signed_in(&platform, ADMIN, ADMIN_PASSWORD).await;
    for (path, status) in [
        (
            "/environments/not-a-guid/machines".to_owned(),
            StatusCode::NOT_FOUND,
        ),
        (
            format!("/environments/{}/machines", Uuid::new_v4()),
            StatusCode::NOT_FOUND,
        ),
        (
            env_path("/machines/groups/not-a-guid"),
            StatusCode::NOT_FOUND,
        ),
        (
            env_path(&format!("/machines/groups/{}", Uuid::new_v4())),
            StatusCode::NOT_FOUND,
        ),
        (
            env_path(&format!("/machines/{}", Uuid::new_v4())),
            StatusCode::NOT_FOUND,
        ),
        (env_path("/no-such-page"), StatusCode::NOT_FOUND),
        ("/environments?id=nope".to_owned(), StatusCode::NOT_FOUND),
        (
            env_path("/machines?notice=a&notice=b"),
            StatusCode::BAD_REQUEST,
        ),
        (
            env_path("/tables/flowmachinegroup?q=a&q=b"),
            StatusCode::BAD_REQUEST,
        ),
        (
            env_path(&format!("/machines/groups/{GROUP}/password")),
            StatusCode::METHOD_NOT_ALLOWED,
        ),
    ] {
        let page = admin.get(&path).await;
        assert_eq!(page.status, status, "{path}: {}", page.body);
        assert!(
            page.headers["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/html"),
            "{path}"
        );
        assert!(!page.title().is_empty(), "{path}");
    }
    let picked = admin.get(&format!("/environments?id={ENVIRONMENT}")).await;
    assert_eq!(
        picked.location.as_deref(),
        Some(env_path("/machines").as_str())
    );

    // The API under /environments/{id}/connectivity still answers as the API.
    let api = admin
        .get(&env_path("/connectivity/connections?api-version=1"))
        .await;
    assert_eq!(api.status, StatusCode::UNAUTHORIZED);
    assert!(
        api.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );

    // make.powerautomate.com is the portal too.
    let mut cloud = Visitor::new(&platform);
    cloud.host = Some("make.powerautomate.com");
    let done = cloud.sign_in(ADMIN, ADMIN_PASSWORD).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER);
    let machines = cloud.get(&env_path("/machines")).await;
    assert_eq!(machines.status, StatusCode::OK);
    platform.shutdown().await.unwrap();
}

/// The portal's queries on every backend: sessions (found by hash, gone when
/// expired or deleted) and the group password.
#[tokio::test]
async fn sessions_and_group_passwords_persist_on_every_backend() {
    use padconnect_domain::world::{World, load_world};
    use padconnect_store::PortalSession;

    let world =
        World::from_spec(world().spec(), std::path::Path::new("."), "portal world").unwrap();
    for backend in crate::support::backends().await {
        let store = &backend.store;
        let ring = padconnect_domain::keyring::KeyRing::parse(
            &padconnect_domain::keyring::KeyRing::generate_key(),
            "test",
        )
        .unwrap();
        load_world(store, &ring, &world).await.unwrap();
        let tenant = store
            .tenant_by_domain("contoso.onmicrosoft.com")
            .await
            .unwrap()
            .unwrap();
        let user = store.user_by_upn(tenant.id, ADMIN).await.unwrap().unwrap();
        assert_eq!(
            store.user_by_object_id(user.object_id).await.unwrap(),
            Some(user.clone())
        );

        let now = store.now();
        let live = PortalSession {
            tenant_id: tenant.id,
            user_object_id: user.object_id,
            created_at: now,
            expires_at: now.plus_seconds(60),
        };
        let old = PortalSession {
            created_at: now.plus_seconds(-120),
            expires_at: now.plus_seconds(-60),
            ..live.clone()
        };
        let mut tx = store.begin().await.unwrap();
        tx.insert_portal_session("old-hash", &old).await.unwrap();
        tx.commit().await.unwrap();
        assert_eq!(
            store.portal_session("old-hash", now).await.unwrap(),
            None,
            "expired"
        );
        let mut tx = store.begin().await.unwrap();
        tx.insert_portal_session("live-hash", &live).await.unwrap();
        tx.commit().await.unwrap();
        assert_eq!(
            store.portal_session("live-hash", now).await.unwrap(),
            Some(live)
        );
        let mut tx = store.begin().await.unwrap();
        assert!(
            !tx.delete_portal_session("old-hash").await.unwrap(),
            "swept when the live one came"
        );
        assert!(tx.delete_portal_session("live-hash").await.unwrap());
        tx.commit().await.unwrap();
        assert_eq!(store.portal_session("live-hash", now).await.unwrap(), None);

        let group: Uuid = GROUP.parse().unwrap();
        let before = store.machine_group(group).await.unwrap().unwrap();
        let mut tx = store.begin().await.unwrap();
        assert!(
            tx.set_machine_group_password(group, "$argon2id$x", user.object_id, now)
                .await
                .unwrap()
        );
        assert!(
            !tx.set_machine_group_password(Uuid::new_v4(), "$argon2id$x", user.object_id, now)
                .await
                .unwrap()
        );
        tx.commit().await.unwrap();
        let after = store.machine_group(group).await.unwrap().unwrap();
        assert_eq!(after.password_hash.as_deref(), Some("$argon2id$x"));
        assert_eq!(after.stamp.versionnumber, before.stamp.versionnumber + 1);
        backend.finish().await;
    }
}

/// Over TLS, at the portal's cloud name, the session cookie is Secure too.
#[tokio::test]
async fn the_session_cookie_is_secure_under_tls() {
    let (platform, world) = crate::support::start_identity(true).await;
    let ca = std::fs::read(world.dir.path().join("data/tls/ca.pem")).unwrap();
    let http = padconnect_testkit::http_builder()
        .add_root_certificate(reqwest::Certificate::from_pem(&ca).unwrap())
        .resolve("make.powerautomate.com", platform.addr);
    let base = format!("https://make.powerautomate.com:{}", platform.addr.port());
    let mut visitor = Visitor::with(http, base);
    let form = visitor.get("/signin").await;
    let pre_session = form
        .set_cookies
        .iter()
        .find(|c| c.starts_with("padconnect_signin="))
        .unwrap();
    assert!(pre_session.ends_with("; Secure"), "{pre_session}");
    let done = visitor
        .sign_in(crate::support::USER, crate::support::PASSWORD)
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    let cookie = done
        .set_cookies
        .iter()
        .find(|c| c.starts_with("padconnect_session="))
        .unwrap();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    assert!(cookie.ends_with("; Secure"), "{cookie}");
    let machines = visitor.get(&env_path("/machines")).await;
    assert_eq!(machines.status, StatusCode::OK);
    platform.shutdown().await.unwrap();
}

/// A connection owned by the administrator, written straight to the store.
#[tokio::test]
async fn a_run_owner_connection_is_shared_with_a_service_principal_in_the_portal() {
    let (platform, _dir) = start().await;
    let (mut admin, csrf) = Visitor::signed_in(&platform, ADMIN, ADMIN_PASSWORD).await;
    let run_owner = admins_connection(&platform, "azureRelayRunOwner").await;
    let plain = admins_connection(&platform, "azureRelay").await;
    let sp = platform
        .store()
        .app(TENANT_ID.parse().unwrap(), SECRET_APP.parse().unwrap())
        .await
        .unwrap()
        .unwrap()
        .object_id
        .to_string();
    let panel_path = env_path(&format!("/connections/{run_owner}/share"));

    let list = admin.get(&env_path("/connections")).await;
    assert!(
        list.has(&format!("a[href=\"{panel_path}\"]")),
        "{}",
        list.body
    );
    let panel = admin.get(&panel_path).await;
    assert_eq!(panel.status, StatusCode::OK, "{}", panel.body);
    assert!(
        panel.has(&format!(
            "div.panel input[name=\"principal\"][value=\"{sp}\"]"
        )),
        "{}",
        panel.body
    );

    // The service principal cannot see it until it is shared.
    let token = app_token(&platform).await;
    let api = Client::new(platform.url()).host(ENV_HOST).token(&token);
    let api_get = async |id: String| {
        api.get(&format!(
            "/connectivity/connectors/shared_uiflow/connections/{id}?api-version=1"
        ))
        .await
        .status
    };
    assert_eq!(api_get(run_owner.clone()).await, StatusCode::NOT_FOUND);
    let saved = admin
        .post(
            &panel_path,
            &[("principal", &sp), ("role", "CanView"), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    assert_eq!(api_get(run_owner.clone()).await, StatusCode::OK);
    let after = admin.get(&panel_path).await;
    let cells = after.texts("div.panel td").concat();
    assert!(cells.contains("CanView") && cells.contains("deploy-pipeline"));

    let bad_role = admin
        .post(
            &panel_path,
            &[("principal", &sp), ("role", "Owner"), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(bad_role.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        bad_role.text("fieldset[aria-describedby=\"role-error\"] > legend:first-child"),
        "Permission",
        "{}",
        bad_role.body
    );
    let removed = admin
        .post(
            &format!("{panel_path}/remove"),
            &[("principal", &sp), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(removed.status, StatusCode::SEE_OTHER);
    assert_eq!(api_get(run_owner.clone()).await, StatusCode::NOT_FOUND);

    // azureRelay connections are never shared; strangers see nothing.
    let plain_path = env_path(&format!("/connections/{plain}/share"));
    assert!(
        admin
            .get(&plain_path)
            .await
            .texts("div.panel p")
            .concat()
            .contains("only azureRelayRunOwner connections can be shared")
    );
    let refused = admin
        .post(
            &plain_path,
            &[("principal", &sp), ("role", "CanView"), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    let (mut bob, bob_csrf) = Visitor::signed_in(&platform, MAKER, MAKER_PASSWORD).await;
    assert_eq!(bob.get(&panel_path).await.status, StatusCode::NOT_FOUND);
    assert_eq!(
        bob.post(
            &panel_path,
            &[("principal", &sp), ("role", "CanView"), ("csrf", &bob_csrf)]
        )
        .await
        .status,
        StatusCode::NOT_FOUND
    );
    platform.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_disabled_users_access_can_still_be_removed() {
    let (platform, _dir) = start().await;
    let (mut admin, csrf) = Visitor::signed_in(&platform, ADMIN, ADMIN_PASSWORD).await;
    let app_user = app_user_id(&platform).await;
    let share = env_path(&format!("/machines/groups/{GROUP}/share"));
    let saved = admin
        .post(
            &share,
            &[("principal", &app_user), ("role", "user"), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);

    // The application user is disabled afterwards; its share stays listed.
    let store = platform.store();
    let mut user = store
        .system_user(app_user.parse().unwrap())
        .await
        .unwrap()
        .unwrap();
    user.isdisabled = true;
    let mut tx = store.begin().await.unwrap();
    tx.upsert_system_user(&user).await.unwrap();
    tx.commit().await.unwrap();

    let removed = admin
        .post(
            &format!("{share}/remove"),
            &[("principal", &app_user), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(removed.status, StatusCode::SEE_OTHER, "{}", removed.body);
    let rights = store
        .share_rights(RecordRef::MachineGroup(GROUP.parse().unwrap()), user.id)
        .await
        .unwrap();
    assert!(rights.is_empty(), "{rights}");
    platform.shutdown().await.unwrap();
}

#[tokio::test]
async fn the_portal_locks_an_account_as_the_token_endpoint_does() {
    let (platform, _dir) = start().await;
    let mut visitor = Visitor::new(&platform);
    for i in 0..10 {
        let refused = visitor.sign_in(ADMIN, &format!("guess-{i}")).await;
        assert!(
            refused
                .text("p.field-error#password-error")
                .contains("is wrong"),
            "{}",
            refused.body
        );
    }
    // The one rule (domain::sign_in) counts the form's attempts too.
    let locked = visitor.sign_in(ADMIN, ADMIN_PASSWORD).await;
    assert_eq!(locked.status, StatusCode::UNAUTHORIZED);
    assert!(
        locked.body_text().contains("temporarily locked"),
        "{}",
        locked.body
    );
    assert!(!visitor.cookies.contains_key("padconnect_session"));
    platform.shutdown().await.unwrap();
}
