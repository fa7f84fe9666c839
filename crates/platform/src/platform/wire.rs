//! HTTP around the FHIR API: content negotiation, bodies and their limit, and the faults that
//! rewrite a response on its way out (`foreign-links`, `truncate`).

use super::*;

pub(super) fn fhir_json_response(status: StatusCode, body: Vec<u8>) -> Response {
    let mut r = Response::new(Body::from(body));
    *r.status_mut() = status;
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(FHIR_JSON));
    r
}

pub(super) fn set_header(r: &mut Response, name: header::HeaderName, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        r.headers_mut().insert(name, v);
    }
}

pub(super) fn media_type(headers: &HeaderMap, name: header::HeaderName) -> Option<String> {
    headers.get(name).and_then(|v| v.to_str().ok()).map(|v| {
        v.split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase()
    })
}

pub(super) const JSON_TYPES: &[&str] = &[
    "application/fhir+json",
    "application/json",
    "application/json+fhir",
];

pub(super) fn check_accept(headers: &HeaderMap, format: Option<&str>) -> Result<(), ApiError> {
    let not_acceptable = |what: &str| {
        ApiError::new(
            StatusCode::NOT_ACCEPTABLE,
            "not-supported",
            format!(
                "Plattformen svarer bare med application/fhir+json (ba om {what}) / the platform answers only application/fhir+json (asked for {what})"
            ),
        )
    };
    if let Some(f) = format
        && !matches!(
            f,
            "json" | "application/fhir+json" | "application/json" | "application/json+fhir"
        )
    {
        return Err(not_acceptable(f));
    }
    for value in headers.get_all(header::ACCEPT) {
        let text = value
            .to_str()
            .map_err(|_| ApiError::bad_request("Accept er ikke ASCII / Accept is not ASCII"))?;
        let ok = text.split(',').any(|range| {
            let m = range
                .split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase();
            m.is_empty() || m == "*/*" || m == "application/*" || JSON_TYPES.contains(&m.as_str())
        });
        if !ok {
            return Err(not_acceptable(text));
        }
    }
    Ok(())
}

pub(super) fn require_content_type(headers: &HeaderMap, allowed: &[&str]) -> Result<(), ApiError> {
    match media_type(headers, header::CONTENT_TYPE) {
        Some(m) if allowed.contains(&m.as_str()) => Ok(()),
        other => Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "not-supported",
            format!(
                "Content-Type må være {} (fikk {}) / Content-Type must be {} (got {})",
                allowed.join(" eller "),
                other.as_deref().unwrap_or("ingen"),
                allowed.join(" or "),
                other.as_deref().unwrap_or("none"),
            ),
        )),
    }
}

pub(super) fn parse_json_body(body: &[u8]) -> Result<Value, ApiError> {
    if body.is_empty() {
        return Err(ApiError::bad_request(
            "Tom forespørsel; forventet en FHIR-ressurs i JSON / empty body; expected a FHIR resource in JSON",
        ));
    }
    serde_json::from_slice(body).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "structure",
            format!(
                "Ugyldig JSON / malformed JSON: {e} (linje / line {}, kolonne / column {})",
                e.line(),
                e.column()
            ),
        )
    })
}

pub(super) fn schema_issues(err: schema::SchemaError) -> Vec<Issue> {
    match err {
        schema::SchemaError::Invalid(violations) => violations
            .into_iter()
            .map(|v| {
                Issue::error(
                    "structure",
                    format!(
                        "Brudd på FHIR R4-skjemaet / FHIR R4 schema violation: {}",
                        v.message
                    ),
                )
                .at(v.expression)
            })
            .collect(),
        other => vec![Issue::error("structure", other.to_string())],
    }
}

/// The form body of `POST [type]/_search` as query pairs (`application/x-www-form-urlencoded`).
pub(super) fn search_form(parts: &Parts, body: &Bytes) -> Result<Vec<(String, String)>, ApiError> {
    if !body.is_empty() {
        require_content_type(&parts.headers, &["application/x-www-form-urlencoded"])?;
    }
    let text = std::str::from_utf8(body)
        .map_err(|_| ApiError::bad_request("Skjemaet er ikke UTF-8 / form body is not UTF-8"))?;
    crate::search::parse_form(text)
        .map_err(|e| ApiError::bad_request(format!("Ugyldig skjema / malformed form body: {e}")))
}

/// The `foreign-links` fault: every occurrence of the platform's base URL in the body (links,
/// `fullUrl`) and in `Location` replaced by the same URL on `authority`.
pub(super) async fn foreign_links(response: Response, base_url: &str, authority: &str) -> Response {
    let foreign = match base_url.split_once("://") {
        Some((scheme, _)) => format!("{scheme}://{authority}"),
        None => format!("https://{authority}"),
    };
    let (mut parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap_or_default();
    let text = String::from_utf8_lossy(&bytes).replace(base_url, &foreign);
    if let Some(location) = parts
        .headers
        .get(header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.replace(base_url, &foreign))
        && let Ok(value) = http::HeaderValue::from_str(&location)
    {
        parts.headers.insert(header::LOCATION, value);
    }
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(text))
}

/// The `truncate` fault: the body cut after `limit` bytes.
pub(super) async fn truncate(response: Response, limit: usize) -> Response {
    let (mut parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap_or_default();
    let cut = bytes.slice(..limit.min(bytes.len()));
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(cut))
}

impl Platform {
    pub(super) async fn read_body(&self, parts: &Parts, body: Body) -> Result<Bytes, ApiError> {
        let limit = self.config.body_limit;
        let too_large = || {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "too-long",
                format!(
                    "Forespørselen er større enn {limit} byte / request body larger than {limit} bytes"
                ),
            )
        };
        let declared = parts
            .headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|n| n > limit as u64) {
            return Err(too_large());
        }
        axum::body::to_bytes(body, limit)
            .await
            .map_err(|_| too_large())
    }
}
