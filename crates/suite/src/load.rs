//! Loading `conformance/`: strict parsing of every file and the cross-checks between them.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::model::{Assertion, Erklaering, Scenario, Source, Step, SuiteManifest, Vilkar};

/// The suite, loaded and cross-checked.
#[derive(Debug, Clone)]
pub struct Suite {
    pub root: PathBuf,
    pub manifest: SuiteManifest,
    /// In id order.
    pub vilkar: Vec<Vilkar>,
    pub scenarios: BTreeMap<String, Scenario>,
    /// The declarations (egenerklæringer) a listing request answers, in id order.
    pub erklaeringer: Vec<Erklaering>,
}

impl Suite {
    /// The declaration with this id.
    pub fn erklaering(&self, id: &str) -> Option<&Erklaering> {
        self.erklaeringer.iter().find(|e| e.id == id)
    }
}

/// The seed documents (under `shared/seeds/`) a vilkår or a declaration may cite: their file names.
pub const SEED_FILES: [&str; 5] = [
    "000_6cbe4b537e81f9ff.txt",
    "001_217335c2514637f3.txt",
    "002_d5a669aa5d6fa17e.txt",
    "003_5fa1379192f1dbd3.txt",
    "004_5109dde69079c164.txt",
];

/// Why a source's `reference` is not `seeds/<seed file>:<line>[-<line>]` naming one of
/// [`SEED_FILES`] with a line range that goes forward.
fn check_reference(source: &Source) -> Result<(), String> {
    let bad = || {
        format!(
            "source.reference `{}` is not `seeds/<file>:<line>[-<line>]` with one of the seed files {}",
            source.reference,
            SEED_FILES.join(", ")
        )
    };
    let rest = source.reference.strip_prefix("seeds/").ok_or_else(bad)?;
    let (file, lines) = rest.split_once(':').ok_or_else(bad)?;
    if !SEED_FILES.contains(&file) {
        return Err(bad());
    }
    let (first, last) = lines.split_once('-').unwrap_or((lines, lines));
    match (first.parse::<u32>(), last.parse::<u32>()) {
        (Ok(a), Ok(b)) if a >= 1 && a <= b => {}
        _ => return Err(bad()),
    }
    if source.quote.trim().is_empty() {
        return Err("source.quote is empty".into());
    }
    Ok(())
}

/// Why the suite could not be loaded. Every variant names the file.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("{path}: {message}")]
    Invalid { path: PathBuf, message: String },
}

fn read<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, LoadError> {
    let text = std::fs::read_to_string(path).map_err(|source| LoadError::Io {
        path: path.to_owned(),
        source,
    })?;
    toml::from_str(&text).map_err(|e| LoadError::Parse {
        path: path.to_owned(),
        message: e.to_string(),
    })
}

fn toml_files(dir: &Path) -> Result<Vec<PathBuf>, LoadError> {
    let entries = std::fs::read_dir(dir).map_err(|source| LoadError::Io {
        path: dir.to_owned(),
        source,
    })?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    Ok(files)
}

/// The default suite folder of this repository (`conformance/`).
pub fn default_root() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../conformance"))
}

/// Loads and cross-checks the suite in `root`.
pub fn load(root: &Path) -> Result<Suite, LoadError> {
    let manifest: SuiteManifest = read(&root.join("suite.toml"))?;
    let invalid = |path: &Path, message: String| LoadError::Invalid {
        path: path.to_owned(),
        message,
    };
    let parts: Vec<&str> = manifest.version.split('.').collect();
    if parts.len() != 3 || parts.iter().any(|p| p.parse::<u32>().is_err()) {
        return Err(invalid(
            &root.join("suite.toml"),
            format!(
                "version `{}` is not semver (MAJOR.MINOR.PATCH)",
                manifest.version
            ),
        ));
    }
    if manifest
        .changelog
        .first()
        .is_none_or(|c| c.version != manifest.version)
    {
        return Err(invalid(
            &root.join("suite.toml"),
            "the changelog's first entry must be the current version".into(),
        ));
    }

    let mut scenarios = BTreeMap::new();
    for path in toml_files(&root.join("scenarios"))? {
        let s: Scenario = read(&path)?;
        check_name(&path, &s.id)?;
        s.faults
            .validate()
            .map_err(|e| invalid(&path, format!("faults: {e}")))?;
        for (i, step) in s.steps.iter().enumerate() {
            let context = match step {
                Step::Info => None,
                Step::PatientOverview { context }
                | Step::Document { context, .. }
                | Step::OnEvent { context, .. }
                | Step::Sperring { context, .. } => Some(context),
            };
            if let Step::Sperring {
                resource: Some(t), ..
            } = step
                && (sandkasse_platform::types::type_info(t).is_none()
                    || !sandkasse_platform::types::is_patient_data(t))
            {
                return Err(invalid(
                    &path,
                    format!(
                        "step {i}: a sperring blocks patient data, and `{t}` is not a patient resource type"
                    ),
                ));
            }
            if let Some(c) = context
                && !s.contexts.contains_key(c)
            {
                return Err(invalid(
                    &path,
                    format!("step {i} uses context `{c}`, which the scenario does not define"),
                ));
            }
        }
        if scenarios.insert(s.id.clone(), s).is_some() {
            return Err(invalid(&path, "duplicate scenario id".into()));
        }
    }

    let mut vilkar = Vec::new();
    let mut ids = BTreeSet::new();
    for path in toml_files(&root.join("vilkar"))? {
        let v: Vilkar = read(&path)?;
        check_name(&path, &v.id)?;
        if !ids.insert(v.id.clone()) {
            return Err(invalid(&path, "duplicate vilkår id".into()));
        }
        if !(1..=5).contains(&v.weight) {
            return Err(invalid(
                &path,
                format!("weight {} is outside 1–5", v.weight),
            ));
        }
        if v.checks.is_empty() {
            return Err(invalid(&path, "a vilkår needs at least one check".into()));
        }
        let mut check_ids = BTreeSet::new();
        for c in &v.checks {
            if !check_ids.insert((c.id.clone(), c.scenario.clone())) {
                return Err(invalid(
                    &path,
                    format!("check `{}` on `{}` appears twice", c.id, c.scenario),
                ));
            }
            let Some(s) = scenarios.get(&c.scenario) else {
                return Err(invalid(
                    &path,
                    format!(
                        "check `{}` names scenario `{}`, which does not exist",
                        c.id, c.scenario
                    ),
                ));
            };
            for step in steps_named(&c.assert) {
                if step >= s.steps.len() {
                    return Err(invalid(
                        &path,
                        format!(
                            "check `{}`: step {step} is beyond the {} steps of `{}`",
                            c.id,
                            s.steps.len(),
                            s.id
                        ),
                    ));
                }
            }
        }
        vilkar.push(v);
    }
    if vilkar.is_empty() {
        return Err(invalid(&root.join("vilkar"), "no vilkår".into()));
    }
    let erklaeringer = load_erklaeringer(&root.join("erklaeringer"))?;
    Ok(Suite {
        root: root.to_owned(),
        manifest,
        vilkar,
        scenarios,
        erklaeringer,
    })
}

/// Reads `conformance/erklaeringer/`: every file named after its id, ids unique, a source in a
/// seed document, every text in both languages.
fn load_erklaeringer(dir: &Path) -> Result<Vec<Erklaering>, LoadError> {
    let invalid = |path: &Path, message: String| LoadError::Invalid {
        path: path.to_owned(),
        message,
    };
    let mut out = Vec::new();
    let mut ids = BTreeSet::new();
    for path in toml_files(dir)? {
        let e: Erklaering = read(&path)?;
        check_name(&path, &e.id)?;
        if !ids.insert(e.id.clone()) {
            return Err(invalid(&path, "duplicate declaration id".into()));
        }
        check_reference(&e.source).map_err(|m| invalid(&path, m))?;
        for (field, text) in [
            ("title", &e.title),
            ("text", &e.text),
            ("evidence", &e.evidence),
        ] {
            if text.nb.trim().is_empty() || text.en.trim().is_empty() {
                return Err(invalid(
                    &path,
                    format!("{field} needs both bokmål (nb) and English (en)"),
                ));
            }
        }
        out.push(e);
    }
    Ok(out)
}

fn check_name(path: &Path, id: &str) -> Result<(), LoadError> {
    if path.file_stem().and_then(|s| s.to_str()) != Some(id) {
        return Err(LoadError::Invalid {
            path: path.to_owned(),
            message: format!("the file must be named after its id `{id}`"),
        });
    }
    Ok(())
}

fn steps_named(a: &Assertion) -> Vec<usize> {
    match a {
        Assertion::StepReturnsError { step, .. }
        | Assertion::NoLeakBetweenContexts { step }
        | Assertion::SperringRespected { step }
        | Assertion::OtherKommuneIgnored { step }
        | Assertion::EventFetched { step } => vec![*step],
        Assertion::SameOutput { a, b } => vec![*a, *b],
        _ => Vec::new(),
    }
}

/// JSON Schemas of the three file kinds, generated from the types: (file name, schema).
pub fn schemas() -> Vec<(&'static str, String)> {
    let pretty =
        |s: schemars::Schema| serde_json::to_string_pretty(&s).expect("schemas serialise") + "\n";
    vec![
        (
            "suite.schema.json",
            pretty(schemars::schema_for!(SuiteManifest)),
        ),
        ("vilkar.schema.json", pretty(schemars::schema_for!(Vilkar))),
        (
            "scenario.schema.json",
            pretty(schemars::schema_for!(Scenario)),
        ),
        (
            "erklaering.schema.json",
            pretty(schemars::schema_for!(Erklaering)),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_repository_suite_loads() {
        let suite = load(&default_root()).unwrap_or_else(|e| panic!("{e}"));
        assert!(suite.vilkar.len() >= 30, "{} vilkår", suite.vilkar.len());
        let categories: BTreeSet<_> = suite.vilkar.iter().map(|v| v.category).collect();
        assert_eq!(
            categories.len(),
            7,
            "every category of docs/architecture.md §4"
        );
        for v in &suite.vilkar {
            assert!(
                v.source.reference.starts_with("seeds/"),
                "{}: cites a seed document",
                v.id
            );
        }
        let ids: Vec<_> = suite.erklaeringer.iter().map(|e| e.id.as_str()).collect();
        assert_eq!(ids, ["ERK-01", "ERK-02", "ERK-03", "ERK-04", "ERK-05"]);
        assert!(suite.erklaeringer.iter().all(|e| e.required));
    }

    /// A copy of the repository's suite in a temporary folder, with `erklaeringer/NAME` written
    /// as `text` (the other files as they are).
    fn with_declaration(name: &str, text: &str) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let root = default_root();
        for sub in ["vilkar", "scenarios", "erklaeringer"] {
            std::fs::create_dir_all(dir.path().join(sub)).unwrap();
            for f in toml_files(&root.join(sub)).unwrap() {
                std::fs::copy(&f, dir.path().join(sub).join(f.file_name().unwrap())).unwrap();
            }
        }
        std::fs::copy(root.join("suite.toml"), dir.path().join("suite.toml")).unwrap();
        std::fs::write(dir.path().join("erklaeringer").join(name), text).unwrap();
        dir
    }

    fn erk_01() -> String {
        std::fs::read_to_string(default_root().join("erklaeringer/ERK-01.toml")).unwrap()
    }

    #[test]
    fn a_declaration_with_an_unknown_key_is_refused() {
        let dir = with_declaration("ERK-01.toml", &format!("typo_key = 1\n{}", erk_01()));
        match load(dir.path()) {
            Err(LoadError::Parse { message, .. }) => {
                assert!(message.contains("typo_key"), "{message}")
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn declaration_ids_are_unique_and_name_their_file() {
        // ERK-09.toml holding ERK-01: not named after its id.
        let dir = with_declaration("ERK-09.toml", &erk_01());
        assert!(
            matches!(load(dir.path()), Err(LoadError::Invalid { message, .. }) if message.contains("named after"))
        );
    }

    #[test]
    fn a_declaration_cites_an_existing_seed_file_with_lines() {
        for (reference, ok) in [
            ("seeds/001_217335c2514637f3.txt:2755-2763", true),
            ("seeds/001_217335c2514637f3.txt:12", true),
            ("seeds/009_nonexistent.txt:12", false),
            ("seeds/001_217335c2514637f3.txt", false),
            ("seeds/001_217335c2514637f3.txt:20-10", false),
            ("001_217335c2514637f3.txt:12", false),
        ] {
            let source = Source {
                document: "d".into(),
                section: "s".into(),
                reference: reference.into(),
                quote: "q".into(),
            };
            assert_eq!(check_reference(&source).is_ok(), ok, "{reference}");
        }
        let text = erk_01().replace("seeds/001_217335c2514637f3.txt", "seeds/009_x.txt");
        let dir = with_declaration("ERK-01.toml", &text);
        assert!(
            matches!(load(dir.path()), Err(LoadError::Invalid { message, .. }) if message.contains("seed files"))
        );
    }

    /// The checked-in schemas match the types; `BLESS=1` rewrites them.
    #[test]
    fn checked_in_schemas_are_current() {
        let dir = default_root().join("schemas");
        for (name, schema) in schemas() {
            let path = dir.join(name);
            if std::env::var_os("BLESS").is_some() {
                std::fs::write(&path, &schema).unwrap();
            }
            let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
            assert!(
                on_disk == schema,
                "{} is stale: run BLESS=1 cargo test -p sandkasse-suite",
                path.display()
            );
        }
    }

    #[test]
    fn unknown_keys_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let root = default_root();
        for sub in ["vilkar", "scenarios", "erklaeringer"] {
            std::fs::create_dir_all(dir.path().join(sub)).unwrap();
        }
        std::fs::copy(root.join("suite.toml"), dir.path().join("suite.toml")).unwrap();
        let first = toml_files(&root.join("scenarios")).unwrap().remove(0);
        let text = std::fs::read_to_string(&first).unwrap();
        std::fs::write(
            dir.path()
                .join("scenarios")
                .join(first.file_name().unwrap()),
            format!("typo_key = 1\n{text}"),
        )
        .unwrap();
        match load(dir.path()) {
            Err(LoadError::Parse { message, .. }) => {
                assert!(message.contains("typo_key"), "{message}")
            }
            other => panic!("{other:?}"),
        }
    }
}
