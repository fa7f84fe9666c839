//! The data looks like a real kommune: every special case exists in every kommune, service
//! recipients are mostly elderly, names have æøå, hyphens and Sámi names.

use sandkasse_fhir::systems;
use sandkasse_kommune::*;

#[test]
fn the_eight_samarbeidskommuner_are_the_default() {
    let data = super::medium();
    let nummer: Vec<_> = data.tenants.iter().map(|t| t.kommune.nummer).collect();
    assert_eq!(
        nummer,
        [
            "4601", "1804", "3201", "5603", "4204", "3411", "1103", "4036"
        ]
    );
    let residents: usize = data
        .tenants
        .iter()
        .map(|t| t.truth.patients.iter().filter(|p| p.resident).count())
        .sum();
    assert_eq!(residents, 6_000);
    let bergen = data.tenant("4601").unwrap().truth.patients.len();
    let vinje = data.tenant("4036").unwrap().truth.patients.len();
    assert!(
        bergen > 10 * vinje,
        "population weights: Bergen {bergen}, Vinje {vinje}"
    );
}

#[test]
fn every_kommune_has_every_special_case() {
    let ten_years_ago = "2016-10-01";
    for t in &super::medium().tenants {
        let p = &t.truth.patients;
        let k = t.kommune.navn;
        assert!(
            p.iter()
                .any(|p| p.address_protection == AddressProtection::StrengtFortrolig),
            "{k}"
        );
        assert!(
            p.iter()
                .any(|p| p.address_protection == AddressProtection::Fortrolig),
            "{k}"
        );
        assert!(
            p.iter()
                .any(|p| p.deceased.as_deref().is_some_and(|d| d < ten_years_ago)),
            "{k}: dead > 10 years"
        );
        assert!(
            p.iter()
                .any(|p| p.deceased.as_deref().is_some_and(|d| d > ten_years_ago)),
            "{k}: dead recently"
        );
        assert!(
            p.iter().any(|p| p.moved.is_some() && p.resident),
            "{k}: moved in"
        );
        assert!(
            p.iter().any(|p| !p.resident),
            "{k}: record left by someone who moved away"
        );
        assert!(
            p.iter().any(|p| p.identifier_kind == IdentifierKind::Dnr),
            "{k}: D-nummer"
        );
        for s in [
            Skjerming::Krisesenter,
            Skjerming::Overgrepsmottak,
            Skjerming::SensitivtNotat,
            Skjerming::Sperring,
        ] {
            assert!(
                t.truth.shielded.iter().any(|x| x.skjerming == s),
                "{k}: {s:?}"
            );
        }
        for kind in [
            UnitKind::Hjemmesykepleie,
            UnitKind::Sykehjem,
            UnitKind::Legevakt,
            UnitKind::Helsestasjon,
            UnitKind::Fastlegekontor,
            UnitKind::Tildelingskontor,
        ] {
            let units: Vec<_> = t
                .truth
                .units
                .iter()
                .filter(|u| u.kind == kind)
                .map(|u| &u.id)
                .collect();
            assert!(!units.is_empty(), "{k}: {kind:?}");
            if kind != UnitKind::Legevakt {
                assert!(
                    t.truth
                        .care_relations
                        .iter()
                        .any(|c| units.contains(&&c.unit) && c.active_on("2026-10-01")),
                    "{k}: an active care relation for {kind:?}"
                );
            }
        }
        assert!(
            t.truth
                .care_relations
                .iter()
                .any(|c| c.basis == CareBasis::Legevakt),
            "{k}: legevakt"
        );
        // Sperringer are Consent resources that deny exactly the shielded documents.
        let consents: Vec<_> = t
            .resources
            .iter()
            .filter(|r| r.resource_type == "Consent")
            .collect();
        let sperret: Vec<_> = t
            .truth
            .shielded
            .iter()
            .filter(|s| s.skjerming == Skjerming::Sperring)
            .collect();
        assert_eq!(consents.len(), sperret.len());
        for s in sperret {
            let target = format!("DocumentReference/{}", s.id);
            assert!(consents.iter().any(
                |c| c.json["provision"]["data"][0]["reference"]["reference"] == target.as_str()
            ));
        }
        // Shielded resources carry the label the platform reads.
        for s in t
            .truth
            .shielded
            .iter()
            .filter(|s| s.skjerming != Skjerming::Sperring)
        {
            let r = t
                .resources
                .iter()
                .find(|r| r.resource_type == s.resource_type && r.id == s.id)
                .unwrap();
            let labels = r.json["meta"]["security"].as_array().expect("labels");
            assert!(
                labels
                    .iter()
                    .any(|l| l["system"] == systems::SANDKASSE_SKJERMING
                        && l["code"] == s.skjerming.code())
            );
        }
    }
}

#[test]
fn service_recipients_are_mostly_elderly() {
    let mut ages = Vec::new();
    for t in &super::medium().tenants {
        for r in t
            .resources
            .iter()
            .filter(|r| r.resource_type == "EpisodeOfCare")
        {
            let coding = &r.json["type"][0]["coding"][0];
            let (system, code) = (
                coding["system"].as_str().unwrap(),
                coding["code"].as_str().unwrap(),
            );
            assert!(codes::is_known(system, code), "{system}|{code}");
            if system == systems::VOLVEN_8663 {
                continue; // helsestasjon
            }
            let p = t
                .truth
                .patients
                .iter()
                .find(|p| Some(&p.id) == r.patient.as_ref())
                .unwrap();
            ages.push(2026 - p.birth_date[..4].parse::<i32>().unwrap());
        }
    }
    ages.sort();
    let median = ages[ages.len() / 2];
    assert!(median >= 70, "median age of vedtak holders {median}");
}

#[test]
fn names_are_norwegian_and_sami_with_hyphens() {
    let names: Vec<&str> = super::medium()
        .tenants
        .iter()
        .flat_map(|t| t.truth.patients.iter().map(|p| p.name.as_str()))
        .collect();
    assert!(
        names
            .iter()
            .any(|n| n.contains(['æ', 'ø', 'å', 'Æ', 'Ø', 'Å']))
    );
    assert!(names.iter().any(|n| n.contains('-')));
    assert!(names.iter().any(|n| {
        ["Somby", "Gaup", "Hætta", "Utsi", "Eira", "Buljo", "Magga"]
            .iter()
            .any(|s| n.ends_with(s))
    }));
}

#[test]
fn every_resource_is_tagged_as_test_data() {
    for t in &super::medium().tenants {
        for r in &t.resources {
            assert_eq!(
                r.json["meta"]["tag"][0]["code"], "HTEST",
                "{}/{}",
                r.resource_type, r.id
            );
        }
    }
}

#[test]
fn invalid_configurations_are_explained() {
    assert!(matches!(
        try_generate(&GenConfig::new(1, 10)),
        Err(GenError::TooSmall { got: 10, min: 160 })
    ));
    let mut c = GenConfig::new(1, 100);
    c.kommuner = vec!["0301".into()];
    assert!(matches!(try_generate(&c), Err(GenError::UnknownKommune(k)) if k == "0301"));
    c.kommuner.clear();
    assert!(matches!(try_generate(&c), Err(GenError::NoKommuner)));
    c.kommuner = vec!["4036".into()];
    let one = generate(&c);
    assert_eq!(one.tenants.len(), 1);
    assert!(
        one.tenants[0]
            .truth
            .patients
            .iter()
            .all(|p| p.moved.is_none()),
        "nowhere to move from"
    );
}
