//! The run page at a glance and the full report page: the root cause first, the failed vilkår by
//! level, a filter for what failed, deep links, the exchange that decided a check, and the report
//! in the layout of the other pages with one rounding and readable times.

use axum::http::StatusCode;

use crate::market::{Market, VENDOR_A};

/// The text between `from` and the next `to` in `html`.
fn between<'a>(html: &'a str, from: &str, to: &str) -> &'a str {
    let start = html
        .find(from)
        .unwrap_or_else(|| panic!("{from} not in the page"));
    let rest = &html[start..];
    &rest[..rest.find(to).unwrap_or(rest.len())]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_component_out_of_fuel_shows_that_cause_first_in_the_page_language() {
    let market = Market::start().await;
    let kari = market.login(VENDOR_A).await;
    let (_, _, run) = market
        .tested(&kari, "Evig", "1.0.0", "hostile_infinite_loop")
        .await;
    let (s, nb) = kari.get(&format!("/kjoringer/{run}")).await;
    assert_eq!(s, StatusCode::OK);
    let cause = nb.find("id=\"root-cause\"").expect("a root cause is shown");
    let table = nb.find("id=\"vilkar\"").expect("the vilkår table");
    assert!(cause < table, "the root cause comes before the vilkår");
    let shown = between(&nb, "id=\"root-cause\"", "</div>");
    assert!(shown.contains("data-class=\"out-of-fuel\""), "{shown}");
    assert!(
        shown.contains("Grunnårsak") && shown.contains("CPU-budsjettet"),
        "{shown}"
    );
    assert!(!shown.contains("Root cause"), "one language: {shown}");
    assert!(
        shown.contains("wasm backtrace"),
        "the backtrace is shown: {shown}"
    );
    // The failed skal vilkår link to their findings, which exist.
    let skal = between(&nb, "id=\"failed-skal\"", "</ul>");
    assert!(skal.contains("href=\"#v-ROB-04\""), "{skal}");
    assert!(
        nb.contains("id=\"v-ROB-04\""),
        "the finding ROB-04 is on the page"
    );
    assert!(nb.contains("id=\"failed-bor\""), "bør vilkår failed too");

    let (_, en) = kari.get(&format!("/kjoringer/{run}?lang=en")).await;
    let shown = between(&en, "id=\"root-cause\"", "</div>");
    assert!(
        shown.contains("Root cause") && shown.contains("CPU budget"),
        "{shown}"
    );
    assert!(!shown.contains("Grunnårsak"), "one language: {shown}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_checks_have_deep_links_the_deciding_exchange_and_a_filter() {
    let market = Market::start().await;
    let kari = market.login(VENDOR_A).await;
    let (product, _, run) = market
        .tested(&kari, "Uten token", "1.0.0", "flawed_drops_token")
        .await;
    let (_, page) = kari.get(&format!("/kjoringer/{run}")).await;
    assert!(
        !page.contains("id=\"root-cause\""),
        "every call completed: no root cause"
    );
    let check = between(
        &page,
        "id=\"v-SIK-01-token-on-every-request-read\"",
        "</div>",
    );
    assert!(
        check.contains("href=\"#v-SIK-01-token-on-every-request-read\""),
        "a visible link to the check: {check}"
    );
    let exchange = between(check, "<details class=\"exchange\" open>", "</details>");
    assert!(
        exchange.contains("GET https://plattform.sandkasse.test/")
            && exchange.contains("<strong>401</strong>"),
        "the request line and the platform's 401: {exchange}"
    );
    assert!(
        !exchange.to_lowercase().contains("bearer ey"),
        "no token in the evidence: {exchange}"
    );
    // Links run → report, run → product.
    assert!(page.contains(&format!("href=\"/kjoringer/{run}/rapport\"")));
    assert!(page.contains(&format!("href=\"/produkter/{product}\"")));

    // All vilkår by default; only those that failed with the filter.
    // Rows of the vilkår table with outcome `class`.
    let rows = |html: &str, class: &str| {
        between(html, "id=\"vilkar\"", "</table>")
            .split("<tr data-vilkar-id=")
            .skip(1)
            .filter(|row| {
                row.split('>')
                    .next()
                    .unwrap_or_default()
                    .contains(&format!("class=\"{class}\""))
            })
            .count()
    };
    assert!(
        rows(&page, "pass") > 20,
        "passing rows are shown by default"
    );
    let (_, failed) = kari.get(&format!("/kjoringer/{run}?vis=feilet")).await;
    assert_eq!(rows(&failed, "pass"), 0, "no passing row when filtered");
    assert_eq!(rows(&failed, "fail"), 1, "SIK-01 is the one failure");
    assert!(
        failed.contains(&format!("href=\"/kjoringer/{run}#vilkar\"")),
        "a way back to all"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_report_page_has_the_layout_one_rounding_and_readable_times() {
    let market = Market::start().await;
    let kari = market.login(VENDOR_A).await;
    let (product, _, run) = market
        .tested(&kari, "Uten token", "1.0.0", "flawed_drops_token")
        .await;
    let (_, run_page) = kari.get(&format!("/kjoringer/{run}")).await;
    let score = between(&run_page, "<span id=\"score\">", "</span>").to_owned();
    assert!(
        score.contains(','),
        "bokmål writes a decimal comma: {score}"
    );
    let (s, report) = kari.get(&format!("/kjoringer/{run}/rapport")).await;
    assert_eq!(s, StatusCode::OK);
    assert!(report.contains("<main id=\"main\""), "the site's layout");
    assert_eq!(
        between(&report, "<span id=\"score\">", "</span>"),
        score,
        "the same score, rounded the same way"
    );
    assert!(
        report.contains(&format!("href=\"/kjoringer/{run}\"")),
        "back to the run"
    );
    assert!(
        report.contains(&format!("href=\"/produkter/{product}\"")),
        "to the product"
    );
    let generated = between(&report, "<dd id=\"generated-at\">", "</dd>");
    let time = generated.trim_start_matches("<dd id=\"generated-at\">");
    assert!(
        time.len() == "2026-11-23 07:41 UTC".len() && time.ends_with(" UTC"),
        "a readable time: {time}"
    );
    assert!(
        report.contains("id=\"v-SIK-01\""),
        "the finding has its anchor"
    );
    let (_, en) = kari.get(&format!("/kjoringer/{run}/rapport?lang=en")).await;
    assert!(en.contains("<html lang=\"en\""), "the page in English");
    assert!(en.contains("What is not met") && !en.contains("Det som ikke er oppfylt"));
    // The self-contained document is a download.
    let (s, html) = kari.get(&format!("/api/v1/runs/{run}/report.html")).await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("Samsvarsrapport"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_runs_evidence_downloads_as_one_zip_whose_report_verifies() {
    let market = Market::start().await;
    let kari = market.login(VENDOR_A).await;
    let (_, _, run) = market
        .tested(&kari, "Uten token", "1.0.0", "flawed_drops_token")
        .await;
    let (_, page) = kari.get(&format!("/kjoringer/{run}")).await;
    assert!(page.contains(&format!("href=\"/api/v1/runs/{run}/evidence.zip\"")));
    let request = axum::http::Request::get(format!("/api/v1/runs/{run}/evidence.zip"));
    let response = kari.raw(request).await;
    assert_eq!(response.0, StatusCode::OK);
    assert_eq!(
        response.1.get("content-disposition").unwrap(),
        &format!("attachment; filename=\"sandkasse-kjoring-{run}.zip\"")
    );
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(response.2)).unwrap();
    let mut read = |name: &str| {
        let mut text = String::new();
        std::io::Read::read_to_string(
            &mut zip.by_name(&format!("kjoring-{run}/{name}")).unwrap(),
            &mut text,
        )
        .unwrap();
        text
    };
    let report = read("report.json");
    let verified = sandkasse_suite::sign::verify_json(report.as_bytes(), None)
        .expect("the report in the archive verifies");
    assert_eq!(verified.verdict.as_str(), "ikke-godkjent");
    assert!(read("report.html").contains("Samsvarsrapport"));
    assert!(read("report.xml").contains("<testsuite"));
    let nb = read("LESMEG.txt");
    assert!(
        nb.contains("sandkasse verify report.json") && nb.contains("ikke-godkjent"),
        "{nb}"
    );
    assert!(read("README.txt").contains("Reproduce the run with"));
    let ola = market.login(crate::market::VENDOR_B).await;
    assert_eq!(
        ola.get(&format!("/api/v1/runs/{run}/evidence.zip")).await.0,
        StatusCode::NOT_FOUND
    );
}
