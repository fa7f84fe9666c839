//! Bearer tokens bound to a launch context.
//!
//! A [`LaunchContext`] says who acts (practitioner HPR, Volven 9060 category, unit orgnr), for
//! which patient (optional) and why (treatment, or emergency with a reason). The platform checks it
//! against the kommune's ground truth — the practitioner exists, has that category and a role in
//! that unit — and issues an opaque token that expires after [`TOKEN_LIFETIME_SECS`] on the
//! platform's clock. `POST /{kommunenummer}/auth/token` does the same over HTTP.
//!
//! Scopes (space-separated, SMART style). Default when none is asked for:
//! `user/*.read user/*.write`. Reads need `user/*.read` or `user/{Type}.read`, writes
//! `user/*.write` or `user/{Type}.write`. `system/AuditEvent.read` — reading the audit log, the
//! basis of innsyn — is granted only to a practitioner of category `XX` acting for the kommune's
//! own Organization (the unit of kind `kommune`); asking for it otherwise is refused (403).
//!
//! Tokens are deterministic: `sk-{kommune}-{n}-{mac}`, where `n` counts the platform's tokens and
//! `mac` is an HMAC of both under the platform's secret (see
//! [`PlatformConfig::secret`](crate::PlatformConfig)).

use hmac::{Hmac, Mac};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::store::TenantBase;

/// Lifetime of a token, seconds (1 hour).
pub const TOKEN_LIFETIME_SECS: i64 = 3600;

/// The audit scope.
pub const AUDIT_SCOPE: &str = "system/AuditEvent.read";

/// Default scope when the launch context asks for none.
pub const DEFAULT_SCOPE: &str = "user/*.read user/*.write";

/// Purpose of use.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Purpose {
    /// Ordinary care (HL7 `TREAT`).
    #[default]
    Treatment,
    /// Emergency access, "break the glass" (HL7 `ETREAT`); needs a reason.
    Emergency,
}

impl Purpose {
    /// The HL7 v3 ActReason code.
    pub fn code(self) -> &'static str {
        match self {
            Purpose::Treatment => "TREAT",
            Purpose::Emergency => "ETREAT",
        }
    }
}

/// A SMART-style launch context (docs/architecture.md §3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LaunchContext {
    /// Kommunenummer. Over HTTP it comes from the path; if given in the body it must match.
    #[serde(default)]
    pub kommunenummer: String,
    /// HPR number of the practitioner.
    pub practitioner: String,
    /// Volven 9060 category the practitioner acts in, e.g. `SP`.
    pub role: String,
    /// Orgnr of the unit (enhet) the practitioner acts for.
    pub unit: String,
    /// Patient id in context, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub patient: Option<String>,
    /// Purpose of use. Default `treatment`.
    #[serde(default)]
    pub purpose: Purpose,
    /// Reason for emergency access.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Requested scopes, space-separated. Default [`DEFAULT_SCOPE`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
}

/// Why a launch context gets no token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("ukjent kommune / unknown kommune: {0}")]
    UnknownKommune(String),
    #[error("ugyldig launch-kontekst / invalid launch context: {field}: {message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
    #[error("ukjent helsepersonell / unknown practitioner: HPR {0}")]
    UnknownPractitioner(String),
    #[error(
        "helsepersonellet har ikke kategorien / the practitioner does not have category {role} (has {actual})"
    )]
    WrongCategory { role: String, actual: String },
    #[error("ukjent enhet / unknown unit: orgnr {0}")]
    UnknownUnit(String),
    #[error(
        "helsepersonellet har ingen rolle i enheten / the practitioner has no role in unit {0}"
    )]
    NoRoleInUnit(String),
    #[error("ukjent pasient / unknown patient: {0}")]
    UnknownPatient(String),
    #[error("scope ikke tillatt / scope not permitted: {0}")]
    ScopeNotPermitted(String),
}

impl TokenError {
    /// HTTP status for the token endpoint.
    pub fn status(&self) -> u16 {
        match self {
            TokenError::UnknownKommune(_) => 404,
            TokenError::Invalid { .. } | TokenError::UnknownPatient(_) => 400,
            _ => 403,
        }
    }
}

/// An issued token and what it grants.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Grant {
    pub access_token: String,
    pub kommunenummer: String,
    pub practitioner_id: String,
    pub hpr: String,
    pub practitioner_name: String,
    pub category: String,
    pub unit_id: String,
    pub orgnr: String,
    pub patient: Option<String>,
    pub purpose: Purpose,
    pub reason: Option<String>,
    pub scopes: Vec<String>,
    pub issued: Timestamp,
    pub expires: Timestamp,
}

impl Grant {
    /// Whether the scopes allow reading (`write = false`) or writing `rtype`.
    pub fn allows(&self, rtype: &str, write: bool) -> bool {
        if rtype == "AuditEvent" {
            return !write && self.scopes.iter().any(|s| s == AUDIT_SCOPE);
        }
        let verb = if write { "write" } else { "read" };
        self.scopes.iter().any(|s| {
            let Some((ctx, rest)) = s.split_once('/') else {
                return false;
            };
            let Some((t, v)) = rest.split_once('.') else {
                return false;
            };
            matches!(ctx, "user" | "patient") && (t == "*" || t == rtype) && (v == "*" || v == verb)
        })
    }

    /// Whether the grant carries a non-blank emergency reason.
    pub fn has_reason(&self) -> bool {
        self.reason.as_deref().is_some_and(|r| !r.trim().is_empty())
    }
}

/// The text of the `n`th token of kommune `kommunenummer` under `secret`:
/// `sk-{kommunenummer}-{n}-{mac}`.
pub fn token_text(secret: &[u8; 32], kommunenummer: &str, n: u64) -> String {
    let mut m = <Hmac<Sha256> as Mac>::new_from_slice(secret).expect("HMAC takes any key length");
    m.update(b"sandkasse-token\0");
    m.update(kommunenummer.as_bytes());
    m.update(&n.to_le_bytes());
    let mac: String = m.finalize().into_bytes()[..12]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("sk-{kommunenummer}-{n}-{mac}")
}

/// Whether `token` is one a platform with `secret` issues (its MAC holds), without asking the
/// platform: a host of many platforms can refuse a foreign token before loading any.
pub fn is_issued_under(secret: &[u8; 32], token: &str) -> bool {
    let mut parts = token.splitn(4, '-');
    let (Some("sk"), Some(k), Some(n), Some(_)) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    let Ok(n) = n.parse::<u64>() else {
        return false;
    };
    let expected = token_text(secret, k, n);
    // Constant time is not needed for a MAC compared whole, but costs nothing here.
    expected.len() == token.len()
        && expected
            .bytes()
            .zip(token.bytes())
            .fold(0_u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

fn is_scope(s: &str) -> bool {
    let Some((ctx, rest)) = s.split_once('/') else {
        return false;
    };
    let Some((t, v)) = rest.split_once('.') else {
        return false;
    };
    matches!(ctx, "user" | "patient" | "system")
        && (t == "*" || crate::types::type_info(t).is_some())
        && matches!(v, "*" | "read" | "write")
}

/// Checks `ctx` against the kommune's truth; returns the grant without token text and times.
pub(crate) fn check(tenant: &TenantBase, ctx: &LaunchContext) -> Result<Grant, TokenError> {
    let invalid = |field, message: &str| TokenError::Invalid {
        field,
        message: message.to_owned(),
    };
    if ctx.practitioner.is_empty() {
        return Err(invalid("practitioner", "mangler / missing"));
    }
    if !sandkasse_kommune::ids::is_valid_hpr(&ctx.practitioner) {
        return Err(invalid(
            "practitioner",
            "ikke et gyldig HPR-nummer / not a valid HPR number",
        ));
    }
    if !sandkasse_kommune::codes::KATEGORI_HELSEPERSONELL
        .iter()
        .any(|c| c.code == ctx.role)
    {
        return Err(invalid(
            "role",
            "ikke en kode i Volven 9060 / not a Volven 9060 category code",
        ));
    }
    if !sandkasse_kommune::ids::is_valid_orgnr(&ctx.unit) {
        return Err(invalid(
            "unit",
            "ikke et gyldig organisasjonsnummer / not a valid orgnr",
        ));
    }
    if let Some(r) = &ctx.reason
        && r.len() > 1000
    {
        return Err(invalid(
            "reason",
            "over 1000 tegn / longer than 1000 characters",
        ));
    }
    let truth = &tenant.truth;
    let practitioner = tenant
        .practitioner_by_hpr
        .get(&ctx.practitioner)
        .map(|i| &truth.practitioners[*i])
        .ok_or_else(|| TokenError::UnknownPractitioner(ctx.practitioner.clone()))?;
    if practitioner.category != ctx.role {
        return Err(TokenError::WrongCategory {
            role: ctx.role.clone(),
            actual: practitioner.category.to_owned(),
        });
    }
    let unit = tenant
        .unit_by_orgnr
        .get(&ctx.unit)
        .map(|i| &truth.units[*i])
        .ok_or_else(|| TokenError::UnknownUnit(ctx.unit.clone()))?;
    if !practitioner.units.contains(&unit.id) {
        return Err(TokenError::NoRoleInUnit(ctx.unit.clone()));
    }
    if let Some(p) = &ctx.patient
        && tenant.get("Patient", p).is_none()
    {
        return Err(TokenError::UnknownPatient(p.clone()));
    }
    let requested = ctx.scope.as_deref().unwrap_or(DEFAULT_SCOPE);
    let mut scopes: Vec<String> = Vec::new();
    for s in requested.split_ascii_whitespace() {
        if matches!(
            s,
            "openid" | "fhirUser" | "launch" | "launch/patient" | "offline_access"
        ) {
            continue;
        }
        if !is_scope(s) {
            return Err(invalid(
                "scope",
                &format!("ukjent scope / unknown scope `{s}`"),
            ));
        }
        if s.starts_with("system/") {
            let auditor =
                practitioner.category == "XX" && unit.kind == sandkasse_kommune::UnitKind::Kommune;
            if s != AUDIT_SCOPE || !auditor {
                return Err(TokenError::ScopeNotPermitted(s.to_owned()));
            }
        }
        if !scopes.iter().any(|have| have == s) {
            scopes.push(s.to_owned());
        }
    }
    Ok(Grant {
        access_token: String::new(),
        kommunenummer: tenant.nummer.to_owned(),
        practitioner_id: practitioner.id.clone(),
        hpr: practitioner.hpr.clone(),
        practitioner_name: practitioner.name.clone(),
        category: practitioner.category.to_owned(),
        unit_id: unit.id.clone(),
        orgnr: unit.orgnr.clone(),
        patient: ctx.patient.clone(),
        purpose: ctx.purpose,
        reason: ctx.reason.clone().filter(|r| !r.trim().is_empty()),
        scopes,
        issued: Timestamp::UNIX_EPOCH,
        expires: Timestamp::UNIX_EPOCH,
    })
}
