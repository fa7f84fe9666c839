//! `docs/code-lists.md` is the platform's code lists as a vendor reads them (a vendor has no
//! access to `crates/`): generated from `sandkasse_kommune::codes`, checked here, refreshed with
//! `BLESS=1 cargo test -p sandkasse-kommune`.

use std::fmt::Write as _;
use std::path::PathBuf;

use sandkasse_fhir::systems;
use sandkasse_kommune::codes::{self, Code};

fn table(out: &mut String, title: &str, system: &str, note: &str, rows: &[(String, String)]) {
    let _ = writeln!(
        out,
        "## {title}\n\n`{system}`{note}\n\n| code | display |\n|---|---|"
    );
    for (code, display) in rows {
        let _ = writeln!(out, "| `{code}` | {display} |");
    }
    out.push('\n');
}

fn rows(list: &[Code]) -> Vec<(String, String)> {
    list.iter().map(|c| (c.code.to_owned(), shown(c))).collect()
}

/// The display, and the Norwegian text where the code system's display is in another language.
fn shown(c: &Code) -> String {
    if c.text == c.display {
        c.display.to_owned()
    } else {
        format!("{} — {}", c.display, c.text)
    }
}

fn render() -> String {
    let mut out = String::from(
        "# Code lists the platform accepts on writes\n\n\
         Generated from `crates/kommune/src/codes.rs` by `crates/kommune/tests/all/code_lists.rs` \
         (`BLESS=1 cargo test -p sandkasse-kommune` refreshes it; the test fails when it is stale). \
         A write whose code is not in the list for its system is refused with 422 (INF-05); the \
         generated data draws every code from the same lists. Each list is a subset for kommunal \
         primærhelsetjeneste (Volven 9151 whole), checked against the published sources vendored in \
         `conformance/valuesets/` (their provenance is in its README).\n\n",
    );
    table(
        &mut out,
        "Volven 9060 — kategori helsepersonell",
        systems::VOLVEN_9060,
        "",
        &rows(codes::KATEGORI_HELSEPERSONELL),
    );
    table(
        &mut out,
        "Volven 9151 — tjenestetype (vedtak, `EpisodeOfCare.type`)",
        systems::VOLVEN_9151,
        "",
        &rows(codes::TJENESTETYPE),
    );
    table(
        &mut out,
        "Volven 8663 — tjenestetype for helsestasjon (`EpisodeOfCare.type`, not a vedtak)",
        systems::VOLVEN_8663,
        "",
        &rows(&[codes::HELSESTASJON]),
    );
    let icpc: Vec<(String, String)> = codes::DIAGNOSER
        .iter()
        .map(|(i, _)| (i.code.to_owned(), i.display.to_owned()))
        .chain(
            codes::LEGEVAKT_ARSAKER
                .iter()
                .map(|c| (c.code.to_owned(), c.display.to_owned())),
        )
        .collect();
    table(
        &mut out,
        "ICPC-2 — diagnoser og legevaktårsaker",
        systems::ICPC2,
        "",
        &icpc,
    );
    let icd: Vec<(String, String)> = codes::DIAGNOSER
        .iter()
        .map(|(_, i)| (i.code.to_owned(), i.display.to_owned()))
        .collect();
    table(
        &mut out,
        "ICD-10",
        systems::ICD10,
        " — accepted with or without the dot (`E11.9` or `E119`)",
        &icd,
    );
    let atc: Vec<(String, String)> = codes::LEGEMIDLER
        .iter()
        .map(|(c, _)| (c.code.to_owned(), c.display.to_owned()))
        .chain(
            codes::ALLERGENER
                .iter()
                .map(|c| (c.code.to_owned(), c.display.to_owned())),
        )
        .collect();
    table(
        &mut out,
        "ATC — legemidler og allergener (`MedicationAdministration`, `MedicationStatement`, `AllergyIntolerance`)",
        systems::ATC,
        "",
        &atc,
    );
    let nlk: Vec<(String, String)> = codes::ANALYSER
        .iter()
        .map(|a| {
            (
                a.nlk.code.to_owned(),
                format!("{} (UCUM `{}`)", a.nlk.display, a.ucum),
            )
        })
        .collect();
    table(
        &mut out,
        "NLK — laboratorieanalyser",
        systems::NLK,
        "",
        &nlk,
    );
    let loinc: Vec<(String, String)> = codes::VITALE_PARAMETERE
        .iter()
        .map(|v| {
            (
                v.loinc.code.to_owned(),
                format!("{} (UCUM `{}`)", shown(&v.loinc), v.ucum),
            )
        })
        .chain(
            [codes::BLODTRYKK, codes::SYSTOLISK, codes::DIASTOLISK]
                .iter()
                .map(|c| {
                    let unit = if c.code == codes::BLODTRYKK.code {
                        "panel: components 8480-6 and 8462-4"
                    } else {
                        "UCUM `mm[Hg]`"
                    };
                    (c.code.to_owned(), format!("{} ({unit})", shown(c)))
                }),
        )
        .chain(
            codes::DOKUMENTTYPER
                .iter()
                .map(|c| (c.code.to_owned(), format!("{} (document type)", shown(c)))),
        )
        .chain([
            (
                codes::LABORATORIERAPPORT.code.to_owned(),
                format!("{} (DiagnosticReport)", shown(&codes::LABORATORIERAPPORT)),
            ),
            (
                codes::SAMTYKKE.code.to_owned(),
                format!("{} (Consent category)", shown(&codes::SAMTYKKE)),
            ),
        ])
        .collect();
    table(
        &mut out,
        "LOINC — vitale parametere, blodtrykk og dokumenttyper",
        systems::LOINC,
        "",
        &loinc,
    );
    out.truncate(out.trim_end().len());
    out.push('\n');
    out
}

#[test]
fn docs_code_lists_is_current() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/code-lists.md");
    let want = render();
    if std::env::var_os("BLESS").is_some() {
        std::fs::write(&path, &want).unwrap();
        return;
    }
    let have = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        have == want,
        "{} is stale: run BLESS=1 cargo test -p sandkasse-kommune",
        path.display()
    );
}
