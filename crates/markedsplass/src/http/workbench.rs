//! The vendor's workbench in the UI and the API: the sandbox page with the launch simulator, the
//! fault switch and the reset (`/leverandor/sandkasse`), the person kinds, the exchanges, and
//! `GET /api/v1/sandbox`, `POST /api/v1/sandbox/launch`, `GET /api/v1/sandbox/person-kinds`. The
//! core is [`crate::workbench`]; the FHIR endpoint itself is [`super::hosted`].

use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use minijinja::{Value as J, context};
use sandkasse_platform::Purpose;
use serde::{Deserialize, Serialize};

use super::csrf::{CsrfForm, CsrfJson};
use super::page::{Page, PageError};
use super::self_service::Confirmation;
use super::server::AppState;
use crate::error::AppError;
use crate::i18n::Msg;
use crate::policy::Actor;
use crate::store::FaultPreset;
use crate::workbench::{self, LaunchInput, PatientKind, kinds::KindSummary};

/// The routes (listed in [`super::web::ROUTES`] and [`super::api::ROUTES`]).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/leverandor/sandkasse", get(page))
        .route("/leverandor/sandkasse/start", post(launch_form))
        .route("/leverandor/sandkasse/feil", post(faults_form))
        .route("/leverandor/sandkasse/nullstill", post(reset_form))
        .route("/leverandor/sandkasse/persontyper", get(kinds_page))
        .route("/leverandor/sandkasse/utvekslinger", get(exchanges_page))
        .route("/leverandor/sandkasse/testdata.zip", get(testdata))
        .route("/api/v1/sandbox", get(describe))
        .route("/api/v1/sandbox/launch", post(launch))
        .route("/api/v1/sandbox/person-kinds", get(kinds))
}

const DEFAULT_KOMMUNE: &str = "4601";

#[derive(Debug, Default, Deserialize)]
struct KommuneQuery {
    #[serde(default)]
    kommune: Option<String>,
    /// Set by the redirect after a reset, to say it happened.
    #[serde(default)]
    nullstilt: Option<String>,
}

impl KommuneQuery {
    fn kommune(&self) -> &str {
        self.kommune.as_deref().unwrap_or(DEFAULT_KOMMUNE)
    }
}

// ---- the API ----

async fn describe(
    State(state): State<AppState>,
    actor: Actor,
) -> Result<Json<workbench::SandboxView>, AppError> {
    Ok(Json(workbench::describe(&state, &actor).await?))
}

async fn launch(
    State(state): State<AppState>,
    actor: Actor,
    CsrfJson(input): CsrfJson<LaunchInput>,
) -> Result<Response, AppError> {
    let launched = workbench::launch::launch(&state, &actor, &input).await?;
    Ok((
        StatusCode::CREATED,
        [(header::CACHE_CONTROL, "no-store")],
        Json(launched),
    )
        .into_response())
}

#[derive(Debug, Serialize)]
struct Kinds {
    kommune: String,
    kinds: Vec<KindSummary>,
}

async fn kinds(
    State(state): State<AppState>,
    actor: Actor,
    Query(q): Query<KommuneQuery>,
) -> Result<Json<Kinds>, AppError> {
    let kinds = workbench::person_kinds(&state, &actor, q.kommune()).await?;
    Ok(Json(Kinds {
        kommune: q.kommune().to_owned(),
        kinds,
    }))
}

// ---- the pages ----

/// The launch simulator's form: the practitioner as `{hpr}@{orgnr}`.
#[derive(Debug, Default, Deserialize)]
struct LaunchForm {
    #[serde(default)]
    kommune: String,
    #[serde(default)]
    who: String,
    #[serde(default)]
    patient_kind: String,
    #[serde(default)]
    purpose: String,
    #[serde(default)]
    reason: String,
}

impl LaunchForm {
    fn input(&self) -> Result<LaunchInput, AppError> {
        let invalid = |key: &'static str| AppError::BadRequest {
            code: "invalid_launch",
            message: Msg::new(key),
        };
        let (practitioner, unit) = self
            .who
            .split_once('@')
            .ok_or_else(|| invalid("msg_launch_choose_practitioner"))?;
        let patient_kind = match self.patient_kind.as_str() {
            "" | "none" => None,
            k => Some(PatientKind::parse(k).ok_or_else(|| invalid("msg_launch_bad_kind"))?),
        };
        let purpose = match self.purpose.as_str() {
            "" | "treatment" => Purpose::Treatment,
            "emergency" => Purpose::Emergency,
            _ => return Err(invalid("msg_launch_bad_purpose")),
        };
        Ok(LaunchInput {
            kommune: self.kommune.clone(),
            practitioner: Some(practitioner.to_owned()),
            unit: Some(unit.to_owned()),
            patient_kind,
            patient: None,
            purpose,
            reason: Some(self.reason.clone()).filter(|r| !r.trim().is_empty()),
        })
    }
}

async fn render(
    page: &Page,
    status: StatusCode,
    q: &KommuneQuery,
    launched: J,
    form: &LaunchForm,
    error: Option<String>,
) -> Result<Response, PageError> {
    let view = workbench::describe(&page.state, &page.actor).await?;
    let kommune = q.kommune();
    let kommune = if view.kommuner.iter().any(|k| k.nummer == kommune) {
        kommune
    } else {
        DEFAULT_KOMMUNE
    };
    let (units, first) = workbench::launch::units(&page.state, &page.actor, kommune).await?;
    let who = if form.who.is_empty() {
        first.unwrap_or_default()
    } else {
        form.who.clone()
    };
    Ok(page.render(
        status,
        "workbench.html",
        context! {
            sandbox => view, kommune => kommune, units => units,
            kinds => PatientKind::ALL.map(PatientKind::as_str),
            launched => launched, error => error, reset_done => q.nullstilt.is_some(),
            form => context! { who => who, patient_kind => form.patient_kind, purpose => form.purpose, reason => form.reason },
        },
    ))
}

async fn page(page: Page, Query(q): Query<KommuneQuery>) -> Result<Response, PageError> {
    workbench::organisation(&page.actor)?;
    render(
        &page,
        StatusCode::OK,
        &q,
        J::from(()),
        &LaunchForm::default(),
        None,
    )
    .await
}

async fn launch_form(
    page: Page,
    CsrfForm(form): CsrfForm<LaunchForm>,
) -> Result<Response, PageError> {
    workbench::organisation(&page.actor)?;
    let q = KommuneQuery {
        kommune: Some(form.kommune.clone()),
        ..KommuneQuery::default()
    };
    let launched = match form.input() {
        Ok(input) => workbench::launch::launch(&page.state, &page.actor, &input).await,
        Err(e) => Err(e),
    };
    match launched {
        Ok(launched) => {
            let mut r = render(
                &page,
                StatusCode::CREATED,
                &q,
                J::from_serialize(&launched),
                &form,
                None,
            )
            .await?;
            r.headers_mut().insert(
                header::CACHE_CONTROL,
                header::HeaderValue::from_static("no-store"),
            );
            Ok(r)
        }
        Err(e @ AppError::BadRequest { .. }) => {
            let (status, _) = e.status_and_code();
            render(
                &page,
                status,
                &q,
                J::from(()),
                &form,
                Some(e.text(page.lang)),
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Debug, Deserialize)]
struct FaultsForm {
    #[serde(default)]
    faults: String,
}

/// A refused form of the page: the page again with the reason, in the refusal's status.
async fn refused(page: &Page, e: &AppError) -> Result<Response, PageError> {
    let (status, _) = e.status_and_code();
    let form = LaunchForm::default();
    let q = KommuneQuery::default();
    render(
        page,
        status,
        &q,
        J::from(()),
        &form,
        Some(e.text(page.lang)),
    )
    .await
}

async fn faults_form(
    page: Page,
    CsrfForm(form): CsrfForm<FaultsForm>,
) -> Result<Response, PageError> {
    workbench::organisation(&page.actor)?;
    let Some(preset) = FaultPreset::parse(&form.faults) else {
        return refused(
            &page,
            &AppError::invalid(Msg::new("msg_workbench_bad_faults")),
        )
        .await;
    };
    workbench::set_faults(&page.state, &page.actor, preset).await?;
    Ok(Redirect::to("/leverandor/sandkasse#faults").into_response())
}

async fn reset_form(
    page: Page,
    CsrfForm(form): CsrfForm<Confirmation>,
) -> Result<Response, PageError> {
    workbench::organisation(&page.actor)?;
    if let Err(e) = form.check() {
        return refused(&page, &e).await;
    }
    workbench::reset(&page.state, &page.actor).await?;
    Ok(Redirect::to("/leverandor/sandkasse?nullstilt=1").into_response())
}

async fn kinds_page(page: Page, Query(q): Query<KommuneQuery>) -> Result<Response, PageError> {
    let kinds = workbench::person_kinds(&page.state, &page.actor, q.kommune()).await?;
    let view = workbench::describe(&page.state, &page.actor).await?;
    Ok(page.ok(
        "workbench_kinds.html",
        context! { kinds => kinds, kommune => q.kommune(), sandbox => view },
    ))
}

async fn exchanges_page(page: Page) -> Result<Response, PageError> {
    let exchanges = workbench::exchanges(&page.state, &page.actor)?;
    let audit = workbench::audit_events(&page.state, &page.actor, 100).await?;
    Ok(page.ok(
        "workbench_exchanges.html",
        context! { exchanges => exchanges, audit => audit },
    ))
}

async fn testdata(page: Page) -> Result<Response, PageError> {
    let (name, bytes) = workbench::export::testdata_zip(&page.state, &page.actor).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/zip".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        bytes,
    )
        .into_response())
}
