//! Every code list against its published source, vendored in `conformance/valuesets/` with its
//! provenance (see the README there): every code the platform accepts and every code the generator
//! emits exists in the source with the same display, so a list can never drift from the national
//! code system again.

use std::collections::BTreeMap;
use std::path::PathBuf;

use sandkasse_fhir::systems;
use sandkasse_kommune::codes::{self, Code};
use serde_json::Value;

/// A vendored CodeSystem: its `content` and its concepts (code → display).
struct Source {
    file: &'static str,
    content: String,
    description: String,
    concepts: BTreeMap<String, String>,
}

/// The vendored file for each code system the generator emits or the platform validates against.
const FILES: &[(&str, &str)] = &[
    (systems::VOLVEN_9060, "volven-9060.json"),
    (systems::VOLVEN_9151, "volven-9151.json"),
    (systems::VOLVEN_8663, "volven-8663.json"),
    (systems::ICPC2, "icpc-2.json"),
    (systems::ICD10, "icd-10.json"),
    (systems::ATC, "atc.json"),
    (systems::NLK, "nlk.json"),
    (systems::LOINC, "loinc.json"),
];

fn source(system: &str) -> Source {
    let (_, file) = FILES
        .iter()
        .find(|(s, _)| *s == system)
        .unwrap_or_else(|| panic!("no vendored source for {system} in conformance/valuesets/"));
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../conformance/valuesets")
        .join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    let json: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    assert_eq!(json["resourceType"], "CodeSystem", "{file}");
    assert_eq!(json["url"], system, "{file} is not the source of {system}");
    let concepts: BTreeMap<String, String> = json["concept"]
        .as_array()
        .unwrap_or_else(|| panic!("{file}: no concepts"))
        .iter()
        .map(|c| {
            (
                c["code"].as_str().expect("code").to_owned(),
                c["display"].as_str().expect("display").to_owned(),
            )
        })
        .collect();
    assert_eq!(
        json["count"].as_u64(),
        Some(concepts.len() as u64),
        "{file}: count and concepts disagree (or a code is there twice)"
    );
    Source {
        file,
        content: json["content"].as_str().expect("content").to_owned(),
        description: json["description"].as_str().unwrap_or_default().to_owned(),
        concepts,
    }
}

/// The code as the source writes it: the ICD-10 source leaves out the dot (`E11.9` → `E119`).
fn as_in_source(system: &str, code: &str) -> String {
    if system == systems::ICD10 {
        codes::undotted(code)
    } else {
        code.to_owned()
    }
}

/// The mismatches of `code` against the source of `system`, if any.
fn mismatch(system: &str, src: &Source, code: &Code) -> Option<String> {
    match src.concepts.get(&as_in_source(system, code.code)) {
        None => Some(format!("{system}: `{}` is not in {}", code.code, src.file)),
        Some(d) if d != code.display => Some(format!(
            "{system}: `{}` has display {:?}, {} says {d:?}",
            code.code, code.display, src.file
        )),
        Some(_) => None,
    }
}

#[test]
fn every_accepted_code_is_in_its_source_with_the_same_display() {
    let mut wrong = Vec::new();
    for (system, list) in codes::code_lists() {
        let src = source(system);
        assert!(!list.is_empty(), "{system}: an empty list");
        wrong.extend(list.iter().filter_map(|c| mismatch(system, &src, c)));
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn every_vendored_source_is_a_list_in_force() {
    // A file nobody checks against is a provenance claim nobody keeps.
    for (system, _) in FILES {
        assert!(
            codes::code_lists().iter().any(|(s, _)| s == system),
            "{system} is vendored but no code list uses it"
        );
        let src = source(system);
        assert!(
            ["complete", "fragment"].contains(&src.content.as_str()),
            "{}: content {}",
            src.file,
            src.content
        );
    }
}

#[test]
fn the_platform_accepts_every_published_tjenestetype() {
    // Volven 9151 is vendored whole: an adapter that sends the published code for the service it
    // documents is accepted, whichever service that is.
    let src = source(systems::VOLVEN_9151);
    assert_eq!(src.content, "complete");
    assert_eq!(src.concepts.len(), 25);
    for code in src.concepts.keys() {
        assert!(codes::is_known(systems::VOLVEN_9151, code), "9151 `{code}`");
    }
    assert_eq!(
        src.concepts.get("15").map(String::as_str),
        Some("Helsetjenester i hjemmet")
    );
    assert!(!codes::is_known(systems::VOLVEN_9151, "10"));
    assert!(!codes::is_known(systems::VOLVEN_9151, "16"));
}

#[test]
fn icd10_is_accepted_with_and_without_its_dot() {
    assert!(codes::is_known(systems::ICD10, "E11.9"));
    assert!(codes::is_known(systems::ICD10, "E119"));
    assert!(!codes::is_known(systems::ICD10, "E11.8"));
    assert!(!codes::is_known(systems::ICPC2, "T9.0"));
}

#[test]
fn laboratory_units_are_the_units_the_npu_definitions_fix() {
    // The NLK source states each NPU definition's unit ("… = ? mmol/L"); the generator must emit
    // values in that unit, not in another one of the same analyte.
    let src = source(systems::NLK);
    for a in codes::ANALYSER {
        let after = src
            .description
            .split(a.nlk.code)
            .nth(1)
            .unwrap_or_else(|| panic!("{}: no NPU definition in nlk.json", a.nlk.code));
        let unit = after
            .split("= ? ")
            .nth(1)
            .and_then(|u| u.split([';', ')']).next())
            .expect("unit")
            .trim()
            .replace('µ', "u");
        assert_eq!(a.ucum, unit, "{}", a.nlk.code);
    }
}

/// Every coding in `v`, as (system, code, display).
fn codings<'a>(v: &'a Value, out: &mut Vec<(&'a str, &'a str, Option<&'a str>)>) {
    match v {
        Value::Object(m) => {
            if let (Some(Value::String(s)), Some(Value::String(c))) =
                (m.get("system"), m.get("code"))
            {
                out.push((s, c, m.get("display").and_then(Value::as_str)));
            }
            m.values().for_each(|x| codings(x, out));
        }
        Value::Array(a) => a.iter().for_each(|x| codings(x, out)),
        _ => {}
    }
}

#[test]
fn every_code_the_generator_emits_is_in_its_source_with_the_same_display() {
    let mut seen: BTreeMap<(&str, &str), Option<&str>> = BTreeMap::new();
    for t in &super::medium().tenants {
        for r in &t.resources {
            let mut out = Vec::new();
            codings(&r.json, &mut out);
            for (system, code, display) in out {
                if FILES.iter().any(|(s, _)| *s == system) {
                    seen.insert((system, code), display);
                }
            }
        }
    }
    let mut wrong = Vec::new();
    for ((system, code), display) in &seen {
        let src = source(system);
        match src.concepts.get(&as_in_source(system, code)) {
            None => wrong.push(format!("{system}: `{code}` is not in {}", src.file)),
            Some(d) if display.is_some_and(|x| x != d) => wrong.push(format!(
                "{system}: `{code}` emitted with display {display:?}, {} says {d:?}",
                src.file
            )),
            Some(_) => {}
        }
        if !codes::is_known(system, code) {
            wrong.push(format!(
                "{system}: `{code}` is emitted but the platform would refuse it"
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    // Every national system is emitted at all (a check with nothing to judge is not a pass).
    for (system, _) in FILES {
        assert!(
            seen.keys().any(|(s, _)| s == system),
            "the generator emits no {system} code"
        );
    }
}
