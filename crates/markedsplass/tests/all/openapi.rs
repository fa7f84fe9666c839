//! The checked-in OpenAPI document (`crates/markedsplass/openapi.json`, served at
//! `/api/v1/openapi.json`) against the code: every route in `api::ROUTES` is documented and nothing
//! else under `/api/v1` is, every operation answers something 2xx, every error answer is the one
//! `Error` shape, and every `$ref` resolves.

use std::collections::BTreeSet;

use sandkasse_markedsplass::api::{OPENAPI, ROUTES};
use serde_json::Value;

const METHODS: &[&str] = &["get", "put", "post", "delete", "options", "head", "patch", "trace"];
const ERROR_SCHEMA: &str = "#/components/schemas/Error";

fn document() -> Value {
    serde_json::from_str(OPENAPI).unwrap_or_else(|e| panic!("openapi.json is not JSON: {e}"))
}

/// Every operation as `(METHOD, path, operation)`.
fn operations(doc: &Value) -> Vec<(String, String, &Value)> {
    let paths = doc["paths"].as_object().expect("`paths` is an object");
    let mut out = Vec::new();
    for (path, item) in paths {
        let item = item.as_object().unwrap_or_else(|| panic!("path item {path} is not an object"));
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
            Some(reference) => value = resolve(doc, reference).unwrap_or_else(|| panic!("unresolved $ref {reference}")),
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
    assert!(version.starts_with("3.1"), "openapi is {version:?}, expected 3.1.x");
    assert!(doc["info"]["title"].is_string() && doc["info"]["version"].is_string(), "info needs title and version");
}

#[test]
fn every_route_is_documented_and_nothing_else() {
    let doc = document();
    let documented: BTreeSet<(String, String)> =
        operations(&doc).into_iter().map(|(method, path, _)| (method, path)).collect();
    let routes: BTreeSet<(String, String)> = ROUTES.iter().map(|(m, p)| (m.to_uppercase(), (*p).to_owned())).collect();
    assert_eq!(routes.len(), ROUTES.len(), "ROUTES lists a route twice");

    let undocumented: Vec<_> = routes.difference(&documented).map(|(m, p)| format!("{m} {p}")).collect();
    assert!(undocumented.is_empty(), "routes in api::ROUTES missing from openapi.json: {undocumented:?}");
    let unknown: Vec<_> = documented
        .iter()
        .filter(|(_, p)| p.starts_with("/api/v1/") || p == "/api/v1")
        .filter(|route| !routes.contains(*route))
        .map(|(m, p)| format!("{m} {p}"))
        .collect();
    assert!(unknown.is_empty(), "operations in openapi.json that api::ROUTES does not have: {unknown:?}");
}

#[test]
fn path_parameters_match_the_templates() {
    let doc = document();
    let mut problems = Vec::new();
    let mut operation_ids = BTreeSet::new();
    for (method, path, operation) in operations(&doc) {
        let templated: BTreeSet<&str> =
            path.split('/').filter_map(|s| s.strip_prefix('{')?.strip_suffix('}')).collect();
        let item_params = doc["paths"][&path]["parameters"].as_array().cloned().unwrap_or_default();
        let op_params = operation["parameters"].as_array().cloned().unwrap_or_default();
        let mut declared = BTreeSet::new();
        for p in item_params.iter().chain(&op_params) {
            let p = deref(&doc, p);
            if p["in"] == "path" {
                let name = p["name"].as_str().unwrap_or_default().to_owned();
                if p["required"] != Value::Bool(true) {
                    problems.push(format!("{method} {path}: path parameter {name} must be required"));
                }
                declared.insert(name);
            }
        }
        let templated: BTreeSet<String> = templated.into_iter().map(str::to_owned).collect();
        if templated != declared {
            problems.push(format!("{method} {path}: path template has {templated:?}, parameters declare {declared:?}"));
        }
        match operation["operationId"].as_str() {
            Some(id) if !operation_ids.insert(id.to_owned()) => problems.push(format!("{method} {path}: operationId {id} twice")),
            Some(_) => {}
            None => problems.push(format!("{method} {path}: no operationId")),
        }
        if !operation["summary"].is_string() || !operation["description"].is_string() {
            problems.push(format!("{method} {path}: needs a summary and a description"));
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
        assert_eq!(inner["properties"][field]["type"], "string", "Error.error.{field} is a string");
        assert!(
            inner["required"].as_array().is_some_and(|r| r.iter().any(|f| f == field)),
            "Error.error.{field} is required"
        );
    }
    assert!(schema["required"].as_array().is_some_and(|r| r.iter().any(|f| f == "error")), "Error.error is required");

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
                problems.push(format!("{method} {path}: {status} does not answer with {ERROR_SCHEMA}"));
            }
            let others: Vec<_> =
                response["content"].as_object().into_iter().flatten().map(|(k, _)| k).filter(|k| *k != "application/json").collect();
            if !others.is_empty() {
                problems.push(format!("{method} {path}: {status} has other media types {others:?}"));
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

// SCRATCH-BEGIN (temporary: dumps real responses for schema validation; removed before handing back)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scratch_dump_samples() {
    use axum::body::Body;
    use axum::http::{Request, header};
    use serde_json::json;
    use crate::market::*;
    let market = Market::start().await;
    let anon = market.anonymous();
    let mut out: Vec<Value> = Vec::new();
    macro_rules! rec {
        ($m:expr, $t:expr, $s:expr, $b:expr) => {{
            let (s, b): (axum::http::StatusCode, String) = ($s, $b);
            let v: Value = serde_json::from_str(&b).unwrap_or(Value::String(b.clone()));
            out.push(json!({"method": $m, "path": $t, "status": s.as_u16(), "body": v}));
            v
        }};
    }
    rec!("get", "/health", anon.get("/health").await.0, anon.get("/health").await.1);
    let r = anon.get("/ready").await; rec!("get", "/ready", r.0, r.1);
    let r = anon.get("/api/v1/catalogue").await; rec!("get", "/api/v1/catalogue", r.0, r.1);
    let r = anon.get("/api/v1/me").await; rec!("get", "/api/v1/me", r.0, r.1);
    let r = anon.send(Request::post("/api/v1/session").header(header::CONTENT_TYPE, "application/json"), json!({"username": VENDOR_A, "password": PASSWORD}).to_string().into()).await;
    rec!("post", "/api/v1/session", r.0, r.1);
    let r = anon.send(Request::post("/api/v1/session").header(header::CONTENT_TYPE, "application/json"), json!({"username": VENDOR_A, "password": "nope"}).to_string().into()).await;
    rec!("post", "/api/v1/session", r.0, r.1);
    let kari = market.login(VENDOR_A).await;
    let r = kari.get("/api/v1/me").await; rec!("get", "/api/v1/me", r.0, r.1);
    let (s, b) = kari.upload("Journal Nord", "0.9.0", "notes.txt", b"hello").await;
    out.push(json!({"method": "post", "path": "/api/v1/submissions", "status": s.as_u16(), "body": b}));
    let (s, b) = kari.upload("", "1.0.0", "reference.wasm", &plugin("reference")).await;
    out.push(json!({"method": "post", "path": "/api/v1/submissions", "status": s.as_u16(), "body": b}));
    let (s, up) = kari.upload("Journal Nord", "1.0.0", "reference.wasm", &plugin("reference")).await;
    out.push(json!({"method": "post", "path": "/api/v1/submissions", "status": s.as_u16(), "body": up}));
    let (s, b) = kari.upload("Journal Nord", "1.0.0", "reference.wasm", &plugin("reference")).await;
    out.push(json!({"method": "post", "path": "/api/v1/submissions", "status": s.as_u16(), "body": b}));
    let (product, submission, run) = (up["product"]["id"].as_i64().unwrap(), up["submission"]["id"].as_i64().unwrap(), up["run"]["id"].as_i64().unwrap());
    let r = kari.get(&format!("/api/v1/runs/{run}")).await; rec!("get", "/api/v1/runs/{id}", r.0, r.1);
    let events = kari.follow(run).await;
    for e in events { out.push(json!({"method": "sse", "path": "/api/v1/runs/{id}/events", "status": 200, "body": e})); }
    let r = kari.get(&format!("/api/v1/runs/{run}")).await; rec!("get", "/api/v1/runs/{id}", r.0, r.1);
    let r = kari.get(&format!("/api/v1/runs/{run}/report.json")).await; rec!("get", "/api/v1/runs/{id}/report.json", r.0, r.1);
    let r = kari.get(&format!("/api/v1/submissions/{submission}")).await; rec!("get", "/api/v1/submissions/{id}", r.0, r.1);
    let r = kari.get("/api/v1/products").await; rec!("get", "/api/v1/products", r.0, r.1);
    let r = kari.get(&format!("/api/v1/products/{product}")).await; rec!("get", "/api/v1/products/{id}", r.0, r.1);
    let r = anon.get(&format!("/api/v1/products/{product}")).await; rec!("get", "/api/v1/products/{id}", r.0, r.1);
    let (s, case) = kari.post_json(&format!("/api/v1/products/{product}/listing-requests"), json!({ "submission_id": submission })).await;
    out.push(json!({"method": "post", "path": "/api/v1/products/{id}/listing-requests", "status": s.as_u16(), "body": case}));
    let (s, b) = kari.post_json(&format!("/api/v1/products/{product}/listing-requests"), json!({ "submission_id": submission })).await;
    out.push(json!({"method": "post", "path": "/api/v1/products/{id}/listing-requests", "status": s.as_u16(), "body": b}));
    let case_id = case["case"]["id"].as_i64().unwrap();
    let rita = market.login(REVIEWER_1).await;
    let rune = market.login(REVIEWER_2).await;
    let r = rita.get("/api/v1/cases").await; rec!("get", "/api/v1/cases", r.0, r.1);
    let r = rita.get(&format!("/api/v1/cases/{case_id}")).await; rec!("get", "/api/v1/cases/{id}", r.0, r.1);
    let r = kari.get("/api/v1/cases").await; rec!("get", "/api/v1/cases", r.0, r.1);
    let (s, b) = rita.post_json(&format!("/api/v1/cases/{case_id}/decisions"), json!({"decision": "approve", "note": "OK"})).await;
    out.push(json!({"method": "post", "path": "/api/v1/cases/{id}/decisions", "status": s.as_u16(), "body": b}));
    let (s, b) = rita.post_json(&format!("/api/v1/cases/{case_id}/decisions"), json!({"decision": "approve", "note": "OK"})).await;
    out.push(json!({"method": "post", "path": "/api/v1/cases/{id}/decisions", "status": s.as_u16(), "body": b}));
    let (s, b) = rune.post_json(&format!("/api/v1/cases/{case_id}/decisions"), json!({"decision": "approve", "note": "OK"})).await;
    out.push(json!({"method": "post", "path": "/api/v1/cases/{id}/decisions", "status": s.as_u16(), "body": b}));
    let r = rita.get("/api/v1/cases?all=true").await; rec!("get", "/api/v1/cases", r.0, r.1);
    let r = anon.get("/api/v1/catalogue?q=nord&capability=read").await; rec!("get", "/api/v1/catalogue", r.0, r.1);
    let r = anon.get(&format!("/api/v1/products/{product}")).await; rec!("get", "/api/v1/products/{id}", r.0, r.1);
    let r = kari.get(&format!("/api/v1/products/{product}")).await; rec!("get", "/api/v1/products/{id}", r.0, r.1);
    let r = kari.get("/api/v1/products").await; rec!("get", "/api/v1/products", r.0, r.1);
    let (s, b) = rita.post_json(&format!("/api/v1/listings/{product}/suspend"), json!({"reason": "x"})).await;
    out.push(json!({"method": "post", "path": "/api/v1/listings/{product_id}/{action}", "status": s.as_u16(), "body": b}));
    let (s, b) = rita.post_json(&format!("/api/v1/listings/{product}/suspend"), json!({"reason": "x"})).await;
    out.push(json!({"method": "post", "path": "/api/v1/listings/{product_id}/{action}", "status": s.as_u16(), "body": b}));
    let r = anon.get("/api/v1/catalogue?state=all").await; rec!("get", "/api/v1/catalogue", r.0, r.1);
    let r = rita.get("/api/v1/audit?limit=500").await; rec!("get", "/api/v1/audit", r.0, r.1);
    let r = rita.get("/api/v1/audit?after=100000").await; rec!("get", "/api/v1/audit", r.0, r.1);
    let r = kari.get("/api/v1/audit").await; rec!("get", "/api/v1/audit", r.0, r.1);
    let r = rita.get("/api/v1/cases?all").await; rec!("get", "/api/v1/cases", r.0, r.1);
    let r = rita.get("/api/v1/runs/abc").await; rec!("get", "/api/v1/runs/{id}", r.0, r.1);
    let (s, b, _) = rita.send(Request::post(format!("/api/v1/cases/{case_id}/decisions")).header(header::CONTENT_TYPE, "application/json"), Body::from("{}")).await;
    rec!("post", "/api/v1/cases/{id}/decisions", s, b);
    let r = anon.send(Request::delete("/api/v1/session"), Body::empty()).await; rec!("delete", "/api/v1/session", r.0, r.1);
    std::fs::write("/tmp/openapi_gen/samples.json", serde_json::to_string_pretty(&out).unwrap()).unwrap();
}
// SCRATCH-END
