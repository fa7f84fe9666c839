//! The checked-in OpenAPI document (`crates/markedsplass/openapi.json`, served at
//! `/api/v1/openapi.json`) against the code: every route in `api::ROUTES` is documented and nothing
//! else under `/api/v1` is, every operation answers something 2xx, every error answer is the one
//! `Error` shape, and every `$ref` resolves.

use std::collections::BTreeSet;

use sandkasse_markedsplass::http::api::{OPENAPI, ROUTES};
use serde_json::Value;

const METHODS: &[&str] = &[
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];
const ERROR_SCHEMA: &str = "#/components/schemas/Error";

fn document() -> Value {
    serde_json::from_str(OPENAPI).unwrap_or_else(|e| panic!("openapi.json is not JSON: {e}"))
}

/// Every operation as `(METHOD, path, operation)`.
fn operations(doc: &Value) -> Vec<(String, String, &Value)> {
    let paths = doc["paths"].as_object().expect("`paths` is an object");
    let mut out = Vec::new();
    for (path, item) in paths {
        let item = item
            .as_object()
            .unwrap_or_else(|| panic!("path item {path} is not an object"));
        for (method, operation) in item {
            if METHODS.contains(&method.as_str()) {
                out.push((method.to_uppercase(), path.clone(), operation));
            }
        }
    }
    out
}

/// The value a local `$ref` (`#/json/pointer`) points at.
fn resolve<'a>(doc: &'a Value, reference: &str) -> Option<&'a Value> {
    doc.pointer(reference.strip_prefix('#')?)
}

/// Follows `$ref`s (a response may be one) to the value itself.
fn deref<'a>(doc: &'a Value, mut value: &'a Value) -> &'a Value {
    for _ in 0..16 {
        match value.get("$ref").and_then(Value::as_str) {
            Some(reference) => {
                value =
                    resolve(doc, reference).unwrap_or_else(|| panic!("unresolved $ref {reference}"))
            }
            None => return value,
        }
    }
    panic!("$ref chain too long (a cycle?)")
}

/// Every `$ref` in `value`, with the JSON pointer of where it sits.
fn refs(value: &Value, at: &str, out: &mut Vec<(String, String)>) {
    match value {
        Value::Object(map) => {
            for (key, v) in map {
                let here = format!("{at}/{}", key.replace('~', "~0").replace('/', "~1"));
                match (key.as_str(), v) {
                    ("$ref", Value::String(r)) => out.push((here, r.clone())),
                    _ => refs(v, &here, out),
                }
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                refs(v, &format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

#[test]
fn the_served_document_is_openapi_3_1() {
    let doc = document();
    let version = doc["openapi"].as_str().expect("`openapi` is a string");
    assert!(
        version.starts_with("3.1"),
        "openapi is {version:?}, expected 3.1.x"
    );
    assert!(
        doc["info"]["title"].is_string() && doc["info"]["version"].is_string(),
        "info needs title and version"
    );
}

#[test]
fn every_route_is_documented_and_nothing_else() {
    let doc = document();
    let documented: BTreeSet<(String, String)> = operations(&doc)
        .into_iter()
        .map(|(method, path, _)| (method, path))
        .collect();
    let routes: BTreeSet<(String, String)> = ROUTES
        .iter()
        .map(|(m, p)| (m.to_uppercase(), (*p).to_owned()))
        .collect();
    assert_eq!(routes.len(), ROUTES.len(), "ROUTES lists a route twice");

    let undocumented: Vec<_> = routes
        .difference(&documented)
        .map(|(m, p)| format!("{m} {p}"))
        .collect();
    let unknown: Vec<_> = documented
        .iter()
        .filter(|(_, p)| p.starts_with("/api/v1/") || p == "/api/v1")
        .filter(|route| !routes.contains(*route))
        .map(|(m, p)| format!("{m} {p}"))
        .collect();
    assert!(
        undocumented.is_empty() && unknown.is_empty(),
        "routes in api::ROUTES missing from openapi.json: {undocumented:?}; \
         operations in openapi.json that api::ROUTES does not have: {unknown:?}"
    );
}

#[test]
fn path_parameters_match_the_templates() {
    let doc = document();
    let mut problems = Vec::new();
    let mut operation_ids = BTreeSet::new();
    for (method, path, operation) in operations(&doc) {
        let templated: BTreeSet<&str> = path
            .split('/')
            .filter_map(|s| s.strip_prefix('{')?.strip_suffix('}'))
            .collect();
        let item_params = doc["paths"][&path]["parameters"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let op_params = operation["parameters"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let mut declared = BTreeSet::new();
        for p in item_params.iter().chain(&op_params) {
            let p = deref(&doc, p);
            if p["in"] == "path" {
                let name = p["name"].as_str().unwrap_or_default().to_owned();
                if p["required"] != Value::Bool(true) {
                    problems.push(format!(
                        "{method} {path}: path parameter {name} must be required"
                    ));
                }
                declared.insert(name);
            }
        }
        let templated: BTreeSet<String> = templated.into_iter().map(str::to_owned).collect();
        if templated != declared {
            problems.push(format!(
                "{method} {path}: path template has {templated:?}, parameters declare {declared:?}"
            ));
        }
        match operation["operationId"].as_str() {
            Some(id) if !operation_ids.insert(id.to_owned()) => {
                problems.push(format!("{method} {path}: operationId {id} twice"))
            }
            Some(_) => {}
            None => problems.push(format!("{method} {path}: no operationId")),
        }
        if !operation["summary"].is_string() || !operation["description"].is_string() {
            problems.push(format!(
                "{method} {path}: needs a summary and a description"
            ));
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
}

#[test]
fn every_operation_succeeds_somehow_and_errors_have_one_shape() {
    let doc = document();
    let schema = resolve(&doc, ERROR_SCHEMA).expect("components/schemas/Error exists");
    let inner = &schema["properties"]["error"];
    for field in ["code", "message"] {
        assert_eq!(
            inner["properties"][field]["type"], "string",
            "Error.error.{field} is a string"
        );
        assert!(
            inner["required"]
                .as_array()
                .is_some_and(|r| r.iter().any(|f| f == field)),
            "Error.error.{field} is required"
        );
    }
    assert!(
        schema["required"]
            .as_array()
            .is_some_and(|r| r.iter().any(|f| f == "error")),
        "Error.error is required"
    );

    let mut problems = Vec::new();
    for (method, path, operation) in operations(&doc) {
        let Some(responses) = operation["responses"].as_object() else {
            problems.push(format!("{method} {path}: no responses"));
            continue;
        };
        if !responses.keys().any(|status| status.starts_with('2')) {
            problems.push(format!("{method} {path}: no 2xx response"));
        }
        for (status, response) in responses {
            if !(status.starts_with('4') || status.starts_with('5')) {
                continue;
            }
            let response = deref(&doc, response);
            let json_schema = &response["content"]["application/json"]["schema"];
            if json_schema["$ref"] != ERROR_SCHEMA {
                problems.push(format!(
                    "{method} {path}: {status} does not answer with {ERROR_SCHEMA}"
                ));
            }
            let others: Vec<_> = response["content"]
                .as_object()
                .into_iter()
                .flatten()
                .map(|(k, _)| k)
                .filter(|k| *k != "application/json")
                .collect();
            if !others.is_empty() {
                problems.push(format!(
                    "{method} {path}: {status} has other media types {others:?}"
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
}

#[test]
fn every_ref_resolves() {
    let doc = document();
    let mut found = Vec::new();
    refs(&doc, "#", &mut found);
    assert!(!found.is_empty(), "the document uses no $ref at all");
    let broken: Vec<_> = found
        .iter()
        .filter(|(_, reference)| resolve(&doc, reference).is_none())
        .map(|(at, reference)| format!("{at}: {reference}"))
        .collect();
    assert!(broken.is_empty(), "unresolved $refs: {broken:#?}");
}

/// A validator of `schema`, a schema of the document, that resolves its `#/components/...`
/// references.
fn validator(doc: &Value, schema: &Value) -> jsonschema::Validator {
    let root = serde_json::json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "allOf": [schema],
        "components": doc["components"],
    });
    jsonschema::options()
        .with_draft(jsonschema::Draft::Draft202012)
        .build(&root)
        .unwrap_or_else(|e| panic!("{schema}: does not compile: {e}"))
}

/// The schema of the answer `status` of `METHOD template` with media type `media`.
fn response_schema(doc: &Value, method: &str, template: &str, status: u16, media: &str) -> Value {
    let operation = &doc["paths"][template][method.to_lowercase()];
    assert!(
        operation.is_object(),
        "{method} {template} is not documented"
    );
    let response = &operation["responses"][status.to_string()];
    assert!(
        response.is_object(),
        "{method} {template} answered {status}, which the document does not list"
    );
    let response = deref(doc, response);
    let schema = &response["content"][media]["schema"];
    assert!(
        schema.is_object(),
        "{method} {template} {status}: no `{media}` schema in the document"
    );
    schema.clone()
}

/// Checks a live JSON answer against the document: its status is listed and its body fits.
fn conforms(doc: &Value, method: &str, template: &str, status: u16, body: &Value) {
    let schema = response_schema(doc, method, template, status, "application/json");
    let errors: Vec<String> = validator(doc, &schema)
        .iter_errors(body)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{method} {template} {status}: the answer does not fit the document: {errors:#?}\n{body:#}"
    );
}

/// What the service answers, read against what the document says, for a product with a tested
/// run: the `progress` events of the run's event stream fit `Progress`, and every read's status
/// and body — found or not, allowed or not, malformed ids and queries — fit the operation.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_answers_fit_the_document() {
    use crate::market::*;

    let doc = document();
    let market = Market::start().await;
    let kari = market.login(VENDOR_A).await;
    let (product, submission, run) = market.tested(&kari, "Journal", "1.0.0", "reference").await;

    // The event stream of a finished run: its `data` is a `Progress`.
    let events = kari.follow(run).await;
    assert!(!events.is_empty());
    let progress = validator(
        &doc,
        &serde_json::json!({ "$ref": "#/components/schemas/Progress" }),
    );
    for event in &events {
        let errors: Vec<String> = progress.iter_errors(event).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{event}: {errors:?}");
    }
    let (s, stream) = kari.get(&format!("/api/v1/runs/{run}/events")).await;
    assert_eq!(s, 200);
    assert!(stream.starts_with("event: progress\ndata: {"), "{stream}");
    response_schema(
        &doc,
        "GET",
        "/api/v1/runs/{id}/events",
        200,
        "text/event-stream",
    );

    let rita = market.login(REVIEWER_1).await;
    let anonymous = market.anonymous();
    let reads: Vec<(&Client, &str, String)> = vec![
        (&kari, "/api/v1/me", "/api/v1/me".into()),
        (&anonymous, "/api/v1/me", "/api/v1/me".into()),
        (
            &kari,
            "/api/v1/catalogue",
            "/api/v1/catalogue?q=x&state=all".into(),
        ),
        (&kari, "/api/v1/products", "/api/v1/products".into()),
        (&anonymous, "/api/v1/products", "/api/v1/products".into()),
        (
            &kari,
            "/api/v1/products/{id}",
            format!("/api/v1/products/{product}"),
        ),
        (
            &anonymous,
            "/api/v1/products/{id}",
            format!("/api/v1/products/{product}"),
        ),
        (&kari, "/api/v1/products/{id}", "/api/v1/products/x1".into()),
        (
            &kari,
            "/api/v1/products/{id}",
            "/api/v1/products/99999999999999999999".into(),
        ),
        (
            &kari,
            "/api/v1/submissions/{id}",
            format!("/api/v1/submissions/{submission}"),
        ),
        (
            &anonymous,
            "/api/v1/submissions/{id}",
            format!("/api/v1/submissions/{submission}"),
        ),
        (&kari, "/api/v1/runs/{id}", format!("/api/v1/runs/{run}")),
        (&rita, "/api/v1/runs/{id}", format!("/api/v1/runs/{run}")),
        (&kari, "/api/v1/runs/{id}", "/api/v1/runs/-1".into()),
        (
            &anonymous,
            "/api/v1/runs/{id}/events",
            format!("/api/v1/runs/{run}/events"),
        ),
        (
            &kari,
            "/api/v1/runs/{id}/report.json",
            "/api/v1/runs/0/report.json".into(),
        ),
        (&kari, "/api/v1/cases", "/api/v1/cases".into()),
        (&rita, "/api/v1/cases", "/api/v1/cases?all=true".into()),
        (&rita, "/api/v1/cases", "/api/v1/cases?all=ja".into()),
        (&rita, "/api/v1/cases/{id}", "/api/v1/cases/1".into()),
        (
            &rita,
            "/api/v1/audit",
            "/api/v1/audit?after=0&limit=5".into(),
        ),
        (&rita, "/api/v1/audit", "/api/v1/audit?limit=-1".into()),
        (&kari, "/api/v1/audit", "/api/v1/audit".into()),
        (
            &kari,
            "/api/v1/notifications",
            "/api/v1/notifications".into(),
        ),
        (&rita, "/api/v1/nights", "/api/v1/nights".into()),
        (
            &rita,
            "/api/v1/nights/{night}",
            "/api/v1/nights/2026-01-01".into(),
        ),
        (
            &rita,
            "/api/v1/nights/{night}",
            "/api/v1/nights/ikke-en-dato".into(),
        ),
    ];
    for (client, template, path) in reads {
        let (s, body) = client.get(&path).await;
        let body: Value = serde_json::from_str(&body)
            .unwrap_or_else(|e| panic!("GET {path} ({s}): not JSON: {e}: {body}"));
        conforms(&doc, "GET", template, s.as_u16(), &body);
    }
}
