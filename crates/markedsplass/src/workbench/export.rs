//! Test data to download: the generator's output for the organisation's seed as a zip (FHIR
//! NDJSON per kommune and type, the ground truth, `manifest.json`), and the hosted endpoint's
//! Bulk-Data-style `$export` of a kommune's current data (the base with the vendor's writes).
//!
//! `$export` follows the FHIR Bulk Data Access flow without its wait: the kick-off
//! (`GET {base}/$export`) answers `202 Accepted` with `Content-Location: {base}/$export-status`,
//! which answers the complete-status manifest at once; its `output` files are
//! `{base}/$export-file/{Type}`. All three need a token of the sandbox for the kommune.

use std::io::Write as _;

use jiff::Timestamp;
use sandkasse_platform::Platform;
use serde::Serialize;

use crate::error::AppError;
use crate::market::Market;
use crate::policy::Actor;

/// The complete-status answer of a Bulk Data export.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExportManifest {
    pub transaction_time: Timestamp,
    pub request: String,
    pub requires_access_token: bool,
    pub output: Vec<ExportFile>,
    pub error: Vec<ExportFile>,
}

/// One file of an export.
#[derive(Debug, Clone, Serialize)]
pub struct ExportFile {
    #[serde(rename = "type")]
    pub kind: String,
    pub url: String,
    pub count: u64,
}

/// The resource types an export can hold (every type the platform serves but `AuditEvent`).
pub fn types() -> impl Iterator<Item = &'static str> {
    sandkasse_platform::types::TYPES
        .iter()
        .map(|t| t.name)
        .filter(|t| *t != "AuditEvent")
}

/// The manifest of a kommune's export: the types asked for (`_type`, comma-separated; all when
/// `None`) that have resources. `None` for an unknown kommune.
pub fn manifest(
    platform: &Platform,
    kommunenummer: &str,
    fhir_base: &str,
    wanted: Option<&str>,
    now: Timestamp,
) -> Option<ExportManifest> {
    let wanted: Option<Vec<&str>> = wanted.map(|w| w.split(',').map(str::trim).collect());
    let mut output = Vec::new();
    for t in types().filter(|t| wanted.as_ref().is_none_or(|w| w.contains(t))) {
        let (count, _) = platform.export_ndjson(kommunenummer, t)?;
        if count > 0 {
            output.push(ExportFile {
                kind: t.to_owned(),
                url: format!("{fhir_base}/$export-file/{t}"),
                count,
            });
        }
    }
    Some(ExportManifest {
        transaction_time: now,
        request: match wanted {
            Some(w) => format!("{fhir_base}/$export?_type={}", w.join(",")),
            None => format!("{fhir_base}/$export"),
        },
        requires_access_token: true,
        output,
        error: Vec::new(),
    })
}

/// The generator's output for the caller's organisation as a zip: `(file name, bytes)`.
pub async fn testdata_zip(market: &Market, actor: &Actor) -> Result<(String, Vec<u8>), AppError> {
    let org = super::organisation(actor)?;
    let seed = super::seed(org);
    let config = sandkasse_kommune::GenConfig::new(seed, market.workbench.config.innbyggere);
    let folder = format!("sandkasse-data-{seed}");
    let bytes = tokio::task::spawn_blocking(move || -> Result<Vec<u8>, AppError> {
        let internal = |e: &dyn std::fmt::Display| AppError::Internal(e.to_string().into());
        let dir = tempfile::tempdir().map_err(|e| internal(&e))?;
        sandkasse_kommune::output::write_ndjson(&config, dir.path()).map_err(|e| internal(&e))?;
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        let mut files = Vec::new();
        collect(dir.path(), dir.path(), &mut files).map_err(|e| internal(&e))?;
        files.sort();
        for relative in files {
            let text = std::fs::read(dir.path().join(&relative)).map_err(|e| internal(&e))?;
            zip.start_file(format!("{folder}/{relative}"), options)
                .map_err(|e| internal(&e))?;
            zip.write_all(&text).map_err(|e| internal(&e))?;
        }
        Ok(zip.finish().map_err(|e| internal(&e))?.into_inner())
    })
    .await
    .map_err(|e| AppError::Internal(Box::new(e)))??;
    Ok((format!("sandkasse-data-{seed}.zip"), bytes))
}

/// Every file under `dir`, as paths relative to `root` with `/`.
fn collect(
    root: &std::path::Path,
    dir: &std::path::Path,
    out: &mut Vec<String>,
) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            collect(root, &path, out)?;
        } else if let Ok(relative) = path.strip_prefix(root) {
            out.push(relative.to_string_lossy().replace('\\', "/"));
        }
    }
    Ok(())
}
