//! Search: candidates by the compartment and the query, the access rules per resource, paging,
//! withheld-resource notices and the searchset Bundle.

use super::*;

pub(super) fn query_error(e: QueryError) -> ApiError {
    match e {
        QueryError::Unsupported(_) => ApiError::not_supported(e.to_string()),
        _ => ApiError::bad_request(e.to_string()),
    }
}

impl Platform {
    /// Candidates for a search: narrowed by `_id`, a full identifier or the patient, filtered by
    /// every parameter, in stable order.
    pub(super) fn candidates<'a>(
        view: &View<'a>,
        rtype: &str,
        q: &Query,
        patient: Option<&str>,
    ) -> Vec<Found<'a>> {
        let ix = view.base.index(rtype);
        let mut positions: Option<Vec<u32>> = None;
        if let Some(ids) = q.ids.first() {
            positions = Some(
                ids.iter()
                    .filter_map(|id| ix.and_then(|ix| ix.by_id.get(id.as_str())).copied())
                    .collect(),
            );
        } else if let Some(
            [
                TokenValue {
                    system: Some(s),
                    value: Some(v),
                },
            ],
        ) = q.identifiers.first().map(Vec::as_slice)
        {
            positions = Some(
                ix.and_then(|ix| ix.by_identifier.get(s.as_str()))
                    .and_then(|m| m.get(v.as_str()))
                    .cloned()
                    .unwrap_or_default(),
            );
        } else if let Some(p) = patient {
            if rtype == "Patient" {
                positions = Some(
                    ix.and_then(|ix| ix.by_id.get(p))
                        .copied()
                        .into_iter()
                        .collect(),
                );
            } else {
                positions = Some(
                    ix.and_then(|ix| ix.by_patient.get(p))
                        .cloned()
                        .unwrap_or_default(),
                );
            }
        }
        view.candidates(rtype, positions)
            .into_iter()
            .filter(|s| q.matches(s))
            .filter(|s| patient.is_none_or(|p| Self::compartment(s) == Some(p)))
            .collect()
    }

    pub(super) fn search(
        &self,
        st: &mut State,
        it: &mut Call<'_>,
        pairs: &[(String, String)],
    ) -> Result<Response, ApiError> {
        let (ctx, grant, info) = (it.ctx, it.grant, it.info);
        let draft = &mut *it.draft;
        let rtype = info.name;
        // A cursor replaces every other parameter.
        let (q, from_cursor) = match pairs.iter().find(|(k, _)| k == "_cursor") {
            Some((_, text)) => {
                if pairs.len() > 1 {
                    return Err(ApiError::bad_request(
                        "_cursor kan ikke kombineres med andre parametre / _cursor cannot be combined with other parameters",
                    ));
                }
                let c = Cursor::decode(text, &self.secret, ctx.tb.nummer, rtype).ok_or_else(|| {
                    ApiError::bad_request("Ugyldig eller endret _cursor; start søket på nytt / invalid or tampered _cursor; start the search again")
                })?;
                let mut q = crate::search::parse(info, &c.params, false).map_err(query_error)?;
                q.offset = c.offset;
                q.count = Some(c.count);
                (q, true)
            }
            None => (
                crate::search::parse(info, pairs, false).map_err(query_error)?,
                false,
            ),
        };
        draft.query = Some(format!(
            "{rtype}?{}",
            crate::search::encode_query(&q.params)
        ));
        Self::scope_check(grant, rtype, false)?;

        let requested = q.count.unwrap_or(crate::search::DEFAULT_COUNT);
        let mut notices: Vec<Issue> = Vec::new();
        let mut count = requested;
        if let Some(n) = ctx.fx.oversized {
            count = n.unwrap_or(usize::MAX);
        } else if requested > crate::search::MAX_COUNT {
            count = crate::search::MAX_COUNT;
            if !from_cursor {
                notices.push(Issue::new(
                    Severity::Warning,
                    "informational",
                    format!("_count={requested} er begrenset til {max} / _count={requested} capped at {max}", max = crate::search::MAX_COUNT),
                ));
            }
        }
        let page_size = match ctx.fx.short_page {
            Some(k) => count.min(k),
            None => count,
        };

        let mut visible: Vec<(Box<RawValue>, String)> = Vec::new(); // (json, Type/id) rendered lazily below
        let mut visible_refs: Vec<Found<'_>> = Vec::new();
        let mut redact: Vec<bool> = Vec::new();
        let mut withheld: Vec<(String, Skjerming)> = Vec::new();

        if rtype == "AuditEvent" {
            let events: Vec<&AuditEntry> = st
                .audit
                .iter()
                .filter(|e| e.kommunenummer == ctx.tb.nummer)
                .filter(|e| q.ids.iter().all(|ids| ids.contains(&e.id)))
                .filter(|e| q.patient.as_ref().is_none_or(|p| e.patients.contains(p)))
                .filter(|e| {
                    q.agents.iter().all(|any| {
                        any.iter().any(|t| {
                            t.matches(systems::HPR, &e.agent.hpr)
                                || t.value.as_deref()
                                    == Some(&format!("Practitioner/{}", e.agent.practitioner_id))
                        })
                    })
                })
                .filter(|e| {
                    let ms = e.recorded.as_millisecond();
                    let r = crate::dates::DateRange {
                        start: ms,
                        end: ms + 1,
                    };
                    q.dates
                        .iter()
                        .chain(&q.last_updated)
                        .all(|(p, v)| p.matches(v, &r))
                })
                .collect();
            if let Some(p) = &q.patient {
                draft.patient(p);
            }
            for e in events {
                let json = serde_json::value::to_raw_value(&e.to_fhir())
                    .map_err(|_| ApiError::internal())?;
                visible.push((json, format!("AuditEvent/{}", e.id)));
            }
        } else {
            let view = View {
                base: ctx.tb,
                overlay: st.overlays.get(ctx.tb.nummer),
            };
            let who = Self::requester(grant);
            let explicit = !q.ids.is_empty() || !q.identifiers.is_empty();
            let found: Vec<Found<'_>> = if rtype == "Patient" {
                if explicit {
                    Self::candidates(&view, rtype, &q, None)
                } else {
                    // Without _id/identifier: the unit's patients with a relation in force today.
                    let positions = ctx
                        .tb
                        .unit_patients
                        .get(&grant.unit_id)
                        .cloned()
                        .unwrap_or_default();
                    view.candidates("Patient", Some(positions))
                        .into_iter()
                        .filter(|p| {
                            Self::relation(ctx.tb, grant, Some(&p.id), &ctx.today)
                                == Relation::Active
                        })
                        .filter(|p| q.matches(p))
                        .collect()
                }
            } else if info.patient_data {
                let Some(patient) = q.patient.clone() else {
                    return Err(ApiError::new(
                        StatusCode::BAD_REQUEST,
                        "required",
                        format!(
                            "Søk i {rtype} krever pasient: {rtype}?patient=<id> (pasientopplysninger søkes per pasient) / searching {rtype} requires a patient: {rtype}?patient=<id> (patient data is searched per patient)"
                        ),
                    ));
                };
                draft.patient(&patient);
                let relation = Self::relation(ctx.tb, grant, Some(&patient), &ctx.today);
                if let Decision::Deny(d) = access::decide(&who, rtype, Action::Read, relation, None)
                {
                    return Err(Self::denial(d));
                }
                Self::candidates(&view, rtype, &q, Some(&patient))
            } else {
                Self::candidates(&view, rtype, &q, None)
            };
            for s in found {
                let patient = Self::compartment(&s).map(str::to_owned);
                if let Some(p) = &patient {
                    draft.patient(p);
                }
                let relation = Self::relation(ctx.tb, grant, patient.as_deref(), &ctx.today);
                match access::decide(
                    &who,
                    rtype,
                    Action::Read,
                    relation,
                    Self::shielding(&view, &s),
                ) {
                    Decision::Deny(d) => return Err(Self::denial(d)),
                    Decision::Withhold { skjerming } => withheld.push((s.reference(), skjerming)),
                    Decision::Allow {
                        emergency,
                        redact_address,
                    } => {
                        draft.emergency |= emergency;
                        redact.push(redact_address);
                        visible_refs.push(s);
                    }
                }
            }
        }

        let total = visible.len() + visible_refs.len();
        let start = q.offset.min(total);
        let end = start.saturating_add(page_size).min(total);
        let mut entries: Vec<EntryOut> = Vec::new();
        if rtype == "AuditEvent" {
            for (json, reference) in visible.into_iter().skip(start).take(end - start) {
                entries.push(EntryOut {
                    full_url: Some(format!("{}/{reference}", ctx.fhir_base)),
                    resource: json,
                    search: SearchMode { mode: "match" },
                });
                draft.returned.push(reference);
            }
        } else {
            for (s, redact) in visible_refs
                .iter()
                .zip(redact)
                .skip(start)
                .take(end - start)
            {
                let reference = s.reference();
                if let Some(p) = Self::compartment(s) {
                    draft.patient(p);
                }
                entries.push(EntryOut {
                    full_url: Some(format!("{}/{reference}", ctx.fhir_base)),
                    resource: render(s, redact, ctx.fx.unknown_elements),
                    search: SearchMode { mode: "match" },
                });
                draft.returned.push(reference);
            }
        }
        // `notices-on-last-page`: the notice only where the search ends.
        let notice_here = !ctx.fx.notices_on_last_page || end >= total;
        if !withheld.is_empty() {
            let mut by_category: BTreeMap<&'static str, (Skjerming, usize)> = BTreeMap::new();
            for (_, s) in &withheld {
                by_category.entry(s.code()).or_insert((*s, 0)).1 += 1;
            }
            for (s, n) in by_category.values().filter(|_| notice_here) {
                notices.push(Issue::new(
                    Severity::Information,
                    "suppressed",
                    format!(
                        "{n} {} holdt tilbake: {} / {n} {} withheld: {}",
                        if *n == 1 { "ressurs" } else { "ressurser" },
                        access::category_text(*s).split(" / ").next().unwrap_or(""),
                        if *n == 1 { "resource" } else { "resources" },
                        access::category_text(*s).split(" / ").nth(1).unwrap_or(""),
                    ),
                ));
            }
            draft.withheld = withheld
                .into_iter()
                .map(|(reference, skjerming)| Withheld {
                    reference,
                    skjerming,
                })
                .collect();
        }
        if !notices.is_empty() {
            let oo = serde_json::value::to_raw_value(&operation_outcome(&notices))
                .map_err(|_| ApiError::internal())?;
            entries.push(EntryOut {
                full_url: None,
                resource: oo,
                search: SearchMode { mode: "outcome" },
            });
        }
        let link_base = format!("{}/{rtype}", ctx.fhir_base);
        let self_url = if from_cursor {
            let c = Cursor {
                params: q.params.clone(),
                offset: q.offset,
                count,
            };
            format!(
                "{link_base}?_cursor={}",
                c.encode(&self.secret, ctx.tb.nummer, rtype)
            )
        } else {
            let mut params = q.params.clone();
            if let Some(c) = q.count {
                params.push(("_count".into(), c.to_string()));
            }
            if params.is_empty() {
                link_base.clone()
            } else {
                format!("{link_base}?{}", crate::search::encode_query(&params))
            }
        };
        let mut link = vec![Link {
            relation: "self",
            url: self_url,
        }];
        if end < total && end > start {
            let c = Cursor {
                params: q.params.clone(),
                offset: end,
                count,
            };
            link.push(Link {
                relation: "next",
                url: format!(
                    "{link_base}?_cursor={}",
                    c.encode(&self.secret, ctx.tb.nummer, rtype)
                ),
            });
        }
        let bundle = BundleOut {
            resource_type: "Bundle",
            meta: BundleMeta {
                last_updated: clock::instant(ctx.now),
            },
            kind: "searchset",
            total,
            link,
            entry: entries,
        };
        let body = serde_json::to_vec(&bundle).map_err(|_| ApiError::internal())?;
        Ok(fhir_json_response(StatusCode::OK, body))
    }
}
