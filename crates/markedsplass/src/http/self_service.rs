//! The self-service pages: a vendor's API tokens (`/leverandor/nokler`), the admin area
//! (`/admin`: organisations, users, roles, password resets, the webhook's deliveries) and one's own
//! password (`/passord`, the only page a user reaches after a reset until they have changed it).
//!
//! Like the other pages ([`super::web`]), handlers call the core ([`crate::tokens`],
//! [`crate::admin`], [`crate::accounts`]) and render; a refused form is its page again with the
//! reason. A secret — a new API token, a temporary password — is shown once, on the answer to the
//! form that made it, marked `Cache-Control: no-store`; it is never stored in clear or shown again.

use axum::Router;
use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use minijinja::{Value as J, context};
use serde::Deserialize;

use super::csrf::CsrfForm;
use super::page::{Page, PageError};
use super::server::AppState;
use crate::accounts::AccountError;
use crate::error::AppError;
use crate::policy;
use crate::store::Role;

/// The self-service routes (merged into [`super::web::routes`], listed in [`super::web::ROUTES`]).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/leverandor/nokler", get(tokens_page).post(create_token))
        .route("/leverandor/nokler/{id}/tilbakekall", post(revoke_token))
        .route("/admin", get(admin_page))
        .route("/admin/organisasjoner", post(create_organisation))
        .route("/admin/brukere", post(create_user))
        .route("/admin/brukere/{id}", get(user_page))
        .route("/admin/brukere/{id}/rolle", post(set_role))
        .route("/admin/brukere/{id}/status", post(set_status))
        .route("/admin/brukere/{id}/passord", post(reset_password))
        .route("/admin/webhook", get(webhook_page))
        .route("/passord", get(password_page).post(change_password))
}

/// An irreversible action's form: its `confirm` checkbox must be ticked (`required` in the page,
/// checked again here for clients that skip HTML validation).
#[derive(Debug, Default, Deserialize)]
pub struct Confirmation {
    #[serde(default)]
    pub confirm: Option<String>,
}

impl Confirmation {
    /// 400 `confirmation_required` unless the box was ticked.
    pub fn check(&self) -> Result<(), AppError> {
        confirmed(self.confirm.as_deref())
    }
}

/// 400 `confirmation_required` unless `confirm` is present and not empty.
pub fn confirmed(confirm: Option<&str>) -> Result<(), AppError> {
    if confirm.is_some_and(|c| !c.trim().is_empty()) {
        Ok(())
    } else {
        Err(AppError::BadRequest {
            code: "confirmation_required",
            message: "kryss av for å bekrefte; handlingen kan ikke angres / \
                      tick the box to confirm; the action cannot be undone"
                .into(),
        })
    }
}

/// A page that shows a secret: never cached.
fn secret(mut response: Response) -> Response {
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    response
}

/// A refused form's status and message (a 4xx: the caller can act on it).
fn refusal(e: &AppError, lang: crate::i18n::Lang) -> (StatusCode, String) {
    (e.status_and_code().0, e.text(lang))
}

// ---- a vendor's API tokens ----

async fn render_tokens(
    page: &Page,
    status: StatusCode,
    created: J,
    error: Option<String>,
) -> Result<Response, PageError> {
    let tokens = crate::tokens::list(&page.state, &page.actor).await?;
    Ok(page.render(
        status,
        "tokens.html",
        context! { tokens => tokens, created => created, error => error },
    ))
}

async fn tokens_page(page: Page) -> Result<Response, PageError> {
    render_tokens(&page, StatusCode::OK, J::from(()), None).await
}

#[derive(Debug, Deserialize)]
struct NewTokenForm {
    #[serde(default)]
    name: String,
}

async fn create_token(
    page: Page,
    CsrfForm(form): CsrfForm<NewTokenForm>,
) -> Result<Response, PageError> {
    match crate::tokens::create(&page.state, &page.actor, &form.name).await {
        Ok(created) => {
            let created = context! { record => created.record, token => created.token };
            Ok(secret(
                render_tokens(&page, StatusCode::CREATED, created, None).await?,
            ))
        }
        Err(e @ (AppError::BadRequest { .. } | AppError::Conflict(_))) => {
            let (status, message) = refusal(&e, page.lang);
            render_tokens(&page, status, J::from(()), Some(message)).await
        }
        Err(e) => Err(e.into()),
    }
}

async fn revoke_token(
    page: Page,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<Confirmation>,
) -> Result<Response, PageError> {
    policy::token_manager(&page.actor)?;
    if let Err(e) = form.check() {
        let (status, message) = refusal(&e, page.lang);
        return render_tokens(&page, status, J::from(()), Some(message)).await;
    }
    crate::tokens::revoke(&page.state, &page.actor, id).await?;
    Ok(Redirect::to("/leverandor/nokler").into_response())
}

// ---- the admin area ----

async fn render_admin(
    page: &Page,
    status: StatusCode,
    error: Option<(&str, String)>,
    form: J,
) -> Result<Response, PageError> {
    let overview = crate::admin::overview(&page.state, &page.actor).await?;
    let (error_for, error) = error.map_or((None, None), |(f, e)| (Some(f), Some(e)));
    Ok(page.render(
        status,
        "admin.html",
        context! {
            overview => overview, roles => Role::ALL.map(Role::as_str),
            error_for => error_for, error => error, form => form,
        },
    ))
}

async fn admin_page(page: Page) -> Result<Response, PageError> {
    render_admin(&page, StatusCode::OK, None, context! {}).await
}

#[derive(Debug, Deserialize)]
struct OrganisationForm {
    #[serde(default)]
    name: String,
}

async fn create_organisation(
    page: Page,
    CsrfForm(form): CsrfForm<OrganisationForm>,
) -> Result<Response, PageError> {
    match crate::admin::create_organisation(&page.state, &page.actor, &form.name).await {
        Ok(_) => Ok(Redirect::to("/admin#organisations-h").into_response()),
        Err(e @ (AppError::BadRequest { .. } | AppError::Conflict(_))) => {
            let (status, message) = refusal(&e, page.lang);
            let form = context! { organisation_name => form.name };
            render_admin(&page, status, Some(("organisation", message)), form).await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Debug, Deserialize)]
struct UserForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    organisation: String,
}

/// A role as a form names it: 400 for anything else.
fn role(text: &str) -> Result<Role, AppError> {
    Role::parse(text).ok_or_else(|| AppError::invalid(crate::i18n::Msg::new("msg_choose_role")))
}

async fn create_user(
    page: Page,
    CsrfForm(form): CsrfForm<UserForm>,
) -> Result<Response, PageError> {
    page.actor.require(policy::ADMINS)?;
    let organisation = Some(form.organisation.as_str()).filter(|o| !o.is_empty());
    let created = match role(&form.role) {
        Ok(r) => {
            crate::admin::create_user(&page.state, &page.actor, &form.username, r, organisation)
                .await
        }
        Err(e) => Err(e),
    };
    match created {
        Ok(created) => Ok(secret(
            render_user(
                &page,
                created.user.id,
                StatusCode::CREATED,
                None,
                Some(created.password),
            )
            .await?,
        )),
        Err(e @ (AppError::BadRequest { .. } | AppError::Conflict(_))) => {
            let (status, message) = refusal(&e, page.lang);
            let form = context! { username => form.username, role => form.role, organisation => form.organisation };
            render_admin(&page, status, Some(("user", message)), form).await
        }
        Err(e) => Err(e.into()),
    }
}

async fn render_user(
    page: &Page,
    id: i64,
    status: StatusCode,
    error: Option<String>,
    temporary_password: Option<String>,
) -> Result<Response, PageError> {
    let (user, organisations) = crate::admin::user(&page.state, &page.actor, id).await?;
    let me = page.actor.user().map(|u| u.id == id).unwrap_or(false);
    Ok(page.render(
        status,
        "admin_user.html",
        context! {
            account => user, organisations => organisations, roles => Role::ALL.map(Role::as_str),
            me => me, error => error, temporary_password => temporary_password,
        },
    ))
}

async fn user_page(page: Page, Path(id): Path<i64>) -> Result<Response, PageError> {
    render_user(&page, id, StatusCode::OK, None, None).await
}

/// The answer to a change of user `id`: back to the user's page, or the page again with why not.
async fn after_change(
    page: &Page,
    id: i64,
    result: Result<crate::store::User, AppError>,
) -> Result<Response, PageError> {
    match result {
        Ok(_) => Ok(Redirect::to(&format!("/admin/brukere/{id}")).into_response()),
        Err(e @ (AppError::BadRequest { .. } | AppError::Conflict(_) | AppError::Refused(_))) => {
            let (status, message) = refusal(&e, page.lang);
            render_user(page, id, status, Some(message), None).await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Debug, Deserialize)]
struct RoleForm {
    #[serde(default)]
    role: String,
    #[serde(default)]
    organisation: String,
}

async fn set_role(
    page: Page,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<RoleForm>,
) -> Result<Response, PageError> {
    page.actor.require(policy::ADMINS)?;
    let organisation = Some(form.organisation.as_str()).filter(|o| !o.is_empty());
    let result = match role(&form.role) {
        Ok(r) => crate::admin::set_role(&page.state, &page.actor, id, r, organisation).await,
        Err(e) => Err(e),
    };
    after_change(&page, id, result).await
}

#[derive(Debug, Deserialize)]
struct StatusForm {
    #[serde(default)]
    enabled: String,
}

async fn set_status(
    page: Page,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<StatusForm>,
) -> Result<Response, PageError> {
    page.actor.require(policy::ADMINS)?;
    let result = match form.enabled.as_str() {
        "true" => crate::admin::set_enabled(&page.state, &page.actor, id, true).await,
        "false" => crate::admin::set_enabled(&page.state, &page.actor, id, false).await,
        _ => Err(AppError::invalid(
            crate::i18n::Msg::new("msg_true_or_false").arg("field", "enabled"),
        )),
    };
    after_change(&page, id, result).await
}

async fn reset_password(
    page: Page,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<Confirmation>,
) -> Result<Response, PageError> {
    page.actor.require(policy::ADMINS)?;
    let reset = match form.check() {
        Ok(()) => crate::admin::reset_password(&page.state, &page.actor, id).await,
        Err(e) => Err(e),
    };
    match reset {
        Ok(reset) => Ok(secret(
            render_user(&page, id, StatusCode::OK, None, Some(reset.password)).await?,
        )),
        Err(e) => after_change(&page, id, Err(e)).await,
    }
}

async fn webhook_page(page: Page) -> Result<Response, PageError> {
    let status = crate::admin::webhook_status(&page.state, &page.actor).await?;
    Ok(page.ok("webhook.html", context! { webhook => status }))
}

// ---- one's own password ----

fn render_password(page: &Page, status: StatusCode, error: Option<String>) -> Response {
    let must = match &page.actor {
        crate::policy::Actor::User { user, .. } => user.must_change_password,
        crate::policy::Actor::Anonymous => false,
    };
    page.render(
        status,
        "password.html",
        context! { must_change => must, error => error, min_chars => crate::accounts::MIN_PASSWORD_CHARS },
    )
}

async fn password_page(page: Page) -> Result<Response, PageError> {
    page.actor.user()?;
    Ok(render_password(&page, StatusCode::OK, None))
}

#[derive(Debug, Deserialize)]
struct PasswordForm {
    #[serde(default)]
    current: String,
    #[serde(default)]
    new: String,
    #[serde(default)]
    repeat: String,
}

/// A wrong current password counts as a failed login for the throttle ([`super::auth::login`]'s),
/// so a stolen session cannot be used to guess the password behind it.
async fn change_password(
    page: Page,
    address: super::auth::ClientAddr,
    CsrfForm(form): CsrfForm<PasswordForm>,
) -> Result<Response, PageError> {
    let user = page.actor.user()?;
    if form.new != form.repeat {
        let e = AppError::invalid(crate::i18n::Msg::new("msg_new_passwords_differ"));
        let (status, message) = refusal(&e, page.lang);
        return Ok(render_password(&page, status, Some(message)));
    }
    let (state, now) = (&page.state, page.state.clock.now());
    if let Err(wait) = state.throttle.check(&user.username, address.0, now) {
        let e = AppError::TooManyRequests {
            seconds: wait.as_secs_f64().ceil() as u64,
        };
        let (status, message) = refusal(&e, page.lang);
        return Ok(render_password(&page, status, Some(message)));
    }
    let changed = state
        .accounts
        .change_password(
            &page.actor.audit_name(),
            &user.username,
            &form.current,
            &form.new,
        )
        .await;
    match changed {
        Ok(user) => {
            state.throttle.succeeded(&user.username, address.0);
            Ok(Redirect::to(super::web::home(user.role)).into_response())
        }
        // A wrong current password is the form again (400), not a logout.
        Err(AccountError::InvalidCredentials) => {
            state.throttle.failed(&user.username, address.0, now);
            let message = crate::i18n::Msg::new("msg_current_password_wrong").render(page.lang);
            Ok(render_password(
                &page,
                StatusCode::BAD_REQUEST,
                Some(message),
            ))
        }
        Err(e) => match AppError::from(e) {
            e @ AppError::BadRequest { .. } => {
                let (status, message) = refusal(&e, page.lang);
                Ok(render_password(&page, status, Some(message)))
            }
            e => Err(e.into()),
        },
    }
}
