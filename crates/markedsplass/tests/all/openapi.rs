//! The checked-in OpenAPI document (`crates/markedsplass/openapi.json`, served at
//! `/api/v1/openapi.json`) against the code: every route in `api::ROUTES` is documented and nothing
//! else under `/api/v1` is, every operation answers something 2xx, every error answer is the one
//! `Error` shape, and every `$ref` resolves.

use std::collections::BTreeSet;

use sandkasse_markedsplass::api::{OPENAPI, ROUTES};
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
