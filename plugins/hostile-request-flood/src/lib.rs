//! Proves: the number of HTTP requests per call is limited.
//!
//! `patient-overview` reads `Patient/{id}` 10 000 times in one call (with the token, ignoring
//! every answer and error), then returns an empty overview. The host must stop serving requests
//! at its per-call limit — refusing the rest with a `wasi:http` error or trapping — and classify
//! the call as **request limit exceeded**; the platform must never see more than the limit.

use guest_kit::http::{self, Request, Url};
use guest_kit::types::{AdapterError, LaunchContext};
use guest_kit::{Level, log};

const REQUESTS: u32 = 10_000;

fn flood(ctx: LaunchContext) -> Result<String, AdapterError> {
    let base = Url::parse(&ctx.fhir_base_url).map_err(|e| AdapterError::Internal(e.to_string()))?;
    let url = base.join(&format!(
        "/Patient/{}",
        ctx.patient.as_deref().unwrap_or("unknown")
    ));
    let request =
        Request::get(url).header("authorization", &format!("Bearer {}", ctx.access_token));
    let (mut answered, mut refused) = (0u32, 0u32);
    for _ in 0..REQUESTS {
        match http::send(&request) {
            Ok(_) => answered += 1,
            Err(_) => refused += 1,
        }
    }
    log(
        Level::Info,
        &format!("request flood: {answered} answered, {refused} refused"),
    );
    Ok(r#"{"resourceType":"Bundle","type":"collection","entry":[]}"#.to_owned())
}

guest_kit::fixture!(RequestFlood, flood);
