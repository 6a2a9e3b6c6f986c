//! Where a path goes under a base URL, and what a reply gives.

use super::*;

#[test]
fn a_path_goes_under_the_base_with_one_slash() {
    let base = "http://127.0.0.1:8080/orgs/contoso/api/data/v9.2";
    assert_eq!(join(base, "accounts"), format!("{base}/accounts"));
    assert_eq!(join(base, "/accounts"), format!("{base}/accounts"));
    assert_eq!(
        join(&format!("{base}/"), "accounts"),
        format!("{base}/accounts")
    );
    assert_eq!(
        join("http://127.0.0.1:8080", "/healthz"),
        "http://127.0.0.1:8080/healthz"
    );
    assert_eq!(
        join(base, "accounts?$top=2&$filter=name eq 'a/b'"),
        format!("{base}/accounts?$top=2&$filter=name eq 'a/b'")
    );
    assert_eq!(
        join(&format!("{base}/"), "/accounts"),
        format!("{base}/accounts")
    );
}

#[test]
fn a_path_of_two_slashes_stays_as_the_test_wrote_it() {
    let base = "http://127.0.0.1:8080";
    assert_eq!(join(base, "//arm?/"), format!("{base}//arm?/"));
    assert_eq!(join(&format!("{base}/"), "//arm"), format!("{base}//arm"));
}

#[test]
fn an_empty_path_or_a_query_stays_on_the_base() {
    let base = "http://127.0.0.1:8080/arm/subscriptions";
    assert_eq!(join(base, ""), base);
    assert_eq!(
        join(base, "?api-version=1"),
        format!("{base}?api-version=1")
    );
}

#[test]
fn absolute_urls_are_followed_as_they_are() {
    let next = "http://127.0.0.1:9/orgs/contoso/api/data/v9.2/accounts?$skiptoken=x";
    assert_eq!(join("http://127.0.0.1:8080", next), next);
    let secure = "https://login.microsoftonline.com/common/discovery/keys";
    assert_eq!(join("http://127.0.0.1:8080/x", secure), secure);
}

#[test]
fn the_client_sends_its_token_host_and_headers() {
    let client = Client::new("http://127.0.0.1:8080")
        .token("t0ken")
        .host("contoso.crm.dynamics.com")
        .header("OData-Version", "4.0");
    let request = client
        .request(Method::GET, "/api/data/v9.2/WhoAmI")
        .build()
        .expect("a request");
    assert_eq!(
        request.url().as_str(),
        "http://127.0.0.1:8080/api/data/v9.2/WhoAmI"
    );
    let headers = request.headers();
    assert_eq!(headers["authorization"], "Bearer t0ken");
    assert_eq!(headers["host"], "contoso.crm.dynamics.com");
    assert_eq!(headers["odata-version"], "4.0");
    let anonymous = Client::new("http://127.0.0.1:8080")
        .maybe_token(None)
        .request(Method::GET, "/")
        .build()
        .expect("a request");
    assert!(!anonymous.headers().contains_key("authorization"));
}

fn reply(text: &str) -> Reply {
    let mut headers = HeaderMap::new();
    headers.insert("content-type", "application/json".parse().expect("a value"));
    Reply {
        status: StatusCode::OK,
        headers,
        text: text.to_owned(),
        body: serde_json::from_str(text).unwrap_or(Value::Null),
    }
}

#[test]
fn a_reply_gives_its_json_and_headers() {
    let ok = reply(r#"{"value":[1]}"#);
    assert_eq!(ok.json()["value"][0], 1);
    assert_eq!(ok.header("Content-Type"), Some("application/json"));
    assert_eq!(ok.header("etag"), None);
    // JSON null is JSON.
    assert_eq!(*reply("null").json(), Value::Null);
}

#[test]
#[should_panic(expected = "<!doctype html>")]
fn a_reply_that_is_not_json_fails_with_its_body() {
    let page = reply("<!doctype html><p>Sign in</p>");
    assert_eq!(page.body, Value::Null);
    page.json();
}
