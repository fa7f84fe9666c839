//! Signing, rendering and verifying reports, for `sandkasse test` and `sandkasse verify`.

use anyhow::Context as _;
use sandkasse_suite::render::{badge, html, junit};
use sandkasse_suite::report::Report;
use sandkasse_suite::sign::{self, KeySource};

/// Signs with the operator key (`SANDKASSE_SIGNING_KEY`) or the local key, generated on first use.
pub fn sign(mut report: Report) -> anyhow::Result<Report> {
    let key = KeySource::resolve(None)?
        .load()
        .context("loading the signing key")?;
    sign::sign(&mut report, &key.key);
    eprintln!("Signert med / signed with {key}");
    Ok(report)
}

/// (file name, contents) of one report format.
pub fn render(report: &Report, format: &str) -> anyhow::Result<(&'static str, String)> {
    Ok(match format {
        "json" => ("report.json", serde_json::to_string_pretty(report)? + "\n"),
        "junit" => ("junit.xml", junit::to_junit(report)),
        "html" => ("report.html", html::to_html(report)),
        "badge" => ("badge.svg", badge::to_badge_svg(report)),
        other => {
            anyhow::bail!("ukjent format / unknown format `{other}` (json, junit, html, badge)")
        }
    })
}

/// Checks the signature and that the file holds nothing the signature does not cover.
pub fn verify(bytes: &[u8], key: Option<&str>) -> anyhow::Result<Report> {
    Ok(sign::verify_json(bytes, key)?)
}
