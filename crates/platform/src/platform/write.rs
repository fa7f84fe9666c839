//! Create and update: body validation against the schema and the profile, write access,
//! conditional create, optimistic locking (If-Match), and the stored version.

use super::*;

impl Platform {
    /// Stamps id, version, lastUpdated and the generator's tags on a resource to be stored.
    pub(super) fn stamp(ctx: &Ctx<'_>, json: &mut Value, id: &str, version: u32) {
        json["id"] = json!(id);
        if !json["meta"].is_object() {
            json["meta"] = json!({});
        }
        let meta = &mut json["meta"];
        meta["versionId"] = json!(version.to_string());
        meta["lastUpdated"] = json!(clock::instant(ctx.now));
        if !ctx.tb.tags.is_empty() {
            if !meta["tag"].is_array() {
                meta["tag"] = json!([]);
            }
            if let Some(tags) = meta["tag"].as_array_mut() {
                for t in &ctx.tb.tags {
                    if !tags
                        .iter()
                        .any(|have| have["system"] == t["system"] && have["code"] == t["code"])
                    {
                        tags.push(t.clone());
                    }
                }
            }
        }
    }

    /// Parses, schema-checks and profile-checks a body for `info`; returns the JSON and the
    /// compartment patient.
    pub(super) fn validate_body(
        &self,
        st: &State,
        ctx: &Ctx<'_>,
        info: &'static TypeInfo,
        headers: &HeaderMap,
        body: &[u8],
        previous_patient: Option<&str>,
    ) -> Result<(Value, Option<String>), ApiError> {
        require_content_type(headers, JSON_TYPES)?;
        let json = parse_json_body(body)?;
        match json.get("resourceType").and_then(Value::as_str) {
            Some(t) if t == info.name => {}
            Some(t) => {
                return Err(ApiError::bad_request(format!(
                    "resourceType {t} stemmer ikke med adressen ({}) / resourceType {t} does not match the URL ({})",
                    info.name, info.name
                )));
            }
            None => {
                return Err(ApiError::bad_request(
                    "resourceType mangler / missing resourceType",
                ));
            }
        }
        schema::validate(&json).map_err(|e| {
            ApiError::with_issues(StatusCode::UNPROCESSABLE_ENTITY, schema_issues(e))
        })?;
        let view = View {
            base: ctx.tb,
            overlay: st.overlays.get(ctx.tb.nummer),
        };
        let checked = crate::profile::check(
            info.name,
            &json,
            view,
            &format!("{}/", ctx.fhir_base),
            previous_patient,
        )
        .map_err(|issues| ApiError::with_issues(StatusCode::UNPROCESSABLE_ENTITY, issues))?;
        if ctx.fx.unprocessable {
            return Err(ApiError::with_issues(
                StatusCode::UNPROCESSABLE_ENTITY,
                vec![
                    Issue::error(
                        "business-rule",
                        "Ressursen avvises (injisert feil) / resource rejected (injected fault)",
                    )
                    .at(info.name),
                ],
            ));
        }
        Ok((json, checked.patient))
    }

    pub(super) fn check_write_access(
        ctx: &Ctx<'_>,
        grant: &Grant,
        rtype: &str,
        patient: Option<&str>,
        shielding: Option<Skjerming>,
        draft: &mut Draft,
    ) -> Result<(), ApiError> {
        if let Some(p) = patient {
            draft.patient(p);
        }
        let relation = Self::relation(ctx.tb, grant, patient, &ctx.today);
        match access::decide(
            &Self::requester(grant),
            rtype,
            Action::Write,
            relation,
            shielding,
        ) {
            Decision::Deny(d) => Err(Self::denial(d)),
            Decision::Withhold { skjerming } => Err(Self::suppressed(skjerming)),
            Decision::Allow { emergency, .. } => {
                draft.emergency = emergency;
                Ok(())
            }
        }
    }

    pub(super) fn store(
        st: &mut State,
        ctx: &Ctx<'_>,
        rtype: &'static str,
        id: &str,
        patient: Option<&str>,
        json: &Value,
        created: bool,
    ) -> Arc<Stored> {
        let stored = Arc::new(Stored::from_json(rtype, id, patient, json));
        let overlay = st.overlays.entry(ctx.tb.nummer.to_owned()).or_default();
        overlay
            .by_type
            .entry(rtype)
            .or_default()
            .insert(id.into(), stored.clone());
        if created {
            overlay.created.entry(rtype).or_default().push(id.into());
        }
        if rtype == "Consent" {
            overlay.sperret = None;
            let view = View {
                base: ctx.tb,
                overlay: Some(overlay),
            };
            let sperret = view.compute_sperret();
            overlay.sperret = Some(sperret);
        }
        stored
    }

    pub(super) fn written_response(
        &self,
        ctx: &Ctx<'_>,
        status: StatusCode,
        s: &Stored,
    ) -> Response {
        let body = render(s, false, ctx.fx.unknown_elements);
        let mut r = fhir_json_response(status, body.get().as_bytes().to_vec());
        Self::resource_headers(&mut r, s);
        if status == StatusCode::CREATED {
            set_header(
                &mut r,
                header::LOCATION,
                &format!(
                    "{}/{}/{}/_history/{}",
                    ctx.fhir_base, s.rtype, s.id, s.version
                ),
            );
        }
        r
    }

    pub(super) fn create(
        &self,
        st: &mut State,
        it: &mut Call<'_>,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Result<Response, ApiError> {
        let (ctx, grant, info) = (it.ctx, it.grant, it.info);
        let draft = &mut *it.draft;
        let rtype = info.name;
        Self::scope_check(grant, rtype, true)?;
        let (mut json, patient) = self.validate_body(st, ctx, info, headers, body, None)?;
        Self::check_write_access(ctx, grant, rtype, patient.as_deref(), None, draft)?;
        if let Some(cond) = headers.get("if-none-exist") {
            let text = cond.to_str().map_err(|_| {
                ApiError::bad_request("If-None-Exist er ikke ASCII / If-None-Exist is not ASCII")
            })?;
            let text = text.split_once('?').map_or(text, |(_, q)| q);
            let pairs = crate::search::parse_form(text)
                .map_err(|e| ApiError::bad_request(format!("Ugyldig If-None-Exist: {e}")))?;
            if pairs.is_empty() {
                return Err(ApiError::bad_request(
                    "If-None-Exist er tomt / If-None-Exist is empty",
                ));
            }
            let q = crate::search::parse(info, &pairs, true).map_err(query_error)?;
            draft.query = Some(format!(
                "{rtype}?{}",
                crate::search::encode_query(&q.params)
            ));
            let view = View {
                base: ctx.tb,
                overlay: st.overlays.get(ctx.tb.nummer),
            };
            let matches = Self::candidates(&view, rtype, &q, q.patient.as_deref());
            match matches.as_slice() {
                [] => {}
                [existing] => {
                    let relation =
                        Self::relation(ctx.tb, grant, Self::compartment(existing), &ctx.today);
                    return match access::decide(
                        &Self::requester(grant),
                        rtype,
                        Action::Read,
                        relation,
                        Self::shielding(&view, existing),
                    ) {
                        Decision::Allow { .. } => {
                            draft.returned.push(existing.reference());
                            draft.description = Some(format!(
                                "Finnes allerede (If-None-Exist) / already exists: {}",
                                existing.reference()
                            ));
                            Ok(self.written_response(ctx, StatusCode::OK, existing))
                        }
                        Decision::Withhold { skjerming } => {
                            // The writer may not read the match, but must learn that its entry is
                            // stored (a retried sensitive note is not a new note): 200 with the
                            // match's Location, the content withheld.
                            draft.returned.push(existing.reference());
                            draft.description = Some(format!(
                                "Finnes allerede (If-None-Exist), innholdet holdt tilbake / already exists, content withheld: {}",
                                existing.reference()
                            ));
                            let outcome = sandkasse_fhir::outcome::operation_outcome(&[
                                sandkasse_fhir::outcome::Issue::new(
                                    sandkasse_fhir::outcome::Severity::Information,
                                    "duplicate",
                                    format!(
                                        "Finnes allerede; innholdet er holdt tilbake: {} / already exists; the content is withheld",
                                        access::category_text(skjerming)
                                    ),
                                ),
                            ]);
                            let mut r = fhir_json_response(
                                StatusCode::OK,
                                serde_json::to_vec(&outcome).unwrap_or_default(),
                            );
                            Self::resource_headers(&mut r, existing);
                            set_header(
                                &mut r,
                                header::LOCATION,
                                &format!(
                                    "{}/{}/{}/_history/{}",
                                    ctx.fhir_base, existing.rtype, existing.id, existing.version
                                ),
                            );
                            Ok(r)
                        }
                        Decision::Deny(d) => Err(Self::denial(d)),
                    };
                }
                several => {
                    return Err(ApiError::new(
                        StatusCode::PRECONDITION_FAILED,
                        "multiple-matches",
                        format!(
                            "If-None-Exist traff {} ressurser; vilkåret må være entydig / If-None-Exist matched {} resources; the condition must be selective",
                            several.len(),
                            several.len()
                        ),
                    ));
                }
            }
        }
        let id = {
            let overlay = st.overlays.entry(ctx.tb.nummer.to_owned()).or_default();
            loop {
                let n = overlay.next_id.entry(rtype).or_insert(0);
                *n += 1;
                let id = format!("{}-w{:06}", rtype.to_ascii_lowercase(), n);
                if ctx.tb.get(rtype, &id).is_none() && overlay.get(rtype, &id).is_none() {
                    break id;
                }
            }
        };
        Self::stamp(ctx, &mut json, &id, 1);
        let stored = Self::store(st, ctx, rtype, &id, patient.as_deref(), &json, true);
        draft.returned.push(stored.reference());
        Ok(self.written_response(ctx, StatusCode::CREATED, &stored))
    }

    pub(super) fn update(
        &self,
        st: &mut State,
        it: &mut Call<'_>,
        id: &str,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Result<Response, ApiError> {
        let (ctx, grant, info) = (it.ctx, it.grant, it.info);
        let draft = &mut *it.draft;
        let rtype = info.name;
        draft.query = Some(format!("{rtype}/{id}"));
        Self::scope_check(grant, rtype, true)?;
        let Some(if_match) = headers.get(header::IF_MATCH) else {
            return Err(ApiError::precondition_failed(
                "If-Match: W/\"<versionId>\" er påkrevd ved oppdatering / If-Match: W/\"<versionId>\" is required on update",
            ));
        };
        let wanted = if_match
            .to_str()
            .ok()
            .map(|v| {
                v.trim()
                    .trim_start_matches("W/")
                    .trim_matches('"')
                    .to_owned()
            })
            .filter(|v| !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()))
            .ok_or_else(|| {
                ApiError::bad_request(
                    "If-Match må ha formen W/\"<versionId>\" / If-Match must be W/\"<versionId>\"",
                )
            })?;
        let view = View {
            base: ctx.tb,
            overlay: st.overlays.get(ctx.tb.nummer),
        };
        let Some(current) = view.get(rtype, id) else {
            return Err(ApiError::not_found(format!(
                "{rtype}/{id} finnes ikke; opprett med POST (plattformen tildeler id) / not found; create with POST (the platform assigns ids)"
            )));
        };
        let previous_patient = Self::compartment(&current).map(str::to_owned);
        Self::check_write_access(
            ctx,
            grant,
            rtype,
            previous_patient.as_deref(),
            Self::shielding(&view, &current),
            draft,
        )?;
        if wanted != current.version.to_string() || ctx.fx.precondition_failed {
            let injected = if ctx.fx.precondition_failed {
                " (injisert feil / injected fault)"
            } else {
                ""
            };
            return Err(ApiError::precondition_failed(format!(
                "Versjonskonflikt: gjeldende versjon er W/\"{v}\", If-Match var W/\"{wanted}\"; les ressursen på nytt{injected} / version conflict: current version is W/\"{v}\", If-Match was W/\"{wanted}\"; read the resource again",
                v = current.version
            )));
        }
        let version = current.version + 1;
        let (mut json, patient) =
            self.validate_body(st, ctx, info, headers, body, previous_patient.as_deref())?;
        match json.get("id").and_then(Value::as_str) {
            Some(body_id) if body_id == id => {}
            Some(body_id) => {
                return Err(ApiError::bad_request(format!(
                    "id i ressursen ({body_id}) stemmer ikke med adressen ({id}) / the resource id ({body_id}) does not match the URL ({id})"
                )));
            }
            None => {
                return Err(ApiError::bad_request(
                    "Ressursen må ha id lik adressen ved oppdatering / the resource must carry the URL's id on update",
                ));
            }
        }
        Self::stamp(ctx, &mut json, id, version);
        let stored = Self::store(
            st,
            ctx,
            rtype,
            id,
            patient.as_deref().or(previous_patient.as_deref()),
            &json,
            false,
        );
        draft.returned.push(stored.reference());
        Ok(self.written_response(ctx, StatusCode::OK, &stored))
    }
}
