//! The product page's per-vilkår results of the listed version, for everyone, and the comparison
//! of two runs of a product.

use axum::http::StatusCode;

use crate::market::{Market, VENDOR_A, VENDOR_B};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn everyone_sees_the_listed_versions_result_per_vilkar_and_the_owner_compares_two_runs() {
    let market = Market::start().await;
    let kari = market.login(VENDOR_A).await;
    let (product, submission, good) = market
        .tested(&kari, "Journal Nord", "1.0.0", "reference")
        .await;
    let (_, _, bad) = market
        .tested(&kari, "Journal Nord", "1.1.0", "flawed_drops_token")
        .await;

    // Not listed yet: the public sees nothing of it.
    let public = market.anonymous();
    assert_eq!(
        public.get(&format!("/produkter/{product}")).await.0,
        StatusCode::NOT_FOUND
    );
    market.list(&kari, product, submission).await;
    let (s, page) = public.get(&format!("/produkter/{product}")).await;
    assert_eq!(s, StatusCode::OK);
    let table = page
        .split("id=\"vilkar-results\"")
        .nth(1)
        .and_then(|t| t.split("</table>").next())
        .expect("the per-vilkår results of the listed version");
    let rows = table.matches("<tr data-vilkar-id=").count();
    let suite = sandkasse_suite::load::load(&sandkasse_suite::load::default_root()).unwrap();
    assert_eq!(rows, suite.vilkar.len(), "every vilkår of the listed run");
    assert_eq!(
        table.matches("class=\"pass\"").count(),
        rows,
        "the listed reference passes every vilkår"
    );
    assert!(
        !page.contains("id=\"compare-form\""),
        "the public compares nothing"
    );

    // The owner compares the godkjent run with the flawed one.
    let (_, own) = kari.get(&format!("/produkter/{product}")).await;
    assert!(
        own.contains("id=\"compare-form\""),
        "the owner can choose two runs"
    );
    let (s, cmp) = kari
        .get(&format!("/produkter/{product}/sammenlign?a={good}&b={bad}"))
        .await;
    assert_eq!(s, StatusCode::OK, "{cmp}");
    let row = |id: &str| {
        cmp.split(&format!("<tr data-vilkar-id=\"{id}\""))
            .nth(1)
            .and_then(|r| r.split("</tr>").next())
            .unwrap_or_else(|| panic!("no row {id}"))
            .to_owned()
    };
    let sik = row("SIK-01");
    assert!(sik.starts_with(" class=\"changed\""), "{sik}");
    assert!(
        sik.contains("outcome pass") && sik.contains("outcome fail"),
        "passed in A, failed in B: {sik}"
    );
    assert!(!row("INF-01").contains("changed"), "INF-01 passes in both");
    for figure in ["fuel", "peak_memory_bytes", "requests"] {
        assert!(
            cmp.contains(&format!("data-figure=\"{figure}\"")),
            "{figure}"
        );
    }

    // Another organisation, a run of another product, a malformed query.
    let ola = market.login(VENDOR_B).await;
    let path = format!("/produkter/{product}/sammenlign?a={good}&b={bad}");
    assert_eq!(ola.get(&path).await.0, StatusCode::NOT_FOUND);
    let (other, _, foreign) = market
        .tested(&kari, "Journal Sør", "1.0.0", "reference")
        .await;
    assert_ne!(other, product);
    assert_eq!(
        kari.get(&format!(
            "/produkter/{product}/sammenlign?a={good}&b={foreign}"
        ))
        .await
        .0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        kari.get(&format!("/produkter/{product}/sammenlign?a=abc&b={bad}"))
            .await
            .0,
        StatusCode::BAD_REQUEST
    );
}
