//! Tokens: issuing one for a launch context (the library call and `POST /{k}/auth/token`).

use super::*;

impl Platform {
    pub(super) fn issue(&self, st: &mut State, ctx: &LaunchContext) -> Result<Grant, TokenError> {
        let tb = self
            .base
            .tenant(&ctx.kommunenummer)
            .ok_or_else(|| TokenError::UnknownKommune(ctx.kommunenummer.clone()))?;
        let mut grant = crate::token::check(tb, ctx)?;
        st.tokens_issued += 1;
        let n = st.tokens_issued;
        let now = self.clock.now();
        grant.access_token = crate::token::token_text(&self.secret, tb.nummer, n);
        grant.issued = now;
        grant.expires = now
            .checked_add(SignedDuration::from_secs(self.config.token_lifetime_secs))
            .unwrap_or(now);
        st.tokens.insert(grant.access_token.clone(), grant.clone());
        let mut draft = Draft {
            description: Some(format!(
                "Token utstedt / token issued: scope {}",
                grant.scopes.join(" ")
            )),
            ..Draft::default()
        };
        if let Some(p) = &grant.patient {
            draft.patient(p);
        }
        Self::record(st, now, &grant, Interaction::Login, None, 200, draft);
        Ok(grant)
    }

    pub(super) fn token_endpoint(
        &self,
        ctx: &Ctx<'_>,
        parts: &Parts,
        body: &Bytes,
    ) -> Result<Response, ApiError> {
        require_content_type(&parts.headers, &["application/json"])?;
        let mut launch: LaunchContext = serde_json::from_slice(body).map_err(|e| {
            ApiError::bad_request(format!(
                "Ugyldig launch-kontekst / invalid launch context: {e}"
            ))
        })?;
        if launch.kommunenummer.is_empty() {
            launch.kommunenummer = ctx.tb.nummer.to_owned();
        } else if launch.kommunenummer != ctx.tb.nummer {
            return Err(ApiError::bad_request(format!(
                "kommunenummer {} stemmer ikke med adressen ({}) / kommunenummer {} does not match the path ({})",
                launch.kommunenummer, ctx.tb.nummer, launch.kommunenummer, ctx.tb.nummer
            )));
        }
        let mut st = self.lock();
        let grant = self.issue(&mut st, &launch).map_err(|e| {
            let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::BAD_REQUEST);
            let code = match status {
                StatusCode::FORBIDDEN => "forbidden",
                StatusCode::NOT_FOUND => "not-found",
                _ => "invalid",
            };
            ApiError::new(status, code, e.to_string())
        })?;
        let body = json!({
            "access_token": grant.access_token,
            "token_type": "Bearer",
            "expires_in": grant.expires.duration_since(grant.issued).as_secs(),
            "scope": grant.scopes.join(" "),
            "patient": grant.patient,
            "practitioner": grant.practitioner_id,
            "hpr": grant.hpr,
            "role": grant.category,
            "unit": grant.orgnr,
            "purpose": grant.purpose,
            "reason": grant.reason,
            "fhir_base": ctx.fhir_base,
        });
        let mut r = Response::new(Body::from(serde_json::to_vec(&body).unwrap_or_default()));
        r.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        r.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        Ok(r)
    }
}
