//! Every generated resource is valid FHIR R4 JSON and every reference resolves.

use std::collections::HashSet;

use sandkasse_fhir::schema;
use serde_json::Value;

#[test]
fn every_resource_validates_against_the_r4_schema() {
    let data = sandkasse_kommune::generate(&sandkasse_kommune::GenConfig::new(5, 1_500));
    let mut count = 0;
    for tenant in &data.tenants {
        for r in &tenant.resources {
            assert_eq!(r.json["resourceType"], r.resource_type);
            assert_eq!(r.json["id"], r.id.as_str());
            if let Err(e) = schema::validate(&r.json) {
                panic!(
                    "{}/{} is not valid FHIR R4: {e}\n{}",
                    r.resource_type, r.id, r.json
                );
            }
            count += 1;
        }
    }
    assert!(count > 8_000, "{count}");
}

fn references<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
    match v {
        Value::Object(map) => {
            for (k, v) in map {
                match (k.as_str(), v) {
                    ("reference", Value::String(s)) => out.push(s),
                    _ => references(v, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|i| references(i, out)),
        _ => {}
    }
}

#[test]
fn every_reference_resolves_within_its_kommune() {
    for tenant in &super::medium().tenants {
        let known: HashSet<String> = tenant
            .resources
            .iter()
            .map(|r| format!("{}/{}", r.resource_type, r.id))
            .collect();
        assert_eq!(
            known.len(),
            tenant.resources.len(),
            "ids are unique per type"
        );
        for r in &tenant.resources {
            let mut refs = Vec::new();
            references(&r.json, &mut refs);
            for target in refs {
                assert!(
                    known.contains(target),
                    "{}/{} → {target} does not resolve",
                    r.resource_type,
                    r.id
                );
            }
            if let Some(p) = &r.patient {
                assert!(
                    known.contains(&format!("Patient/{p}")),
                    "compartment of {}",
                    r.id
                );
            }
        }
        for rel in &tenant.truth.care_relations {
            assert!(known.contains(&format!("Organization/{}", rel.unit)));
            assert!(known.contains(&format!("Patient/{}", rel.patient)));
            assert!(
                rel.end.as_deref().is_none_or(|e| rel.start.as_str() <= e),
                "{rel:?}"
            );
        }
    }
}
