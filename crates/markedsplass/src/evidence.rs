//! A run's evidence as one file to keep or send on: `sandkasse-kjoring-{id}.zip` with the signed
//! report exactly as stored (`report.json`, checked with `sandkasse verify report.json`), its
//! renderings (`report.html`, self-contained; `report.xml`, JUnit; `badge.svg`) and a note in
//! bokmål (`LESMEG.txt`) and English (`README.txt`) that says what the run was and how to check
//! and reproduce it.
//!
//! The archive is built from stored data only, so the same run always gives the same bytes (every
//! entry is dated with the run's finish).

use std::io::Write as _;

use zip::write::SimpleFileOptions;

use crate::error::AppError;
use crate::market::Market;
use crate::policy::Actor;
use crate::service;

/// The archive's file name for run `id`.
pub fn file_name(id: i64) -> String {
    format!("sandkasse-kjoring-{id}.zip")
}

/// The evidence of run `run_id` for a caller who may see the run; not found before it has a
/// report.
pub async fn bundle(market: &Market, actor: &Actor, run_id: i64) -> Result<Vec<u8>, AppError> {
    let (run, submission, product) = service::run(market, actor, run_id).await?;
    let stored = market
        .stores
        .market
        .run_report(run.id)
        .await?
        .ok_or(AppError::NotFound)?;
    let finished = run.finished_at.unwrap_or(run.queued_at);
    tokio::task::spawn_blocking(move || {
        let report: sandkasse_suite::report::Report =
            serde_json::from_str(&stored).map_err(|e| AppError::Internal(Box::new(e)))?;
        let facts = Facts {
            run: run.id,
            product: &product.name,
            vendor: &product.vendor,
            version: &submission.version,
            digest: &report.component.digest,
            verdict: report.verdict.as_str(),
            score: report.score,
            suite: &report.suite.version,
            scenario: run.scenario.as_deref(),
            reproduce: &report.reproduce,
        };
        let files: [(&str, String); 6] = [
            ("report.json", stored.clone()),
            (
                "report.html",
                sandkasse_suite::render::html::to_html(&report),
            ),
            (
                "report.xml",
                sandkasse_suite::render::junit::to_junit(&report),
            ),
            (
                "badge.svg",
                sandkasse_suite::render::badge::to_badge_svg(&report),
            ),
            ("LESMEG.txt", facts.note_nb()),
            ("README.txt", facts.note_en()),
        ];
        archive(run.id, finished, &files).map_err(|e| AppError::Internal(Box::new(e)))
    })
    .await
    .map_err(|e| AppError::Internal(Box::new(e)))?
}

/// What the notes say.
struct Facts<'a> {
    run: i64,
    product: &'a str,
    vendor: &'a str,
    version: &'a str,
    digest: &'a str,
    verdict: &'a str,
    score: f64,
    suite: &'a str,
    scenario: Option<&'a str>,
    reproduce: &'a str,
}

impl Facts<'_> {
    fn note_nb(&self) -> String {
        let partial = self.scenario.map_or(String::new(), |s| {
            format!("\nBare scenario {s} ble kjørt; kjøringen teller ikke for oppføring.\n")
        });
        format!(
            "Kjøring {run} i sandkasse: {product} {version} fra {vendor}\n\
             Resultat: {verdict}, poengsum {score}, testsett {suite}\n\
             Komponent (SHA-256): {digest}\n{partial}\n\
             report.json er den signerte rapporten. Kontroller signaturen med:\n\
             \x20 sandkasse verify report.json\n\
             Gjenskap kjøringen med:\n\
             \x20 {reproduce}\n\
             report.html er rapporten som én side, report.xml i JUnit-format, badge.svg merket.\n",
            run = self.run,
            product = self.product,
            version = self.version,
            vendor = self.vendor,
            verdict = self.verdict,
            score = sandkasse_suite::markup::percent(self.score, "nb"),
            suite = self.suite,
            digest = self.digest,
            reproduce = self.reproduce,
        )
    }

    fn note_en(&self) -> String {
        let partial = self.scenario.map_or(String::new(), |s| {
            format!("\nOnly scenario {s} was run; the run does not count for a listing.\n")
        });
        format!(
            "Run {run} in sandkasse: {product} {version} by {vendor}\n\
             Verdict: {verdict}, score {score}, suite {suite}\n\
             Component (SHA-256): {digest}\n{partial}\n\
             report.json is the signed report. Check its signature with:\n\
             \x20 sandkasse verify report.json\n\
             Reproduce the run with:\n\
             \x20 {reproduce}\n\
             report.html is the report as one page, report.xml in JUnit format, badge.svg the badge.\n",
            run = self.run,
            product = self.product,
            version = self.version,
            vendor = self.vendor,
            verdict = self.verdict,
            score = sandkasse_suite::markup::percent(self.score, "en"),
            suite = self.suite,
            digest = self.digest,
            reproduce = self.reproduce,
        )
    }
}

/// The files as a zip archive in a folder `kjoring-{run}/`, each dated `at`.
fn archive(
    run: i64,
    at: jiff::Timestamp,
    files: &[(&str, String)],
) -> zip::result::ZipResult<Vec<u8>> {
    let civil = at.to_zoned(jiff::tz::TimeZone::UTC).datetime();
    let when = zip::DateTime::from_date_and_time(
        u16::try_from(civil.year()).unwrap_or(1980),
        civil.month().unsigned_abs(),
        civil.day().unsigned_abs(),
        civil.hour().unsigned_abs(),
        civil.minute().unsigned_abs(),
        civil.second().unsigned_abs(),
    )
    .unwrap_or_default();
    let options = SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .last_modified_time(when);
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, text) in files {
        zip.start_file(format!("kjoring-{run}/{name}"), options)?;
        zip.write_all(text.as_bytes())?;
    }
    Ok(zip.finish()?.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_archive_is_the_same_bytes_for_the_same_run() {
        let at: jiff::Timestamp = "2026-11-23T07:41:09Z".parse().unwrap();
        let files = [
            ("report.json", "{}".to_owned()),
            ("README.txt", "hei".to_owned()),
        ];
        let one = archive(7, at, &files).unwrap();
        assert_eq!(one, archive(7, at, &files).unwrap());
        assert!(one.starts_with(b"PK\x03\x04"), "a zip archive");
        let mut zip = zip::ZipArchive::new(std::io::Cursor::new(one)).unwrap();
        let names: Vec<String> = zip.file_names().map(|n| n.unwrap().into_owned()).collect();
        assert_eq!(names, ["kjoring-7/report.json", "kjoring-7/README.txt"]);
        let mut text = String::new();
        std::io::Read::read_to_string(&mut zip.by_name("kjoring-7/README.txt").unwrap(), &mut text)
            .unwrap();
        assert_eq!(text, "hei");
    }
}
