//! The web pages: server-rendered HTML from the templates in `web/templates`, with the texts of
//! `web/i18n.toml` (bokmål by default, English with `?lang=en`, remembered in a cookie) and the
//! assets of `web/static`. Everything is embedded in the binary; no JavaScript build step, and
//! every page works without JavaScript (the run page refreshes itself instead of following the
//! live progress).
//!
//! Handlers are thin: they call [`crate::service`] and render ([`super::page`]). They return
//! `Result<Response, PageError>`: an error becomes a page with the same message as the API's; an
//! anonymous visitor to a page that needs a login is sent to `/logg-inn` and back. Forms that
//! change state carry the session's CSRF token ([`CsrfForm`]).

use std::collections::BTreeMap;

use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, Path, Query, Request};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use minijinja::{Environment, Value as J, context};
use serde::Deserialize;

use super::api::{self, UploadForm};
use super::auth;
use super::csrf::{self, CsrfForm, CsrfFormRejection};
use super::page::{Page, PageError};
use super::self_service::confirmed;
use super::server::AppState;
use crate::error::AppError;
use crate::i18n::{self, Lang};
use crate::policy;
use crate::service::{self, CatalogueFilter, DecisionInput, ListingAction, ListingChange};
use crate::store::Role;
use crate::trail::{EventView, TrailFilter};
use sandkasse_suite::report::glance;

/// The templates, embedded at build time.
const TEMPLATES: &[(&str, &str)] = &[
    (
        "base.html",
        include_str!("../../../../web/templates/base.html"),
    ),
    (
        "catalogue.html",
        include_str!("../../../../web/templates/catalogue.html"),
    ),
    (
        "login.html",
        include_str!("../../../../web/templates/login.html"),
    ),
    (
        "dashboard.html",
        include_str!("../../../../web/templates/dashboard.html"),
    ),
    (
        "upload.html",
        include_str!("../../../../web/templates/upload.html"),
    ),
    (
        "run.html",
        include_str!("../../../../web/templates/run.html"),
    ),
    (
        "report.html",
        include_str!("../../../../web/templates/report.html"),
    ),
    (
        "compare.html",
        include_str!("../../../../web/templates/compare.html"),
    ),
    (
        "product.html",
        include_str!("../../../../web/templates/product.html"),
    ),
    (
        "queue.html",
        include_str!("../../../../web/templates/queue.html"),
    ),
    (
        "case.html",
        include_str!("../../../../web/templates/case.html"),
    ),
    (
        "audit.html",
        include_str!("../../../../web/templates/audit.html"),
    ),
    (
        "error.html",
        include_str!("../../../../web/templates/error.html"),
    ),
    (
        "nights.html",
        include_str!("../../../../web/templates/nights.html"),
    ),
    (
        "night.html",
        include_str!("../../../../web/templates/night.html"),
    ),
    (
        "notifications.html",
        include_str!("../../../../web/templates/notifications.html"),
    ),
    (
        "tokens.html",
        include_str!("../../../../web/templates/tokens.html"),
    ),
    (
        "admin.html",
        include_str!("../../../../web/templates/admin.html"),
    ),
    (
        "admin_user.html",
        include_str!("../../../../web/templates/admin_user.html"),
    ),
    (
        "webhook.html",
        include_str!("../../../../web/templates/webhook.html"),
    ),
    (
        "password.html",
        include_str!("../../../../web/templates/password.html"),
    ),
    (
        "confirm.html",
        include_str!("../../../../web/templates/confirm.html"),
    ),
    (
        "workbench.html",
        include_str!("../../../../web/templates/workbench.html"),
    ),
    (
        "workbench_kinds.html",
        include_str!("../../../../web/templates/workbench_kinds.html"),
    ),
    (
        "workbench_exchanges.html",
        include_str!("../../../../web/templates/workbench_exchanges.html"),
    ),
    (
        "declaration.html",
        include_str!("../../../../web/templates/declaration.html"),
    ),
];

/// The static assets: `(file name, content type, content)`.
const STATIC: &[(&str, &str, &str)] = &[
    (
        "style.css",
        "text/css; charset=utf-8",
        include_str!("../../../../web/static/style.css"),
    ),
    (
        "run.js",
        "text/javascript; charset=utf-8",
        include_str!("../../../../web/static/run.js"),
    ),
    (
        "copy.js",
        "text/javascript; charset=utf-8",
        include_str!("../../../../web/static/copy.js"),
    ),
];

/// The template environment and the texts.
pub struct Templates {
    env: Environment<'static>,
}

impl std::fmt::Debug for Templates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Templates { .. }")
    }
}

impl Default for Templates {
    fn default() -> Self {
        Self::new()
    }
}

impl Templates {
    pub fn new() -> Templates {
        let mut env = Environment::new();
        // The report's escaping policy, not minijinja's: every value escaped, control and
        // bidirectional characters in vendors' text shown by code point.
        sandkasse_suite::markup::install(&mut env);
        for (name, source) in TEMPLATES {
            env.add_template(name, source)
                .expect("templates parse (checked by a test)");
        }
        // t("key") in the page's language; a missing key shows itself (and fails the i18n test).
        env.add_function("t", |state: &minijinja::State, key: &str| -> String {
            i18n::text(page_lang(state), key).to_owned()
        });
        // A listing's status (`crate::listing::ListingStatus`) as every page shows it.
        env.add_filter("status", |state: &minijinja::State, status: String| {
            let label = i18n::text(page_lang(state), &format!("status_{status}")).to_owned();
            let status = sandkasse_suite::markup::escape(&status);
            J::from_safe_string(format!(
                "<span class=\"status {status}\" data-status=\"{status}\">{}</span>",
                sandkasse_suite::markup::escape(&label)
            ))
        });
        // A text in the page's language from a `{nb, en}` object (the suite's titles), or from a
        // stored `bokmål / English` text (run errors, listing reasons, the suite's reasons).
        env.add_filter("lang", |state: &minijinja::State, value: J| -> J {
            let lang = page_lang(state);
            if let Some(text) = value.as_str() {
                return J::from(i18n::one_side(text, lang).into_owned());
            }
            value
                .get_attr(lang.as_str())
                .ok()
                .filter(|v| !v.is_undefined())
                .unwrap_or(value)
        });
        env.add_filter("when", |value: J| -> String {
            // RFC 3339 → "2026-11-23 07:41 UTC"
            sandkasse_suite::markup::readable_time(&value.to_string())
        });
        // A value for a link's query string (`/revisjon?subject={{ e.subject|query }}`).
        env.add_filter("query", |value: String| crate::trail::encode(&value));
        // One rounding for every score, the report's: two decimals, the page's decimal sign.
        env.add_filter("percent", |state: &minijinja::State, value: J| -> String {
            f64::try_from(value)
                .map(|v| sandkasse_suite::markup::percent(v, page_lang(state).as_str()))
                .unwrap_or_default()
        });
        // A relative change (a night's fuel against the night before): `+12.5 %`, `−3.0 %`.
        env.add_filter("change", |state: &minijinja::State, value: J| -> String {
            let comma = page_lang(state) != Lang::En;
            f64::try_from(value)
                .map(|v| {
                    let text = format!("{:+.1}\u{a0}%", v * 100.0).replace('-', "\u{2212}");
                    if comma { text.replace('.', ",") } else { text }
                })
                .unwrap_or_default()
        });
        Templates { env }
    }

    pub(super) fn render(&self, name: &str, ctx: J) -> Result<String, minijinja::Error> {
        self.env.get_template(name)?.render(ctx)
    }
}

/// The language of the page being rendered (its context's `lang`).
fn page_lang(state: &minijinja::State) -> Lang {
    state
        .lookup("lang")
        .and_then(|l| l.as_str().and_then(Lang::parse))
        .unwrap_or_default()
}

/// A local path to go back to after login (never another site).
fn safe_next(next: Option<&str>) -> Option<&str> {
    // Browsers drop tabs and newlines from URLs (`/\t/evil` becomes `//evil`): only plain paths.
    next.filter(|n| {
        n.starts_with('/')
            && !n.starts_with("//")
            && !n.contains('\\')
            && !n.chars().any(|c| c.is_control() || c.is_whitespace())
    })
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(catalogue))
        .route("/static/{file}", get(asset))
        .route("/logg-inn", get(login_page).post(login))
        .route("/logg-ut", post(logout))
        .route("/leverandor", get(dashboard))
        .route("/leverandor/last-opp", get(upload_page).post(upload))
        .route("/kjoringer/{id}", get(run_page))
        .route("/kjoringer/{id}/rapport", get(report_page))
        .route("/kjoringer/{id}/ny", post(rerun))
        .route("/produkter/{id}", get(product_page))
        .route("/produkter/{id}/sammenlign", get(compare_page))
        .route(
            "/produkter/{id}/oppforing",
            post(super::listing_form::request_listing),
        )
        .route("/produkter/{id}/oppforing/{action}", post(change_listing))
        .route("/vurdering", get(queue_page))
        .route("/vurdering/{id}", get(case_page).post(decide))
        .route("/revisjon", get(audit_page))
        .route("/natt", get(nights_page))
        .route("/natt/{night}", get(night_page))
        .merge(super::self_service::routes())
}

/// Every page route as `(method, path)`, for the authorisation test.
pub const ROUTES: &[(&str, &str)] = &[
    ("GET", "/"),
    ("GET", "/static/{file}"),
    ("GET", "/logg-inn"),
    ("POST", "/logg-inn"),
    ("POST", "/logg-ut"),
    ("GET", "/leverandor"),
    ("GET", "/leverandor/last-opp"),
    ("POST", "/leverandor/last-opp"),
    ("GET", "/kjoringer/{id}"),
    ("GET", "/kjoringer/{id}/rapport"),
    ("POST", "/kjoringer/{id}/ny"),
    ("GET", "/produkter/{id}"),
    ("GET", "/produkter/{id}/sammenlign"),
    ("POST", "/produkter/{id}/oppforing"),
    ("POST", "/produkter/{id}/oppforing/{action}"),
    ("GET", "/vurdering"),
    ("GET", "/vurdering/{id}"),
    ("POST", "/vurdering/{id}"),
    ("GET", "/revisjon"),
    ("GET", "/natt"),
    ("GET", "/natt/{night}"),
    ("GET", "/leverandor/nokler"),
    ("POST", "/leverandor/nokler"),
    ("POST", "/leverandor/nokler/{id}/tilbakekall"),
    ("GET", "/admin"),
    ("POST", "/admin/organisasjoner"),
    ("POST", "/admin/brukere"),
    ("GET", "/admin/brukere/{id}"),
    ("POST", "/admin/brukere/{id}/rolle"),
    ("POST", "/admin/brukere/{id}/status"),
    ("POST", "/admin/brukere/{id}/passord"),
    ("GET", "/admin/webhook"),
    ("GET", "/passord"),
    ("POST", "/passord"),
    ("GET", "/leverandor/sandkasse"),
    ("POST", "/leverandor/sandkasse/start"),
    ("POST", "/leverandor/sandkasse/feil"),
    ("POST", "/leverandor/sandkasse/nullstill"),
    ("GET", "/leverandor/sandkasse/persontyper"),
    ("GET", "/leverandor/sandkasse/utvekslinger"),
    ("GET", "/leverandor/sandkasse/testdata.zip"),
];

/// Security headers on every response: a strict CSP (no inline script), no framing, no sniffing,
/// no referrer to other sites.
pub async fn security_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    let csp = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; \
               frame-ancestors 'none'; form-action 'self'; base-uri 'none'";
    headers
        .entry(header::CONTENT_SECURITY_POLICY)
        .or_insert(HeaderValue::from_static(csp));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    response
}

async fn asset(Path(file): Path<String>) -> Response {
    match STATIC.iter().find(|(name, _, _)| *name == file) {
        Some((_, content_type, body)) => (
            [
                (header::CONTENT_TYPE, *content_type),
                (header::CACHE_CONTROL, "public, max-age=300"),
            ],
            *body,
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "not found").into_response(),
    }
}

async fn catalogue(
    page: Page,
    Query(filter): Query<CatalogueFilter>,
) -> Result<Response, PageError> {
    let entries = service::catalogue(&page.state, &filter).await?;
    Ok(page.ok(
        "catalogue.html",
        context! {
            entries => entries, filter => filter, capabilities => ["read", "write", "events"],
            declaration_titles => declaration_titles(&page),
        },
    ))
}

/// Every declaration's title in the page's language, by id (the catalogue and the product page
/// name the declarations a listing carries).
fn declaration_titles(page: &Page) -> BTreeMap<String, String> {
    crate::declarations::views(&page.state.runner.suite, page.lang)
        .into_iter()
        .map(|v| (v.id, v.title))
        .collect()
}

#[derive(Debug, Deserialize)]
struct NextQuery {
    neste: Option<String>,
}

async fn login_page(page: Page, Query(q): Query<NextQuery>) -> Response {
    page.ok(
        "login.html",
        context! { next => safe_next(q.neste.as_deref()), error => J::from(()) , username => "" },
    )
}

#[derive(Debug, Deserialize)]
struct LoginForm {
    username: String,
    password: String,
    #[serde(default)]
    next: Option<String>,
}

/// Where a user lands after logging in.
pub(super) fn home(role: Role) -> &'static str {
    match role {
        Role::Vendor => "/leverandor",
        Role::Reviewer | Role::Beslutningsgruppe => "/vurdering",
        Role::Admin => "/revisjon",
    }
}

async fn login(
    page: Page,
    address: auth::ClientAddr,
    Form(form): Form<LoginForm>,
) -> Result<Response, PageError> {
    let state = &page.state;
    match auth::login(state, address, &form.username, &form.password).await {
        Ok(user) => {
            let cookie = auth::start_session(state, &user).await?;
            let to = if user.must_change_password {
                "/passord".to_owned()
            } else {
                safe_next(form.next.as_deref())
                    .unwrap_or(home(user.role))
                    .to_owned()
            };
            Ok(([(header::SET_COOKIE, cookie)], Redirect::to(&to)).into_response())
        }
        // A refused login is the login form again, with the reason.
        Err(e) => {
            let (status, _) = e.status_and_code();
            let message = e.text(page.lang);
            Ok(page.render(
                status,
                "login.html",
                context! { next => safe_next(form.next.as_deref()), error => message, username => form.username },
            ))
        }
    }
}

/// A form with no field but its CSRF token.
#[derive(Debug, Deserialize)]
struct NoFields {}

async fn logout(
    page: Page,
    headers: HeaderMap,
    CsrfForm(NoFields {}): CsrfForm<NoFields>,
) -> Result<Response, PageError> {
    let cookie = auth::end_session(&page.state, &headers).await?;
    Ok(([(header::SET_COOKIE, cookie)], Redirect::to("/")).into_response())
}

async fn dashboard(page: Page) -> Result<Response, PageError> {
    let (state, actor) = (&page.state, &page.actor);
    let products = service::products(state, actor).await?;
    let notifications = service::notifications(state, actor).await?;
    Ok(page.ok(
        "dashboard.html",
        context! { products => products, is_vendor => actor.role() == Some(Role::Vendor), notifications => notifications },
    ))
}

/// The names of the vendor's products, for the upload page's picker.
async fn product_names(page: &Page) -> Result<Vec<String>, AppError> {
    let organisation = policy::vendor_organisation(&page.actor)?;
    let mut names = page.state.stores.market.product_names(organisation).await?;
    names.sort_by_key(|n| n.to_lowercase());
    Ok(names)
}

async fn upload_page(page: Page) -> Result<Response, PageError> {
    policy::vendor_organisation(&page.actor)?;
    let limit_mib = page.state.config.max_upload_bytes.div_ceil(1 << 20);
    let products = product_names(&page).await?;
    Ok(page.ok(
        "upload.html",
        context! { error => J::from(()), form => context! {}, limit_mib => limit_mib, products => products },
    ))
}

/// An upload refused for what it holds is the upload form again, with the reason (and the fields
/// as far as they were read); only an internal error is the error page.
async fn upload(
    page: Page,
    headers: HeaderMap,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Response, PageError> {
    let (state, actor) = (&page.state, &page.actor);
    policy::vendor_organisation(actor)?;
    let limit_mib = state.config.max_upload_bytes.div_ceil(1 << 20);
    let products = product_names(&page).await?;
    let again = |e: AppError, form: J| {
        let (status, _) = e.status_and_code();
        page.render(
            status,
            "upload.html",
            context! { error => e.text(page.lang), form => form, limit_mib => limit_mib, products => products },
        )
    };
    let multipart = match multipart {
        Ok(multipart) => multipart,
        Err(_) => return Ok(again(api::not_a_form(&headers), context! {})),
    };
    let UploadForm {
        upload,
        csrf: token,
    } = match api::read_upload(state.config.max_upload_bytes, multipart).await {
        Ok(read) => read,
        Err(e) => return Ok(again(e, context! {})),
    };
    let new_product = upload.product_choice == crate::picker::ProductChoice::New;
    let form = context! {
        product => upload.product.clone(), new_product => new_product,
        version => upload.version.clone(), changelog => upload.changelog.clone(),
    };
    // The token is a field of the form, so it is checked once the form is read.
    if let Err(e) = csrf::check(actor, token.as_deref()) {
        return Ok(again(e, form));
    }
    match service::submit(state, actor, upload).await {
        Ok(s) => Ok(Redirect::to(&format!("/kjoringer/{}", s.run.id)).into_response()),
        Err(e @ AppError::Internal(_)) => Err(e.into()),
        Err(e) => Ok(again(e, form)),
    }
}

#[derive(Debug, Deserialize)]
struct RunQuery {
    /// `feilet`: only the vilkår that failed or erred.
    #[serde(default)]
    vis: Option<String>,
}

async fn run_page(
    page: Page,
    Path(id): Path<i64>,
    Query(q): Query<RunQuery>,
) -> Result<Response, PageError> {
    render_run(&page, id, StatusCode::OK, q.vis.as_deref(), None).await
}

/// The run page (`vis`: `feilet` for only what failed); with `refused`, the listing request's
/// form again with why and the answers as typed.
pub(super) async fn render_run(
    page: &Page,
    id: i64,
    status: StatusCode,
    vis: Option<&str>,
    refused: Option<super::listing_form::Refused>,
) -> Result<Response, PageError> {
    let (state, actor) = (&page.state, &page.actor);
    let (run, submission, product) = service::run(state, actor, id).await?;
    let report = match service::stored_report(state, run.id).await {
        Ok(report) => Some(report),
        Err(AppError::NotFound) => None,
        Err(e) => return Err(e.into()),
    };
    let progress = service::stored_progress(state, &run);
    let open_case = state
        .stores
        .market
        .cases(
            &[
                crate::store::CaseState::InReview,
                crate::store::CaseState::Escalated,
            ],
            Some(product.id),
        )
        .await?
        .first()
        .map(|c| c.id);
    let listing = state.stores.market.listing(product.id).await?;
    let listed_submission = listing
        .as_ref()
        .filter(|l| l.state == crate::store::ListingState::Listed)
        .map(|l| l.submission_id);
    // The product's listing beside the run, so a run is never read as the listing's state.
    let listing_status = crate::listing::ListingStatus::of(listing.as_ref());
    let listing_version = listing.map(|l| {
        if l.submission_id == submission.id {
            "this"
        } else {
            "other"
        }
    });
    let can_request = actor.role() == Some(Role::Vendor)
        && run.is_whole()
        && run.godkjent()
        && open_case.is_none()
        && listed_submission != Some(submission.id);
    let glance = report.as_ref().map(glance::Glance::of);
    // The scenario of the first check that failed: the one a vendor most likely runs again.
    let focus_scenario = report.as_ref().and_then(|r| {
        r.vilkar
            .iter()
            .flat_map(|v| &v.checks)
            .find(|c| c.outcome.is_failing())
            .map(|c| c.scenario.clone())
    });
    // The exchanges each failed check's evidence names, by `vilkår/check`.
    let exhibits: BTreeMap<String, Vec<glance::Exhibit>> = report
        .iter()
        .flat_map(|r| {
            r.vilkar.iter().flat_map(move |v| {
                v.checks
                    .iter()
                    .filter(|c| c.outcome.is_failing())
                    .map(move |c| (format!("{}/{}", v.id, c.id), glance::exhibits(r, c)))
            })
        })
        .filter(|(_, shown)| !shown.is_empty())
        .collect();
    Ok(page.render(
        status,
        "run.html",
        context! {
            run => run, submission => submission, product => product, report => report, progress => progress,
            can_request => can_request, open_case => open_case, glance => glance, exhibits => exhibits,
            listing_status => listing_status, listing_version => listing_version,
            only_failed => vis == Some("feilet"),
            can_rerun => actor.role() == Some(Role::Vendor) && matches!(run.state, crate::store::RunState::Done | crate::store::RunState::Error),
            suite_now => state.runner.suite.manifest.version.clone(),
            scenario_ids => state.runner.suite.scenarios.keys().cloned().collect::<Vec<_>>(),
            focus_scenario => focus_scenario,
            declarations => crate::declarations::views(&state.runner.suite, page.lang),
            declaration_limits => &state.config.declarations,
            refused => refused,
        },
    ))
}

/// Tests the run's version again (every scenario, or the one chosen) and shows the new run.
async fn rerun(
    page: Page,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<crate::rerun::Rerun>,
) -> Result<Response, PageError> {
    let run = crate::rerun::rerun(&page.state, &page.actor, id, &form).await?;
    Ok(Redirect::to(&format!("/kjoringer/{}", run.id)).into_response())
}

/// The full report in the layout of the other pages and in the page's language, from the suite's
/// own view of it; the self-contained document is `/api/v1/runs/{id}/report.html`.
async fn report_page(page: Page, Path(id): Path<i64>) -> Result<Response, PageError> {
    let (state, actor) = (&page.state, &page.actor);
    let (run, submission, product) = service::run(state, actor, id).await?;
    let report = service::stored_report(state, run.id).await?;
    let view = J::from_serialize(sandkasse_suite::render::html::view(&report));
    Ok(page.ok(
        "report.html",
        context! { run => run, submission => submission, product => product, view => view },
    ))
}

async fn product_page(page: Page, Path(id): Path<i64>) -> Result<Response, PageError> {
    render_product(&page, id, StatusCode::OK, None).await
}

/// A listing change that was not made: its action, why not, and the reason typed.
struct RefusedChange {
    action: &'static str,
    message: String,
    reason: String,
}

/// The product page; with `refused`, a listing change's form shown again with why and its reason.
async fn render_product(
    page: &Page,
    id: i64,
    status: StatusCode,
    refused: Option<RefusedChange>,
) -> Result<Response, PageError> {
    let (state, actor) = (&page.state, &page.actor);
    let view = service::product(state, actor, id, page.lang).await?;
    // The listed version's result per vilkår, for everyone who may see the product.
    let results = match view.catalogue.as_ref().and_then(|c| c.last_run_id) {
        Some(run) => crate::results::of_run(state, run).await?,
        None => Vec::new(),
    };
    // Every run of the product, newest first, for choosing two to compare.
    let mut runs: Vec<(&crate::store::Run, &str)> = view
        .submissions
        .iter()
        .flat_map(|s| s.runs.iter().map(|r| (r, s.submission.version.as_str())))
        .collect();
    runs.sort_by_key(|(r, _)| std::cmp::Reverse(r.id));
    let compare_runs: Vec<J> = runs
        .into_iter()
        .map(|(r, version)| context! { id => r.id, version => version, verdict => r.verdict })
        .collect();
    let refused =
        refused.map(|r| context! { action => r.action, message => r.message, reason => r.reason });
    Ok(page.render(
        status,
        "product.html",
        context! {
            view => view, results => results, compare_runs => compare_runs,
            can_manage => actor.role().is_some_and(|r| policy::REVIEWERS.contains(&r)),
            refused => refused,
            declaration_titles => declaration_titles(page),
        },
    ))
}

#[derive(Debug, Deserialize)]
struct CompareQuery {
    a: i64,
    b: i64,
}

/// Two runs of a product side by side: every vilkår's outcome and the resource figures.
async fn compare_page(
    page: Page,
    Path(id): Path<i64>,
    Query(q): Query<CompareQuery>,
) -> Result<Response, PageError> {
    let comparison = crate::results::compare(&page.state, &page.actor, id, q.a, q.b).await?;
    Ok(page.ok("compare.html", context! { c => comparison }))
}

/// A listing change's form: the reason and, for suspend and delist, the confirmation.
#[derive(Debug, Deserialize)]
struct ListingChangeForm {
    #[serde(default)]
    reason: String,
    #[serde(default)]
    confirm: Option<String>,
}

async fn change_listing(
    page: Page,
    Path((id, action)): Path<(i64, String)>,
    CsrfForm(form): CsrfForm<ListingChangeForm>,
) -> Result<Response, PageError> {
    let action = ListingAction::parse(&action).ok_or(AppError::NotFound)?;
    // Suspending and delisting reach every kommune at once: confirmed first (after who may change
    // a listing at all). Reinstating is not.
    let confirmation = if action == ListingAction::Reinstate {
        Ok(())
    } else {
        page.actor.require(policy::REVIEWERS)?;
        confirmed(form.confirm.as_deref())
    };
    let change = ListingChange {
        reason: form.reason,
    };
    let changed = match confirmation {
        Ok(()) => service::change_listing(&page.state, &page.actor, id, action, &change).await,
        Err(e) => Err(e),
    };
    match changed {
        Ok(_) => Ok(Redirect::to(&format!("/produkter/{id}")).into_response()),
        // Refused for its input or the listing's state: the page again, the reason kept.
        Err(e @ (AppError::BadRequest { .. } | AppError::Refused(_))) => {
            let refused = RefusedChange {
                action: action.as_str(),
                message: e.text(page.lang),
                reason: change.reason,
            };
            render_product(&page, id, e.status_and_code().0, Some(refused)).await
        }
        Err(e) => Err(e.into()),
    }
}

async fn queue_page(page: Page) -> Result<Response, PageError> {
    let (state, actor) = (&page.state, &page.actor);
    // One read of the cases, split into the open ones and the last decided ones.
    let all = service::all_cases(state, actor).await?;
    let (open, decided): (Vec<_>, Vec<_>) = all.into_iter().partition(|c| {
        matches!(
            c.state,
            crate::store::CaseState::InReview | crate::store::CaseState::Escalated
        )
    });
    let decided: Vec<_> = decided.into_iter().take(50).collect();
    let me = actor.user().map(|u| u.id).unwrap_or_default();
    let notifications = service::notifications(state, actor)
        .await
        .unwrap_or_default();
    Ok(page.ok(
        "queue.html",
        context! { open => open, decided => decided, me => me, notifications => notifications },
    ))
}

async fn case_page(page: Page, Path(id): Path<i64>) -> Result<Response, PageError> {
    render_case(&page, id, StatusCode::OK, None).await
}

/// A decision that was not recorded: why, and its note and verdicts as typed.
struct RefusedDecision {
    message: String,
    note: String,
    verdicts: Vec<service::VerdictInput>,
}

/// The case page; with `refused`, the decision's form again with why and what was typed.
async fn render_case(
    page: &Page,
    id: i64,
    status: StatusCode,
    refused: Option<RefusedDecision>,
) -> Result<Response, PageError> {
    let (state, actor) = (&page.state, &page.actor);
    let (error, note, typed) = match refused {
        Some(r) => {
            let typed: BTreeMap<String, service::VerdictInput> =
                r.verdicts.into_iter().map(|v| (v.id.clone(), v)).collect();
            (Some(r.message), r.note, typed)
        }
        None => (None, String::new(), BTreeMap::new()),
    };
    let (case, run) = service::case(state, actor, id).await?;
    let report = service::stored_report(state, run.id).await.ok();
    let may_decide = actor
        .user()
        .ok()
        .is_some_and(|u| crate::governance::may_decide(&case, u.id, u.role).is_ok());
    let declarations =
        crate::declarations::answered(&state.runner.suite, page.lang, &case.declarations);
    Ok(page.render(
        status,
        "case.html",
        context! {
            case => case, run => run, report => report, may_decide => may_decide, error => error, note => note,
            declarations => declarations, typed => typed,
        },
    ))
}

/// The decision's form: the decision, its note, the confirmation, and per declaration
/// `verdict_<ID>` (`accept` or `reject`) and `comment_<ID>`.
#[derive(Debug, Deserialize)]
struct DecisionForm {
    #[serde(default)]
    decision: String,
    #[serde(default)]
    note: String,
    #[serde(default)]
    confirm: Option<String>,
    #[serde(flatten)]
    rest: BTreeMap<String, String>,
}

impl DecisionForm {
    /// The verdicts the form gives, one per declaration named by a `verdict_` or `comment_` field.
    fn verdicts(&self) -> Vec<service::VerdictInput> {
        // A set: `comment_*` and `verdict_*` keys of one id are not next to each other.
        let ids: std::collections::BTreeSet<&str> = self
            .rest
            .keys()
            .filter_map(|k| {
                k.strip_prefix("verdict_")
                    .or_else(|| k.strip_prefix("comment_"))
            })
            .collect();
        ids.into_iter()
            .map(|id| service::VerdictInput {
                id: id.to_owned(),
                verdict: self
                    .rest
                    .get(&format!("verdict_{id}"))
                    .cloned()
                    .unwrap_or_default(),
                comment: self
                    .rest
                    .get(&format!("comment_{id}"))
                    .cloned()
                    .unwrap_or_default(),
            })
            .collect()
    }
}

/// A decision refused for its input or the case's state — a stale form's token too — is the case
/// page again with the reason, the note kept.
async fn decide(
    page: Page,
    Path(id): Path<i64>,
    form: Result<CsrfForm<DecisionForm>, CsrfFormRejection<DecisionForm>>,
) -> Result<Response, PageError> {
    let refused = |e: AppError, form: DecisionInput| {
        let (status, _) = e.status_and_code();
        let refused = RefusedDecision {
            message: e.text(page.lang),
            note: form.note,
            verdicts: form.declarations,
        };
        render_case(&page, id, status, Some(refused))
    };
    let (form, token) = match form {
        Ok(CsrfForm(form)) => (form, Ok(())),
        // Whoever may not decide learns that first, as from the decision itself.
        Err(CsrfFormRejection::Token { form, error }) => {
            page.actor.require(policy::DECIDERS)?;
            (form, Err(error))
        }
        Err(rejection) => return Ok(rejection.into_response()),
    };
    let input = DecisionInput {
        declarations: form.verdicts(),
        decision: form.decision,
        note: form.note,
    };
    // A decision cannot be taken back: confirmed first (after who may decide at all).
    if let Err(e) = token.and_then(|()| confirmed(form.confirm.as_deref())) {
        page.actor.require(policy::DECIDERS)?;
        return refused(e, input).await;
    }
    match service::decide(&page.state, &page.actor, id, &input).await {
        Ok(_) => Ok(Redirect::to(&format!("/vurdering/{id}")).into_response()),
        Err(e @ (AppError::BadRequest { .. } | AppError::Refused(_))) => refused(e, input).await,
        Err(e) => Err(e.into()),
    }
}

async fn nights_page(page: Page) -> Result<Response, PageError> {
    let nights = service::nights(&page.state, &page.actor).await?;
    Ok(page.ok("nights.html", context! { nights => nights }))
}

async fn night_page(page: Page, Path(date): Path<String>) -> Result<Response, PageError> {
    let night = service::night(&page.state, &page.actor, &date).await?;
    Ok(page.ok("night.html", context! { night => night }))
}

/// Events per page of `/revisjon`.
const AUDIT_PAGE: u32 = 100;

/// The audit trail with its filters (kind, actor, subject, days), newest page first. A filter that
/// does not read is the page again with the form as sent and the reason (400).
async fn audit_page(
    page: Page,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let (state, actor) = (&page.state, &page.actor);
    // Access first: the chain walk below is not for anyone who asks.
    actor.require(policy::AUDITORS)?;
    let verification = state.audit.verify_chain().await?;
    let (intact, head, broken_at) = match &verification {
        crate::audit::Verification::Intact { head, .. } => (true, head.clone(), None),
        crate::audit::Verification::Broken { seq, .. } => (false, None, Some(*seq)),
    };
    let kinds = crate::trail::kinds(state, actor).await?;
    let form: BTreeMap<String, String> = pairs.iter().cloned().collect();
    let chain = context! { intact => intact, head => head, broken_at => broken_at, kinds => kinds };
    let (filter, cursor) = match TrailFilter::parse(pairs) {
        Ok(parsed) => parsed,
        Err(e) => {
            let error = context! { code => e.code(), parameter => e.parameter() };
            return Ok(page.render(
                StatusCode::BAD_REQUEST,
                "audit.html",
                context! { events => Vec::<EventView>::new(), form => form, filter_error => error, ..chain },
            ));
        }
    };
    let found = crate::trail::page(state, actor, &filter, cursor, AUDIT_PAGE).await?;
    let query = filter.query();
    let link = |cursor: &str, seq: i64| {
        let sep = if query.is_empty() { "" } else { "&" };
        format!("/revisjon?{query}{sep}{cursor}={seq}")
    };
    let events: Vec<EventView> = found.events.into_iter().map(EventView::of).collect();
    Ok(page.ok(
        "audit.html",
        context! {
            events => events, form => form, filtered => !filter.is_empty(),
            older => found.older.map(|s| link("before", s)), newer => found.newer.map(|s| link("after", s)),
            ..chain
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_text_exists_in_every_language_and_every_used_key_exists() {
        let texts = i18n::texts();
        let nb = &texts["nb"];
        for lang in Lang::ALL.map(Lang::as_str) {
            let t = texts
                .get(lang)
                .unwrap_or_else(|| panic!("no [{lang}] in web/i18n.toml"));
            let missing: Vec<_> = nb.keys().filter(|k| !t.contains_key(*k)).collect();
            let extra: Vec<_> = t.keys().filter(|k| !nb.contains_key(*k)).collect();
            assert!(
                missing.is_empty() && extra.is_empty(),
                "[{lang}] missing {missing:?}, extra {extra:?}"
            );
        }
        for (name, source) in TEMPLATES {
            for part in source
                .split("t(\"")
                .skip(1)
                .chain(source.split("t('").skip(1))
            {
                let key = part.split(['"', '\'']).next().unwrap_or_default();
                // `t("state_" ~ x)`: a family, checked below.
                if key.ends_with('_') {
                    continue;
                }
                assert!(
                    nb.contains_key(key),
                    "{name} uses t(\"{key}\"), which web/i18n.toml does not define"
                );
            }
        }
        let families: &[(&str, &[&str])] = &[
            (
                "role_",
                &["vendor", "reviewer", "beslutningsgruppe", "admin"],
            ),
            ("capability_", &["read", "write", "events"]),
            ("verdict_", &["godkjent", "ikke-godkjent"]),
            (
                "state_",
                &[
                    "queued",
                    "running",
                    "done",
                    "error",
                    "in_review",
                    "escalated",
                    "approved",
                    "rejected",
                    "listed",
                    "suspended",
                    "delisted",
                ],
            ),
            ("outcome_", &["pass", "fail", "not-applicable", "error"]),
            ("decision_", &["approve", "reject"]),
            (
                "error_",
                &[
                    "400", "401", "403", "404", "405", "409", "413", "415", "422", "429", "500",
                    "503",
                ],
            ),
            ("reason_for_", &["suspend", "reinstate", "delist"]),
            ("action_", &["suspend", "reinstate", "delist"]),
            ("decided_", &["approve", "reject"]),
            ("listing_version_", &["this", "other"]),
            ("confirm_", &["suspend", "delist"]),
            ("night_", &["running", "done"]),
            ("figure_", &["fuel", "peak_memory_bytes", "requests"]),
            (
                "class_",
                &[
                    "out-of-fuel",
                    "deadline",
                    "memory-limit",
                    "stack-overflow",
                    "output-limit",
                    "result-limit",
                    "trap",
                ],
            ),
        ];
        // Families whose members the code defines.
        let statuses = crate::listing::ListingStatus::ALL
            .iter()
            .map(|s| s.as_str());
        let kinds = crate::store::NotificationKind::ALL
            .iter()
            .map(|k| k.as_str());
        let errors = [
            crate::trail::FilterError::Kind,
            crate::trail::FilterError::Text("actor"),
            crate::trail::FilterError::Date("from"),
            crate::trail::FilterError::Range,
            crate::trail::FilterError::Seq("after"),
            crate::trail::FilterError::BothCursors,
        ];
        let defined: Vec<(&str, Vec<&str>)> = vec![
            ("status_", statuses.collect()),
            ("notification_", kinds.collect()),
            ("audit_key_", crate::trail::fact_keys().collect()),
            ("audit_error_", errors.iter().map(|e| e.code()).collect()),
        ];
        let families = families
            .iter()
            .map(|(p, m)| (*p, m.to_vec()))
            .chain(defined);
        for (prefix, members) in families {
            for m in members {
                assert!(
                    nb.contains_key(&format!("{prefix}{m}")),
                    "web/i18n.toml lacks {prefix}{m}"
                );
            }
        }
        Templates::new();
    }

    #[test]
    fn every_page_renders_with_minimal_context() {
        let t = Templates::new();
        for (name, _) in TEMPLATES
            .iter()
            .filter(|(n, _)| *n == "error.html" || *n == "login.html")
        {
            let ctx = context! { lang => "nb", path => "/x", other_lang => "en", status => 404, code => "not_found", message => "m", user => context! { username => "a@b.no", role => "vendor" } };
            t.render(name, ctx)
                .unwrap_or_else(|e| panic!("{name}: {e:#}"));
        }
    }

    #[test]
    fn only_local_paths_are_followed_after_login() {
        assert_eq!(safe_next(Some("/leverandor")), Some("/leverandor"));
        assert_eq!(safe_next(Some("//evil.example")), None);
        assert_eq!(safe_next(Some("https://evil.example")), None);
        assert_eq!(safe_next(Some("/\\evil.example")), None);
        assert_eq!(safe_next(Some("/\t/evil.example")), None);
        assert_eq!(safe_next(Some("/\n/evil.example")), None);
        assert_eq!(safe_next(Some("/ /evil.example")), None);
    }
}
