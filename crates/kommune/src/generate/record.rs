//! A person's record: vedtak, diagnoses, medicines, vital signs, laboratory results, documents
//! and legevakt visits.

use super::*;

/// An EpisodeOfCare: a vedtak (Volven 9151 tjenestetype) or a helsestasjon follow-up (Volven 8663).
pub(super) fn vedtak(
    cx: &mut Ctx<'_>,
    unit: usize,
    (system, tjeneste): (&str, &Code),
    start: Date,
    end: Option<Date>,
    basis: CareBasis,
) -> String {
    let id = cx.id("eoc");
    let saksbehandler = cx.sk.units_of(UnitKind::Tildelingskontor)[0];
    let by = cx
        .sk
        .staff_member(saksbehandler, &mut cx.rng, &["XX"])
        .id
        .clone();
    let mut period = json!({"start": start.to_string()});
    if let Some(end) = end {
        period["end"] = json!(end.to_string());
    }
    let json = json!({
        "resourceType": "EpisodeOfCare", "id": id, "meta": meta(&ts(start, 9 * 60)),
        "status": if end.is_some_and(|e| e < REFERENCE_DATE) { "finished" } else { "active" },
        "type": [concept(system, tjeneste)],
        "patient": reference("Patient", &cx.patient_id),
        "managingOrganization": reference("Organization", &cx.sk.units[unit].truth.id),
        "period": period,
        "careManager": reference("Practitioner", &by),
    });
    cx.push("EpisodeOfCare", id.clone(), json);
    cx.relation(unit, basis, start, end);
    if basis == CareBasis::Vedtak {
        cx.relation(saksbehandler, CareBasis::Vedtak, start, end);
    }
    id
}

/// The record of a service recipient: vedtak, diagnoses, allergies, medicines, vital signs, lab
/// results and documents.
pub(super) fn record(
    cx: &mut Ctx<'_>,
    bydel: usize,
    start_here: Date,
    latest: Date,
    end_of_life: Option<Date>,
    age: i64,
) {
    let n_vedtak = cx.rng.random_range(1..=3);
    let mut care_units = Vec::new();
    for v in 0..n_vedtak {
        let institution = age >= 85 && v == 0 && cx.rng.random_bool(0.3);
        let (kind, tjeneste) = if institution {
            (
                UnitKind::Sykehjem,
                if cx.rng.random_bool(0.7) {
                    &codes::LANGTIDSOPPHOLD
                } else {
                    &codes::TIDSBEGRENSET_OPPHOLD
                },
            )
        } else {
            let c = [
                &codes::HELSETJENESTER_I_HJEMMET,
                &codes::HELSETJENESTER_I_HJEMMET,
                &codes::HELSETJENESTER_I_HJEMMET,
                &codes::PRAKTISK_BISTAND,
                &codes::TRYGGHETSALARM,
                &codes::DAGAKTIVITETSTILBUD,
                &codes::MATOMBRINGING,
                &codes::OMSORGSSTONAD,
            ]
            .choose(&mut cx.rng)
            .copied()
            .expect("codes");
            (UnitKind::Hjemmesykepleie, c)
        };
        let unit = cx.sk.unit_for(kind, bydel);
        let start = cx.day_between(
            start_here.max(date_minus(latest, 2500)),
            date_minus(latest, 0),
        );
        let finished = v > 0 && cx.rng.random_bool(0.25);
        let end = if finished {
            Some(cx.day_between(start, latest))
        } else {
            end_of_life
        };
        vedtak(
            cx,
            unit,
            (systems::VOLVEN_9151, tjeneste),
            start,
            end,
            CareBasis::Vedtak,
        );
        care_units.push((unit, start));
    }
    let (main_unit, main_start) = care_units[0];
    let fastlege = cx.sk.unit_for(UnitKind::Fastlegekontor, bydel);

    for (icpc, icd) in DIAGNOSER_SAMPLE(cx, 1, 4) {
        let id = cx.id("con");
        let onset = cx.day_between(start_here.max(date_minus(latest, 4000)), latest);
        let doctor = cx
            .sk
            .staff_member(fastlege, &mut cx.rng, &["LE"])
            .id
            .clone();
        let mut codings = vec![coding(systems::ICPC2, icpc)];
        if cx.rng.random_bool(0.4) {
            codings.push(coding(systems::ICD10, icd));
        }
        // Diagnoses set more than five years ago are resolved half a year after onset (no random
        // draw, so the rest of the record stays as it was): an overview must show both.
        let resolved = onset < date_minus(latest, 5 * 365);
        let mut json = json!({
            "resourceType": "Condition", "id": id, "meta": meta(&ts(onset, 10 * 60)),
            "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": if resolved { "resolved" } else { "active" }}]},
            "verificationStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-ver-status", "code": "confirmed"}]},
            "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-category", "code": "problem-list-item"}]}],
            "code": {"coding": codings, "text": icpc.display},
            "subject": reference("Patient", &cx.patient_id),
            "onsetDateTime": onset.to_string(),
            "recordedDate": onset.to_string(),
            "recorder": reference("Practitioner", &doctor),
        });
        if resolved {
            json["abatementDateTime"] = json!(date_minus(onset, -182).to_string());
        }
        cx.push("Condition", id, json);
    }

    if cx.rng.random_bool(0.25) {
        let allergen = *codes::ALLERGENER.choose(&mut cx.rng).expect("allergens");
        let id = cx.id("all");
        let date = cx.day_between(start_here.max(date_minus(latest, 4000)), latest);
        let json = json!({
            "resourceType": "AllergyIntolerance", "id": id, "meta": meta(&ts(date, 11 * 60)),
            "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical", "code": "active"}]},
            "verificationStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification", "code": "confirmed"}]},
            "type": "allergy", "category": ["medication"],
            "criticality": if cx.rng.random_bool(0.3) { "high" } else { "low" },
            "code": concept(systems::ATC, &allergen),
            "patient": reference("Patient", &cx.patient_id),
            "recordedDate": date.to_string(),
        });
        cx.push("AllergyIntolerance", id, json);
    }

    let n_meds = cx.rng.random_range(1..=6);
    let mut meds: Vec<usize> = (0..codes::LEGEMIDLER.len()).collect();
    for m in 0..n_meds {
        let pick = cx.rng.random_range(m..meds.len());
        meds.swap(m, pick);
        let (atc, dosage) = codes::LEGEMIDLER[meds[m]];
        let id = cx.id("med");
        let start = cx.day_between(start_here.max(date_minus(latest, 3000)), latest);
        let stopped = cx.rng.random_bool(0.2) || end_of_life.is_some();
        let mut period = json!({"start": start.to_string()});
        if stopped {
            period["end"] = json!(cx.day_between(start, latest).to_string());
        }
        let json = json!({
            "resourceType": "MedicationStatement", "id": id, "meta": meta(&ts(start, 12 * 60)),
            "status": if stopped { "completed" } else { "active" },
            "medicationCodeableConcept": concept(systems::ATC, &atc),
            "subject": reference("Patient", &cx.patient_id),
            "effectivePeriod": period,
            "dateAsserted": start.to_string(),
            "dosage": [{"text": dosage}],
        });
        cx.push("MedicationStatement", id, json);
    }

    // Vital signs: a few measurement rounds by the home-care or nursing-home staff.
    for _ in 0..cx.rng.random_range(2..=8) {
        let day = cx.day_between(main_start, latest);
        let when = ts(day, cx.minutes());
        let nurse = cx
            .sk
            .staff_member(main_unit, &mut cx.rng, &["SP", "HF", "VP"])
            .id
            .clone();
        let sys = cx.rng.random_range(105..185);
        let dia = cx.rng.random_range(55..sys.min(110) - 20);
        let id = cx.id("obs");
        let bp = json!({
            "resourceType": "Observation", "id": id, "meta": meta(&when),
            "status": "final",
            "category": [vital_category()],
            "code": concept(systems::LOINC, &codes::BLODTRYKK),
            "subject": reference("Patient", &cx.patient_id),
            "effectiveDateTime": when,
            "performer": [reference("Practitioner", &nurse)],
            "component": [
                {"code": concept(systems::LOINC, &codes::SYSTOLISK), "valueQuantity": quantity(sys * 10, "mmHg", "mm[Hg]")},
                {"code": concept(systems::LOINC, &codes::DIASTOLISK), "valueQuantity": quantity(dia * 10, "mmHg", "mm[Hg]")},
            ],
        });
        cx.push("Observation", id, bp);
        for vital in codes::VITALE_PARAMETERE {
            if vital.loinc.code == "29463-7" && !cx.rng.random_bool(0.3) {
                continue;
            }
            let value = cx.rng.random_range(vital.min_x10..=vital.max_x10);
            let id = cx.id("obs");
            let json = json!({
                "resourceType": "Observation", "id": id, "meta": meta(&when),
                "status": "final",
                "category": [vital_category()],
                "code": concept(systems::LOINC, &vital.loinc),
                "subject": reference("Patient", &cx.patient_id),
                "effectiveDateTime": when,
                "performer": [reference("Practitioner", &nurse)],
                "valueQuantity": quantity(value, vital.unit, vital.ucum),
            });
            cx.push("Observation", id, json);
        }
    }

    // Lab results (prøvesvar) ordered by the fastlege.
    for _ in 0..cx.rng.random_range(0..=3) {
        let day = cx.day_between(start_here.max(date_minus(latest, 1500)), latest);
        let when = ts(day, cx.minutes());
        let doctor = cx
            .sk
            .staff_member(fastlege, &mut cx.rng, &["LE"])
            .id
            .clone();
        let n = cx.rng.random_range(2..=4);
        let mut results = Vec::new();
        let first = cx.rng.random_range(0..codes::ANALYSER.len());
        for k in 0..n {
            let a = &codes::ANALYSER[(first + k) % codes::ANALYSER.len()];
            let value = cx.rng.random_range(a.min_x10..=a.max_x10);
            let id = cx.id("lab");
            let json = json!({
                "resourceType": "Observation", "id": id, "meta": meta(&when),
                "status": "final",
                "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "laboratory"}]}],
                "code": concept(systems::NLK, &a.nlk),
                "subject": reference("Patient", &cx.patient_id),
                "effectiveDateTime": when,
                "performer": [reference("Organization", &cx.sk.units[fastlege].truth.id)],
                "valueQuantity": quantity(value, a.ucum, a.ucum),
            });
            results.push(reference("Observation", &id));
            cx.push("Observation", id, json);
        }
        let id = cx.id("dr");
        let json = json!({
            "resourceType": "DiagnosticReport", "id": id, "meta": meta(&when),
            "status": "final",
            "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0074", "code": "LAB"}]}],
            "code": {"coding": [coding(systems::LOINC, &codes::LABORATORIERAPPORT)], "text": "Prøvesvar"},
            "subject": reference("Patient", &cx.patient_id),
            "effectiveDateTime": when,
            "issued": when,
            "performer": [reference("Organization", &cx.sk.units[fastlege].truth.id)],
            "resultsInterpreter": [reference("Practitioner", &doctor)],
            "result": results,
        });
        cx.push("DiagnosticReport", id, json);
    }

    for _ in 0..cx.rng.random_range(1..=3) {
        let kind = *codes::DOKUMENTTYPER.choose(&mut cx.rng).expect("types");
        let author_unit = if kind.code == "18842-5" {
            fastlege
        } else {
            main_unit
        };
        document(cx, author_unit, &kind, main_start, latest, None);
    }
}

#[allow(non_snake_case)]
pub(super) fn DIAGNOSER_SAMPLE(
    cx: &mut Ctx<'_>,
    min: usize,
    max: usize,
) -> Vec<(&'static Code, &'static Code)> {
    let n = cx.rng.random_range(min..=max);
    let mut idx: Vec<usize> = (0..codes::DIAGNOSER.len()).collect();
    (0..n)
        .map(|k| {
            let pick = cx.rng.random_range(k..idx.len());
            idx.swap(k, pick);
            let (a, b) = &codes::DIAGNOSER[idx[k]];
            (a, b)
        })
        .collect()
}

pub(super) fn note_text(kind: &Code, skjerming: Option<Skjerming>, index: usize) -> String {
    let body = match (kind.code, skjerming) {
        (_, Some(Skjerming::Krisesenter)) => {
            "Pasienten har opphold ved krisesenter. Adresse og kontaktinformasjon skal ikke gis ut."
        }
        (_, Some(Skjerming::Overgrepsmottak)) => {
            "Undersøkt ved overgrepsmottaket. Videre oppfølging avtalt."
        }
        (_, Some(_)) => "Samtale om forhold pasienten ønsker behandlet fortrolig.",
        ("18842-5", _) => {
            "Innlagt med redusert allmenntilstand. Utskrives til hjemmet med økt hjemmesykepleie."
        }
        ("34746-8", _) => {
            "Tilsyn utført. Pasienten var i godt humør, spiste frokost og fikk medisiner som forordnet."
        }
        ("11488-4", _) => "Kontroll av blodtrykk og medisinering. Fortsetter uendret behandling.",
        _ => "Sårstell utført etter prosedyre. Såret er i bedring.",
    };
    format!("SYNTETISK TESTDATA (sandkasse), person {index}. {body}")
}

pub(super) fn document(
    cx: &mut Ctx<'_>,
    unit: usize,
    kind: &Code,
    from: Date,
    to: Date,
    skjerming: Option<Skjerming>,
) -> String {
    let day = cx.day_between(from, to);
    let when = ts(day, cx.minutes());
    let author = cx
        .sk
        .staff_member(unit, &mut cx.rng, &["LE", "SP"])
        .id
        .clone();
    let id = cx.id("doc");
    let text = note_text(kind, skjerming, cx.index);
    let mut json = json!({
        "resourceType": "DocumentReference", "id": id, "meta": meta(&when),
        "status": "current",
        "docStatus": "final",
        "type": concept(systems::LOINC, kind),
        "subject": reference("Patient", &cx.patient_id),
        "date": when,
        "author": [reference("Practitioner", &author)],
        "custodian": reference("Organization", &cx.sk.units[unit].truth.id),
        "description": kind.text,
        "content": [{"attachment": {
            "contentType": "text/plain; charset=utf-8", "language": "nb",
            "data": base64::engine::general_purpose::STANDARD.encode(text.as_bytes()),
            "title": kind.text, "creation": when,
        }}],
    });
    if let Some(s) = skjerming {
        json["meta"]["security"] = security_labels(s);
    }
    cx.push("DocumentReference", id.clone(), json);
    if let Some(s) = skjerming {
        cx.shield("DocumentReference", &id, s);
    }
    let prov_id = cx.id("prov");
    let prov = json!({
        "resourceType": "Provenance", "id": prov_id, "meta": meta(&when),
        "target": [reference("DocumentReference", &id)],
        "recorded": when.replace('Z', "+00:00"),
        "activity": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-DataOperation", "code": "CREATE"}]},
        "agent": [{
            "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/provenance-participant-type", "code": "author"}]},
            "who": reference("Practitioner", &author),
            "onBehalfOf": reference("Organization", &cx.sk.units[unit].truth.id),
        }],
    });
    cx.push("Provenance", prov_id, prov);
    id
}

pub(super) fn legevakt(cx: &mut Ctx<'_>, from: Date, to: Date) {
    let lv = cx.sk.units_of(UnitKind::Legevakt)[0];
    let day = cx.day_between(from, to);
    let start = cx.rng.random_range(0..24 * 60);
    let end = start + cx.rng.random_range(20..240);
    let doctor = cx.sk.staff_member(lv, &mut cx.rng, &["LE"]).id.clone();
    let reason = *codes::LEGEVAKT_ARSAKER
        .choose(&mut cx.rng)
        .expect("reasons");
    let id = cx.id("enc");
    let end_day = if end >= 24 * 60 {
        day.checked_add(1.days()).expect("in range")
    } else {
        day
    };
    let json = json!({
        "resourceType": "Encounter", "id": id, "meta": meta(&ts(end_day, end % (24 * 60))),
        "status": "finished",
        "class": {"system": systems::V3_ACT_CODE, "code": "EMER", "display": "emergency"},
        "type": [{"text": "Legevaktkonsultasjon"}],
        "subject": reference("Patient", &cx.patient_id),
        "participant": [{"individual": reference("Practitioner", &doctor)}],
        "period": {"start": ts(day, start), "end": ts(end_day, end % (24 * 60))},
        "reasonCode": [concept(systems::ICPC2, &reason)],
        "serviceProvider": reference("Organization", &cx.sk.units[lv].truth.id),
    });
    cx.push("Encounter", id, json);
    // Tjenstlig behov lasts through the follow-up after the visit.
    cx.relation(
        lv,
        CareBasis::Legevakt,
        day,
        Some(end_day.checked_add(14.days()).expect("in range")),
    );
}
