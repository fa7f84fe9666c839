//! The access rules, as one pure function: [`decide`].
//!
//! Inputs are what the token says about the requester ([`Requester`]: Volven 9060 category,
//! purpose, emergency reason), what is being done to which type ([`Action`]), the unit's care
//! relation to the patient today ([`Relation`]) and the resource's shielding label. The output is
//! a [`Decision`]: allow (perhaps flagged as emergency access, perhaps with the address
//! redacted), withhold (leave it out with a notice), or deny (403).
//!
//! The rules, in order:
//! 1. Resources outside any patient's compartment (Organization, Practitioner, PractitionerRole)
//!    are directory data: any valid token reads them.
//! 2. A requester who is not helsepersonell (category `XX`) may read only `Patient` and
//!    `EpisodeOfCare`, and write only `EpisodeOfCare` (vedtak).
//! 3. Emergency purpose without a reason is refused outright (break the glass needs a reason).
//! 4. Tjenstlig behov: the token's unit must have a care relation to the patient that is in force
//!    today; otherwise only emergency purpose (with a reason) gives access, flagged.
//! 5. Shielding: a patient's sperring (Consent deny) always withholds; krisesenter,
//!    overgrepsmottak and sensitivt-notat withhold unless emergency purpose with a reason;
//!    fortrolig / strengt fortrolig adresse never withholds the Patient but always redacts the
//!    address.
//!
//! ```
//! use sandkasse_platform::access::*;
//! use sandkasse_platform::Purpose;
//! let nurse = Requester { category: "SP", purpose: Purpose::Treatment, reason: None };
//! let d = decide(&nurse, "Observation", Action::Read, Relation::Active, None);
//! assert_eq!(d, Decision::Allow { emergency: false, redact_address: false });
//! let d = decide(&nurse, "Observation", Action::Read, Relation::None, None);
//! assert_eq!(d, Decision::Deny(Denial::NoCareRelation { ended: false }));
//! ```

use sandkasse_kommune::Skjerming;

use crate::token::Purpose;
use crate::types;

/// Who is asking, as the token says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Requester<'a> {
    /// Volven 9060 category.
    pub category: &'a str,
    pub purpose: Purpose,
    /// Emergency reason (blank counts as none).
    pub reason: Option<&'a str>,
}

impl Requester<'_> {
    fn has_reason(&self) -> bool {
        self.reason.is_some_and(|r| !r.trim().is_empty())
    }

    fn is_helsepersonell(&self) -> bool {
        sandkasse_kommune::codes::is_helsepersonell(self.category)
    }
}

/// What is done to the resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Read,
    Write,
}

/// The unit's care relation to the patient, today.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Relation {
    /// A relation is in force today.
    Active,
    /// There were relations, all ended (or not yet started).
    Ended,
    /// Never a relation.
    None,
}

/// Why access is refused (403).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Denial {
    /// No tjenstlig behov: no care relation in force today (`ended`: there was one).
    NoCareRelation { ended: bool },
    /// Emergency purpose without a reason.
    EmergencyWithoutReason,
    /// The requester's category may not do this to this type.
    RoleNotPermitted,
}

/// The verdict for one resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Serve it. `emergency`: access rests on emergency purpose (break the glass) and is flagged
    /// in the audit log; `redact_address`: remove the Patient's address.
    Allow {
        emergency: bool,
        redact_address: bool,
    },
    /// Leave it out (search: an `outcome` notice; read: 403 `suppressed`).
    Withhold { skjerming: Skjerming },
    /// Refuse the request (403).
    Deny(Denial),
}

/// Decides whether `who` may do `action` to a resource of `resource_type` whose patient is
/// related to the requester's unit by `relation` and which carries the shielding label
/// `shielding` (`Some(Skjerming::Sperring)` when a Consent blocks it).
pub fn decide(
    who: &Requester<'_>,
    resource_type: &str,
    action: Action,
    relation: Relation,
    shielding: Option<Skjerming>,
) -> Decision {
    if !types::is_patient_data(resource_type) {
        return if action == Action::Write && !who.is_helsepersonell() {
            Decision::Deny(Denial::RoleNotPermitted)
        } else {
            Decision::Allow {
                emergency: false,
                redact_address: false,
            }
        };
    }
    if !who.is_helsepersonell() {
        let permitted = match action {
            Action::Read => matches!(resource_type, "Patient" | "EpisodeOfCare"),
            Action::Write => resource_type == "EpisodeOfCare",
        };
        if !permitted {
            return Decision::Deny(Denial::RoleNotPermitted);
        }
    }
    let emergency = who.purpose == Purpose::Emergency;
    if emergency && !who.has_reason() {
        return Decision::Deny(Denial::EmergencyWithoutReason);
    }
    match relation {
        Relation::Active => {}
        _ if emergency => {}
        Relation::Ended => return Decision::Deny(Denial::NoCareRelation { ended: true }),
        Relation::None => return Decision::Deny(Denial::NoCareRelation { ended: false }),
    }
    match shielding {
        None => Decision::Allow {
            emergency,
            redact_address: false,
        },
        Some(s @ Skjerming::Sperring) => Decision::Withhold { skjerming: s },
        Some(
            s @ (Skjerming::Krisesenter | Skjerming::Overgrepsmottak | Skjerming::SensitivtNotat),
        ) => {
            if emergency {
                Decision::Allow {
                    emergency,
                    redact_address: false,
                }
            } else {
                Decision::Withhold { skjerming: s }
            }
        }
        Some(Skjerming::FortroligAdresse | Skjerming::StrengtFortroligAdresse) => Decision::Allow {
            emergency,
            redact_address: resource_type == "Patient",
        },
    }
}

/// Bokmål and English explanation of a denial, for the OperationOutcome.
pub fn explain(denial: Denial) -> String {
    match denial {
        Denial::NoCareRelation { ended: false } => "Ingen tjenstlig behov: enheten har ikke et behandlingsforhold til pasienten. \
             Bruk nødrett (purpose=emergency) med begrunnelse hvis det er fare for liv og helse. / \
             No tjenstlig behov (legitimate need): the unit has no care relation with the patient. \
             Use emergency access (purpose=emergency) with a reason if life or health is at risk."
            .to_owned(),
        Denial::NoCareRelation { ended: true } => "Ingen tjenstlig behov: enhetens behandlingsforhold til pasienten er avsluttet. / \
             No tjenstlig behov (legitimate need): the unit's care relation with the patient has ended."
            .to_owned(),
        Denial::EmergencyWithoutReason => "Nødrett krever en begrunnelse (reason i launch-konteksten). / \
             Emergency access (break the glass) requires a reason in the launch context."
            .to_owned(),
        Denial::RoleNotPermitted => "Rollen har ikke tilgang: personell uten helsepersonellkategori (XX) kan bare lese \
             Patient og EpisodeOfCare og skrive EpisodeOfCare. / Role not permitted: a requester who is not \
             helsepersonell (XX) may read only Patient and EpisodeOfCare and write only EpisodeOfCare."
            .to_owned(),
    }
}

/// Bokmål / English name of a withholding category, for notices (never what was withheld).
pub fn category_text(s: Skjerming) -> &'static str {
    match s {
        Skjerming::Krisesenter => "opplysninger fra krisesenter / information from a crisis centre",
        Skjerming::Overgrepsmottak => {
            "opplysninger fra overgrepsmottak / information from a sexual assault centre"
        }
        Skjerming::SensitivtNotat => "notat merket sensitivt / notes marked sensitive",
        Skjerming::Sperring => {
            "sperret etter ønske fra pasienten / blocked at the patient's request"
        }
        Skjerming::FortroligAdresse => "fortrolig adresse / confidential address",
        Skjerming::StrengtFortroligAdresse => {
            "strengt fortrolig adresse / strictly confidential address"
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const REASON: Option<&str> = Some("Bevisstløs pasient på legevakt");

    fn who(
        category: &'static str,
        purpose: Purpose,
        reason: Option<&'static str>,
    ) -> Requester<'static> {
        Requester {
            category,
            purpose,
            reason,
        }
    }

    #[test]
    fn directory_data_is_open_to_every_token() {
        let d = decide(
            &who("XX", Purpose::Treatment, None),
            "Organization",
            Action::Read,
            Relation::None,
            None,
        );
        assert_eq!(
            d,
            Decision::Allow {
                emergency: false,
                redact_address: false
            }
        );
    }

    #[test]
    fn saksbehandler_reads_patient_and_vedtak_only() {
        let xx = who("XX", Purpose::Treatment, None);
        assert!(matches!(
            decide(&xx, "Patient", Action::Read, Relation::Active, None),
            Decision::Allow { .. }
        ));
        assert!(matches!(
            decide(&xx, "EpisodeOfCare", Action::Write, Relation::Active, None),
            Decision::Allow { .. }
        ));
        assert_eq!(
            decide(&xx, "Observation", Action::Read, Relation::Active, None),
            Decision::Deny(Denial::RoleNotPermitted)
        );
    }

    #[test]
    fn emergency_needs_a_reason_and_is_flagged() {
        let blank = who("LE", Purpose::Emergency, Some("  "));
        assert_eq!(
            decide(&blank, "Observation", Action::Read, Relation::Active, None),
            Decision::Deny(Denial::EmergencyWithoutReason)
        );
        let btg = who("LE", Purpose::Emergency, REASON);
        assert_eq!(
            decide(&btg, "Observation", Action::Read, Relation::None, None),
            Decision::Allow {
                emergency: true,
                redact_address: false
            }
        );
    }

    #[test]
    fn shielding() {
        let sp = who("SP", Purpose::Treatment, None);
        let btg = who("SP", Purpose::Emergency, REASON);
        for s in [
            Skjerming::Krisesenter,
            Skjerming::Overgrepsmottak,
            Skjerming::SensitivtNotat,
        ] {
            assert_eq!(
                decide(
                    &sp,
                    "DocumentReference",
                    Action::Read,
                    Relation::Active,
                    Some(s)
                ),
                Decision::Withhold { skjerming: s }
            );
            assert!(matches!(
                decide(
                    &btg,
                    "DocumentReference",
                    Action::Read,
                    Relation::Active,
                    Some(s)
                ),
                Decision::Allow {
                    emergency: true,
                    ..
                }
            ));
        }
        let sperring = Some(Skjerming::Sperring);
        assert!(matches!(
            decide(
                &btg,
                "Observation",
                Action::Read,
                Relation::Active,
                sperring
            ),
            Decision::Withhold { .. }
        ));
        for s in [
            Skjerming::FortroligAdresse,
            Skjerming::StrengtFortroligAdresse,
        ] {
            for w in [sp, btg] {
                assert!(matches!(
                    decide(&w, "Patient", Action::Read, Relation::Active, Some(s)),
                    Decision::Allow {
                        redact_address: true,
                        ..
                    }
                ));
            }
        }
    }
}
