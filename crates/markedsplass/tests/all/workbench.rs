//! The vendor's hosted sandbox: isolation between organisations through the API, the pages and the
//! FHIR endpoint; writes kept across a restart until a reset; the fault switch; the rate limit.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use serde_json::{Value, json};

use crate::market::*;

/// The path of a URL the service handed out (`http://127.0.0.1:8080/sandkasse/…` → `/sandkasse/…`).
fn path_of(url: &str) -> String {
    let at = url.find("/sandkasse/").expect("a sandbox URL");
    url[at..].to_owned()
}

/// A client of the FHIR endpoint with a sandbox token.
fn fhir(market: &Market, token: &str) -> Client {
    Client {
        bearer: Some(token.to_owned()),
        ..market.anonymous()
    }
}

async fn launch(vendor: &Client, body: Value) -> Value {
    let (s, launched) = vendor.post_json("/api/v1/sandbox/launch", body).await;
    assert_eq!(s, StatusCode::CREATED, "{launched}");
    launched
}

fn heart_rate(patient: &str, performer: &str) -> Value {
    json!({
        "resourceType": "Observation",
        "status": "final",
        "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "vital-signs"}]}],
        "code": {"coding": [{"system": "http://loinc.org", "code": "8867-4", "display": "Heart rate"}]},
        "subject": {"reference": format!("Patient/{patient}")},
        "effectiveDateTime": "2026-10-01T10:00:00Z",
        "performer": [{"reference": format!("Practitioner/{performer}")}],
        "valueQuantity": {"value": 72, "unit": "/min", "system": "http://unitsofmeasure.org", "code": "/min"},
    })
}

async fn write(client: &Client, base: &str, resource: &Value) -> (StatusCode, Value) {
    let (s, body, _) = client
        .send(
            Request::post(format!("{base}/Observation"))
                .header(header::CONTENT_TYPE, "application/fhir+json"),
            Body::from(resource.to_string()),
        )
        .await;
    (s, serde_json::from_str(&body).unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn organisations_never_reach_each_others_sandbox_and_writes_last_until_a_reset() {
    let market = Market::start().await;
    let kari = market.login(VENDOR_A).await;
    let ola = market.login(VENDOR_B).await;
    let (_, a) = kari.get_json("/api/v1/sandbox").await;
    let (_, b) = ola.get_json("/api/v1/sandbox").await;
    let (org_a, org_b) = (
        a["organisation_id"].as_i64().unwrap(),
        b["organisation_id"].as_i64().unwrap(),
    );
    assert_ne!(org_a, org_b);
    assert_ne!(a["seed"], b["seed"], "a seed per organisation");
    let base_a = path_of(a["kommuner"][0]["fhir_base"].as_str().unwrap());
    let base_b = path_of(b["kommuner"][0]["fhir_base"].as_str().unwrap());
    assert_eq!(base_a, format!("/sandkasse/{org_a}/4601/fhir"));

    // A launch with a care relation reads its patient; a token of A's is refused at B's door.
    let la = launch(
        &kari,
        json!({ "kommune": "4601", "patient_kind": "with-relation" }),
    )
    .await;
    let lb = launch(
        &ola,
        json!({ "kommune": "4601", "patient_kind": "with-relation" }),
    )
    .await;
    let (token_a, token_b) = (
        la["access_token"].as_str().unwrap(),
        lb["access_token"].as_str().unwrap(),
    );
    let patient_a = la["context"]["patient"].as_str().unwrap();
    assert!(la["curl"].as_str().unwrap().contains(token_a));
    let as_a = fhir(&market, token_a);
    let as_b = fhir(&market, token_b);
    assert_eq!(
        as_a.get(&format!("{base_a}/Patient/{patient_a}")).await.0,
        StatusCode::OK
    );
    assert_eq!(
        as_a.get(&format!("{base_b}/Patient/{patient_a}")).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        as_b.get(&format!("{base_a}/metadata")).await.0,
        StatusCode::UNAUTHORIZED
    );
    // Nor can B's people, by session or by the token asked for their sandbox.
    assert_eq!(
        ola.get(&format!("{base_a}/metadata")).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        kari.get(&format!("{base_a}/metadata")).await.0,
        StatusCode::OK
    );
    // A browser app on another origin may call it with its token (CORS without credentials).
    let (s, headers, _) = market
        .anonymous()
        .raw(
            Request::options(format!("{base_a}/Patient/{patient_a}"))
                .header(header::ORIGIN, "http://localhost:3000")
                .header("access-control-request-headers", "authorization"),
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    assert_eq!(
        headers.get(header::ACCESS_CONTROL_ALLOW_ORIGIN).unwrap(),
        "*"
    );
    assert!(
        headers
            .get(header::ACCESS_CONTROL_ALLOW_CREDENTIALS)
            .is_none()
    );
    // Tokens come only from the launch: the platform's token endpoint is closed.
    let (s, _) = as_a
        .post_json(&format!("/sandkasse/{org_a}/4601/auth/token"), json!({}))
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);

    // A writes; A sees it, B does not (not even with the same id in B's own sandbox).
    let (s, created) = write(
        &as_a,
        &base_a,
        &heart_rate(patient_a, la["practitioner_id"].as_str().unwrap()),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{created}");
    let id = created["id"].as_str().unwrap().to_owned();
    assert_eq!(
        as_a.get(&format!("{base_a}/Observation/{id}")).await.0,
        StatusCode::OK
    );
    let (s, _) = as_b.get(&format!("{base_b}/Observation/{id}")).await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    // The exchanges page: A's requests, the token redacted; nothing of A's on B's page.
    let marker = "code=marker-of-a";
    as_a.get(&format!(
        "{base_a}/Observation?patient={patient_a}&{marker}"
    ))
    .await;
    let (s, page) = kari.get("/leverandor/sandkasse/utvekslinger").await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        page.contains(marker) && page.contains("POST /4601/fhir/Observation"),
        "A's exchanges are listed"
    );
    assert!(!page.contains(token_a), "the token is redacted");
    assert!(page.contains("[redacted]"));
    let (_, page_b) = ola.get("/leverandor/sandkasse/utvekslinger").await;
    assert!(
        !page_b.contains(marker) && !page_b.contains("POST /4601"),
        "B sees none of A's exchanges"
    );

    // A restart (a new service over the same database): the write and the token are still there.
    let config = market.state.config.as_ref().clone();
    let stores = sandkasse_markedsplass::store::Stores::open(&config)
        .await
        .unwrap();
    let restarted = sandkasse_markedsplass::http::AppState::new(
        config,
        stores,
        sandkasse_markedsplass::clock::Clock::system(),
    )
    .unwrap();
    let restarted = Client {
        app: sandkasse_markedsplass::http::app(restarted),
        ..fhir(&market, token_a)
    };
    let (s, body) = restarted.get(&format!("{base_a}/Observation/{id}")).await;
    assert_eq!(s, StatusCode::OK, "{body}");
    // Two processes on one database: a write through the first makes the second's copy stale;
    // its next write is refused (409, nothing kept) and the one after lands on a rebuilt copy.
    let performer = la["practitioner_id"].as_str().unwrap();
    let (s, _) = write(&as_a, &base_a, &heart_rate(patient_a, performer)).await;
    assert_eq!(s, StatusCode::CREATED);
    let (s, refused) = write(&restarted, &base_a, &heart_rate(patient_a, performer)).await;
    assert_eq!(s, StatusCode::CONFLICT, "{refused}");
    let (s, third) = write(&restarted, &base_a, &heart_rate(patient_a, performer)).await;
    assert_eq!(s, StatusCode::CREATED, "{third}");
    let (s, _) = restarted.get(&format!("{base_a}/Observation/{id}")).await;
    assert_eq!(
        s,
        StatusCode::OK,
        "the rebuilt copy has the first write too"
    );

    // The reset (confirmed, audited): the write and the token are gone.
    let again = market;
    let form = Request::post("/leverandor/sandkasse/nullstill")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    let (s, _, _) = kari
        .send(form, Body::from(format!("csrf={}", kari.csrf)))
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "not without the confirmation");
    let form = Request::post("/leverandor/sandkasse/nullstill")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    let (s, _, _) = kari
        .send(form, Body::from(format!("confirm=ja&csrf={}", kari.csrf)))
        .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    assert_eq!(
        as_a.get(&format!("{base_a}/metadata")).await.0,
        StatusCode::UNAUTHORIZED,
        "the old token died"
    );
    let fresh = launch(
        &kari,
        json!({ "kommune": "4601", "patient_kind": "with-relation" }),
    )
    .await;
    let as_a = fhir(&again, fresh["access_token"].as_str().unwrap());
    assert_eq!(
        as_a.get(&format!("{base_a}/Observation/{id}")).await.0,
        StatusCode::NOT_FOUND
    );
    let events = again.state.audit.events_after(0, 10_000).await.unwrap();
    assert!(
        events
            .iter()
            .any(|e| e.action == "workbench.reset" && e.subject == format!("organisation:{org_a}")),
        "the reset is audited"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_fault_switch_changes_the_answer_and_the_rate_limit_is_per_organisation() {
    let market = Market::start_with(|c| {
        c.workbench.requests_per_second = 1;
        c.workbench.burst = 4;
    })
    .await;
    let kari = market.login(VENDOR_A).await;
    let ola = market.login(VENDOR_B).await;
    let la = launch(&kari, json!({ "kommune": "4601" })).await;
    let lb = launch(&ola, json!({ "kommune": "4601" })).await;
    let base_a = path_of(la["fhir_base"].as_str().unwrap());
    let base_b = path_of(lb["fhir_base"].as_str().unwrap());
    let as_a = fhir(&market, la["access_token"].as_str().unwrap());
    let as_b = fhir(&market, lb["access_token"].as_str().unwrap());

    // Throttle: every second request is a 429 with Retry-After.
    let form = Request::post("/leverandor/sandkasse/feil")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    let (s, _, _) = kari
        .send(
            form,
            Body::from(format!("faults=throttle&csrf={}", kari.csrf)),
        )
        .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    assert_eq!(
        kari.get_json("/api/v1/sandbox").await.1["faults"],
        "throttle"
    );
    let first = as_a.raw(Request::get(format!("{base_a}/metadata"))).await;
    let second = as_a.raw(Request::get(format!("{base_a}/metadata"))).await;
    assert_eq!(
        (first.0, second.0),
        (StatusCode::OK, StatusCode::TOO_MANY_REQUESTS)
    );
    assert_eq!(second.1.get(header::RETRY_AFTER).unwrap(), "1");
    assert_eq!(
        ola.get_json("/api/v1/sandbox").await.1["faults"],
        "off",
        "B's sandbox is not touched"
    );

    // The rate: A has spent its burst of 4 (launch aside, two requests above, two more here) …
    as_a.get(&format!("{base_a}/metadata")).await;
    as_a.get(&format!("{base_a}/metadata")).await;
    let over = as_a.raw(Request::get(format!("{base_a}/metadata"))).await;
    assert_eq!(over.0, StatusCode::TOO_MANY_REQUESTS);
    assert!(over.1.get(header::RETRY_AFTER).is_some());
    let outcome: Value = serde_json::from_slice(&over.2).unwrap();
    assert_eq!(outcome["resourceType"], "OperationOutcome");
    // … while B is not slowed at all.
    assert_eq!(
        as_b.get(&format!("{base_b}/metadata")).await.0,
        StatusCode::OK
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pages_and_person_kinds_speak_the_ground_truth_in_one_language() {
    let market = Market::start().await;
    let kari = market.login(VENDOR_A).await;
    let (s, kinds) = kari
        .get_json("/api/v1/sandbox/person-kinds?kommune=4601")
        .await;
    assert_eq!(s, StatusCode::OK);
    let count = |k: &str| {
        kinds["kinds"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["kind"] == k)
            .unwrap()["count"]
            .as_u64()
            .unwrap()
    };
    assert!(count("with-relation") > 0 && count("d-nummer") > 0 && count("deceased") > 0);
    let (s, _) = kari
        .get_json("/api/v1/sandbox/person-kinds?kommune=9999")
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    // A launch for a kind, through the page: the token and the curl are shown, not cached.
    let (s, page) = kari.get("/leverandor/sandkasse?kommune=4601").await;
    assert_eq!(s, StatusCode::OK);
    let who = page
        .split("<option value=\"")
        .filter_map(|o| o.split('"').next())
        .find(|v| v.contains('@'))
        .unwrap()
        .to_owned();
    let form = Request::post("/leverandor/sandkasse/start")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    let (s, page, _) = kari
        .send(
            form,
            Body::from(format!(
                "kommune=4601&who={}&patient_kind=deceased&purpose=emergency&reason=&csrf={}",
                who.replace('@', "%40"),
                kari.csrf
            )),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "emergency needs a reason");
    assert!(
        page.contains("Nødrett krever en begrunnelse") && !page.contains("Emergency access needs")
    );
    let form = Request::post("/leverandor/sandkasse/start?lang=en")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    let (s, page, _) = kari
        .send(
            form,
            Body::from(format!(
                "kommune=4601&who={}&patient_kind=deceased&purpose=emergency&reason=akutt&csrf={}",
                who.replace('@', "%40"),
                kari.csrf
            )),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{page}");
    assert!(page.contains("id=\"launched-curl\"") && page.contains("curl -s -H"));
    assert!(page.contains("Emergency access") && !page.contains("Nødrett"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_data_downloads_and_the_export_hold_the_vendors_own_data() {
    let market = Market::start().await;
    let kari = market.login(VENDOR_A).await;
    let ola = market.login(VENDOR_B).await;
    let la = launch(
        &kari,
        json!({ "kommune": "4601", "patient_kind": "with-relation" }),
    )
    .await;
    let lb = launch(&ola, json!({ "kommune": "4601" })).await;
    let base = path_of(la["fhir_base"].as_str().unwrap());
    let as_a = fhir(&market, la["access_token"].as_str().unwrap());
    let patient = la["context"]["patient"].as_str().unwrap();
    let (s, created) = write(
        &as_a,
        &base,
        &heart_rate(patient, la["practitioner_id"].as_str().unwrap()),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{created}");

    // Kick-off, status, file: the written Observation is in the export.
    let (s, headers, _) = as_a
        .raw(Request::get(format!(
            "{base}/$export?_type=Patient,Observation"
        )))
        .await;
    assert_eq!(s, StatusCode::ACCEPTED);
    let status = path_of(
        headers
            .get(header::CONTENT_LOCATION)
            .unwrap()
            .to_str()
            .unwrap(),
    );
    let (s, manifest) = as_a.get_json(&status).await;
    assert_eq!(s, StatusCode::OK, "{manifest}");
    let files = manifest["output"].as_array().unwrap();
    assert_eq!(
        files
            .iter()
            .map(|f| f["type"].as_str().unwrap())
            .collect::<Vec<_>>(),
        ["Patient", "Observation"]
    );
    let observations = files.iter().find(|f| f["type"] == "Observation").unwrap();
    let (s, ndjson) = as_a
        .get(&path_of(observations["url"].as_str().unwrap()))
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        ndjson.lines().count() as u64,
        observations["count"].as_u64().unwrap()
    );
    assert!(
        ndjson
            .lines()
            .any(|l| l.contains(&format!("\"id\":\"{}\"", created["id"].as_str().unwrap())))
    );
    // B's token is refused at A's export.
    let as_b = fhir(&market, lb["access_token"].as_str().unwrap());
    assert_eq!(as_b.get(&status).await.0, StatusCode::UNAUTHORIZED);

    // The generator's output for A's seed, with its manifest.
    let (s, headers, zip) = kari
        .raw(Request::get("/leverandor/sandkasse/testdata.zip"))
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        headers.get(header::CONTENT_TYPE).unwrap(),
        "application/zip"
    );
    assert!(zip.starts_with(b"PK"));
    let names = String::from_utf8_lossy(&zip);
    assert!(
        names.contains("manifest.json")
            && names.contains("4601/Patient.ndjson")
            && names.contains("4601/truth.json")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sandbox_pushed_out_of_memory_comes_back_from_its_journal() {
    let market = Market::start_with(|c| c.workbench.loaded_sandboxes = 1).await;
    let kari = market.login(VENDOR_A).await;
    let ola = market.login(VENDOR_B).await;
    let la = launch(
        &kari,
        json!({ "kommune": "4601", "patient_kind": "with-relation" }),
    )
    .await;
    let base = path_of(la["fhir_base"].as_str().unwrap());
    let as_a = fhir(&market, la["access_token"].as_str().unwrap());
    let patient = la["context"]["patient"].as_str().unwrap();
    let (s, created) = write(
        &as_a,
        &base,
        &heart_rate(patient, la["practitioner_id"].as_str().unwrap()),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{created}");
    // B's launch takes the one place: A's sandbox leaves memory …
    launch(&ola, json!({ "kommune": "4601" })).await;
    // … and is rebuilt on A's next request, with A's token and A's write.
    let (s, body) = as_a
        .get(&format!(
            "{base}/Observation/{}",
            created["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap()["id"],
        created["id"]
    );
}
