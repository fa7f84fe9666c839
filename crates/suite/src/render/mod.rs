//! The report rendered for the people and tools that read it; the signed JSON report
//! ([`crate::report`]) stays the one authoritative form.
//!
//! - [`html`]: one self-contained page for people (the minijinja template
//!   `templates/report.html`);
//! - [`junit`]: JUnit XML for vendors' CI;
//! - [`badge`]: a small SVG badge, `sandkasse | godkjent 97 %`.
//!
//! Every rendering is deterministic and escapes every string with [`crate::markup`]: the same
//! report gives the same bytes (`tests/all/golden.rs` holds them to `tests/golden/`).
//!
//! ```
//! # fn demo(report: &sandkasse_suite::report::Report) -> std::io::Result<()> {
//! use sandkasse_suite::render::{badge, html, junit};
//! std::fs::write("report.html", html::to_html(report))?;
//! std::fs::write("junit.xml", junit::to_junit(report))?;
//! std::fs::write("badge.svg", badge::to_badge_svg(report))
//! # }
//! ```

pub mod badge;
pub mod html;
pub mod junit;
