//! FetchXML on the Dataverse tables (`?fetchXml=`): columns, conditions,
//! link-entities, paging with the cookie, counts, distinct, aggregates,
//! Dataverse's error codes, and the same rows as OData for every caller.

use padconnect_platform::RunningPlatform;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::dataverse::{
    DV_SCOPE, Reply, admin_token, app_token, assert_dataverse_error, dv_client, get, names,
};
use crate::support::*;

/// `GET {set}?fetchXml={xml}` (and `extra` query pairs), as the clients
/// send it: the XML URL-encoded.
async fn fetch_with(
    platform: &RunningPlatform,
    token: &str,
    set: &str,
    xml: &str,
    extra: &[(&str, &str)],
    prefer: Option<&str>,
) -> Reply {
    let mut query = vec![("fetchXml", xml)];
    query.extend_from_slice(extra);
    let mut request = dv_client(platform)
        .token(token)
        .request(Method::GET, set)
        .query(&query);
    if let Some(prefer) = prefer {
        request = request.header("Prefer", prefer);
    }
    Reply::read(request).await
}

async fn fetch(platform: &RunningPlatform, token: &str, set: &str, xml: &str) -> Reply {
    fetch_with(platform, token, set, xml, &[], None).await
}

fn ok(reply: &Reply) -> &Vec<Value> {
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    reply.body["value"].as_array().unwrap()
}

fn column<'a>(reply: &'a Reply, key: &str) -> Vec<&'a str> {
    ok(reply)
        .iter()
        .map(|r| r[key].as_str().unwrap_or("<absent>"))
        .collect()
}

fn groups(condition: &str) -> String {
    format!(
        "<fetch><entity name='flowmachinegroup'><attribute name='name'/><order attribute='name'/><filter>{condition}</filter></entity></fetch>"
    )
}

#[tokio::test]
async fn attributes_orders_and_the_answer_are_dataverses() {
    let (platform, _world) = start_identity(false).await;
    let token = app_token(&platform).await;
    let reply = fetch(
        &platform,
        &token,
        "flowmachinegroups",
        "<fetch mapping='logical' no-lock='true'><entity name='flowmachinegroup'><attribute name='name'/><attribute name='flowgrouptype'/><order attribute='name' descending='true'/></entity></fetch>",
    )
    .await;
    assert_eq!(column(&reply, "name"), vec!["LAPTOP-07", "Finance bots"]);
    assert_eq!(
        reply.body["@odata.context"],
        format!(
            "{}/orgs/contoso/api/data/v9.2/$metadata#flowmachinegroups(flowmachinegroupid,name,flowgrouptype)",
            platform.url()
        )
    );
    let finance = &ok(&reply)[1];
    assert_eq!(
        finance["flowmachinegroupid"], SHARED_GROUP,
        "the key always"
    );
    assert_eq!(finance["flowgrouptype"], 545_940_001);
    assert!(finance["@odata.etag"].as_str().unwrap().starts_with("W/\""));
    let keys: Vec<&String> = finance.as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        vec!["@odata.etag", "flowgrouptype", "flowmachinegroupid", "name"],
        "only the selected columns, the key and the ETag"
    );
    assert!(
        reply
            .body
            .get("@Microsoft.Dynamics.CRM.morerecords")
            .is_none()
    );

    // No attribute, or all-attributes: every column with a value.
    for xml in [
        "<fetch><entity name='flowmachinegroup'/></fetch>",
        "<fetch><entity name='flowmachinegroup'><all-attributes/></entity></fetch>",
    ] {
        let all = fetch(&platform, &token, "flowmachinegroups", xml).await;
        let row = &ok(&all)[0];
        for key in [
            "name",
            "flowgrouptype",
            "createdon",
            "_ownerid_value",
            "statecode",
        ] {
            assert!(!row[key].is_null(), "{key} in {row}");
        }
        assert!(
            all.body["@odata.context"]
                .as_str()
                .unwrap()
                .ends_with("#flowmachinegroups")
        );
    }

    // Formatted values when asked, as for OData.
    let annotated = fetch_with(
        &platform,
        &token,
        "flowmachinegroups",
        &groups(""),
        &[],
        Some("odata.include-annotations=\"*\""),
    )
    .await;
    assert_eq!(
        annotated.headers["preference-applied"],
        "odata.include-annotations=\"*\""
    );
    let typed = fetch_with(
        &platform,
        &token,
        "flowmachinegroups",
        "<fetch><entity name='flowmachinegroup'><attribute name='flowgrouptype'/><filter><condition attribute='name' operator='eq' value='Finance bots'/></filter></entity></fetch>",
        &[],
        Some("odata.include-annotations=\"OData.Community.Display.V1.FormattedValue\""),
    )
    .await;
    assert!(
        ok(&typed)[0]["flowgrouptype@OData.Community.Display.V1.FormattedValue"].is_string(),
        "{}",
        typed.body
    );
    platform.shutdown().await.unwrap();
}

#[tokio::test]
async fn conditions_take_the_common_operators() {
    let (platform, _world) = start_identity(false).await;
    let token = admin_token(&platform, DV_SCOPE).await;
    let shared_braced = format!("{{{}}}", SHARED_GROUP.to_uppercase());
    let cases: Vec<(String, Vec<&str>)> = vec![
        ("<condition attribute='name' operator='eq' value='finance BOTS'/>".into(), vec!["Finance bots"]),
        ("<condition attribute='name' operator='ne' value='Finance bots'/>".into(), vec!["HR bots", "LAPTOP-07"]),
        ("<condition attribute='name' operator='neq' value='Finance bots'/>".into(), vec!["HR bots", "LAPTOP-07"]),
        ("<condition attribute='flowgrouptype' operator='gt' value='545940001'/>".into(), vec!["LAPTOP-07"]),
        ("<condition attribute='flowgrouptype' operator='ge' value='545940001'/>".into(), vec!["Finance bots", "HR bots", "LAPTOP-07"]),
        ("<condition attribute='flowgrouptype' operator='lt' value='545940002'/>".into(), vec!["Finance bots", "HR bots"]),
        ("<condition attribute='flowgrouptype' operator='le' value='545940001'/>".into(), vec!["Finance bots", "HR bots"]),
        ("<condition attribute='name' operator='like' value='%BOTS'/>".into(), vec!["Finance bots", "HR bots"]),
        ("<condition attribute='name' operator='like' value='_R bot[a-z]'/>".into(), vec!["HR bots"]),
        ("<condition attribute='name' operator='not-like' value='%bots'/>".into(), vec!["LAPTOP-07"]),
        ("<condition attribute='name' operator='begins-with' value='hr'/>".into(), vec!["HR bots"]),
        ("<condition attribute='name' operator='not-begin-with' value='hr'/>".into(), vec!["Finance bots", "LAPTOP-07"]),
        ("<condition attribute='name' operator='ends-with' value='-07'/>".into(), vec!["LAPTOP-07"]),
        ("<condition attribute='name' operator='not-end-with' value='-07'/>".into(), vec!["Finance bots", "HR bots"]),
        // begins-with takes its value literally: `_` is no wildcard there.
        ("<condition attribute='name' operator='begins-with' value='_R'/>".into(), vec![]),
        ("<condition attribute='name' operator='in'><value>HR bots</value><value>LAPTOP-07</value></condition>".into(), vec!["HR bots", "LAPTOP-07"]),
        ("<condition attribute='name' operator='not-in'><value>HR bots</value><value>LAPTOP-07</value></condition>".into(), vec!["Finance bots"]),
        ("<condition attribute='flowgrouptype' operator='between'><value>545940000</value><value>545940001</value></condition>".into(), vec!["Finance bots", "HR bots"]),
        ("<condition attribute='flowgrouptype' operator='not-between'><value>545940000</value><value>545940001</value></condition>".into(), vec!["LAPTOP-07"]),
        ("<condition attribute='description' operator='not-null'/>".into(), vec!["Finance bots", "HR bots", "LAPTOP-07"]),
        ("<condition attribute='ownerid' operator='eq-userid'/>".into(), vec!["Finance bots", "HR bots", "LAPTOP-07"]),
        ("<condition attribute='ownerid' operator='ne-userid'/>".into(), vec![]),
        (format!("<condition attribute='flowmachinegroupid' operator='eq' value='{shared_braced}'/>"), vec!["Finance bots"]),
        (
            "<filter type='or'><condition attribute='name' operator='eq' value='HR bots'/><filter type='and'><condition attribute='flowgrouptype' operator='eq' value='545940002'/><condition attribute='name' operator='like' value='LAP%'/></filter></filter>".into(),
            vec!["HR bots", "LAPTOP-07"],
        ),
    ];
    for (condition, expected) in cases {
        let reply = fetch(&platform, &token, "flowmachinegroups", &groups(&condition)).await;
        assert_eq!(column(&reply, "name"), expected, "{condition}");
    }
    // A lookup is named by its logical name, answered as `_x_value`.
    let machines = fetch(
        &platform,
        &token,
        "flowmachines",
        &format!("<fetch><entity name='flowmachine'><attribute name='name'/><attribute name='flowmachinegroupid'/><filter><condition attribute='flowmachinegroupid' operator='eq' value='{SHARED_GROUP}'/></filter></entity></fetch>"),
    )
    .await;
    assert_eq!(column(&machines, "name"), vec!["FIN-VM-01"]);
    assert_eq!(ok(&machines)[0]["_flowmachinegroupid_value"], SHARED_GROUP);
    // No machine has an agent version: null matches `null` only (SQL), and
    // FetchXML answers leave null values out.
    for (condition, expected) in [
        (
            "<condition attribute='agentversion' operator='null'/>",
            vec!["FIN-VM-01", "HR-VM-01", "LAPTOP-07"],
        ),
        (
            "<condition attribute='agentversion' operator='not-null'/>",
            vec![],
        ),
        (
            "<condition attribute='agentversion' operator='ne' value='2.0'/>",
            vec![],
        ),
        (
            "<condition attribute='agentversion' operator='not-like' value='2%'/>",
            vec![],
        ),
        (
            "<condition attribute='agentversion' operator='not-in'><value>2.0</value></condition>",
            vec![],
        ),
    ] {
        let reply = fetch(
            &platform,
            &token,
            "flowmachines",
            &format!("<fetch><entity name='flowmachine'><attribute name='name'/><attribute name='agentversion'/><order attribute='name'/><filter>{condition}</filter></entity></fetch>"),
        )
        .await;
        assert_eq!(column(&reply, "name"), expected, "{condition}");
        assert!(
            ok(&reply)
                .iter()
                .all(|row| row.get("agentversion").is_none())
        );
    }
    platform.shutdown().await.unwrap();
}

#[tokio::test]
async fn link_entities_join_related_tables_as_alias_dot_attribute() {
    let (platform, _world) = start_identity(false).await;
    let token = admin_token(&platform, DV_SCOPE).await;
    // Many-to-one: each machine with its group.
    let machines = fetch(
        &platform,
        &token,
        "flowmachines",
        "<fetch><entity name='flowmachine'><attribute name='name'/><order attribute='name'/><link-entity name='flowmachinegroup' from='flowmachinegroupid' to='flowmachinegroupid' alias='g' link-type='inner'><attribute name='name'/><attribute name='flowgrouptype'/><attribute name='ownerid'/></link-entity></entity></fetch>",
    )
    .await;
    let rows: Vec<(&str, &str)> = ok(&machines)
        .iter()
        .map(|r| (r["name"].as_str().unwrap(), r["g.name"].as_str().unwrap()))
        .collect();
    assert_eq!(
        rows,
        vec![
            ("FIN-VM-01", "Finance bots"),
            ("HR-VM-01", "HR bots"),
            ("LAPTOP-07", "LAPTOP-07")
        ]
    );
    assert_eq!(ok(&machines)[0]["g.flowgrouptype"], 545_940_001);
    assert!(
        ok(&machines)[0]["g.ownerid"].is_string(),
        "a linked lookup by its logical name"
    );

    // Without an alias, a many-to-one link is named by its table; its filter
    // narrows the join; the root's order comes before the link's.
    let filtered = fetch(
        &platform,
        &token,
        "flowmachines",
        "<fetch><entity name='flowmachine'><attribute name='name'/><link-entity name='flowmachinegroup' from='flowmachinegroupid' to='flowmachinegroupid'><attribute name='name'/><filter><condition attribute='name' operator='like' value='%bots'/></filter><order attribute='name' descending='true'/></link-entity></entity></fetch>",
    )
    .await;
    assert_eq!(
        column(&filtered, "flowmachinegroup.name"),
        vec!["HR bots", "Finance bots"]
    );

    // One-to-many, outer: every group, the machine where one matches (the
    // default alias is the table's name and a number), and `entityname`
    // filtering after the join: the groups without FIN-VM-01.
    let outer = "<fetch><entity name='flowmachinegroup'><attribute name='name'/><order attribute='name'/><link-entity name='flowmachine' from='flowmachinegroupid' to='flowmachinegroupid' link-type='outer'><attribute name='name'/><filter><condition attribute='name' operator='eq' value='FIN-VM-01'/></filter></link-entity>{}</entity></fetch>";
    let all = fetch(
        &platform,
        &token,
        "flowmachinegroups",
        &outer.replace("{}", ""),
    )
    .await;
    assert_eq!(
        column(&all, "name"),
        vec!["Finance bots", "HR bots", "LAPTOP-07"]
    );
    assert_eq!(
        column(&all, "flowmachine1.name"),
        vec!["FIN-VM-01", "<absent>", "<absent>"]
    );
    let without = fetch(
        &platform,
        &token,
        "flowmachinegroups",
        &outer.replace(
            "{}",
            "<filter><condition entityname='flowmachine1' attribute='flowmachineid' operator='null'/></filter>",
        ),
    )
    .await;
    assert_eq!(column(&without, "name"), vec!["HR bots", "LAPTOP-07"]);

    // exists: the parent once, no columns of the link.
    let exists = fetch(
        &platform,
        &token,
        "flowmachinegroups",
        "<fetch><entity name='flowmachinegroup'><attribute name='name'/><link-entity name='flowmachine' from='flowmachinegroupid' to='flowmachinegroupid' link-type='exists'><filter><condition attribute='name' operator='begins-with' value='HR'/></filter></link-entity></entity></fetch>",
    )
    .await;
    assert_eq!(column(&exists, "name"), vec!["HR bots"]);
    assert_eq!(
        ok(&exists)[0].as_object().unwrap().len(),
        3,
        "{}",
        exists.body
    );

    // Nested: machine -> group -> owner.
    let nested = fetch(
        &platform,
        &token,
        "flowmachines",
        "<fetch top='1'><entity name='flowmachine'><attribute name='name'/><order attribute='name'/><link-entity name='flowmachinegroup' from='flowmachinegroupid' to='flowmachinegroupid' alias='g'><link-entity name='systemuser' from='systemuserid' to='ownerid' alias='owner'><attribute name='fullname'/></link-entity></link-entity></entity></fetch>",
    )
    .await;
    assert_eq!(
        ok(&nested)[0]["owner.fullname"],
        "Contoso Admin",
        "{}",
        nested.body
    );
    platform.shutdown().await.unwrap();
}

/// A cookie as dynamics-web-api reads it back: the annotation decoded
/// twice, the inner `<cookie ...>...</cookie>` taken out.
fn inner_cookie(annotation: &str) -> (u32, String) {
    fn decode(text: &str) -> String {
        let bytes = text.as_bytes();
        let mut out = Vec::new();
        let mut at = 0;
        while at < bytes.len() {
            if bytes[at] == b'%' {
                out.push(u8::from_str_radix(&text[at + 1..at + 3], 16).unwrap());
                at += 3;
            } else {
                out.push(bytes[at]);
                at += 1;
            }
        }
        String::from_utf8(out).unwrap()
    }
    let decoded = decode(&decode(annotation));
    let start = decoded.find("pagingcookie=\"").unwrap() + "pagingcookie=\"".len();
    let end = decoded.find("</cookie>").unwrap() + "</cookie>".len();
    let inner = decoded[start..end].to_owned();
    let page = inner["<cookie page=\"".len()..]
        .split('"')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    (page, inner)
}

fn xml_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[tokio::test]
async fn paging_walks_every_page_with_the_cookie() {
    let (platform, _world) = start_identity(false).await;
    let token = admin_token(&platform, DV_SCOPE).await;
    let odata = get(
        &platform,
        &token,
        "flowmachinegroups?$select=name&$orderby=name",
        None,
    )
    .await;
    let query = |page: u32, cookie: &str| {
        format!(
            "<fetch count='1' page='{page}'{cookie}><entity name='flowmachinegroup'><attribute name='name'/><order attribute='name'/></entity></fetch>"
        )
    };
    let mut seen = Vec::new();
    let (mut page, mut cookie) = (1, String::new());
    loop {
        let reply = fetch(
            &platform,
            &token,
            "flowmachinegroups",
            &query(page, &cookie),
        )
        .await;
        seen.extend(column(&reply, "name").into_iter().map(str::to_owned));
        let Some(annotation) = reply.body["@Microsoft.Dynamics.CRM.fetchxmlpagingcookie"].as_str()
        else {
            assert!(
                reply
                    .body
                    .get("@Microsoft.Dynamics.CRM.morerecords")
                    .is_none()
            );
            break;
        };
        assert_eq!(reply.body["@Microsoft.Dynamics.CRM.morerecords"], true);
        assert!(
            annotation.starts_with(&format!("<cookie pagenumber=\"{}\" pagingcookie=\"%253ccookie%2520page%253d%2522{page}%2522%253e", page + 1))
                && annotation.ends_with("\" istracking=\"False\" />"),
            "{annotation}"
        );
        let (cookie_page, inner) = inner_cookie(annotation);
        assert_eq!(cookie_page, page);
        assert!(
            inner.contains("<name last=\"") && inner.contains("<flowmachinegroupid last=\"{"),
            "{inner}"
        );
        page = cookie_page + 1;
        cookie = format!(" paging-cookie=\"{}\"", xml_escape(&inner));
        assert!(page <= 3, "three groups, three pages");
    }
    assert_eq!(seen, names(&odata));

    // Simple paging: the page number alone places the page; top has no pages.
    let second = fetch(
        &platform,
        &token,
        "flowmachinegroups",
        &query(2, "").replace("count='1'", "count='2'"),
    )
    .await;
    assert_eq!(column(&second, "name"), vec!["LAPTOP-07"]);
    assert!(
        second
            .body
            .get("@Microsoft.Dynamics.CRM.fetchxmlpagingcookie")
            .is_none()
    );
    let top = fetch(
        &platform,
        &token,
        "flowmachinegroups",
        "<fetch top='2'><entity name='flowmachinegroup'><attribute name='name'/><order attribute='name'/></entity></fetch>",
    )
    .await;
    assert_eq!(column(&top, "name"), vec!["Finance bots", "HR bots"]);
    assert!(
        top.body
            .get("@Microsoft.Dynamics.CRM.morerecords")
            .is_none()
    );
    platform.shutdown().await.unwrap();
}

#[tokio::test]
async fn counts_distinct_and_aggregates() {
    let (platform, _world) = start_identity(false).await;
    let token = admin_token(&platform, DV_SCOPE).await;
    let counted = "<fetch count='1' returntotalrecordcount='true'><entity name='flowmachinegroup'><attribute name='name'/></entity></fetch>";
    let reply = fetch(&platform, &token, "flowmachinegroups", counted).await;
    assert_eq!(ok(&reply).len(), 1);
    assert_eq!(reply.body["@odata.count"], 3);
    assert_eq!(reply.body["@Microsoft.Dynamics.CRM.totalrecordcount"], 3);
    assert_eq!(
        reply.body["@Microsoft.Dynamics.CRM.totalrecordcountlimitexceeded"],
        false
    );
    let by_option = fetch_with(
        &platform,
        &token,
        "flowmachinegroups",
        &counted.replace(" returntotalrecordcount='true'", ""),
        &[("$count", "true")],
        None,
    )
    .await;
    assert_eq!(by_option.body["@odata.count"], 3, "{}", by_option.body);

    let distinct = fetch(
        &platform,
        &token,
        "flowmachinegroups",
        "<fetch distinct='true'><entity name='flowmachinegroup'><attribute name='flowgrouptype'/><order attribute='flowgrouptype'/></entity></fetch>",
    )
    .await;
    assert_eq!(
        ok(&distinct).clone(),
        vec![
            json!({"flowgrouptype": 545_940_001}),
            json!({"flowgrouptype": 545_940_002})
        ],
        "each value once, without the key"
    );

    let aggregate = fetch(
        &platform,
        &token,
        "flowmachinegroups",
        "<fetch aggregate='true'><entity name='flowmachinegroup'>\
           <attribute name='flowgrouptype' alias='type' groupby='true'/>\
           <attribute name='flowmachinegroupid' alias='groups' aggregate='count'/>\
           <attribute name='name' alias='named' aggregate='countcolumn'/>\
           <attribute name='name' alias='first' aggregate='min'/>\
           <order alias='type' descending='true'/></entity></fetch>",
    )
    .await;
    assert_eq!(
        ok(&aggregate).clone(),
        vec![
            json!({"type": 545_940_002, "groups": 1, "named": 1, "first": "LAPTOP-07"}),
            json!({"type": 545_940_001, "groups": 2, "named": 2, "first": "Finance bots"}),
        ]
    );
    let totals = fetch(
        &platform,
        &token,
        "flowmachinegroups",
        "<fetch aggregate='true'><entity name='flowmachinegroup'>\
           <attribute name='flowgrouptype' alias='sum' aggregate='sum'/>\
           <attribute name='flowgrouptype' alias='avg' aggregate='avg'/>\
           <attribute name='flowgrouptype' alias='max' aggregate='max'/>\
           <attribute name='flowgrouptype' alias='kinds' aggregate='countcolumn' distinct='true'/>\
           <link-entity name='flowmachine' from='flowmachinegroupid' to='flowmachinegroupid' alias='m'>\
             <attribute name='name' alias='last' aggregate='max'/></link-entity></entity></fetch>",
    )
    .await;
    assert_eq!(
        ok(&totals).clone(),
        vec![
            json!({"sum": 1_637_820_004_i64, "avg": 545_940_001, "max": 545_940_002, "kinds": 2, "last": "LAPTOP-07"})
        ]
    );
    let limited = fetch(
        &platform,
        &token,
        "flowmachinegroups",
        "<fetch aggregate='true' aggregatelimit='2'><entity name='flowmachinegroup'><attribute name='name' alias='n' aggregate='count'/></entity></fetch>",
    )
    .await;
    assert_dataverse_error(&limited, StatusCode::BAD_REQUEST, "0x8004e023");
    platform.shutdown().await.unwrap();
}

#[tokio::test]
async fn refusals_carry_dataverses_codes() {
    let (platform, _world) = start_identity(false).await;
    let token = admin_token(&platform, DV_SCOPE).await;
    let entity =
        |inner: &str| format!("<fetch><entity name='flowmachinegroup'>{inner}</entity></fetch>");
    let link =
        "<link-entity name='flowmachine' from='flowmachinegroupid' to='flowmachinegroupid'/>";
    let link_aliased = "<link-entity name='flowmachine' from='flowmachinegroupid' to='flowmachinegroupid' alias='m'/>";
    let deep = format!("{}{}", "<filter>".repeat(33), "</filter>".repeat(33));
    let cases: Vec<(String, &str, &str)> = vec![
        ("<fetch><entity name='flowmachinegroup'>".into(), "0x80040201", "Invalid XML"),
        ("<fetch><entity name='x'></fetch>".into(), "0x80040201", "Invalid XML"),
        ("".into(), "0x80040203", "non-empty"),
        ("<fetch/>".into(), "0x80041102", "Entity Name was not specified"),
        ("<fetch><entity name='account'/></fetch>".into(), "0x80041102", "name = 'account'"),
        ("<fetch><entity name='flowmachine'/></fetch>".into(), "0x80041128", "flowmachines"),
        (entity("<attribute name='colour'/>"), "0x80041103", "Name = 'colour'"),
        (entity("<attribute name='_ownerid_value'/>"), "0x80041103", "ownerid"),
        (entity("<order attribute='colour'/>"), "0x80041103", "colour"),
        (entity("<link-entity name='flowmachine' from='colour' to='flowmachinegroupid'/>"), "0x80041103", "'flowmachine' entity"),
        (entity("<link-entity name='account' from='accountid' to='flowmachinegroupid'/>"), "0x80041102", "account"),
        (entity("<filter><condition attribute='createdon' operator='last-x-days' value='3'/></filter>"), "0x80041120", "last-x-days"),
        (entity("<filter><condition attribute='name' operator='in'/></filter>"), "0x80041106", "<value>"),
        (entity("<filter><condition attribute='name' operator='eq'/></filter>"), "0x80041106", "needs a value"),
        (entity("<filter><condition attribute='name' operator='eq' valueof='description'/></filter>"), "0x80040203", "valueof"),
        (entity("<filter type='xor'/>"), "0x80041122", "'xor'"),
        (entity(&format!("<filter>{link}</filter>")), "0x8004111c", "link-entity inside a filter"),
        (entity("<colour/>"), "0x8004111c", "Invalid Child Node"),
        (entity("<attribute name='name' colour='red'/>"), "0x80040203", "'colour' attribute is not declared"),
        (entity("<link-entity name='flowmachine' from='flowmachinegroupid' to='flowmachinegroupid' link-type='any'/>"), "0x80041117", "'any'"),
        (entity(&link.repeat(16)), "0x8004430d", "Number of link entities"),
        (entity("<filter><condition entityname='nope' attribute='name' operator='null'/></filter>"), "0x8004110a", "'nope'"),
        (entity("<order attribute='name' descending='maybe'/>"), "0x80041119", "'maybe'"),
        (entity(&deep), "0x80040203", "nested more than 32"),
        ("<fetch top='2' page='1'><entity name='flowmachinegroup'/></fetch>".into(), "0x80040203", "The top attribute can't be specified with paging attribute page"),
        ("<fetch top='2' returntotalrecordcount='true'><entity name='flowmachinegroup'/></fetch>".into(), "0x80040203", "returntotalrecordcount"),
        ("<fetch count='5001'><entity name='flowmachinegroup'/></fetch>".into(), "0x80040203", "5000"),
        ("<fetch count='0'><entity name='flowmachinegroup'/></fetch>".into(), "0x80041127", "greater than zero"),
        ("<fetch distinct='yes'><entity name='flowmachinegroup'/></fetch>".into(), "0x80041115", "'yes'"),
        (entity("<attribute name='name' aggregate='count'/>"), "0x8004111a", "aggregate='true'"),
        ("<fetch aggregate='true'><entity name='flowmachinegroup'><attribute name='name' aggregate='count'/></entity></fetch>".into(), "0x8004110b", "alias"),
        ("<fetch aggregate='true'><entity name='flowmachinegroup'><attribute name='name' alias='n'/></entity></fetch>".into(), "0x80041107", "groupby"),
        ("<fetch aggregate='true'><entity name='flowmachinegroup'><attribute name='name' alias='n' aggregate='median'/></entity></fetch>".into(), "0x8004111a", "'median'"),
        ("<fetch aggregate='true'><entity name='flowmachinegroup'><attribute name='createdon' alias='d' groupby='true' dategrouping='month'/></entity></fetch>".into(), "0x80040203", "dategrouping"),
        // A value is converted to its column's type before the query runs.
        (entity("<filter><condition attribute='flowmachinegroupid' operator='eq' value='abc'/></filter>"), "0x80040203", "An exception System.FormatException was thrown while trying to convert input value 'abc' to attribute 'flowmachinegroup.flowmachinegroupid'. Expected type of attribute value: System.Guid. Exception raised: Guid should contain 32 digits with 4 dashes (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)."),
        (entity("<filter><condition attribute='ownerid' operator='like' value='a%'/></filter>"), "0x80040203", "input value 'a%' to attribute 'flowmachinegroup.ownerid'. Expected type of attribute value: System.Guid."),
        (entity("<filter><condition attribute='statecode' operator='in'><value>0</value><value>active</value></condition></filter>"), "0x80040203", "input value 'active' to attribute 'flowmachinegroup.statecode'. Expected type of attribute value: System.Int32. Exception raised: Input string was not in a correct format."),
        (entity(&format!("{link_aliased}<filter><condition entityname='m' attribute='statuscode' operator='eq' value='1.5'/></filter>")), "0x80040203", "to attribute 'flowmachine.statuscode'"),
    ];
    for (xml, code, says) in cases {
        let reply = fetch(&platform, &token, "flowmachinegroups", &xml).await;
        assert_dataverse_error(&reply, StatusCode::BAD_REQUEST, code);
        let message = reply.body["error"]["message"].as_str().unwrap();
        assert!(message.contains(says), "{xml}: {message}");
    }
    // A query longer than a URL holds is refused before it is read, as
    // HTTP.sys refuses it (a $batch body's is read: batch.rs).
    let long = fetch(
        &platform,
        &token,
        "flowmachinegroups",
        &format!("<fetch>{}</fetch>", " ".repeat(40_000)),
    )
    .await;
    assert_eq!(long.status, StatusCode::URI_TOO_LONG, "{}", long.text);
    assert!(long.text.contains("HTTP Error 414"), "{}", long.text);
    // The OData options are the FetchXML's to say, and it queries sets.
    let with_select = fetch_with(
        &platform,
        &token,
        "flowmachinegroups",
        &entity(""),
        &[("$select", "name")],
        None,
    )
    .await;
    assert_dataverse_error(&with_select, StatusCode::BAD_REQUEST, "0x80060888");
    let one_row = fetch(
        &platform,
        &token,
        &format!("flowmachinegroups({SHARED_GROUP})"),
        &entity(""),
    )
    .await;
    assert_dataverse_error(&one_row, StatusCode::BAD_REQUEST, "0x80060888");
    platform.shutdown().await.unwrap();
}

#[tokio::test]
async fn fetchxml_reads_exactly_the_rows_odata_reads_links_included() {
    let (platform, _world) = start_identity(false).await;
    let app = app_token(&platform).await;
    let admin = admin_token(&platform, DV_SCOPE).await;
    for (set, entity) in [
        ("flowmachinegroups", "flowmachinegroup"),
        ("flowmachines", "flowmachine"),
    ] {
        let odata = get(
            &platform,
            &app,
            &format!("{set}?$select=name&$orderby=name"),
            None,
        )
        .await;
        let xml = format!(
            "<fetch><entity name='{entity}'><attribute name='name'/><order attribute='name'/></entity></fetch>"
        );
        let fetched = fetch(&platform, &app, set, &xml).await;
        assert_eq!(column(&fetched, "name"), names(&odata), "{set}");
        assert!(
            !column(&fetched, "name").iter().any(|n| n.starts_with("HR")),
            "{set}"
        );
    }
    // Every user is readable, the groups they own are not all: joined, the
    // app sees only the groups OData shows it; the administrator all three.
    let owners = "<fetch><entity name='systemuser'><attribute name='fullname'/><link-entity name='flowmachinegroup' from='ownerid' to='systemuserid' alias='g'><attribute name='name'/><order attribute='name'/></link-entity>{}</entity></fetch>";
    let seen = fetch(&platform, &app, "systemusers", &owners.replace("{}", "")).await;
    assert_eq!(column(&seen, "g.name"), vec!["Finance bots", "LAPTOP-07"]);
    let all = fetch(&platform, &admin, "systemusers", &owners.replace("{}", "")).await;
    assert_eq!(
        column(&all, "g.name"),
        vec!["Finance bots", "HR bots", "LAPTOP-07"]
    );
    // Nor can a condition on the link find it.
    let probe = owners.replace(
        "{}",
        "<filter><condition entityname='g' attribute='name' operator='eq' value='HR bots'/></filter>",
    );
    assert!(ok(&fetch(&platform, &app, "systemusers", &probe).await).is_empty());
    let outer = probe.replace("alias='g'", "alias='g' link-type='outer'");
    assert!(ok(&fetch(&platform, &app, "systemusers", &outer).await).is_empty());
    // An exists link to an unreadable row keeps nothing either.
    let exists = "<fetch><entity name='flowmachine'><attribute name='name'/><link-entity name='flowmachinegroup' from='flowmachinegroupid' to='flowmachinegroupid' link-type='exists'><filter><condition attribute='name' operator='eq' value='HR bots'/></filter></link-entity></entity></fetch>";
    assert!(ok(&fetch(&platform, &app, "flowmachines", exists).await).is_empty());
    assert_eq!(
        column(
            &fetch(&platform, &admin, "flowmachines", exists).await,
            "name"
        ),
        vec!["HR-VM-01"]
    );
    platform.shutdown().await.unwrap();
}
