//! The mutants: the switches the `mutant` component can turn on, one at a time, by name.
//!
//! The `mutant` component reads a name from a marker in its data and runs
//! [`Behaviour::mutant`] of it; the suite's mutation harness (`crates/suite/tests/all/mutants.rs`,
//! table `plugins/mutants.toml`) patches that name into copies of the component, so one build
//! gives every variant. A mutant's name is its switch's field name; `honest` is the reference.
//!
//! ```
//! use adapter_core::Behaviour;
//! assert!(Behaviour::mutant("rounds_values").is_some_and(|b| b.rounds_values));
//! assert!(Behaviour::mutant("honest").is_some());
//! assert!(Behaviour::mutant("no_such_mistake").is_none());
//! assert!(adapter_core::MUTANTS.contains(&"token_in_query"));
//! ```

use crate::Behaviour;

/// Declares [`MUTANTS`] and [`Behaviour::mutant`] from one list of switch names.
macro_rules! mutants {
    ($($field:ident),* $(,)?) => {
        /// Every mutant's name (= its switch), in declaration order; `honest` is not among them.
        pub const MUTANTS: &[&str] = &[$(stringify!($field)),*];

        impl Behaviour {
            /// The behaviour of the mutant `name`: [`Behaviour::HONEST`] with the switch of that
            /// name on; `honest` is the reference itself. `None` for an unknown name.
            pub fn mutant(name: &str) -> Option<Behaviour> {
                match name {
                    "honest" => Some(Behaviour::HONEST),
                    $(stringify!($field) => Some(Behaviour { $field: true, ..Behaviour::HONEST }),)*
                    _ => None,
                }
            }
        }
    };
}

mutants!(
    rounds_values,
    unit_without_system,
    display_unit_codes,
    wrong_ucum_system,
    wrong_loinc_system,
    swaps_blood_pressure,
    splits_blood_pressure,
    effective_as_utc,
    drops_period_end,
    swaps_period,
    hardcodes_tjenestetype,
    manages_by_kommune,
    labels_every_note,
    one_sensitivity_label,
    patient_by_identifier,
    performer_is_unit,
    first_practitioner,
    drops_dose,
    wrong_atc_system,
    truncates_note,
    note_latin1,
    hardcodes_document_type,
    drops_category,
    conditional_on_entry_id,
    strips_security_labels,
    rounds_overview_values,
    relabels_notices,
    fills_redacted_patient,
    drops_later_notices,
    document_notices_only,
    dedups_notices,
    strips_extensions,
    active_conditions_only,
    relative_full_urls,
    unordered_overview,
    shows_recent_observations,
    page_cap_five,
    observation_page_cap,
    rejects_dnummer,
    hides_deceased,
    ascii_names,
    follows_foreign_next,
    follows_foreign_location,
    follows_redirects,
    retry_returns_nothing,
    retry_made_up_id,
    retry_recreates,
    fetches_deleted,
    ignores_updated,
    dedups_events_by_resource,
    checks_kommune_late,
    writes_nothing,
    skips_sensitive_notes,
    returns_no_ids,
    swallows_errors,
    token_in_query,
    token_in_body,
    token_in_log,
    logs_patient_id,
    logs_note_text,
    retries_client_errors,
    retry_after_millis,
    prefetches_unused,
    caches_by_path,
    duplicate_check,
    external_code_lookup,
);
