//! [`Behaviour`]: the switches of the reference adapter's logic, all off = honest.

/// How the adapter behaves. Every field defaults to `false`: [`Behaviour::HONEST`], the reference
/// adapter. Each field is one vendor mistake, consulted at the exact point where it happens; the
/// `flawed-*` crates turn on one each, the `mutant` component one chosen at run time
/// ([`Behaviour::mutant`]).
#[derive(Debug, Clone, Copy, Default)]
pub struct Behaviour {
    /// Overview: drops the platform's `OperationOutcome` notices (withheld information) instead
    /// of passing them on to the user.
    pub drops_notices: bool,
    /// Overview and document: reads the context patient for its fødselsnummer, then searches
    /// `Patient?identifier=…` and uses what it finds, instead of just using the context patient.
    pub searches_patient: bool,
    /// Every request: retries 429/503 without bound (still honouring `Retry-After`).
    pub retries_forever: bool,
    /// Every request: retries 429/503 immediately, at most 3 attempts, ignoring `Retry-After`.
    pub ignores_retry_after: bool,
    /// Document (vital signs): a made-up code system and codes instead of LOINC, and the
    /// practitioner's HPR number with a wrong check digit on the performer.
    pub invalid_codes: bool,
    /// Overview: logs the patient's fødselsnummer and name when opening the patient.
    pub logs_personal_data: bool,
    /// Document: plain creates, without `If-None-Exist` (no conditional create).
    pub unconditional_create: bool,
    /// Overview: keeps the first overview in a static and returns it for every later call,
    /// whatever the patient.
    pub caches_overview: bool,
    /// Every call: POSTs a telemetry event with the patient id to the vendor's own host
    /// ([`TELEMETRY_URL`]), ignoring the outcome.
    pub telemetry: bool,
    /// Overview: pages of 200 without a page cap, and a "sync" of every type's and every
    /// patient's data in the unit (no `patient` parameter, every page); the result is then
    /// filtered down to the context patient, so the overview itself is unchanged.
    pub fetches_everything: bool,
    /// Overview: the DocumentReference search goes without the `Authorization` header; the
    /// adapter carries on with whatever it gets.
    pub drops_token: bool,
    /// Every request: retries 401 and 403 up to 10 times (1 s apart).
    pub retries_auth_errors: bool,
    /// Every request: on 403, or when the platform withholds something, gets itself an emergency
    /// token (`POST …/auth/token`, purpose emergency, a canned reason) and repeats the request
    /// with it — break the glass without the user asking.
    pub breaks_glass: bool,
    /// Document (care note): writes the note without the sensitivity labels even when the user
    /// marked it sensitive.
    pub ignores_sensitive: bool,
    /// Events: handles every delivery — other kommuners' events too (fetching from the event's
    /// kommune) and redeliveries — and writes a Provenance "acknowledgement" for each.
    pub events_copy_all: bool,
    /// Events: answers `processed([])` without fetching the announced resource.
    pub events_noop: bool,
    /// Every response: parsed strictly — an element outside the vendor's R4 model is an internal
    /// error, and a body that is not complete JSON panics (a trap).
    pub strict_parser: bool,
    /// Every request: gives up (`unavailable`) when the answer took more than 200 ms on the
    /// monotonic clock.
    pub impatient: bool,
    /// Overview: a `searchset` Bundle, entries without `fullUrl`, and no AllergyIntolerance.
    pub wrong_bundle: bool,
    /// Overview: never follows `next` links (first page of every search only).
    pub first_page_only: bool,
    /// Document: no practitioner on anything written (no author, performer, care manager or
    /// Provenance agent), and made-up ids (`Observation/1`) in the answer.
    pub anonymous_writes: bool,
    /// Overview: a random `Bundle.id` and the time of this clock (the wall clock) as
    /// `Bundle.timestamp`. A function rather than a flag so that only the component that turns
    /// it on links (and imports) `wasi:clocks/wall-clock`: the reference's imports stay as they
    /// were.
    pub nondeterministic: Option<fn() -> std::time::SystemTime>,
    /// Overview: burns about 700 million instructions in a busy loop and allocates and touches
    /// 80 MiB before answering.
    pub greedy: bool,

    // ---- Mutants: the switches below are turned on one at a time by the `mutant` component
    // (see `crate::mutant`); each is one realistic vendor mistake. ----

    // Writes accepted by the platform but not faithful to the entry.
    /// Document (vital signs): values written as integers, the decimals cut off (37.2 → 37): the
    /// vendor's database column is an integer.
    pub rounds_values: bool,
    /// Document (vital signs): `valueQuantity` with only `value` and `unit` text — no UCUM
    /// `system` and `code`.
    pub unit_without_system: bool,
    /// Document (vital signs): the unit as shown on screen (`mmHg`, `°C`, `slag/min`) as the UCUM
    /// code, instead of the entry's UCUM unit (`mm[Hg]`, `Cel`, `/min`).
    pub display_unit_codes: bool,
    /// Document (vital signs): UCUM named by its HL7 OID (`urn:oid:2.16.840.1.113883.6.8`), not
    /// FHIR's canonical `http://unitsofmeasure.org`.
    pub wrong_ucum_system: bool,
    /// Document (vital signs): LOINC named by its HL7 OID (`urn:oid:2.16.840.1.113883.6.1`), not
    /// `http://loinc.org`.
    pub wrong_loinc_system: bool,
    /// Document (vital signs): the blood pressure panel's components with the systolic and
    /// diastolic codes swapped (142 written as diastolic).
    pub swaps_blood_pressure: bool,
    /// Document (vital signs): systolic and diastolic pressure as two separate Observations
    /// (8480-6, 8462-4) instead of one 85354-9 panel with components.
    pub splits_blood_pressure: bool,
    /// Document (every entry with a time): the local clock time written as UTC — the offset
    /// replaced by `Z` (`14:30:00+02:00` → `14:30:00Z`, two hours off).
    pub effective_as_utc: bool,
    /// Document (service decision): `period.end` dropped (a time-limited vedtak becomes open-ended).
    pub drops_period_end: bool,
    /// Document (service decision): `period.start` and `period.end` swapped.
    pub swaps_period: bool,
    /// Document (service decision): tjenestetype hard-coded to `15` (helsetjenester i hjemmet), the
    /// vendor's only product, whatever the entry says.
    pub hardcodes_tjenestetype: bool,
    /// Document (service decision): `managingOrganization` = the kommune (the unit's `partOf`)
    /// instead of the delivering unit.
    pub manages_by_kommune: bool,
    /// Document (care note): the sensitivity labels on every note, sensitive or not ("better safe").
    pub labels_every_note: bool,
    /// Document (care note): a sensitive note gets only `V` (v3-Confidentiality), not the
    /// platform's `sensitivt-notat` label.
    pub one_sensitivity_label: bool,
    /// Document (every resource): the patient referred to by fødselsnummer/D-nummer (a logical
    /// `identifier` reference) instead of `Patient/{id}`.
    pub patient_by_identifier: bool,
    /// Document: the unit (Organization) as performer and author everywhere, the practitioner on
    /// nothing written (Provenance agent = the unit); the returned ids are the platform's.
    pub performer_is_unit: bool,
    /// Document: the practitioner resolved as the first Practitioner the platform lists
    /// (`Practitioner?_count=1`, the vendor's "integration user"), not by the context's HPR.
    pub first_practitioner: bool,
    /// Document (medication): `dosage.text` dropped.
    pub drops_dose: bool,
    /// Document (medication): ATC named by its HL7 OID (`urn:oid:2.16.840.1.113883.6.73`), not
    /// `http://www.whocc.no/atc`.
    pub wrong_atc_system: bool,
    /// Document (care note): the text cut to 255 characters (a `varchar(255)` column).
    pub truncates_note: bool,
    /// Document (care note): the text encoded as ISO-8859-1 (`?` for what it cannot hold), still
    /// declared `charset=utf-8`.
    pub note_latin1: bool,
    /// Document (care note): the document type hard-coded to 11488-4 (konsultasjonsnotat),
    /// whatever the entry says.
    pub hardcodes_document_type: bool,
    /// Document (vital signs): the `vital-signs` category left out.
    pub drops_category: bool,
    /// Document: the conditional create keyed on the entry id (`urn:sandkasse:entry-id`) instead
    /// of the entry part, so the second Observation of an entry "already exists".
    pub conditional_on_entry_id: bool,

    // The overview does not pass on what the platform served, unchanged.
    /// Overview: `meta.security` removed from every resource ("internal metadata").
    pub strips_security_labels: bool,
    /// Overview: Observation values rounded to integers for display.
    pub rounds_overview_values: bool,
    /// Overview: the platform's withheld-information notices replaced by the vendor's own
    /// generic `OperationOutcome` (other severity, code and text).
    pub relabels_notices: bool,
    /// Overview: a Patient whose address the platform redacted gets a placeholder address (the
    /// vendor's UI requires one).
    pub fills_redacted_patient: bool,
    /// Overview: notices kept only from the first page of each search.
    pub drops_later_notices: bool,
    /// Overview: notices kept only from the DocumentReference search ("only documents are
    /// shielded").
    pub document_notices_only: bool,
    /// Overview: only the first notice kept ("some information is withheld" shown once), the
    /// other distinct notices dropped.
    pub dedups_notices: bool,
    /// Overview: `extension` and `modifierExtension` removed from every resource.
    pub strips_extensions: bool,
    /// Overview: only active Conditions (`clinicalStatus` `active`) kept.
    pub active_conditions_only: bool,
    /// Overview: `fullUrl` relative (`Condition/c1`) instead of absolute.
    pub relative_full_urls: bool,
    /// Overview: entries put in a `HashMap` (random keys per map) and listed in its order, so two
    /// calls order them differently.
    pub unordered_overview: bool,
    /// Overview: every Observation fetched, only the 20 latest shown.
    pub shows_recent_observations: bool,

    // Thin-scenario mistakes.
    /// Overview: stops paging after 5 pages per search.
    pub page_cap_five: bool,
    /// Overview: the Observation search stops after 2 pages ("the latest are enough").
    pub observation_page_cap: bool,
    /// Overview: a patient with a D-nummer and no fødselsnummer is refused as an invalid
    /// person (`invalid-input`).
    pub rejects_dnummer: bool,
    /// Overview: a deceased patient gets only the Patient, no searches ("no care after death").
    pub hides_deceased: bool,
    /// Overview: names folded to ASCII (`æ` → `ae`, `ø` → `o`, `å` → `aa`, anything else
    /// non-ASCII → `?`).
    pub ascii_names: bool,
    /// Overview: `next` links followed wherever they point, with the token (no same-origin check).
    pub follows_foreign_next: bool,
    /// Document: after each create, reads the resource back from the `Location` header as given,
    /// with the token, wherever it points.
    pub follows_foreign_location: bool,
    /// Every request: the vendor's HTTP layer follows 3xx redirects (any host) with every header,
    /// the token included.
    pub follows_redirects: bool,
    /// Document: a conditional create answered 200 with an `OperationOutcome` (the match exists
    /// but is withheld) is taken as "nothing stored": no id returned for it.
    pub retry_returns_nothing: bool,
    /// Document: a 200 `OperationOutcome` answer to a conditional create gets a made-up id (the
    /// entry id) instead of the one in `Location`.
    pub retry_made_up_id: bool,
    /// Document: a 200 `OperationOutcome` answer to a conditional create is taken as a failure and
    /// the resource is created again, unconditionally.
    pub retry_recreates: bool,
    /// Events: `deleted` events fetch the resource too (and fail on its 404/410).
    pub fetches_deleted: bool,
    /// Events: `updated` events ignored ("only new data matters").
    pub ignores_updated: bool,
    /// Events: redeliveries recognised by resource (`Type/id`) instead of event id, so an
    /// `updated` event after the `created` one is ignored.
    pub dedups_events_by_resource: bool,
    /// Events: another kommune's event is checked only after fetching its resource from this
    /// kommune's platform (and the fetch's failure returned).
    pub checks_kommune_late: bool,

    // Things that can pass vacuously.
    /// Document: validates the entry and returns `Ok([])` without writing anything.
    pub writes_nothing: bool,
    /// Document: a note marked sensitive is not written at all ("kept local"), `Ok([])`.
    pub skips_sensitive_notes: bool,
    /// Document: writes correctly, returns no ids.
    pub returns_no_ids: bool,
    /// Overview: any failure becomes an empty `collection` Bundle (`Ok`): outage, 401 and 403 look
    /// like a patient with no data.
    pub swallows_errors: bool,

    // The token where it does not belong.
    /// Every GET: the token also as `access_token=` in the URL (for "a proxy that strips headers").
    pub token_in_query: bool,
    /// Document: the token in every written resource, as an extension (the vendor's session id).
    pub token_in_body: bool,
    /// Every request: logged with its `Authorization` header.
    pub token_in_log: bool,

    // Logging, robustness and resource mistakes.
    /// Overview: logs the patient's logical id (`overview for Patient/{id}`).
    pub logs_patient_id: bool,
    /// Document (care note): logs the note's text.
    pub logs_note_text: bool,
    /// Every request: 400, 403, 404, 409 and 422 retried, at most 3 attempts, 1 s apart.
    pub retries_client_errors: bool,
    /// Every request: `Retry-After` read as milliseconds (2 → 2 ms), at most 3 attempts.
    pub retry_after_millis: bool,
    /// Overview: also searches the patient's Encounter and Provenance (every page) "for later",
    /// and shows none of it.
    pub prefetches_unused: bool,
    /// Every GET search: a response cache (for the instance's lifetime) keyed on the URL without
    /// its `patient` parameter.
    pub caches_by_path: bool,
    /// Overview: a duplicate-record check, `Patient?family=…&birthdate=…`, before showing the
    /// patient.
    pub duplicate_check: bool,
    /// Document (vital signs): looks up each LOINC code's display at the public LOINC server
    /// (`https://fhir.loinc.org`), ignoring the outcome.
    pub external_code_lookup: bool,
}

impl Behaviour {
    /// The reference adapter: no mistakes.
    pub const HONEST: Behaviour = Behaviour {
        drops_notices: false,
        searches_patient: false,
        retries_forever: false,
        ignores_retry_after: false,
        invalid_codes: false,
        logs_personal_data: false,
        unconditional_create: false,
        caches_overview: false,
        telemetry: false,
        fetches_everything: false,
        drops_token: false,
        retries_auth_errors: false,
        breaks_glass: false,
        ignores_sensitive: false,
        events_copy_all: false,
        events_noop: false,
        strict_parser: false,
        impatient: false,
        wrong_bundle: false,
        first_page_only: false,
        anonymous_writes: false,
        nondeterministic: None,
        greedy: false,
        rounds_values: false,
        unit_without_system: false,
        display_unit_codes: false,
        wrong_ucum_system: false,
        wrong_loinc_system: false,
        swaps_blood_pressure: false,
        splits_blood_pressure: false,
        effective_as_utc: false,
        drops_period_end: false,
        swaps_period: false,
        hardcodes_tjenestetype: false,
        manages_by_kommune: false,
        labels_every_note: false,
        one_sensitivity_label: false,
        patient_by_identifier: false,
        performer_is_unit: false,
        first_practitioner: false,
        drops_dose: false,
        wrong_atc_system: false,
        truncates_note: false,
        note_latin1: false,
        hardcodes_document_type: false,
        drops_category: false,
        conditional_on_entry_id: false,
        strips_security_labels: false,
        rounds_overview_values: false,
        relabels_notices: false,
        fills_redacted_patient: false,
        drops_later_notices: false,
        document_notices_only: false,
        dedups_notices: false,
        strips_extensions: false,
        active_conditions_only: false,
        relative_full_urls: false,
        unordered_overview: false,
        shows_recent_observations: false,
        page_cap_five: false,
        observation_page_cap: false,
        rejects_dnummer: false,
        hides_deceased: false,
        ascii_names: false,
        follows_foreign_next: false,
        follows_foreign_location: false,
        follows_redirects: false,
        retry_returns_nothing: false,
        retry_made_up_id: false,
        retry_recreates: false,
        fetches_deleted: false,
        ignores_updated: false,
        dedups_events_by_resource: false,
        checks_kommune_late: false,
        writes_nothing: false,
        skips_sensitive_notes: false,
        returns_no_ids: false,
        swallows_errors: false,
        token_in_query: false,
        token_in_body: false,
        token_in_log: false,
        logs_patient_id: false,
        logs_note_text: false,
        retries_client_errors: false,
        retry_after_millis: false,
        prefetches_unused: false,
        caches_by_path: false,
        duplicate_check: false,
        external_code_lookup: false,
    };
}
