//! Every identifier in a large generated set passes its checksum, is recognisably synthetic and
//! is unique.

use std::collections::HashSet;

use sandkasse_fhir::systems;
use sandkasse_kommune::{GenConfig, generate, ids};
use serde_json::Value;

fn identifiers(resource: &Value) -> impl Iterator<Item = (&str, &str)> {
    resource["identifier"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|i| {
            (
                i["system"].as_str().expect("system"),
                i["value"].as_str().expect("value"),
            )
        })
}

#[test]
fn every_identifier_in_a_large_set_is_valid_synthetic_and_unique() {
    let data = generate(&GenConfig::new(99, 40_000));
    let mut persons: HashSet<String> = HashSet::new();
    let mut hpr = HashSet::new();
    let mut orgnr = HashSet::new();
    let (mut n_fnr, mut n_dnr) = (0, 0);
    for tenant in &data.tenants {
        for r in &tenant.resources {
            for (system, value) in identifiers(&r.json) {
                match system {
                    systems::FNR => {
                        assert!(
                            ids::is_valid_fnr(value) && ids::is_synthetic_fnr(value),
                            "fnr {value}"
                        );
                        n_fnr += 1;
                    }
                    systems::DNR => {
                        assert!(
                            ids::is_valid_dnr(value) && ids::is_synthetic_fnr(value),
                            "dnr {value}"
                        );
                        n_dnr += 1;
                    }
                    systems::HPR => {
                        assert!(ids::is_valid_hpr(value), "hpr {value}");
                        assert!(hpr.insert(value.to_owned()), "duplicate HPR {value}");
                    }
                    systems::ORGNR => {
                        assert!(
                            ids::is_valid_orgnr(value) && ids::is_synthetic_orgnr(value),
                            "orgnr {value}"
                        );
                        assert!(orgnr.insert(value.to_owned()), "duplicate orgnr {value}");
                    }
                    other => panic!("identifier system outside no-basis: {other}"),
                }
                if r.resource_type == "Patient" && r.json["active"] == true {
                    assert!(
                        persons.insert(value.to_owned()),
                        "two residents share {value}"
                    );
                }
            }
        }
        // Gender agrees with the individnummer.
        for p in &tenant.truth.patients {
            let expected = if p.gender == "female" {
                ids::Gender::Female
            } else {
                ids::Gender::Male
            };
            assert_eq!(
                ids::gender_of(&p.identifier),
                Some(expected),
                "{}",
                p.identifier
            );
        }
    }
    assert_eq!(
        persons.len(),
        40_000,
        "every innbygger has exactly one identifier"
    );
    assert!(n_dnr > 100 && n_fnr > 35_000, "fnr {n_fnr}, dnr {n_dnr}");
}

#[test]
fn birth_date_is_encoded_in_the_identifier() {
    for tenant in &super::medium().tenants {
        for p in &tenant.truth.patients {
            let (y, m, d) = (
                &p.birth_date[2..4],
                &p.birth_date[5..7],
                &p.birth_date[8..10],
            );
            let day: u32 = d.parse().unwrap();
            let day = if p.identifier_kind == sandkasse_kommune::IdentifierKind::Dnr {
                day + 40
            } else {
                day
            };
            let month: u32 = m.parse::<u32>().unwrap() + 80;
            assert_eq!(
                &p.identifier[..6],
                format!("{day:02}{month:02}{y}"),
                "{p:?}"
            );
        }
    }
}
