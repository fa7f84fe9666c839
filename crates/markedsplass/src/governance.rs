//! The governance of listing decisions, as pure functions every store applies inside its
//! decision transaction (so two reviewers deciding at the same moment cannot both miss each other).
//!
//! - A case starts `in_review` with the assigned reviewers (`reviews_per_case` of the least busy).
//! - Each assigned reviewer decides once: approve or reject, always with a note.
//! - When every assigned reviewer has decided: all approve → `approved` (the product is listed);
//!   all reject → `rejected`; they disagree → `escalated`, and no single reviewer can settle it.
//! - An escalated case is decided by the next level, a member of the `beslutningsgruppe`,
//!   whose decision is final.
//!
//! ```
//! use sandkasse_markedsplass::governance::tally;
//! use sandkasse_markedsplass::store::{CaseState, Decision::*};
//! assert_eq!(tally(&[Some(Approve), None]), CaseState::InReview);
//! assert_eq!(tally(&[Some(Approve), Some(Approve)]), CaseState::Approved);
//! assert_eq!(tally(&[Some(Approve), Some(Reject)]), CaseState::Escalated);
//! ```

use crate::store::{Case, CaseState, Decision, Role};

/// Why someone may not decide a case now (the English here is for logs; people read the texts
/// `msg_case_*` of `web/i18n.toml`, see [`crate::i18n::Msg`]'s `From<&DecideError>`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecideError {
    #[error("the case is already decided")]
    Closed,
    #[error("you are not assigned to this case")]
    NotAssigned,
    #[error("you have already decided")]
    AlreadyDecided,
    #[error("the case is escalated to the beslutningsgruppe")]
    Escalated,
    #[error("the beslutningsgruppe decides only escalated cases")]
    NotEscalated,
    #[error("only reviewers and the beslutningsgruppe decide cases")]
    WrongRole,
}

/// Whether `reviewer` acting at `level` may decide `case` now.
pub fn may_decide(case: &Case, reviewer: i64, level: Role) -> Result<(), DecideError> {
    match (case.state, level) {
        (CaseState::Approved | CaseState::Rejected, _) => Err(DecideError::Closed),
        (CaseState::InReview, Role::Reviewer) => {
            match case
                .reviews
                .iter()
                .find(|r| r.reviewer_id == reviewer && r.level == Role::Reviewer)
            {
                None => Err(DecideError::NotAssigned),
                Some(r) if r.decision.is_some() => Err(DecideError::AlreadyDecided),
                Some(_) => Ok(()),
            }
        }
        (CaseState::Escalated, Role::Reviewer) => Err(DecideError::Escalated),
        (CaseState::InReview, Role::Beslutningsgruppe) => Err(DecideError::NotEscalated),
        (CaseState::Escalated, Role::Beslutningsgruppe) => Ok(()),
        (_, Role::Vendor | Role::Admin) => Err(DecideError::WrongRole),
    }
}

/// The state of a case whose assigned reviewers have decided as `decisions` (`None`: not yet).
pub fn tally(decisions: &[Option<Decision>]) -> CaseState {
    if decisions.is_empty() || decisions.iter().any(Option::is_none) {
        CaseState::InReview
    } else if decisions.iter().all(|d| *d == Some(Decision::Approve)) {
        CaseState::Approved
    } else if decisions.iter().all(|d| *d == Some(Decision::Reject)) {
        CaseState::Rejected
    } else {
        CaseState::Escalated
    }
}

/// The case's state after a decision at `level` has been recorded in `case.reviews`.
pub fn next_state(case: &Case, level: Role, decision: Decision) -> CaseState {
    match level {
        Role::Beslutningsgruppe => match decision {
            Decision::Approve => CaseState::Approved,
            Decision::Reject => CaseState::Rejected,
        },
        _ => {
            let assigned: Vec<_> = case
                .reviews
                .iter()
                .filter(|r| r.level == Role::Reviewer)
                .map(|r| r.decision)
                .collect();
            tally(&assigned)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Review;

    fn case(state: CaseState, reviews: &[(i64, Role, Option<Decision>)]) -> Case {
        Case {
            id: 1,
            product_id: 1,
            product: "p".into(),
            organisation_id: 1,
            vendor: "v".into(),
            submission_id: 1,
            version: "1".into(),
            run_id: 1,
            state,
            requested_by: "a@b.no".into(),
            requested_at: jiff::Timestamp::UNIX_EPOCH,
            decided_at: None,
            note: None,
            reviews: reviews
                .iter()
                .map(|&(id, level, decision)| Review {
                    reviewer_id: id,
                    reviewer: format!("r{id}@p.no"),
                    level,
                    decision,
                    note: None,
                    decided_at: None,
                })
                .collect(),
        }
    }

    #[test]
    fn only_assigned_undecided_reviewers_decide_open_cases() {
        let c = case(
            CaseState::InReview,
            &[
                (1, Role::Reviewer, None),
                (2, Role::Reviewer, Some(Decision::Approve)),
            ],
        );
        assert_eq!(may_decide(&c, 1, Role::Reviewer), Ok(()));
        assert_eq!(
            may_decide(&c, 2, Role::Reviewer),
            Err(DecideError::AlreadyDecided)
        );
        assert_eq!(
            may_decide(&c, 3, Role::Reviewer),
            Err(DecideError::NotAssigned)
        );
        assert_eq!(
            may_decide(&c, 9, Role::Beslutningsgruppe),
            Err(DecideError::NotEscalated)
        );
        assert_eq!(may_decide(&c, 9, Role::Admin), Err(DecideError::WrongRole));
        let e = case(
            CaseState::Escalated,
            &[(1, Role::Reviewer, Some(Decision::Reject))],
        );
        assert_eq!(
            may_decide(&e, 1, Role::Reviewer),
            Err(DecideError::Escalated)
        );
        assert_eq!(may_decide(&e, 9, Role::Beslutningsgruppe), Ok(()));
        let closed = case(CaseState::Approved, &[]);
        assert_eq!(
            may_decide(&closed, 9, Role::Beslutningsgruppe),
            Err(DecideError::Closed)
        );
    }

    #[test]
    fn disagreement_escalates_and_the_next_level_settles_it() {
        assert_eq!(tally(&[]), CaseState::InReview);
        assert_eq!(
            tally(&[Some(Decision::Reject), Some(Decision::Reject)]),
            CaseState::Rejected
        );
        let c = case(
            CaseState::Escalated,
            &[
                (1, Role::Reviewer, Some(Decision::Approve)),
                (2, Role::Reviewer, Some(Decision::Reject)),
            ],
        );
        assert_eq!(
            next_state(&c, Role::Reviewer, Decision::Reject),
            CaseState::Escalated
        );
        assert_eq!(
            next_state(&c, Role::Beslutningsgruppe, Decision::Reject),
            CaseState::Rejected
        );
        assert_eq!(
            next_state(&c, Role::Beslutningsgruppe, Decision::Approve),
            CaseState::Approved
        );
    }
}
