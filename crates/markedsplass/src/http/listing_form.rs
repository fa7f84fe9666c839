//! The listing request from the run page: a multipart form with the answers to the declarations
//! (egenerklæringer) and their files. A request refused for what it holds — an answer missing,
//! a file of a type not taken (415) or too large (413), the confirmation not ticked — is the run
//! page again with the form as typed (a browser never fills in a file input, so the files are to
//! be chosen again), the reason at the top of the form and, for an answer or a file, next to its
//! field, in the page's language. Only a request that cannot be placed at all (another
//! organisation's product or version: 404) is the error page.

use std::collections::BTreeMap;

use axum::extract::Path;
use axum::extract::multipart::{Multipart, MultipartError, MultipartRejection};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Serialize;

use super::api;
use super::csrf;
use super::page::{Page, PageError};
use super::self_service::confirmed;
use crate::declarations::{Answer, Field, Refusal};
use crate::error::AppError;
use crate::i18n::Msg;
use crate::policy;
use crate::service;
use crate::store::{NewAttachment, Run};

/// The form as read (multipart): `csrf`, `submission_id`, `confirm` (a request cannot be
/// withdrawn), and per declaration `answer_<ID>` and any number of `file_<ID>` (a file input left
/// empty sends no file).
#[derive(Debug, Default)]
struct ListingRequestForm {
    csrf: Option<String>,
    submission_id: Option<i64>,
    confirm: Option<String>,
    answers: Vec<Answer>,
}

impl ListingRequestForm {
    /// The answer to declaration `id`, added when the form has not named it before.
    fn answer(&mut self, id: &str) -> &mut Answer {
        let i = match self.answers.iter().position(|a| a.id == id) {
            Some(i) => i,
            None => {
                self.answers.push(Answer {
                    id: id.to_owned(),
                    ..Answer::default()
                });
                self.answers.len() - 1
            }
        };
        &mut self.answers[i]
    }

    /// Reads `multipart` into the form; on an error, what was read before it stays in the form.
    async fn read(&mut self, limit: u64, mut multipart: Multipart) -> Result<(), AppError> {
        let unreadable = |e: MultipartError| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                api::too_large(limit)
            } else {
                AppError::invalid(Msg::new("msg_unreadable").msg("what", Msg::new("what_form")))
            }
        };
        let bad_field = |name: &str| {
            AppError::invalid(
                Msg::new("msg_unreadable").msg("what", Msg::new("what_field").arg("name", name)),
            )
        };
        while let Some(field) = multipart.next_field().await.map_err(unreadable)? {
            let name = field.name().unwrap_or_default().to_owned();
            if let Some(id) = name.strip_prefix("file_") {
                let file_name = field.file_name().unwrap_or_default().to_owned();
                let content_type = field.content_type().unwrap_or_default().to_owned();
                let bytes = field.bytes().await.map_err(unreadable)?;
                if file_name.is_empty() && bytes.is_empty() {
                    continue;
                }
                self.answer(id).attachments.push(NewAttachment {
                    file_name,
                    content_type,
                    bytes: bytes.to_vec(),
                });
                continue;
            }
            let bytes = field.bytes().await.map_err(unreadable)?;
            let text = String::from_utf8(bytes.to_vec()).map_err(|_| bad_field(&name))?;
            match name.as_str() {
                "csrf" => self.csrf = Some(text),
                "confirm" => self.confirm = Some(text),
                "submission_id" => {
                    self.submission_id = Some(text.trim().parse().map_err(|_| bad_field(&name))?)
                }
                _ => {
                    if let Some(id) = name.strip_prefix("answer_") {
                        self.answer(id).answer = text;
                    }
                }
            }
        }
        Ok(())
    }
}

/// A listing request that was not made, for the run page's form: why, which field (when an
/// answer or a file), and the answers as typed, by declaration id.
#[derive(Debug, Clone, Serialize)]
pub(super) struct Refused {
    pub message: String,
    /// The declaration the reason is about.
    pub declaration: Option<String>,
    pub field: Option<Field>,
    pub answers: BTreeMap<String, String>,
    /// Whether files were sent (and are to be chosen again).
    pub had_files: bool,
}

/// `POST /produkter/{id}/oppforing`.
pub(super) async fn request_listing(
    page: Page,
    Path(id): Path<i64>,
    headers: HeaderMap,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Response, PageError> {
    let org = policy::vendor_organisation(&page.actor)?;
    // Another organisation's product is not found, whatever the body holds.
    match page.state.stores.market.product(id).await? {
        Some(p) if p.organisation_id == org => {}
        _ => return Err(AppError::NotFound.into()),
    }
    let mut form = ListingRequestForm::default();
    let read = match multipart {
        Ok(multipart) => {
            form.read(page.state.config.max_upload_bytes, multipart)
                .await
        }
        Err(_) => Err(api::not_a_form(&headers)),
    };
    // What the form shows again if the request is refused: the texts, not the files.
    let answers: BTreeMap<String, String> = form
        .answers
        .iter()
        .map(|a| (a.id.clone(), a.answer.clone()))
        .collect();
    let had_files = form.answers.iter().any(|a| !a.attachments.is_empty());
    let submission_id = form.submission_id;
    let attempt = match read {
        Ok(()) => attempt(&page, id, form).await,
        Err(e) => Err(e.into()),
    };
    let Refusal { error, at } = match attempt {
        Ok(()) => return Ok(Redirect::to(&format!("/produkter/{id}")).into_response()),
        Err(Refusal {
            error: e @ AppError::Internal(_),
            ..
        }) => return Err(e.into()),
        Err(refused) => refused,
    };
    // The run page the form was on: the version's deciding run, which is the vendor's own.
    let run = match submission_id {
        Some(s) => match page.state.stores.market.submission(s).await? {
            Some(sub) if sub.organisation_id == org && sub.product_id == id => {
                let runs = page.state.stores.market.runs(s).await?;
                Run::deciding(&runs).map(|r| r.id)
            }
            _ => None,
        },
        None => None,
    };
    let Some(run) = run else {
        return Err(error.into());
    };
    let refused = Refused {
        message: error.text(page.lang),
        declaration: at.as_ref().map(|(d, _)| d.clone()),
        field: at.map(|(_, f)| f),
        answers,
        had_files,
    };
    let status = error.status_and_code().0;
    super::web::render_run(&page, run, status, None, Some(refused)).await
}

/// The token and the confirmation, then the request ([`service::request_listing`], which checks
/// the version before the answers, as the API does); a refusal names its field when it is about
/// an answer.
async fn attempt(page: &Page, product_id: i64, form: ListingRequestForm) -> Result<(), Refusal> {
    csrf::check(&page.actor, form.csrf.as_deref())?;
    confirmed(form.confirm.as_deref())?;
    let submission_id = form.submission_id.ok_or_else(|| {
        AppError::invalid(
            Msg::new("msg_unreadable")
                .msg("what", Msg::new("what_field").arg("name", "submission_id")),
        )
    })?;
    service::request_listing(
        &page.state,
        &page.actor,
        product_id,
        submission_id,
        Ok(form.answers),
    )
    .await
    .map(|_| ())
}
