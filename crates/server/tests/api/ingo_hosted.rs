//! The hosted page over plain HTTP: the one-use URL, the cookie, CSRF, framing headers,
//! verification thresholds, account capture and the events. The browser tests (browser/) run
//! the same page in Chromium.

use crate::helpers::{TestApp, spawn_app};
use crate::ingo_sessions::{Participant, participant, seed_request};
use reqwest::StatusCode;
use serde_json::Value;

/// A browser without a cookie jar or redirects: each step is checked as it happens.
struct Browser {
    http: reqwest::Client,
    base: String,
    cookie: Option<String>,
}

impl Browser {
    fn new(app: &TestApp) -> Browser {
        Browser {
            http: reqwest::Client::builder()
                .no_proxy()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("client"),
            base: app.base.clone(),
            cookie: None,
        }
    }

    /// Opens an authorized URL (its path and query, on the test server).
    async fn open(&mut self, url: &str) -> reqwest::Response {
        let path = &url[url.find("/session/").expect("path")..];
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .expect("open");
        if let Some(set) = response.headers().get("set-cookie") {
            let set = set.to_str().expect("ascii");
            assert!(
                set.contains("HttpOnly") && set.contains("SameSite=Lax"),
                "{set}"
            );
            self.cookie = Some(set.split(';').next().expect("pair").to_owned());
        }
        response
    }

    async fn get(&self, path: &str) -> (StatusCode, String, reqwest::header::HeaderMap) {
        let mut request = self.http.get(format!("{}{path}", self.base));
        if let Some(c) = &self.cookie {
            request = request.header("cookie", c);
        }
        let response = request.send().await.expect("get");
        let (status, headers) = (response.status(), response.headers().clone());
        (status, response.text().await.expect("text"), headers)
    }

    async fn post(&self, path: &str, form: &[(&str, &str)]) -> (StatusCode, String) {
        let mut request = self.http.post(format!("{}{path}", self.base)).form(form);
        if let Some(c) = &self.cookie {
            request = request.header("cookie", c);
        }
        let response = request.send().await.expect("post");
        (response.status(), response.text().await.expect("text"))
    }
}

fn csrf(page: &str) -> String {
    let at = page.find("name=\"csrf\" value=\"").expect("csrf field") + 19;
    page[at..at + 64].to_owned()
}

async fn session(app: &TestApp, p: &Participant, key: &str) -> (String, String) {
    let mut body = seed_request();
    body["host_uri"] = serde_json::json!("http://127.0.0.1:9");
    let (_, made) = p.create(app, &body, Some(key)).await;
    assert_eq!(
        made["status"].as_i64().map(|s| s == 100 || s == 101),
        Some(true),
        "{made}"
    );
    (
        made["data"]["session_identifier"]
            .as_str()
            .expect("id")
            .to_owned(),
        made["data"]["authorized_url"]
            .as_str()
            .expect("url")
            .to_owned(),
    )
}

pub async fn event_types(app: &TestApp, org_name: &str) -> Vec<(String, Value)> {
    let org = app.org(org_name).await;
    let (_, events) = app.get("/v1/events", &org).await;
    events["data"]
        .as_array()
        .expect("events")
        .iter()
        .map(|e| {
            (
                e["type"].as_str().unwrap_or_default().to_owned(),
                e["data"].clone(),
            )
        })
        .collect()
}

/// Runs a recipient of a new session through the page: verification, then the account form
/// with `account`'s fields. Answers the `customer_account_token`.
pub async fn tokenize(
    app: &TestApp,
    p: &Participant,
    key: &str,
    account: &[(&str, &str)],
) -> String {
    let (id, url) = session(app, p, key).await;
    let mut browser = Browser::new(app);
    browser.open(&url).await;
    let (_, page, _) = browser.get(&format!("/session/{id}/page")).await;
    let token = csrf(&page);
    let verify = [
        ("csrf", token.as_str()),
        ("first_name", "Jack"),
        ("last_name", "Frost"),
        ("zip_code", "30313"),
    ];
    let (status, _) = browser
        .post(&format!("/session/{id}/verify"), &verify)
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let mut fields = vec![("csrf", token.as_str())];
    fields.extend_from_slice(account);
    let (status, body) = browser
        .post(&format!("/session/{id}/account"), &fields)
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    let path = format!("{}/{id}", crate::ingo_sessions::PATH);
    let (_, view) = p.call(app, reqwest::Method::GET, &path, None, None).await;
    view["data"]["customer_account_token"]
        .as_str()
        .expect("tokenized")
        .to_owned()
}

#[tokio::test]
async fn an_authorized_url_opens_once_within_thirty_seconds() {
    let app = spawn_app().await;
    let p = participant(&app, "hosted-link", false).await;
    let (id, url) = session(&app, &p, "k").await;

    let mut altered = Browser::new(&app);
    let tampered = url.replacen("&h=", "&h=x", 1);
    assert_eq!(
        altered.open(&tampered).await.status(),
        StatusCode::FORBIDDEN
    );

    let mut browser = Browser::new(&app);
    let opened = browser.open(&url).await;
    assert_eq!(opened.status(), StatusCode::SEE_OTHER);
    assert_eq!(opened.headers()["location"], format!("/session/{id}/page"));
    let (status, page, headers) = browser.get(&format!("/session/{id}/page")).await;
    assert_eq!(status, StatusCode::OK);
    let csp = headers["content-security-policy"].to_str().expect("csp");
    assert!(csp.ends_with("frame-ancestors http://127.0.0.1:9"), "{csp}");
    assert!(csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"));
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert!(page.contains("<label for=\"first_name\">"), "{page}");
    assert!(page.contains("lang=\"en-US\""));

    // Used once: a second browser gets the expired page, never the session.
    let mut again = Browser::new(&app);
    let reused = again.open(&url).await;
    assert_eq!(reused.status(), StatusCode::GONE);
    let text = reused.text().await.expect("text");
    assert!(
        text.contains("expired or was already used") && !text.contains("first_name"),
        "{text}"
    );

    // A new URL (the idempotent repeat) unused for 31 s has expired.
    let (_, later) = session(&app, &p, "k").await;
    app.clock.advance(chrono::Duration::seconds(31));
    assert_eq!(
        Browser::new(&app).open(&later).await.status(),
        StatusCode::GONE
    );

    // Without the cookie the page does not open.
    let (status, _, _) = Browser::new(&app).get(&format!("/session/{id}/page")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn thresholds_lock_then_end_the_session_and_a_new_url_reopens_it() {
    let app = spawn_app().await;
    // Thresholds: 2 recipient, 2 account, 3 for the session.
    let p = participant(&app, "hosted-limits", false).await;
    let (id, url) = session(&app, &p, "limits").await;
    let mut browser = Browser::new(&app);
    browser.open(&url).await;
    let page_path = format!("/session/{id}/page");
    let (_, page, _) = browser.get(&page_path).await;
    let token = csrf(&page);
    let wrong = [
        ("csrf", token.as_str()),
        ("first_name", "Jack"),
        ("last_name", "Snow"),
        ("zip_code", "30313"),
    ];

    // A form without this browser's CSRF token changes nothing.
    let (status, _) = browser
        .post(
            &format!("/session/{id}/verify"),
            &[("csrf", "forged"), ("first_name", "Jack")],
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    let (status, first) = browser.post(&format!("/session/{id}/verify"), &wrong).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        first.contains("aria-invalid=\"true\"") && first.contains("Attempts left: 1"),
        "{first}"
    );
    let (status, _) = browser.post(&format!("/session/{id}/verify"), &wrong).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, locked, _) = browser.get(&page_path).await;
    assert!(
        locked.contains("data-event-name=\"iip.webplugin.max_verification_attempts_exceeded\""),
        "{locked}"
    );
    assert!(locked.contains("data-target-origin=\"http://127.0.0.1:9\""));

    // Seed 003's scenario 2: the same key gives a new URL into the same session.
    let (same, reopened) = session(&app, &p, "limits").await;
    assert_eq!(same, id);
    let mut browser = Browser::new(&app);
    browser.open(&reopened).await;
    let (_, page, _) = browser.get(&page_path).await;
    assert!(page.contains("action=\"/session/"), "unlocked: {page}");
    let token = csrf(&page);
    let wrong = [
        ("csrf", token.as_str()),
        ("first_name", "Jack"),
        ("last_name", "Snow"),
        ("zip_code", "30313"),
    ];
    let (status, _) = browser.post(&format!("/session/{id}/verify"), &wrong).await;
    assert_eq!(
        status,
        StatusCode::SEE_OTHER,
        "the third failure reaches the session's threshold"
    );
    let (_, ended, _) = browser.get(&page_path).await;
    assert!(
        ended.contains("data-event-name=\"iip.webplugin.terminal_failure\""),
        "{ended}"
    );

    let events = event_types(&app, "hosted-limits").await;
    let names: Vec<&str> = events.iter().map(|(t, _)| t.as_str()).collect();
    assert!(names.contains(&"session.created"));
    assert!(names.contains(&"session.max_verification_attempts_exceeded"));
    assert!(names.contains(&"session.terminal_failure"));
}

#[tokio::test]
async fn a_verified_recipient_tokenizes_a_card_and_the_number_is_kept_only_sealed() {
    let app = spawn_app().await;
    let p = participant(&app, "hosted-card", false).await;
    let (id, url) = session(&app, &p, "card").await;
    let mut browser = Browser::new(&app);
    browser.open(&url).await;
    let page_path = format!("/session/{id}/page");
    let (_, page, _) = browser.get(&page_path).await;
    let token = csrf(&page);
    let (status, _) = browser
        .post(
            &format!("/session/{id}/verify"),
            &[
                ("csrf", &token),
                ("first_name", " jack"),
                ("last_name", "FROST"),
                ("zip_code", "30313"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, choose, _) = browser.get(&page_path).await;
    assert!(
        choose.contains("?destination=debit_card") && !choose.contains("destination=paypal"),
        "{choose}"
    );
    let (_, form, _) = browser
        .get(&format!("{page_path}?destination=debit_card"))
        .await;
    assert!(form.contains("autocomplete=\"cc-number\""), "{form}");

    let account = format!("/session/{id}/account");
    let card = |number: &'static str| {
        vec![
            ("csrf", token.clone()),
            ("funding_destination", "debit_card".to_owned()),
            ("card_number", number.to_owned()),
            ("exp_month", "12".to_owned()),
            ("exp_year", "2031".to_owned()),
            ("cvv", "123".to_owned()),
            ("name_on_account", "Jack Frost".to_owned()),
        ]
    };
    let send = |fields: Vec<(&'static str, String)>| {
        let b = &browser;
        let path = account.clone();
        async move {
            let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
            b.post(&path, &pairs).await
        }
    };
    // Luhn fails: an input error, no attempt counted, the number not shown again.
    let (status, bad) = send(card("4242424242424241")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        bad.contains("Enter a valid card number.") && !bad.contains("4242424242424241"),
        "{bad}"
    );
    // The sandbox's unverifiable card: an attempt counted.
    let (status, refused) = send(card("4000000000000002")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.contains("could not be verified"), "{refused}");
    let (status, _) = send(card("4242 4242 4242 4242")).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, done, _) = browser.get(&page_path).await;
    assert!(
        done.contains("data-event-name=\"iip.webplugin.token_success\""),
        "{done}"
    );
    assert!(done.contains("data-funding-destination=\"debit_card\""));

    let events = event_types(&app, "hosted-card").await;
    let (_, success) = events
        .iter()
        .find(|(t, _)| t == "session.token_success")
        .expect("token_success");
    let token_value = success["customer_account_token"].as_str().expect("token");
    assert!(done.contains(token_value));
    assert_eq!(success["funding_destination"], "debit_card");
    assert_eq!(success["recipient"]["first_name"], "J***");
    assert!(!success.to_string().contains("4242424242424242"));

    // The number is nowhere in the database files (SQLite: the file and its WAL).
    if matches!(app.state.db.backend(), quittance_store::Backend::Sqlite) {
        for entry in std::fs::read_dir(&app.state.config.data_dir).expect("dir") {
            let bytes = std::fs::read(entry.expect("entry").path()).unwrap_or_default();
            let text = String::from_utf8_lossy(&bytes);
            assert!(
                !text.contains("4242424242424242") && !text.contains("Frost"),
                "a sealed value leaked"
            );
        }
    }
}

#[tokio::test]
async fn a_bank_account_is_confirmed_twice_and_cancel_ends_the_session() {
    let app = spawn_app().await;
    let p = participant(&app, "hosted-bank", false).await;
    let (id, url) = session(&app, &p, "bank").await;
    let mut browser = Browser::new(&app);
    browser.open(&url).await;
    let (_, page, _) = browser.get(&format!("/session/{id}/page")).await;
    let token = csrf(&page);
    browser
        .post(
            &format!("/session/{id}/verify"),
            &[
                ("csrf", &token),
                ("first_name", "Jack"),
                ("last_name", "Frost"),
                ("zip_code", "30313-0000"),
            ],
        )
        .await;
    let bank = |routing: &'static str, confirm: &'static str| {
        vec![
            ("csrf", token.clone()),
            ("funding_destination", "bank_account".to_owned()),
            ("name_on_account", "Jack Frost".to_owned()),
            ("routing_number", routing.to_owned()),
            ("account_number", "000123456789".to_owned()),
            ("account_number_confirmation", confirm.to_owned()),
            ("account_type", "checking".to_owned()),
        ]
    };
    let path = format!("/session/{id}/account");
    let post = |fields: Vec<(&'static str, String)>| {
        let (b, path) = (&browser, path.clone());
        async move {
            let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
            b.post(&path, &pairs).await
        }
    };
    let (status, page) = post(bank("110000001", "000123456780")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        page.contains("Enter a valid 9-digit routing number.")
            && page.contains("The account numbers do not match."),
        "{page}"
    );
    let (status, _) = post(bank("110000000", "000123456789")).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let events = event_types(&app, "hosted-bank").await;
    let (_, success) = events
        .iter()
        .find(|(t, _)| t == "session.token_success")
        .expect("token_success");
    assert_eq!(success["funding_destination"], "bank_account");

    // Another session canceled by its recipient.
    let (other, url) = session(&app, &p, "bank-2").await;
    let mut browser = Browser::new(&app);
    browser.open(&url).await;
    let (_, page, _) = browser.get(&format!("/session/{other}/page")).await;
    let (status, _) = browser
        .post(
            &format!("/session/{other}/cancel"),
            &[("csrf", &csrf(&page))],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, ended, _) = browser.get(&format!("/session/{other}/page")).await;
    assert!(ended.contains("iip.webplugin.funding_canceled"), "{ended}");
}

#[tokio::test]
async fn paypal_is_offered_only_to_paypal_participants_and_tokenizes_the_address() {
    let app = spawn_app().await;
    let p = participant(&app, "hosted-paypal", true).await;
    let (id, url) = session(&app, &p, "paypal").await;
    let mut browser = Browser::new(&app);
    browser.open(&url).await;
    let (_, page, _) = browser.get(&format!("/session/{id}/page")).await;
    let token = csrf(&page);
    browser
        .post(
            &format!("/session/{id}/verify"),
            &[
                ("csrf", &token),
                ("first_name", "Jack"),
                ("last_name", "Frost"),
                ("zip_code", "30313"),
            ],
        )
        .await;
    let (_, choose, _) = browser.get(&format!("/session/{id}/page")).await;
    assert!(choose.contains("?destination=paypal"), "{choose}");
    let path = format!("/session/{id}/account");
    let (status, bad) = browser
        .post(
            &path,
            &[
                ("csrf", &token),
                ("funding_destination", "paypal"),
                ("paypal_email", "not an address"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        bad.contains("Enter the e-mail address of your PayPal account."),
        "{bad}"
    );
    let (status, _) = browser
        .post(
            &path,
            &[
                ("csrf", &token),
                ("funding_destination", "paypal"),
                ("paypal_email", "jack@example.com"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let events = event_types(&app, "hosted-paypal").await;
    let (_, success) = events
        .iter()
        .find(|(t, _)| t == "session.token_success")
        .expect("token_success");
    assert_eq!(success["funding_destination"], "paypal");

    // A participant without PayPal cannot be sent a PayPal account.
    let q = participant(&app, "hosted-no-paypal", false).await;
    let (id, url) = session(&app, &q, "no-paypal").await;
    let mut browser = Browser::new(&app);
    browser.open(&url).await;
    let (_, page, _) = browser.get(&format!("/session/{id}/page")).await;
    let token = csrf(&page);
    browser
        .post(
            &format!("/session/{id}/verify"),
            &[
                ("csrf", &token),
                ("first_name", "Jack"),
                ("last_name", "Frost"),
                ("zip_code", "30313"),
            ],
        )
        .await;
    let (status, refused) = browser
        .post(
            &format!("/session/{id}/account"),
            &[
                ("csrf", &token),
                ("funding_destination", "paypal"),
                ("paypal_email", "jack@example.com"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused.contains("Choose where the money should go."),
        "{refused}"
    );
}
