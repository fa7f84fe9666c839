//! Loading `conformance/`: strict parsing of every file and the cross-checks between them.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::model::{Assertion, Scenario, Step, SuiteManifest, Vilkar};

/// The suite, loaded and cross-checked.
#[derive(Debug, Clone)]
pub struct Suite {
    pub root: PathBuf,
    pub manifest: SuiteManifest,
    /// In id order.
    pub vilkar: Vec<Vilkar>,
    pub scenarios: BTreeMap<String, Scenario>,
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
    Ok(Suite {
        root: root.to_owned(),
        manifest,
        vilkar,
        scenarios,
    })
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
        for sub in ["vilkar", "scenarios"] {
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
