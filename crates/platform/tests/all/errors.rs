//! Every error is an OperationOutcome with the right status; never a panic, never a 500 for a
//! client's mistake.

use axum::body::Body;
use http::Request;
use serde_json::json;

use crate::support::*;

#[tokio::test]
async fn statuses_for_client_mistakes() {
    let h = H::new();
    let (nurse, patient) = nurse_and_patient();
    let t = h.token_for(nurse);
    let obs = resources_of("Observation", &patient.id)[0].id.clone();
    let cases: Vec<(u16, &str, Request<Body>)> = vec![
        (
            400,
            "invalid",
            Request::get(format!("/{K}/fhir/Patient/bad%24id"))
                .header("authorization", format!("Bearer {t}"))
                .body(Body::empty())
                .unwrap(),
        ),
        (
            400,
            "not-supported",
            Request::get(format!(
                "/{K}/fhir/Observation?patient={}&name=x",
                patient.id
            ))
            .header("authorization", format!("Bearer {t}"))
            .body(Body::empty())
            .unwrap(),
        ),
        (
            400,
            "invalid",
            Request::get(format!(
                "/{K}/fhir/Observation?patient={}&date=igår",
                patient.id
            ))
            .header("authorization", format!("Bearer {t}"))
            .body(Body::empty())
            .unwrap(),
        ),
        (
            400,
            "invalid",
            Request::get(format!(
                "/{K}/fhir/Observation?patient={}&_count=many",
                patient.id
            ))
            .header("authorization", format!("Bearer {t}"))
            .body(Body::empty())
            .unwrap(),
        ),
        (
            400,
            "required",
            Request::get(format!("/{K}/fhir/Observation"))
                .header("authorization", format!("Bearer {t}"))
                .body(Body::empty())
                .unwrap(),
        ),
        (
            400,
            "invalid",
            Request::get(format!("/{K}/fhir/Observation?_cursor=abc.def"))
                .header("authorization", format!("Bearer {t}"))
                .body(Body::empty())
                .unwrap(),
        ),
        (
            400,
            "invalid",
            Request::get(format!("/{K}/fhir/Observation?patient=%zz"))
                .header("authorization", format!("Bearer {t}"))
                .body(Body::empty())
                .unwrap(),
        ),
        (
            400,
            "structure",
            Request::post(format!("/{K}/fhir/Observation"))
                .header("authorization", format!("Bearer {t}"))
                .header("content-type", "application/fhir+json")
                .body(Body::from("{\"resourceType\": "))
                .unwrap(),
        ),
        (
            400,
            "invalid",
            Request::post(format!("/{K}/fhir/Observation"))
                .header("authorization", format!("Bearer {t}"))
                .header("content-type", "application/fhir+json")
                .body(Body::from("{\"resourceType\": \"Condition\"}"))
                .unwrap(),
        ),
        (
            401,
            "login",
            Request::get(format!("/{K}/fhir/Observation/{obs}"))
                .body(Body::empty())
                .unwrap(),
        ),
        (
            401,
            "login",
            Request::get(format!("/{K}/fhir/Observation/{obs}"))
                .header("authorization", "Bearer sk-4601-999-000")
                .body(Body::empty())
                .unwrap(),
        ),
        (
            404,
            "not-supported",
            Request::get(format!("/{K}/fhir/Pasient/x"))
                .header("authorization", format!("Bearer {t}"))
                .body(Body::empty())
                .unwrap(),
        ),
        (
            404,
            "not-supported",
            Request::get(format!("/{K}/fhir/Medication"))
                .header("authorization", format!("Bearer {t}"))
                .body(Body::empty())
                .unwrap(),
        ),
        (
            404,
            "not-found",
            Request::get(format!("/{K}/fhir/Observation/finnes-ikke"))
                .header("authorization", format!("Bearer {t}"))
                .body(Body::empty())
                .unwrap(),
        ),
        (
            404,
            "not-found",
            Request::get("/9999/fhir/metadata")
                .body(Body::empty())
                .unwrap(),
        ),
        (
            404,
            "not-found",
            Request::get("/").body(Body::empty()).unwrap(),
        ),
        (
            405,
            "not-supported",
            Request::delete(format!("/{K}/fhir/Observation/{obs}"))
                .header("authorization", format!("Bearer {t}"))
                .body(Body::empty())
                .unwrap(),
        ),
        (
            405,
            "not-supported",
            Request::put(format!("/{K}/fhir/Patient/{}", patient.id))
                .header("authorization", format!("Bearer {t}"))
                .body(Body::empty())
                .unwrap(),
        ),
        (
            406,
            "not-supported",
            Request::get(format!("/{K}/fhir/Observation/{obs}"))
                .header("authorization", format!("Bearer {t}"))
                .header("accept", "application/fhir+xml")
                .body(Body::empty())
                .unwrap(),
        ),
        (
            406,
            "not-supported",
            Request::get(format!("/{K}/fhir/metadata?_format=xml"))
                .body(Body::empty())
                .unwrap(),
        ),
        (
            415,
            "not-supported",
            Request::post(format!("/{K}/fhir/Observation"))
                .header("authorization", format!("Bearer {t}"))
                .header("content-type", "text/plain")
                .body(Body::from("{}"))
                .unwrap(),
        ),
        (
            412,
            "conflict",
            Request::put(format!("/{K}/fhir/Observation/{obs}"))
                .header("authorization", format!("Bearer {t}"))
                .header("content-type", "application/fhir+json")
                .body(Body::from("{}"))
                .unwrap(),
        ),
        (
            413,
            "too-long",
            Request::post(format!("/{K}/fhir/Observation"))
                .header("authorization", format!("Bearer {t}"))
                .header("content-type", "application/fhir+json")
                .body(Body::from(vec![b' '; 2 << 20]))
                .unwrap(),
        ),
    ];
    for (status, code, req) in cases {
        let what = format!("{} {}", req.method(), req.uri());
        let r = h.call(req).await;
        assert_eq!(r.status, status, "{what}: {}", r.text());
        assert_eq!(r.issue_code(), code, "{what}: {}", r.text());
        assert!(
            r.header("content-type")
                .unwrap()
                .starts_with("application/fhir+json"),
            "{what}"
        );
        if status == 401 {
            assert!(
                r.header("www-authenticate").unwrap().starts_with("Bearer"),
                "{what}"
            );
        }
    }
}

#[tokio::test]
async fn accepted_media_types() {
    let h = H::new();
    for accept in [
        "application/fhir+json",
        "application/json",
        "*/*",
        "application/fhir+json; fhirVersion=4.0",
        "text/html, application/json;q=0.9",
    ] {
        let r = h
            .call(
                Request::get(format!("/{K}/fhir/metadata"))
                    .header("accept", accept)
                    .body(Body::empty())
                    .unwrap(),
            )
            .await;
        assert_eq!(r.status, 200, "{accept}");
    }
    let (nurse, patient) = nurse_and_patient();
    let t = h.token_for(nurse);
    let obs = crate::writes::heart_rate(&patient.id, &nurse.id, 60);
    let r = h
        .call(
            Request::post(format!("/{K}/fhir/Observation"))
                .header("authorization", format!("Bearer {t}"))
                .header("content-type", "application/json; charset=utf-8")
                .body(Body::from(obs.to_string()))
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
}

#[tokio::test]
async fn garbage_never_panics() {
    let h = H::new();
    let (nurse, _) = nurse_and_patient();
    let t = h.token_for(nurse);
    let paths = [
        "/",
        "//",
        "/4601//fhir",
        "/4601/fhir/",
        "/4601/fhir//",
        "/4601/fhir/Patient/",
        "/4601/fhir/Patient/%",
        "/4601/fhir/Patient/_history",
        "/4601/fhir/Patient/a/_history/",
        "/4601/fhir/Patient?_id=",
        "/4601/fhir/Patient?_id=%C3%28",
        "/4601/fhir/Observation?patient=a,b",
        "/4601/fhir/Observation?date=ge2024-02-30",
        "/4601/fhir/AuditEvent",
        "/4601/fhir/Patient?_cursor=",
        "/4601/auth",
        "/4601/fhir/metadata/x",
    ];
    for p in paths {
        let r = h.get(&t, p).await;
        assert!(
            (400..500).contains(&r.status),
            "{p}: {} {}",
            r.status,
            r.text()
        );
        assert_eq!(r.json()["resourceType"], "OperationOutcome", "{p}");
    }
    for body in [
        "",
        "null",
        "[]",
        "{\"resourceType\": 1}",
        "{\"resourceType\": \"Observation\", \"status\": []}",
        "\u{0}",
    ] {
        let r = h
            .call(
                Request::post(format!("/{K}/fhir/Observation"))
                    .header("authorization", format!("Bearer {t}"))
                    .header("content-type", "application/fhir+json")
                    .body(Body::from(body))
                    .unwrap(),
            )
            .await;
        assert!(
            (400..500).contains(&r.status),
            "{body:?}: {} {}",
            r.status,
            r.text()
        );
    }
    let r = h
        .send_json(
            "POST",
            &t,
            "/4601/auth/token",
            &json!({"practitioner": 1}),
            &[],
        )
        .await;
    assert_eq!(r.status, 415, "token endpoint wants application/json");
}
