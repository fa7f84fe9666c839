//! Self-service: a vendor's own API tokens, the admin area (users, roles, resets, the last admin),
//! the product picker on upload and the confirmations of irreversible actions.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use sandkasse_markedsplass::accounts::AccountError;
use sandkasse_markedsplass::audit::Verification;
use sandkasse_markedsplass::store::Role;
use serde_json::json;

use crate::market::*;

/// Posts a page's form with the client's CSRF token: (status, page, Set-Cookie).
async fn form(client: &Client, path: &str, fields: &str) -> (StatusCode, String, String) {
    let request =
        Request::post(path).header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    client
        .send(
            request,
            Body::from(format!("{fields}&csrf={}", client.csrf)),
        )
        .await
}

/// The text of the readonly field `id` on a page (a secret shown once).
fn field(page: &str, id: &str) -> String {
    let at = page
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no #{id}"));
    let rest = &page[at..];
    let value = rest.find("value=\"").unwrap() + 7;
    rest[value..][..rest[value..].find('"').unwrap()].to_owned()
}

async fn actions(market: &Market) -> Vec<(String, String)> {
    market
        .state
        .audit
        .events_after(0, 10_000)
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.action, e.subject))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_vendor_creates_a_token_that_works_until_revoked_and_only_their_org_sees_it() {
    let market = Market::start().await;
    let kari = market.login(VENDOR_A).await;
    // On the page: the secret once, with no-store; the list never shows it again.
    let (s, page, _) = form(&kari, "/leverandor/nokler", "name=GitLab+CI").await;
    assert_eq!(s, StatusCode::CREATED, "{page}");
    let token = field(&page, "new-token-value");
    assert!(token.starts_with("sk_") && token.len() == 46, "{token}");
    let (_, list) = kari.get("/leverandor/nokler").await;
    assert!(list.contains("GitLab CI") && !list.contains(&token));
    assert!(list.contains(&token[..11]), "the prefix recognises it");

    // The token works against the API, and is then seen as used.
    let ci = Client {
        bearer: Some(token.clone()),
        cookie: None,
        csrf: String::new(),
        app: market.app.clone(),
    };
    assert_eq!(ci.get_json("/api/v1/me").await.1["username"], VENDOR_A);
    let (_, tokens) = kari.get_json("/api/v1/tokens").await;
    let record = &tokens["tokens"][0];
    assert_eq!(
        (record["name"].as_str(), record["username"].as_str()),
        (Some("GitLab CI"), Some(VENDOR_A))
    );
    assert!(record["last_used_at"].is_string() && record.get("sha256").is_none());
    let id = record["id"].as_i64().unwrap();

    // A token cannot mint or revoke tokens; another organisation cannot see or revoke it.
    assert_eq!(
        ci.post_json("/api/v1/tokens", json!({ "name": "x" }))
            .await
            .0,
        StatusCode::FORBIDDEN
    );
    let ola = market.login(VENDOR_B).await;
    assert_eq!(ola.get_json("/api/v1/tokens").await.1["tokens"], json!([]));
    let (s, _, _) = ola
        .send(
            Request::delete(format!("/api/v1/tokens/{id}")),
            Body::empty(),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _, _) = form(
        &ola,
        &format!("/leverandor/nokler/{id}/tilbakekall"),
        "confirm=ja",
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert_eq!(ci.get("/api/v1/me").await.0, StatusCode::OK, "still live");

    // Revoking needs the confirmation; then the token is a 401.
    let (s, page, _) = form(
        &kari,
        &format!("/leverandor/nokler/{id}/tilbakekall"),
        "x=1",
    )
    .await;
    assert!(
        s == StatusCode::BAD_REQUEST && page.contains("token-error"),
        "{s}"
    );
    assert_eq!(ci.get("/api/v1/me").await.0, StatusCode::OK);
    let (s, _, _) = form(
        &kari,
        &format!("/leverandor/nokler/{id}/tilbakekall"),
        "confirm=ja",
    )
    .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    assert_eq!(ci.get("/api/v1/me").await.0, StatusCode::UNAUTHORIZED);

    // The API does the same: create (201, shown once, no-store), revoke (204).
    let (s, created) = kari
        .post_json("/api/v1/tokens", json!({ "name": "skript" }))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{created}");
    let second = created["record"]["id"].as_i64().unwrap();
    let (s, _, _) = kari
        .send(
            Request::delete(format!("/api/v1/tokens/{second}")),
            Body::empty(),
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);

    let trail = actions(&market).await;
    for (action, subject) in [
        ("token.create", format!("user:{VENDOR_A}")),
        ("token.revoke", format!("token:{id}")),
        ("token.revoke", format!("token:{second}")),
    ] {
        assert!(
            trail.contains(&(action.into(), subject.clone())),
            "{action} {subject}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_creates_an_organisation_and_a_user_who_must_change_the_temporary_password() {
    let market = Market::start().await;
    let admin = market.login(ADMIN).await;
    let (s, _, _) = form(&admin, "/admin/organisasjoner", "name=Fjordhelse+AS").await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let (s, page, _) = form(&admin, "/admin/organisasjoner", "name=Fjordhelse+AS").await;
    assert!(
        s == StatusCode::CONFLICT && page.contains("organisation-error"),
        "{s}"
    );
    let (s, page, _) = form(
        &admin,
        "/admin/brukere",
        "username=Siv%40fjordhelse.no&role=vendor&organisation=Fjordhelse+AS",
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{page}");
    let temporary = field(&page, "temporary-password-value");
    assert!(temporary.len() >= 12, "{temporary}");

    // The temporary password logs in, but reaches only the password page until changed.
    let siv = market.anonymous();
    let (s, body, cookie) = siv
        .send(
            Request::post("/logg-inn")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded"),
            Body::from(format!("username=siv%40fjordhelse.no&password={temporary}")),
        )
        .await;
    assert_eq!(s, StatusCode::SEE_OTHER, "{body}");
    let mut siv = Client {
        cookie: Some(cookie.split(';').next().unwrap().to_owned()),
        ..siv
    };
    siv.csrf = siv.get_json("/api/v1/me").await.1["csrf"]
        .as_str()
        .unwrap()
        .to_owned();
    let (s, _, _) = siv.send(Request::get("/leverandor"), Body::empty()).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let (s, body) = siv.get_json("/api/v1/products").await;
    assert_eq!(
        (s, body["error"]["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("password_change_required"))
    );
    let (s, page, _) = form(
        &siv,
        "/passord",
        &format!("current={temporary}&new={temporary}&repeat={temporary}"),
    )
    .await;
    assert!(s == StatusCode::BAD_REQUEST && page.contains("password-error"));
    // A wrong current password is the form again (and a failure for the login throttle).
    let (s, page, _) = form(
        &siv,
        "/passord",
        "current=gjetning&new=et+nytt+langt+passord&repeat=et+nytt+langt+passord",
    )
    .await;
    assert!(
        s == StatusCode::BAD_REQUEST && page.contains("nåværende passordet er feil"),
        "{s}"
    );
    let (s, _, _) = form(
        &siv,
        "/passord",
        &format!("current={temporary}&new=mitt+eget+lange+passord&repeat=mitt+eget+lange+passord"),
    )
    .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    assert_eq!(siv.get("/leverandor").await.0, StatusCode::OK);

    let trail = actions(&market).await;
    for action in ["organisation.create", "user.create", "user.password_change"] {
        assert!(trail.iter().any(|(a, _)| a == action), "{action}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reset_disable_and_role_changes_are_audited_and_end_sessions() {
    let market = Market::start().await;
    let admin = market.login(ADMIN).await;
    let kari = market.login(VENDOR_A).await;
    let id = market.state.accounts.user(VENDOR_A).await.unwrap().id;
    let (_, token) = market
        .state
        .accounts
        .create_token("test", VENDOR_A, "ci")
        .await
        .unwrap();
    let ci = Client {
        bearer: Some(token),
        cookie: None,
        csrf: String::new(),
        app: market.app.clone(),
    };

    // A reset needs its confirmation, shows the password once and logs kari out.
    let (s, _, _) = form(&admin, &format!("/admin/brukere/{id}/passord"), "x=1").await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(kari.get("/api/v1/me").await.0, StatusCode::OK);
    let request = Request::post(format!("/admin/brukere/{id}/passord"))
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    let response = admin
        .send(
            request,
            Body::from(format!("confirm=ja&csrf={}", admin.csrf)),
        )
        .await;
    assert_eq!(response.0, StatusCode::OK);
    let temporary = field(&response.1, "temporary-password-value");
    assert_eq!(kari.get("/api/v1/me").await.0, StatusCode::UNAUTHORIZED);
    let user = market.state.accounts.user(VENDOR_A).await.unwrap();
    assert!(user.must_change_password);
    assert!(
        market
            .state
            .accounts
            .authenticate(VENDOR_A, &temporary)
            .await
            .is_ok()
    );

    // Disabled: no login, no token; enabled again: both work.
    let (s, _, _) = form(
        &admin,
        &format!("/admin/brukere/{id}/status"),
        "enabled=false",
    )
    .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    assert!(matches!(
        market
            .state
            .accounts
            .authenticate(VENDOR_A, &temporary)
            .await,
        Err(AccountError::Disabled)
    ));
    assert_eq!(ci.get("/api/v1/me").await.0, StatusCode::UNAUTHORIZED);
    let (s, _, _) = form(
        &admin,
        &format!("/admin/brukere/{id}/status"),
        "enabled=true",
    )
    .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    assert_eq!(ci.get("/api/v1/me").await.0, StatusCode::OK);

    // A role: a vendor needs an organisation, others none.
    let (s, page, _) = form(
        &admin,
        &format!("/admin/brukere/{id}/rolle"),
        "role=reviewer&organisation=Leverand%C3%B8r+A+AS",
    )
    .await;
    assert!(
        s == StatusCode::BAD_REQUEST && page.contains("user-error"),
        "{s}"
    );
    let (s, _, _) = form(
        &admin,
        &format!("/admin/brukere/{id}/rolle"),
        "role=reviewer",
    )
    .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let user = market.state.accounts.user(VENDOR_A).await.unwrap();
    assert_eq!((user.role, user.organisation_id), (Role::Reviewer, None));
    assert_eq!(
        ci.get("/api/v1/me").await.0,
        StatusCode::UNAUTHORIZED,
        "a vendor's token does not become a reviewer's"
    );

    let trail = actions(&market).await;
    let subject = format!("user:{VENDOR_A}");
    for action in [
        "user.password_reset",
        "user.disable",
        "user.enable",
        "user.role",
    ] {
        assert!(
            trail.contains(&(action.into(), subject.clone())),
            "{action}"
        );
    }
    assert!(matches!(
        market.state.audit.verify_chain().await.unwrap(),
        Verification::Intact { .. }
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_cannot_lock_themselves_out_nor_remove_the_last_admin() {
    let market = Market::start().await;
    let admin = market.login(ADMIN).await;
    let me = market.state.accounts.user(ADMIN).await.unwrap().id;
    for (path, fields) in [
        ("rolle", "role=reviewer"),
        ("status", "enabled=false"),
        ("passord", "confirm=ja"),
    ] {
        let (s, page, _) = form(&admin, &format!("/admin/brukere/{me}/{path}"), fields).await;
        assert!(
            s == StatusCode::CONFLICT && page.contains("user-error"),
            "{path}: {s}"
        );
    }
    // The rule holds for `sandkasse admin` too (the same account functions): the last enabled
    // admin cannot be demoted or disabled, a second one can.
    let accounts = &market.state.accounts;
    assert!(matches!(
        accounts.set_role("cli", ADMIN, Role::Reviewer, None).await,
        Err(AccountError::Store(_))
    ));
    assert!(matches!(
        accounts.set_enabled("cli", ADMIN, false).await,
        Err(AccountError::Store(_))
    ));
    accounts
        .set_role("cli", REVIEWER_2, Role::Admin, None)
        .await
        .unwrap();
    accounts.set_enabled("cli", ADMIN, false).await.unwrap();
    assert!(matches!(
        accounts.set_enabled("cli", REVIEWER_2, false).await,
        Err(AccountError::Store(_))
    ));
    assert_eq!(admin.get("/api/v1/me").await.0, StatusCode::UNAUTHORIZED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_upload_picker_refuses_near_misses_and_asks_for_an_explicit_new_product() {
    let market = Market::start().await;
    let kari = market.login(VENDOR_A).await;
    market
        .tested(&kari, "Journal Nord", "1.0.0", "reference")
        .await;
    let (_, page) = kari.get("/leverandor/last-opp").await;
    assert!(
        page.contains("<option value=\"Journal Nord\"") && page.contains("id=\"product-new\""),
        "the picker offers the product and an explicit new one"
    );
    let bytes = plugin("reference");
    let (s, body) = kari
        .upload("journal  nord", "1.0.1", "r.wasm", &bytes)
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("«Journal Nord»"),
        "{body}"
    );
    let products = kari.get_json("/api/v1/products").await.1["products"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(products, 1, "no product was created");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn irreversible_actions_need_their_confirmation() {
    let market = Market::start().await;
    let kari = market.login(VENDOR_A).await;
    let (product, submission, _) = market
        .tested(&kari, "Journal Nord", "1.0.0", "reference")
        .await;
    let path = format!("/produkter/{product}/oppforing");
    // The listing form is multipart (it carries the declarations' attachments): a urlencoded one
    // is refused before anything else, and nothing is requested.
    let (s, _, _) = form(&kari, &path, &format!("submission_id={submission}")).await;
    assert_eq!(s, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert!(
        !actions(&market)
            .await
            .iter()
            .any(|(a, _)| a == "listing.request")
    );
    // A disabled reviewer is not assigned: with one of two disabled, the case cannot open.
    let accounts = &market.state.accounts;
    accounts
        .set_enabled("test", REVIEWER_2, false)
        .await
        .unwrap();
    let api = format!("/api/v1/products/{product}/listing-requests");
    let request = serde_json::json!({ "submission_id": submission, "declarations": crate::market::declarations() });
    let (s, body) = kari.post_json(&api, request.clone()).await;
    assert!(
        s == StatusCode::CONFLICT && body.to_string().contains("1 aktive"),
        "{s}"
    );
    accounts
        .set_enabled("test", REVIEWER_2, true)
        .await
        .unwrap();
    let (s, _) = kari.post_json(&api, request).await;
    assert_eq!(s, StatusCode::CREATED);
    let case = market
        .state
        .stores
        .market
        .cases(&[], Some(product))
        .await
        .unwrap()[0]
        .id;
    let rita = market.login(REVIEWER_1).await;
    let (s, page, _) = form(
        &rita,
        &format!("/vurdering/{case}"),
        "decision=approve&note=OK",
    )
    .await;
    assert!(
        s == StatusCode::BAD_REQUEST
            && page.contains("decision-error")
            && page.contains(">OK</textarea>"),
        "{s}"
    );
    assert!(
        !actions(&market)
            .await
            .iter()
            .any(|(a, _)| a == "review.decide")
    );
    // Listed (the decisions through the API, which takes no confirmation): delisting unconfirmed
    // is the product page again with why, the reason kept; confirmed, it is done.
    market.approve(case).await;
    let delist = format!("/produkter/{product}/oppforing/delist");
    let (s, page, _) = form(&rita, &delist, "reason=Avviklet+av+leverand%C3%B8ren").await;
    assert!(
        s == StatusCode::BAD_REQUEST
            && page.contains("id=\"listing-error\"")
            && page.contains("value=\"Avviklet av leverandøren\""),
        "{s}"
    );
    let (s, _, _) = form(
        &rita,
        &delist,
        "reason=Avviklet+av+leverand%C3%B8ren&confirm=ja",
    )
    .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    assert!(
        actions(&market)
            .await
            .contains(&("listing.delist".into(), format!("product:{product}")))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_webhook_page_shows_deliveries_per_organisation_without_the_urls_secrets() {
    let market = Market::start_with(|c| {
        c.nightly.webhook_url =
            Some("http://hook:s3cret@hooks.example:8080/inn?key=hemmelig".into());
        c.nightly.webhook_secret = Some("en hemmelighet på minst seksten tegn".into());
    })
    .await;
    // Three notifications to vendor A: delivered, to be retried, given up.
    let raw = crate::Raw::open(&market.state.config).await;
    let org = market
        .state
        .accounts
        .user(VENDOR_A)
        .await
        .unwrap()
        .organisation_id
        .unwrap();
    raw.execute(
        "INSERT INTO products (id, organisation_id, name, created_at) VALUES (1, ?, 'Journal Nord', '2026-11-01T00:00:00Z')",
        &[org.into()],
    )
    .await
    .unwrap();
    for (attempts, delivered, error) in [
        (1, Some("2026-11-20T02:00:00Z"), None),
        (2, None, Some("connect timed out")),
        (
            5,
            None,
            Some("the webhook answered 500 Internal Server Error"),
        ),
    ] {
        raw.execute(
            "INSERT INTO notifications (at, organisation_id, product_id, kind, message, payload, attempts, delivered_at, delivery_error) \
             VALUES ('2026-11-20T01:00:00Z', ?, 1, 'at_risk', 'i faresonen', '{}', ?, ?, ?)",
            &[org.into(), attempts.into(), delivered.into(), error.into()],
        )
        .await
        .unwrap();
    }
    let admin = market.login(ADMIN).await;
    let (s, page) = admin.get("/admin/webhook").await;
    assert_eq!(s, StatusCode::OK);
    assert!(page.contains("http://hooks.example:8080/inn"), "{page}");
    assert!(!page.contains("s3cret") && !page.contains("hemmelig"));
    let row = page
        .split("data-organisation=\"Leverandør A AS\"")
        .nth(1)
        .and_then(|r| r.split("</tr>").next())
        .unwrap();
    let cells: Vec<&str> = row
        .split("<td>")
        .skip(1)
        .map(|c| c.split('<').next().unwrap())
        .collect();
    assert_eq!(&cells[..2], ["1", "1"], "delivered, pending: {row}");
    assert!(row.contains(">1</span>"), "one given up: {row}");
    assert!(
        row.contains("the webhook answered 500"),
        "the last error: {row}"
    );
    assert_eq!(
        market.login(REVIEWER_1).await.get("/admin/webhook").await.0,
        StatusCode::FORBIDDEN
    );
}
