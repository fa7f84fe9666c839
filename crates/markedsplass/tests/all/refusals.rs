//! Every refusal in the shape of its side and in one language: every route of `web::ROUTES` and
//! `api::ROUTES` walked with malformed path parameters, malformed queries and a wrong method, in
//! bokmål and in English; unknown paths, bodies too large or of the wrong type, a login wait and
//! a panic. A page answers with the error page in the site's layout, in exactly the language it
//! was asked in; the API answers with `{"error": {"code", "message"}}` in the language of
//! `Accept-Language`.

use std::collections::BTreeSet;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use axum::routing::get;
use sandkasse_markedsplass::http::{api, refusals, server, web};
use sandkasse_markedsplass::i18n::{Lang, text};
use serde_json::Value;

use crate::market::*;

/// A path parameter that no route can take: not a number, not a known name.
const MALFORMED: &str = "abc%20x";

/// Parameters that must be numbers (an axum `Path<i64>`): a malformed one is a 400.
const NUMERIC: &[&str] = &["id", "product_id"];

/// Routes whose handlers read a query with typed fields, and a query they cannot read.
const BAD_QUERIES: &[(&str, &str)] = &[
    ("/revisjon", "after=abc"),
    ("/api/v1/audit", "after=abc&limit=-1"),
    ("/api/v1/cases", "all=maybe"),
];

/// Texts of the layout in `lang`, none of which may appear in a page of the other language.
fn layout_texts(lang: Lang) -> [&'static str; 3] {
    [
        text(lang, "skip_to_content"),
        text(lang, "footer"),
        text(lang, "error_code"),
    ]
}

/// A request as `client` sends it, in `lang`: `?lang=` for a page, `Accept-Language` for the API.
async fn ask(
    client: &Client,
    method: &str,
    path: &str,
    query: &str,
    lang: Lang,
) -> (StatusCode, String, axum::http::HeaderMap) {
    let is_api = refusals::is_api(path);
    let mut query = query.to_owned();
    if !is_api && lang == Lang::En {
        query = if query.is_empty() {
            "lang=en".into()
        } else {
            format!("{query}&lang=en")
        };
    }
    let uri = if query.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{query}")
    };
    let mut request = Request::builder()
        .method(method)
        .uri(&uri)
        .header(header::HOST, "markedsplass.test");
    if lang == Lang::En {
        request = request.header(header::ACCEPT_LANGUAGE, "en");
    }
    if let Some(cookie) = &client.cookie {
        request = request.header(header::COOKIE, cookie);
    }
    use tower::ServiceExt as _;
    let response = client
        .app
        .clone()
        .oneshot(request.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let (status, headers) = (response.status(), response.headers().clone());
    let body = axum::body::to_bytes(response.into_body(), 1 << 24)
        .await
        .unwrap();
    (status, String::from_utf8_lossy(&body).into_owned(), headers)
}

/// Checks a refusal's answer: the error page in `lang` with the layout, or the JSON error.
fn assert_refusal(
    what: &str,
    path: &str,
    lang: Lang,
    status: StatusCode,
    body: &str,
    headers: &axum::http::HeaderMap,
) {
    assert!(status.is_client_error(), "{what}: {status} {body}");
    let kind = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if refusals::is_api(path) {
        assert!(
            kind.starts_with("application/json"),
            "{what}: {kind} {body}"
        );
        let json: Value =
            serde_json::from_str(body).unwrap_or_else(|e| panic!("{what}: {e}: {body}"));
        let error = json["error"]
            .as_object()
            .unwrap_or_else(|| panic!("{what}: {body}"));
        assert!(
            error["code"].is_string() && error["message"].is_string(),
            "{what}: {body}"
        );
        assert_eq!(error.len(), 2, "{what}: {body}");
        let message = error["message"].as_str().unwrap();
        assert!(!message.contains(" / "), "{what}: two languages: {message}");
    } else {
        assert!(kind.starts_with("text/html"), "{what}: {kind} {body}");
        assert_one_language(what, lang, body);
        // The error page names the status; a form shown again says what was wrong instead.
        assert!(
            body.contains(&format!("HTTP {}", status.as_u16())) || body.contains("role=\"alert\""),
            "{what}: the status is named: {body}"
        );
    }
}

/// A page in the site's layout, in `lang` and not the other.
fn assert_one_language(what: &str, lang: Lang, body: &str) {
    assert!(
        body.contains(&format!("<html lang=\"{}\"", lang.as_str())),
        "{what}: {body}"
    );
    assert!(
        body.contains("<main id=\"main\""),
        "{what}: no layout: {body}"
    );
    let other = lang.other();
    for own in &layout_texts(lang)[..2] {
        assert!(body.contains(own), "{what}: lacks {own:?}");
    }
    for foreign in layout_texts(other) {
        assert!(
            !body.contains(foreign),
            "{what}: {lang:?} page holds {foreign:?}"
        );
    }
    if let Some(message) = body.split("id=\"error-message\"").nth(1) {
        let message = message.split("</p>").next().unwrap_or_default();
        assert!(!message.contains(" / "), "{what}: two languages: {message}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_answers_malformed_paths_queries_and_methods_in_its_shape_and_language() {
    let market = Market::start().await;
    let clients = [market.anonymous(), market.login(VENDOR_A).await];
    let routes: Vec<(&str, &str)> = web::ROUTES.iter().chain(api::ROUTES).copied().collect();
    let methods_of = |path: &str| -> BTreeSet<&str> {
        routes
            .iter()
            .filter(|(_, p)| *p == path)
            .map(|(m, _)| *m)
            .collect()
    };
    let mut walked = 0;
    for client in &clients {
        for lang in Lang::ALL {
            for (method, route) in &routes {
                // Malformed path parameters.
                if route.contains('{') {
                    let path = fill(route, |_| MALFORMED);
                    let (s, body, headers) = ask(client, method, &path, "", lang).await;
                    let what = format!("{method} {path} ({lang:?})");
                    if params(route).iter().any(|p| NUMERIC.contains(p)) {
                        // The path cannot be read: refused before any access check.
                        assert_eq!(s, StatusCode::BAD_REQUEST, "{what}: {body}");
                    } else if s == StatusCode::SEE_OTHER {
                        // A name that is no thing, behind a login: the way to the login page.
                        assert!(
                            client.cookie.is_none() && !refusals::is_api(route),
                            "{what}"
                        );
                        walked += 1;
                        continue;
                    } else {
                        // A name that is no thing: unknown, or not for this caller.
                        let expected = [
                            StatusCode::UNAUTHORIZED,
                            StatusCode::FORBIDDEN,
                            StatusCode::NOT_FOUND,
                        ];
                        assert!(expected.contains(&s), "{what}: {s} {body}");
                    }
                    assert_refusal(&what, route, lang, s, &body, &headers);
                    walked += 1;
                }
                // A method the path does not take.
                let path = fill(route, |_| "1");
                let methods = methods_of(route);
                let wrong = ["PATCH", "PUT", "DELETE"]
                    .into_iter()
                    .find(|m| !methods.contains(m))
                    .unwrap();
                let (s, body, headers) = ask(client, wrong, &path, "", lang).await;
                let what = format!("{wrong} {path} ({lang:?})");
                assert_eq!(s, StatusCode::METHOD_NOT_ALLOWED, "{what}: {body}");
                assert!(headers.contains_key(header::ALLOW), "{what}: no Allow");
                assert_refusal(&what, route, lang, s, &body, &headers);
                walked += 1;
            }
            for path in [
                "/finnes-ikke",
                "/kjoringer/1/ukjent",
                "/api/v1/finnes-ikke",
                "/api",
            ] {
                let (s, body, headers) = ask(client, "GET", path, "", lang).await;
                let what = format!("GET {path} ({lang:?})");
                assert_eq!(s, StatusCode::NOT_FOUND, "{what}: {body}");
                assert_refusal(&what, path, lang, s, &body, &headers);
            }
        }
    }
    // A query its handler cannot read, from a caller who may read the page (whoever may not is
    // told that first).
    let admin = market.login(ADMIN).await;
    for lang in Lang::ALL {
        for (path, query) in BAD_QUERIES {
            let (s, body, headers) = ask(&admin, "GET", path, query, lang).await;
            let what = format!("GET {path}?{query} ({lang:?})");
            assert_eq!(s, StatusCode::BAD_REQUEST, "{what}: {body}");
            assert_refusal(&what, path, lang, s, &body, &headers);
            walked += 1;
        }
    }
    assert!(
        walked > 4 * (web::ROUTES.len() + api::ROUTES.len()),
        "{walked}"
    );
}

/// `route` with each `{param}` replaced.
fn fill(route: &str, value: impl Fn(&str) -> &'static str) -> String {
    let mut out = String::new();
    let mut rest = route;
    while let Some(open) = rest.find('{') {
        let close = rest[open..].find('}').unwrap() + open;
        out.push_str(&rest[..open]);
        out.push_str(value(&rest[open + 1..close]));
        rest = &rest[close + 1..];
    }
    out.push_str(rest);
    out
}

fn params(route: &str) -> Vec<&str> {
    route
        .split('{')
        .skip(1)
        .filter_map(|p| p.split_once('}').map(|(name, _)| name))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bodies_too_large_or_of_the_wrong_type_a_login_wait_and_a_panic_are_answered_in_shape() {
    let market = Market::start_with(|c| c.max_upload_bytes = 64 * 1024).await;
    let anon = market.anonymous();
    let big = "username=".to_owned() + &"x".repeat(100 * 1024);
    for lang in Lang::ALL {
        let q = if lang == Lang::En { "?lang=en" } else { "" };
        let accept = if lang == Lang::En { "en" } else { "nb" };
        for (path, content_type, body, status) in [
            (
                format!("/logg-inn{q}"),
                "application/x-www-form-urlencoded",
                big.clone(),
                StatusCode::PAYLOAD_TOO_LARGE,
            ),
            (
                format!("/logg-inn{q}"),
                "application/json",
                "{}".to_owned(),
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ),
            (
                format!("/logg-inn{q}"),
                "application/x-www-form-urlencoded",
                "username=".to_owned(),
                StatusCode::BAD_REQUEST,
            ),
            (
                "/api/v1/session".to_owned(),
                "application/json",
                big.clone(),
                StatusCode::PAYLOAD_TOO_LARGE,
            ),
            (
                "/api/v1/session".to_owned(),
                "text/plain",
                "{}".to_owned(),
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ),
            (
                "/api/v1/session".to_owned(),
                "application/json",
                "{\"username\":1}".to_owned(),
                StatusCode::BAD_REQUEST,
            ),
        ] {
            let request = Request::post(&path)
                .header(header::CONTENT_TYPE, content_type)
                .header(header::ACCEPT_LANGUAGE, accept);
            let (s, b, _) = anon.send(request, Body::from(body)).await;
            let what = format!("POST {path} {content_type}");
            assert_eq!(s, status, "{what}: {b}");
            let headers = {
                let mut h = axum::http::HeaderMap::new();
                let kind = if refusals::is_api(&path) {
                    "application/json"
                } else {
                    "text/html"
                };
                h.insert(header::CONTENT_TYPE, kind.parse().unwrap());
                h
            };
            assert_refusal(&what, &path, lang, s, &b, &headers);
        }
    }
    // A login wait: the login form again, in one language, and the API's 429.
    for _ in 0..5 {
        anon.post_json(
            "/api/v1/session",
            serde_json::json!({ "username": VENDOR_A, "password": "feil" }),
        )
        .await;
    }
    for lang in Lang::ALL {
        let q = if lang == Lang::En { "?lang=en" } else { "" };
        let form = Request::post(format!("/logg-inn{q}"))
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        let (s, page, _) = anon
            .send(form, Body::from(format!("username={VENDOR_A}&password=x")))
            .await;
        assert_eq!(s, StatusCode::TOO_MANY_REQUESTS);
        assert_one_language("the login wait", lang, &page);
        let wait = sandkasse_markedsplass::i18n::Msg::new("msg_too_many_logins").render(lang);
        let wait = wait.split("{seconds}").next().unwrap();
        assert!(page.contains(wait.split(';').next().unwrap()), "{page}");
    }
    // A handler that panics: a 500 in its side's shape, the cause not shown.
    async fn boom() -> axum::response::Response {
        panic!("secret cause")
    }
    let boom = axum::Router::new()
        .route("/boom", get(boom))
        .route("/api/boom", get(boom))
        .layer(server::catch_panics())
        .layer(axum::middleware::from_fn_with_state(
            market.state.clone(),
            refusals::answer,
        ))
        .with_state(market.state.clone());
    use tower::ServiceExt as _;
    for (path, lang) in [
        ("/boom", Lang::Nb),
        ("/boom?lang=en", Lang::En),
        ("/api/boom", Lang::Nb),
    ] {
        let response = boom
            .clone()
            .oneshot(Request::get(path).body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(
            response.status(),
            StatusCode::INTERNAL_SERVER_ERROR,
            "{path}"
        );
        let body = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .unwrap();
        let body = String::from_utf8_lossy(&body);
        assert!(!body.contains("secret cause"), "{body}");
        if path.starts_with("/api") {
            assert!(body.contains("\"code\":\"internal\""), "{body}");
        } else {
            assert_one_language(path, lang, &body);
            assert!(body.contains(text(lang, "error_500")), "{body}");
        }
    }
}

/// Texts moved into `web/i18n.toml`, by language: a page in one language holds none of the
/// other's.
const KNOWN: &[(&str, &str)] = &[
    (
        "Feil brukernavn eller passord",
        "Wrong username or password",
    ),
    (
        "Du har ikke tilgang til å gjøre dette",
        "You are not allowed to do this",
    ),
    ("alle kontroller bestått", "every check passed"),
    ("finnes allerede", "already exists"),
    ("nattlige kjøringer", "nightly runs"),
    (
        "Siden eller ressursen finnes ikke",
        "The page or resource does not exist",
    ),
    (
        "Forespørselen kunne ikke leses",
        "The request could not be read",
    ),
    (
        "adapteren oppgir ikke rollen",
        "the adapter does not claim the",
    ),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_in_one_language_holds_none_of_the_others_known_texts() {
    let market = Market::start().await;
    let kari = market.login(VENDOR_A).await;
    let (_, _, run) = market
        .tested(&kari, "Journal Nord", "1.0.0", "reference")
        .await;
    // A run that fails some vilkár: the suite's "bokmål / English" reasons, each shown by its side.
    let (_, _, flawed) = market
        .tested(&kari, "Uten token", "1.0.0", "flawed_drops_token")
        .await;
    let (_, report) = kari
        .get_json(&format!("/api/v1/runs/{flawed}/report.json"))
        .await;
    let reasons: Vec<String> = report["vilkar"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|v| v["outcome"] != "pass")
        .filter_map(|v| v["reason"].as_str())
        .filter(|r| r.contains(" / "))
        .map(str::to_owned)
        .collect();
    assert!(!reasons.is_empty(), "{report}");
    let escaped = |text: &str| {
        text.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
            .replace('\'', "&#39;")
    };
    let anon = market.anonymous();
    for lang in Lang::ALL {
        let q = if lang == Lang::En { "?lang=en" } else { "" };
        let mut pages = Vec::new();
        // A wrong password.
        let form = Request::post(format!("/logg-inn{q}"))
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        let (_, page, _) = anon
            .send(
                form,
                Body::from("username=nobody%40x.no&password=feil+passord"),
            )
            .await;
        pages.push(("wrong password", page));
        // Not allowed, not found, malformed.
        for path in ["/revisjon", "/kjoringer/999999", "/kjoringer/abc"] {
            pages.push((path, kari.get(&format!("{path}{q}")).await.1));
        }
        // The audit trail: what the service wrote, in the page's language.
        let (s, page) = market
            .login(ADMIN)
            .await
            .get(&format!("/revisjon{q}"))
            .await;
        assert_eq!(s, StatusCode::OK, "{page}");
        pages.push(("audit", page));
        // The suite's reasons on the full report (in the site's layout) and on a run page.
        let (s, report) = kari.get(&format!("/kjoringer/{run}/rapport{q}")).await;
        assert_eq!(s, StatusCode::OK, "{report}");
        pages.push(("report page", report));
        pages.push((
            "run page",
            kari.get(&format!("/kjoringer/{run}{q}")).await.1,
        ));
        // The same version again, through the upload form.
        let boundary = "refusals-boundary";
        let mut body = String::new();
        for (name, value) in [
            ("csrf", kari.csrf.as_str()),
            ("product", "Journal Nord"),
            ("version", "1.0.0"),
            ("changelog", ""),
        ] {
            body.push_str(&format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            ));
        }
        let reference = plugin("reference");
        let mut bytes = body.into_bytes();
        bytes.extend_from_slice(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"component\"; filename=\"a.wasm\"\r\n\r\n").as_bytes());
        bytes.extend_from_slice(&reference);
        bytes.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        let request = Request::post(format!("/leverandor/last-opp{q}")).header(
            header::CONTENT_TYPE,
            format!("multipart/form-data; boundary={boundary}"),
        );
        let (s, page, _) = kari.send(request, Body::from(bytes)).await;
        assert_eq!(s, StatusCode::CONFLICT, "{page}");
        pages.push(("duplicate version", page));
        for (what, page) in &pages {
            assert_one_language(what, lang, page);
            for (nb, en) in KNOWN {
                let (foreign, own) = if lang == Lang::Nb { (en, nb) } else { (nb, en) };
                assert!(
                    !page.contains(foreign),
                    "{what} ({lang:?}) holds {foreign:?} beside {own:?}"
                );
            }
        }
        for path in [
            format!("/kjoringer/{flawed}{q}"),
            format!("/kjoringer/{flawed}/rapport{q}"),
        ] {
            let page = kari.get(&path).await.1;
            assert_one_language(&path, lang, &page);
            for reason in &reasons {
                let side = sandkasse_markedsplass::i18n::one_side(reason, lang);
                assert!(page.contains(&escaped(&side)), "{path} lacks {side:?}");
                assert!(!page.contains(&escaped(reason)), "{path} holds {reason:?}");
            }
        }
        let has = |what: &str, needle: &str| {
            let page = &pages.iter().find(|(w, _)| *w == what).unwrap().1;
            assert!(page.contains(needle), "{what} ({lang:?}) lacks {needle:?}");
        };
        let pick = |(nb, en): (&'static str, &'static str)| if lang == Lang::Nb { nb } else { en };
        has("wrong password", pick(KNOWN[0]));
        has("/revisjon", pick(KNOWN[1]));
        has("duplicate version", pick(KNOWN[3]));
        has("/kjoringer/999999", pick(KNOWN[5]));
        has("/kjoringer/abc", pick(KNOWN[6]));
    }
}
