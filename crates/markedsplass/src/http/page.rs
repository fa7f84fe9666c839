//! What every page needs: the [`Page`] extractor (the caller, the language, the path), rendering
//! into the base template, and [`PageError`] — the error a page handler returns, shown as the
//! page's error view.
//!
//! A page handler returns `Result<Response, PageError>` and uses `?` on the operations it calls.
//! Rendering an error needs the request's page (its language, its caller, its path for the way
//! back after login), which an error value does not carry; so the middleware over every route
//! ([`super::refusals`]) lends each request a [`Slot`] the `Page` extractor fills, and renders the
//! error with it — or, for a request refused before its handler ran, with a page it builds
//! ([`Page::for_refusal`]).

use std::sync::{Arc, Mutex};

use axum::extract::FromRequestParts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::CookieJar;
use minijinja::{Value as J, context};

use super::server::AppState;
use crate::error::AppError;
use crate::i18n::Lang;
use crate::policy::Actor;
use crate::store::StoreError;

const LANG_COOKIE: &str = "sandkasse_lang";

/// The request's language: `?lang=` first, then the cookie, then bokmål.
fn language(headers: &HeaderMap, query: Option<&str>) -> Lang {
    let from_query = query.and_then(|q| q.split('&').find_map(|kv| kv.strip_prefix("lang=")));
    let jar = CookieJar::from_headers(headers);
    from_query
        .and_then(Lang::parse)
        .or_else(|| jar.get(LANG_COOKIE).and_then(|c| Lang::parse(c.value())))
        .unwrap_or_default()
}

/// What every page needs, extracted from the request: the state, the caller, the language, the
/// path (for links that switch language), and whether to remember a language chosen in the query.
#[derive(Debug, Clone)]
pub struct Page {
    pub(super) state: AppState,
    pub(super) actor: Actor,
    pub(super) lang: Lang,
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
        let page = Page::with_actor(state, parts, actor);
        if let Some(Slot(slot)) = parts.extensions.get::<Slot>() {
            *slot.lock().expect("page slot") = Some(page.clone());
        }
        Ok(page)
    }
}

impl Page {
    fn with_actor(state: &AppState, parts: &axum::http::request::Parts, actor: Actor) -> Page {
        let query = parts.uri.query();
        Page {
            state: state.clone(),
            actor,
            lang: language(&parts.headers, query),
            path: parts.uri.path().to_owned(),
            set_lang: query.is_some_and(|q| q.contains("lang=")),
        }
    }

    /// The page of a request refused before a handler extracted its own: the caller as far as
    /// they can be identified (else anonymous), the request's language.
    pub(super) async fn for_refusal(
        state: &AppState,
        parts: &mut axum::http::request::Parts,
    ) -> Page {
        let actor = Actor::from_request_parts(parts, state)
            .await
            .unwrap_or(Actor::Anonymous);
        Page::with_actor(state, parts, actor)
    }

    pub(super) fn render(&self, status: StatusCode, template: &str, ctx: J) -> Response {
        let user = match &self.actor {
            Actor::User { user, .. } => {
                context! { username => user.username, role => user.role.as_str() }
            }
            Actor::Anonymous => J::from(()),
        };
        let base = context! {
            lang => self.lang.as_str(),
            user => user,
            csrf => self.actor.csrf(),
            path => self.path,
            other_lang => self.lang.other().as_str(),
        };
        let merged = context! { ..ctx, ..base };
        match self.state.templates.render(template, merged) {
            Ok(html) => {
                let mut response = (status, Html(html)).into_response();
                if self.set_lang
                    && let Ok(v) = HeaderValue::from_str(
                        &cookie::Cookie::build((LANG_COOKIE, self.lang.as_str()))
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

    /// An error as a page in the page's language; a request that needs a login goes to the login
    /// page and back.
    pub(super) fn error(&self, error: &AppError) -> Response {
        if matches!(error, AppError::Unauthorized(_)) && matches!(self.actor, Actor::Anonymous) {
            return Redirect::to(&format!("/logg-inn?neste={}", encode(&self.path)))
                .into_response();
        }
        let (status, code) = error.status_and_code();
        self.render(
            status,
            "error.html",
            context! { status => status.as_u16(), code => code, message => error.text(self.lang) },
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
/// in, a redirect to the login page and back) by [`super::refusals`].
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
    /// The error's own response, which carries it to [`super::refusals`].
    fn into_response(self) -> Response {
        self.0.into_response()
    }
}

/// Where the `Page` extractor leaves the request's page for [`super::refusals`].
#[derive(Debug, Clone, Default)]
pub(super) struct Slot(Arc<Mutex<Option<Page>>>);

impl Slot {
    /// The page a handler extracted, if it got that far.
    pub(super) fn take(&self) -> Option<Page> {
        self.0.lock().expect("page slot").take()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn language_comes_from_query_then_cookie_then_default() {
        let mut h = HeaderMap::new();
        assert_eq!(language(&h, None), Lang::Nb);
        assert_eq!(language(&h, Some("lang=en")), Lang::En);
        assert_eq!(language(&h, Some("lang=xx")), Lang::Nb);
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("sandkasse_lang=en"),
        );
        assert_eq!(language(&h, None), Lang::En);
        assert_eq!(language(&h, Some("q=a&lang=nb")), Lang::Nb);
    }
}
