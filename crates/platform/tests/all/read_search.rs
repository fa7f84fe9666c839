//! Reads, searches and paging.

use std::collections::BTreeSet;

use crate::support::*;

#[tokio::test]
async fn read_serves_the_stored_resource_with_etag_and_last_modified() {
    let h = H::new();
    let (nurse, patient) = nurse_and_patient();
    let token = h.token_for(nurse);
    let obs = resources_of("Observation", &patient.id)[0];
    let r = h
        .get(&token, &format!("/{K}/fhir/Observation/{}", obs.id))
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json(), obs.json);
    assert_eq!(r.header("etag"), Some("W/\"1\""));
    assert!(r.header("last-modified").unwrap().ends_with("GMT"));
    assert_eq!(
        r.header("content-type"),
        Some("application/fhir+json; charset=utf-8")
    );
    // vread of the current version works, other versions do not exist.
    let r = h
        .get(
            &token,
            &format!("/{K}/fhir/Observation/{}/_history/1", obs.id),
        )
        .await;
    assert_eq!(r.status, 200);
    let r = h
        .get(
            &token,
            &format!("/{K}/fhir/Observation/{}/_history/7", obs.id),
        )
        .await;
    assert_eq!(r.status, 404);
}

#[tokio::test]
async fn search_by_patient_returns_exactly_the_patients_resources() {
    let h = H::new();
    let (nurse, patient) = nurse_and_patient();
    let token = h.token_for(nurse);
    for rtype in [
        "Observation",
        "Condition",
        "EpisodeOfCare",
        "MedicationStatement",
        "Encounter",
        "DocumentReference",
    ] {
        let expected: Vec<String> = resources_of(rtype, &patient.id)
            .iter()
            .map(|r| r.id.clone())
            .collect();
        let pages = walk(
            &h,
            &token,
            &format!("/{K}/fhir/{rtype}?patient={}&_count=200", patient.id),
        )
        .await;
        let got: Vec<String> = pages.iter().flat_map(match_ids).collect();
        assert_eq!(got, expected, "{rtype}");
        assert_eq!(pages[0]["total"], expected.len(), "{rtype}");
    }
}

#[tokio::test]
async fn paging_walks_every_result_exactly_once() {
    let h = H::new();
    let (nurse, patient) = nurse_and_patient();
    let token = h.token_for(nurse);
    let expected: Vec<String> = resources_of("Observation", &patient.id)
        .iter()
        .map(|r| r.id.clone())
        .collect();
    assert!(expected.len() > 12);
    for count in [1usize, 7, 50] {
        let pages = walk(
            &h,
            &token,
            &format!(
                "/{K}/fhir/Observation?patient=Patient/{}&_count={count}",
                patient.id
            ),
        )
        .await;
        assert_eq!(
            pages.len(),
            expected.len().div_ceil(count),
            "_count={count}"
        );
        for p in &pages {
            assert!(match_ids(p).len() <= count);
            assert_eq!(p["total"], expected.len());
            assert_eq!(p["type"], "searchset");
        }
        let got: Vec<String> = pages.iter().flat_map(match_ids).collect();
        assert_eq!(got, expected, "_count={count}");
        let unique: BTreeSet<&String> = got.iter().collect();
        assert_eq!(unique.len(), got.len());
    }
    // Entries carry fullUrl and search.mode.
    let pages = walk(
        &h,
        &token,
        &format!("/{K}/fhir/Observation?patient={}&_count=5", patient.id),
    )
    .await;
    let e = &pages[0]["entry"][0];
    assert_eq!(e["search"]["mode"], "match");
    assert_eq!(
        e["fullUrl"],
        format!(
            "https://plattform.sandkasse.test/{K}/fhir/Observation/{}",
            e["resource"]["id"].as_str().unwrap()
        )
    );
}

#[tokio::test]
async fn post_search_equals_get_search() {
    let h = H::new();
    let (nurse, patient) = nurse_and_patient();
    let token = h.token_for(nurse);
    let get = h
        .get(
            &token,
            &format!("/{K}/fhir/Observation?patient={}&_count=10", patient.id),
        )
        .await;
    let post = h
        .call(
            http::Request::post(format!("/{K}/fhir/Observation/_search"))
                .header("authorization", format!("Bearer {token}"))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(axum::body::Body::from(format!(
                    "patient={}&_count=10",
                    patient.id
                )))
                .unwrap(),
        )
        .await;
    assert_eq!(post.status, 200, "{}", post.text());
    assert_eq!(match_ids(&get.json()), match_ids(&post.json()));
}

#[tokio::test]
async fn count_is_capped_and_the_bundle_says_so() {
    let h = H::new();
    let (nurse, patient) = nurse_and_patient();
    let token = h.token_for(nurse);
    let r = h
        .get(
            &token,
            &format!("/{K}/fhir/Observation?patient={}&_count=500", patient.id),
        )
        .await;
    let b = r.json();
    let n = resources_of("Observation", &patient.id).len();
    assert_eq!(match_ids(&b).len(), n.min(200));
    let oo = outcome_entry(&b).expect("cap notice");
    assert!(
        oo["issue"][0]["diagnostics"]
            .as_str()
            .unwrap()
            .contains("capped at 200")
    );
    // Default page size is 50.
    let b = h
        .get(
            &token,
            &format!("/{K}/fhir/Observation?patient={}", patient.id),
        )
        .await
        .json();
    assert_eq!(match_ids(&b).len(), n.min(50));
    // _count=0: total only.
    let b = h
        .get(
            &token,
            &format!("/{K}/fhir/Observation?patient={}&_count=0", patient.id),
        )
        .await
        .json();
    assert_eq!(b["total"], n);
    assert!(match_ids(&b).is_empty());
}

#[tokio::test]
async fn filters_match_the_ground_truth() {
    let h = H::new();
    let (nurse, patient) = nurse_and_patient();
    let token = h.token_for(nurse);
    let all = resources_of("Observation", &patient.id);
    let search = |q: String| {
        let h = &h;
        let token = token.clone();
        async move {
            walk(
                h,
                &token,
                &format!(
                    "/{K}/fhir/Observation?patient={}&_count=200&{q}",
                    patient.id
                ),
            )
            .await
            .iter()
            .flat_map(match_ids)
            .collect::<Vec<_>>()
        }
    };
    // date: effectiveDateTime on or after the median date.
    let mut dates: Vec<&str> = all
        .iter()
        .filter_map(|r| r.json["effectiveDateTime"].as_str())
        .collect();
    dates.sort();
    let cut = &dates[dates.len() / 2][..10];
    let expected: Vec<String> = all
        .iter()
        .filter(|r| {
            r.json["effectiveDateTime"]
                .as_str()
                .is_some_and(|d| &d[..10] >= cut)
        })
        .map(|r| r.id.clone())
        .collect();
    assert_eq!(search(format!("date=ge{cut}")).await, expected);
    let expected: Vec<String> = all
        .iter()
        .filter(|r| {
            r.json["effectiveDateTime"]
                .as_str()
                .is_some_and(|d| &d[..10] < cut)
        })
        .map(|r| r.id.clone())
        .collect();
    assert_eq!(search(format!("date=lt{cut}")).await, expected);
    // status
    let expected: Vec<String> = all
        .iter()
        .filter(|r| r.json["status"] == "final")
        .map(|r| r.id.clone())
        .collect();
    assert_eq!(search("status=final".into()).await, expected);
    // _lastUpdated
    let lu = all[0].json["meta"]["lastUpdated"].as_str().unwrap();
    let expected: Vec<String> = all
        .iter()
        .filter(|r| r.json["meta"]["lastUpdated"].as_str().unwrap() <= lu)
        .map(|r| r.id.clone())
        .collect();
    assert_eq!(search(format!("_lastUpdated=le{lu}")).await, expected);
    // _id
    assert_eq!(
        search(format!("_id={},{}", all[1].id, all[0].id)).await,
        vec![all[0].id.clone(), all[1].id.clone()]
    );
}

#[tokio::test]
async fn identifier_search_finds_patients_and_practitioners() {
    let h = H::new();
    let (nurse, patient) = nurse_and_patient();
    let token = h.token_for(nurse);
    let system = if patient.identifier_kind == sandkasse_kommune::IdentifierKind::Fnr {
        sandkasse_fhir::systems::FNR
    } else {
        sandkasse_fhir::systems::DNR
    };
    let b = h
        .get(
            &token,
            &format!(
                "/{K}/fhir/Patient?identifier={system}|{}",
                patient.identifier
            ),
        )
        .await
        .json();
    assert_eq!(match_ids(&b), vec![patient.id.clone()]);
    let other = practitioner("LE");
    let b = h
        .get(
            &token,
            &format!(
                "/{K}/fhir/Practitioner?identifier={}|{}",
                sandkasse_fhir::systems::HPR,
                other.hpr
            ),
        )
        .await
        .json();
    assert_eq!(match_ids(&b), vec![other.id.clone()]);
}

#[tokio::test]
async fn patient_search_without_context_lists_the_units_related_patients() {
    let h = H::new();
    let (nurse, _) = nurse_and_patient();
    let token = h.token_for(nurse);
    let unit = &nurse.units[0];
    let expected: Vec<String> = tenant()
        .resources
        .iter()
        .filter(|r| r.resource_type == "Patient" && relation(unit, &r.id) == Rel::Active)
        .map(|r| r.id.clone())
        .collect();
    assert!(!expected.is_empty());
    let got: Vec<String> = walk(&h, &token, &format!("/{K}/fhir/Patient?_count=200"))
        .await
        .iter()
        .flat_map(match_ids)
        .collect();
    assert_eq!(got, expected);
}

#[tokio::test]
async fn directory_types_are_searchable_without_a_patient() {
    let h = H::new();
    let (nurse, _) = nurse_and_patient();
    let token = h.token_for(nurse);
    let expected = tenant()
        .resources
        .iter()
        .filter(|r| r.resource_type == "Organization")
        .count();
    let b = h
        .get(&token, &format!("/{K}/fhir/Organization?_count=200"))
        .await
        .json();
    assert_eq!(b["total"], expected);
}
