//! Who may do what: authentication of the bearer token, the care relation, shielding, the
//! compartment of a resource and the scope check, and the errors they answer with.

use super::*;

impl Platform {
    pub(super) fn authenticate(
        &self,
        st: &mut State,
        ctx: &Ctx<'_>,
        (info, op): (&'static TypeInfo, &Op),
        headers: &HeaderMap,
    ) -> Result<Grant, ApiError> {
        let Some(value) = headers.get(header::AUTHORIZATION) else {
            return Err(ApiError::unauthorized(
                "invalid_request",
                false,
                format!(
                    "Mangler Authorization: Bearer-token; hent et fra POST /{k}/auth/token / missing Authorization: Bearer token; get one from POST /{k}/auth/token",
                    k = ctx.tb.nummer
                ),
            ));
        };
        let token = value
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
            .map(str::trim)
            .ok_or_else(|| ApiError::unauthorized("invalid_request", false, "Authorization må være «Bearer <token>» / Authorization must be `Bearer <token>`"))?;
        let unknown =
            || ApiError::unauthorized("invalid_token", false, "Ukjent token / unknown token");
        let grant = st.tokens.get(token).cloned().ok_or_else(unknown)?;
        if grant.kommunenummer != ctx.tb.nummer {
            return Err(ApiError::unauthorized(
                "invalid_token",
                false,
                format!(
                    "Tokenet gjelder kommune {} / the token is for kommune {}",
                    grant.kommunenummer, grant.kommunenummer
                ),
            ));
        }
        let expired_by_fault = ctx.fx.expire_token;
        if expired_by_fault && let Some(g) = st.tokens.get_mut(token) {
            g.expires = g.expires.min(ctx.now);
        }
        if expired_by_fault || grant.expires <= ctx.now {
            let text = "Tokenet er utløpt; hent et nytt / the token has expired; get a new one";
            let draft = Draft {
                description: Some(text.to_owned()),
                ..Draft::default()
            };
            Self::record(
                st,
                ctx.now,
                &grant,
                op.interaction(),
                Some(info.name),
                401,
                draft,
            );
            return Err(ApiError::unauthorized("invalid_token", true, text));
        }
        Ok(grant)
    }

    pub(super) fn relation(
        tb: &TenantBase,
        grant: &Grant,
        patient: Option<&str>,
        today: &str,
    ) -> Relation {
        let Some(patient) = patient else {
            return Relation::None;
        };
        match tb
            .relations
            .get(&grant.unit_id)
            .and_then(|m| m.get(patient))
        {
            None => Relation::None,
            Some(list) => {
                if list
                    .iter()
                    .any(|i| tb.truth.care_relations[*i].active_on(today))
                {
                    Relation::Active
                } else {
                    Relation::Ended
                }
            }
        }
    }

    pub(super) fn requester(grant: &Grant) -> Requester<'_> {
        Requester {
            category: &grant.category,
            purpose: grant.purpose,
            reason: grant.reason.as_deref(),
        }
    }

    /// The shielding of a stored resource: its label, or sperring if a Consent of its patient
    /// blocks it.
    pub(super) fn shielding(view: &View<'_>, s: &Stored) -> Option<Skjerming> {
        let sperret = view.sperret();
        if !sperret.is_empty() {
            let reference = s.reference();
            if let Some(p) = sperret.get(reference.as_str())
                && (s.patient.as_deref() == Some(&**p) || (s.rtype == "Patient" && *s.id == **p))
            {
                return Some(Skjerming::Sperring);
            }
        }
        s.skjerming
    }

    pub(super) fn compartment(s: &Stored) -> Option<&str> {
        if s.rtype == "Patient" {
            Some(&s.id)
        } else {
            s.patient.as_deref()
        }
    }

    pub(super) fn scope_check(grant: &Grant, rtype: &str, write: bool) -> Result<(), ApiError> {
        if grant.allows(rtype, write) {
            return Ok(());
        }
        let verb = if write { "write" } else { "read" };
        let need = if rtype == "AuditEvent" {
            crate::token::AUDIT_SCOPE.to_owned()
        } else {
            format!("user/{rtype}.{verb}")
        };
        Err(ApiError::forbidden(format!(
            "Tokenets scope ({}) gir ikke tilgang; krever {need} / the token's scope ({}) does not allow this; needs {need}",
            grant.scopes.join(" "),
            grant.scopes.join(" ")
        )))
    }

    pub(super) fn denial(d: Denial) -> ApiError {
        let code = match d {
            Denial::RoleNotPermitted => "forbidden",
            _ => "security",
        };
        ApiError::new(StatusCode::FORBIDDEN, code, access::explain(d))
    }

    pub(super) fn suppressed(s: Skjerming) -> ApiError {
        ApiError::new(
            StatusCode::FORBIDDEN,
            "suppressed",
            format!(
                "Ressursen er holdt tilbake: {} / the resource is withheld",
                access::category_text(s)
            ),
        )
    }
}
