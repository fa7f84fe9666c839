//! What every page needs: the [`Page`] extractor (the caller, the language, the path), rendering
//! into the base template, and [`PageError`] — the error a page handler returns, shown as the
//! page's error view.
//!
//! A page handler returns `Result<Response, PageError>` and uses `?` on the operations it calls.
//! Rendering an error needs the request's page (its language, its caller, its path for the way
//! back after login), which an error value does not carry; so [`render_errors`], the middleware
//! over the pages, lends each request a slot the `Page` extractor fills, and renders a handler's
//! `PageError` with it.

use std::sync::{Arc, Mutex};

use axum::extract::{FromRequestParts, Request};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::CookieJar;
use minijinja::{Value as J, context};

use super::server::AppState;
use super::web::LANGUAGES;
use crate::error::AppError;
use crate::policy::Actor;
use crate::store::StoreError;

const LANG_COOKIE: &str = "sandkasse_lang";

/// The request's language: `?lang=` first, then the cookie, then bokmål.
fn language(headers: &HeaderMap, query: Option<&str>) -> &'static str {
    let from_query = query.and_then(|q| q.split('&').find_map(|kv| kv.strip_prefix("lang=")));
    let jar = CookieJar::from_headers(headers);
    let chosen = from_query
        .map(str::to_owned)
        .or_else(|| jar.get(LANG_COOKIE).map(|c| c.value().to_owned()));
    chosen
        .and_then(|c| LANGUAGES.iter().find(|l| **l == c).copied())
        .unwrap_or(LANGUAGES[0])
}

/// What every page needs, extracted from the request: the state, the caller, the language, the
/// path (for links that switch language), and whether to remember a language chosen in the query.
#[derive(Debug, Clone)]
pub struct Page {
    pub(super) state: AppState,
    pub(super) actor: Actor,
    lang: &'static str,
    path: String,
    set_lang: bool,
}

impl FromRequestParts<AppState> for Page {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &AppState,
    ) -> Result<Page, Response> {
        let actor = Actor::from_request_parts(parts, state).await?;
        let query = parts.uri.query();
        let page = Page {
            state: state.clone(),
            actor,
            lang: language(&parts.headers, query),
            path: parts.uri.path().to_owned(),
            set_lang: query.is_some_and(|q| q.contains("lang=")),
        };
        if let Some(Slot(slot)) = parts.extensions.get::<Slot>() {
            *slot.lock().expect("page slot") = Some(page.clone());
        }
        Ok(page)
    }
}

impl Page {
    pub(super) fn render(&self, status: StatusCode, template: &str, ctx: J) -> Response {
        let user = match &self.actor {
            Actor::User { user, .. } => {
                context! { username => user.username, role => user.role.as_str() }
            }
            Actor::Anonymous => J::from(()),
        };
        let base = context! {
            lang => self.lang,
            user => user,
            csrf => self.actor.csrf(),
            path => self.path,
            other_lang => if self.lang == "nb" { "en" } else { "nb" },
        };
        let merged = context! { ..ctx, ..base };
        match self.state.templates.render(template, merged) {
            Ok(html) => {
                let mut response = (status, Html(html)).into_response();
                if self.set_lang
                    && let Ok(v) = HeaderValue::from_str(
                        &cookie::Cookie::build((LANG_COOKIE, self.lang))
                            .path("/")
                            .max_age(cookie::time::Duration::days(365))
                            .same_site(cookie::SameSite::Lax)
                            .build()
                            .to_string(),
                    )
                {
                    response.headers_mut().append(header::SET_COOKIE, v);
                }
                response
            }
            Err(e) => {
                tracing::error!(error = %e, template, "rendering failed");
                (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
            }
        }
    }

    pub(super) fn ok(&self, template: &str, ctx: J) -> Response {
        self.render(StatusCode::OK, template, ctx)
    }

    /// An error as a page; a request that needs a login goes to the login page and back.
    pub(super) fn error(&self, error: &AppError) -> Response {
        if matches!(error, AppError::Unauthorized(_)) && matches!(self.actor, Actor::Anonymous) {
            return Redirect::to(&format!("/logg-inn?neste={}", encode(&self.path)))
                .into_response();
        }
        let (status, code) = error.status_and_code();
        if let AppError::Internal(cause) = error {
            tracing::error!(error = %cause, "internal error");
        }
        self.render(
            status,
            "error.html",
            context! { status => status.as_u16(), code => code, message => error.to_string() },
        )
    }
}

/// What a path in a query value keeps unescaped.
const PATH_KEEPS: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'/')
    .remove(b'-')
    .remove(b'_')
    .remove(b'.');

fn encode(path: &str) -> String {
    percent_encoding::utf8_percent_encode(path, PATH_KEEPS).to_string()
}

/// The error of a page handler: rendered as the page's error view (or, for a visitor who must log
/// in, a redirect to the login page and back) by [`render_errors`].
#[derive(Debug)]
pub struct PageError(pub AppError);

impl From<AppError> for PageError {
    fn from(error: AppError) -> PageError {
        PageError(error)
    }
}

impl From<StoreError> for PageError {
    fn from(error: StoreError) -> PageError {
        PageError(error.into())
    }
}

impl IntoResponse for PageError {
    /// A placeholder carrying the error; [`render_errors`] replaces it with the page.
    fn into_response(self) -> Response {
        let mut response = Response::default();
        response.extensions_mut().insert(Failure(Arc::new(self.0)));
        response
    }
}

/// A page handler's error on its way to [`render_errors`].
#[derive(Debug, Clone)]
struct Failure(Arc<AppError>);

/// Where the `Page` extractor leaves the request's page for [`render_errors`].
#[derive(Debug, Clone, Default)]
struct Slot(Arc<Mutex<Option<Page>>>);

/// Middleware over the pages: a handler's [`PageError`] becomes the error view of the page the
/// handler extracted, with the same status, message and headers as that page's own rendering.
pub async fn render_errors(mut request: Request, next: Next) -> Response {
    let slot = Slot::default();
    request.extensions_mut().insert(slot.clone());
    let mut response = next.run(request).await;
    let Some(Failure(error)) = response.extensions_mut().remove::<Failure>() else {
        return response;
    };
    let page = slot.0.lock().expect("page slot").take();
    match page {
        Some(page) => page.error(&error),
        None => {
            // Every page handler extracts its `Page` first; a handler without one answers plainly.
            tracing::error!(error = %error, "a page error without its page");
            let (status, _) = error.status_and_code();
            (status, error.to_string()).into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn language_comes_from_query_then_cookie_then_default() {
        let mut h = HeaderMap::new();
        assert_eq!(language(&h, None), "nb");
        assert_eq!(language(&h, Some("lang=en")), "en");
        assert_eq!(language(&h, Some("lang=xx")), "nb");
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("sandkasse_lang=en"),
        );
        assert_eq!(language(&h, None), "en");
        assert_eq!(language(&h, Some("q=a&lang=nb")), "nb");
    }
}
