//! Read and vread: one resource, after the access rules, with its ETag and Last-Modified.

use super::*;

impl Platform {
    pub(super) fn resource_headers(r: &mut Response, s: &Stored) {
        set_header(r, header::ETAG, &format!("W/\"{}\"", s.version));
        set_header(
            r,
            header::LAST_MODIFIED,
            &clock::http_date(s.last_updated()),
        );
    }

    pub(super) fn read(
        &self,
        st: &mut State,
        it: &mut Call<'_>,
        id: &str,
        version: Option<&str>,
    ) -> Result<Response, ApiError> {
        let (ctx, grant, info) = (it.ctx, it.grant, it.info);
        let draft = &mut *it.draft;
        draft.query = Some(format!("{}/{id}", info.name));
        Self::scope_check(grant, info.name, false)?;
        if info.name == "AuditEvent" {
            let found = st
                .audit
                .iter()
                .find(|e| e.id == id && e.kommunenummer == ctx.tb.nummer)
                .map(AuditEntry::to_fhir);
            let Some(event) = found else {
                return Err(ApiError::not_found(format!(
                    "AuditEvent/{id} finnes ikke / not found"
                )));
            };
            if version.is_some_and(|v| v != "1") {
                return Err(ApiError::not_found(
                    "Versjonen finnes ikke / version not found",
                ));
            }
            draft.returned.push(format!("AuditEvent/{id}"));
            return Ok(fhir_json_response(
                StatusCode::OK,
                serde_json::to_vec(&event).unwrap_or_default(),
            ));
        }
        let view = View {
            base: ctx.tb,
            overlay: st.overlays.get(ctx.tb.nummer),
        };
        let Some(found) = view.get(info.name, id) else {
            return Err(ApiError::not_found(format!(
                "{}/{id} finnes ikke i kommune {} / not found in kommune {}",
                info.name, ctx.tb.nummer, ctx.tb.nummer
            )));
        };
        if let Some(v) = version
            && v != found.version.to_string()
        {
            return Err(ApiError::not_found(format!(
                "Versjon {v} finnes ikke; plattformen har bare gjeldende versjon ({}) / version {v} not found; only the current version ({}) is kept",
                found.version, found.version
            )));
        }
        let patient = Self::compartment(&found).map(str::to_owned);
        if let Some(p) = &patient {
            draft.patient(p);
        }
        let relation = Self::relation(ctx.tb, grant, patient.as_deref(), &ctx.today);
        match access::decide(
            &Self::requester(grant),
            info.name,
            Action::Read,
            relation,
            Self::shielding(&view, &found),
        ) {
            Decision::Deny(d) => Err(Self::denial(d)),
            Decision::Withhold { skjerming } => {
                draft.withheld.push(Withheld {
                    reference: found.reference(),
                    skjerming,
                });
                Err(Self::suppressed(skjerming))
            }
            Decision::Allow {
                emergency,
                redact_address,
            } => {
                draft.emergency = emergency;
                draft.returned.push(found.reference());
                let body = render(&found, redact_address, ctx.fx.unknown_elements);
                let mut r = fhir_json_response(StatusCode::OK, body.get().as_bytes().to_vec());
                Self::resource_headers(&mut r, &found);
                Ok(r)
            }
        }
    }
}
