//! Request routing: from method and path to an interaction, with 404/405/400 answers for paths
//! that name none.
//!
//! ```text
//! GET  /{k}/fhir/metadata                    capabilities (no token)
//! POST /{k}/auth/token                       token for a launch context (no token)
//! GET  /{k}/fhir/{type}?params               search
//! GET|POST /{k}/fhir/{type}/_search          search (POST: form body)
//! POST /{k}/fhir/{type}                      create (If-None-Exist: conditional create)
//! GET  /{k}/fhir/{type}/{id}                 read
//! GET  /{k}/fhir/{type}/{id}/_history/{vid}  vread (current version only)
//! PUT  /{k}/fhir/{type}/{id}                 update (If-Match required)
//! ```

use http::Method;

use crate::audit::Interaction;
use crate::error::ApiError;
use crate::faults::RequestKind;
use crate::search::is_valid_id;
use crate::types::{self, TypeInfo};

/// A routed request: the kommune it names and what it asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Route {
    pub kommune: String,
    pub target: Target,
}

/// What a request asks for. Metadata and token requests name no resource type, so the resource
/// interactions ([`Op`]) are a type of their own and a handler of them has no impossible arms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Target {
    Metadata,
    Token,
    Resource(&'static TypeInfo, Op),
}

/// An interaction on one resource type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Op {
    Search { post: bool },
    Create,
    Read { id: String, version: Option<String> },
    Update { id: String },
}

impl Op {
    /// The interaction as the audit trail names it.
    pub fn interaction(&self) -> Interaction {
        match self {
            Op::Search { .. } => Interaction::Search,
            Op::Create => Interaction::Create,
            Op::Read { .. } => Interaction::Read,
            Op::Update { .. } => Interaction::Update,
        }
    }
}

impl Route {
    fn new(kommune: &str, target: Target) -> Route {
        Route {
            kommune: kommune.to_owned(),
            target,
        }
    }

    fn resource(kommune: &str, info: &'static TypeInfo, op: Op) -> Route {
        Route::new(kommune, Target::Resource(info, op))
    }

    pub fn kind(&self) -> RequestKind {
        match &self.target {
            Target::Metadata => RequestKind::Metadata,
            Target::Token => RequestKind::Token,
            Target::Resource(_, Op::Search { .. }) => RequestKind::Search,
            Target::Resource(_, Op::Create) => RequestKind::Create,
            Target::Resource(_, Op::Read { .. }) => RequestKind::Read,
            Target::Resource(_, Op::Update { .. }) => RequestKind::Update,
        }
    }

    pub fn resource_type(&self) -> Option<&'static str> {
        match &self.target {
            Target::Resource(info, _) => Some(info.name),
            Target::Metadata | Target::Token => None,
        }
    }
}

fn not_allowed(method: &Method, what: &str, allowed: &str) -> ApiError {
    ApiError::method_not_allowed(format!(
        "{method} er ikke tillatt på {what} (tillatt: {allowed}) / {method} is not allowed on {what} (allowed: {allowed})"
    ))
}

fn resource_type(name: &str, write: Option<&Method>) -> Result<&'static TypeInfo, ApiError> {
    match types::type_info(name) {
        Some(info) => {
            if let Some(m) = write
                && !info.writable
            {
                return Err(not_allowed(
                    m,
                    name,
                    "GET; skrivbare typer / writable types: EpisodeOfCare, Condition, MedicationAdministration, Observation, DocumentReference, Consent, Provenance",
                ));
            }
            Ok(info)
        }
        None if sandkasse_fhir::schema::is_resource_type(name) => Err(ApiError::new(
            http::StatusCode::NOT_FOUND,
            "not-supported",
            format!(
                "Ressurstypen {name} tilbys ikke av plattformen (se /metadata) / resource type {name} is not supported by this platform (see /metadata)"
            ),
        )),
        None => Err(ApiError::new(
            http::StatusCode::NOT_FOUND,
            "not-supported",
            format!(
                "Ukjent ressurstype `{name}` — ikke en FHIR R4-ressurs / unknown resource type `{name}` — not a FHIR R4 resource"
            ),
        )),
    }
}

fn id(text: &str) -> Result<String, ApiError> {
    if is_valid_id(text) {
        Ok(text.to_owned())
    } else {
        Err(ApiError::bad_request(format!(
            "Ugyldig id `{text}` (FHIR id: [A-Za-z0-9-.], 1–64 tegn) / malformed id `{text}` (FHIR id: [A-Za-z0-9-.], 1–64 characters)"
        )))
    }
}

/// Routes a request; the kommune is checked by the caller.
pub(crate) fn route(method: &Method, path: &str) -> Result<Route, ApiError> {
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let not_found = || {
        ApiError::not_found(format!(
            "Ingen slik adresse: {path} (FHIR-basen er /{{kommunenummer}}/fhir) / no such path: {path} (the FHIR base is /{{kommunenummer}}/fhir)"
        ))
    };
    let get = method == Method::GET;
    match segments.as_slice() {
        [k, "auth", "token"] => {
            if method == Method::POST {
                Ok(Route::new(k, Target::Token))
            } else {
                Err(not_allowed(method, "/auth/token", "POST"))
            }
        }
        [k, "fhir", "metadata"] => {
            if get {
                Ok(Route::new(k, Target::Metadata))
            } else {
                Err(not_allowed(method, "metadata", "GET"))
            }
        }
        [k, "fhir", t] if !t.is_empty() => match *method {
            Method::GET => Ok(Route::resource(
                k,
                resource_type(t, None)?,
                Op::Search { post: false },
            )),
            Method::POST => Ok(Route::resource(
                k,
                resource_type(t, Some(method))?,
                Op::Create,
            )),
            _ => {
                resource_type(t, None)?;
                Err(not_allowed(method, t, "GET, POST"))
            }
        },
        [k, "fhir", t, "_search"] => {
            let info = resource_type(t, None)?;
            match *method {
                Method::GET => Ok(Route::resource(k, info, Op::Search { post: false })),
                Method::POST => Ok(Route::resource(k, info, Op::Search { post: true })),
                _ => Err(not_allowed(method, "_search", "GET, POST")),
            }
        }
        [k, "fhir", t, i] if !i.is_empty() => match *method {
            Method::GET => Ok(Route::resource(
                k,
                resource_type(t, None)?,
                Op::Read {
                    id: id(i)?,
                    version: None,
                },
            )),
            Method::PUT => Ok(Route::resource(
                k,
                resource_type(t, Some(method))?,
                Op::Update { id: id(i)? },
            )),
            _ => {
                resource_type(t, None)?;
                Err(not_allowed(method, &format!("{t}/{i}"), "GET, PUT"))
            }
        },
        [k, "fhir", t, i, "_history", v] if !v.is_empty() => {
            if !get {
                return Err(not_allowed(method, "_history", "GET"));
            }
            let info = resource_type(t, None)?;
            Ok(Route::resource(
                k,
                info,
                Op::Read {
                    id: id(i)?,
                    version: Some(v.to_string()),
                },
            ))
        }
        _ => Err(not_found()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes() {
        assert!(matches!(
            route(&Method::GET, "/4601/fhir/metadata"),
            Ok(Route {
                target: Target::Metadata,
                ..
            })
        ));
        assert!(matches!(
            route(&Method::GET, "/4601/fhir/Observation"),
            Ok(Route {
                target: Target::Resource(_, Op::Search { post: false }),
                ..
            })
        ));
        assert!(matches!(
            route(&Method::POST, "/4601/fhir/Observation/_search"),
            Ok(Route {
                target: Target::Resource(_, Op::Search { post: true }),
                ..
            })
        ));
        assert!(matches!(
            route(&Method::POST, "/4601/fhir/Observation"),
            Ok(Route {
                target: Target::Resource(_, Op::Create),
                ..
            })
        ));
        assert!(matches!(
            route(&Method::PUT, "/4601/fhir/Observation/o1"),
            Ok(Route {
                target: Target::Resource(_, Op::Update { .. }),
                ..
            })
        ));
        assert!(matches!(
            route(&Method::GET, "/4601/fhir/Patient/p1/_history/1"),
            Ok(Route {
                target: Target::Resource(
                    _,
                    Op::Read {
                        version: Some(_),
                        ..
                    }
                ),
                ..
            })
        ));
        let status = |m: Method, p: &str| route(&m, p).unwrap_err().status.as_u16();
        assert_eq!(status(Method::POST, "/4601/fhir/Patient"), 405);
        assert_eq!(status(Method::DELETE, "/4601/fhir/Observation/o1"), 405);
        assert_eq!(status(Method::GET, "/4601/fhir/Pasient"), 404);
        assert_eq!(status(Method::GET, "/4601/fhir/Medication"), 404);
        assert_eq!(status(Method::GET, "/4601/fhir/Patient/bad$id"), 400);
        assert_eq!(status(Method::GET, "/4601"), 404);
        assert_eq!(status(Method::GET, "/4601/auth/token"), 405);
    }
}
