//! The governance of listing decisions, as pure functions every store applies inside its
//! decision transaction (so two reviewers deciding at the same moment cannot both miss each other).
//!
//! - A case starts `in_review` with the assigned reviewers (`reviews_per_case` of the least busy).
//! - Each assigned reviewer decides once: approve or reject, always with a note.
//! - When every assigned reviewer has decided: all approve → `approved` (the product is listed);
//!   all reject → `rejected`; they disagree → `escalated`, and no single reviewer can settle it.
//! - An escalated case is decided by the next level, a member of the `beslutningsgruppe`,
//!   whose decision is final.
//! - Every decision gives a verdict on each of the case's declarations (egenerklæringer): accept,
//!   or reject with a comment ([`check_verdicts`]). Approving needs every declaration accepted, so
//!   a case is never approved with a rejected or undecided declaration: all reviewers approving
//!   means all accepted every one, and the beslutningsgruppe approves only having accepted them.
//!
//! ```
//! use sandkasse_markedsplass::governance::tally;
//! use sandkasse_markedsplass::store::{CaseState, Decision::*};
//! assert_eq!(tally(&[Some(Approve), None]), CaseState::InReview);
//! assert_eq!(tally(&[Some(Approve), Some(Approve)]), CaseState::Approved);
//! assert_eq!(tally(&[Some(Approve), Some(Reject)]), CaseState::Escalated);
//! ```

use crate::store::{Case, CaseState, Decision, DeclarationVerdict, NewVerdict, Role};

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

/// Why a decision's verdicts on the case's declarations are not accepted (people read the texts
/// `msg_verdict_*` of `web/i18n.toml`). Each names the declaration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerdictError {
    #[error("{0} is not a declaration of this case")]
    Unknown(String),
    #[error("{0} has two verdicts")]
    Twice(String),
    #[error("{0} has no verdict")]
    Undecided(String),
    #[error("rejecting {0} needs a comment")]
    NoComment(String),
    #[error("{0} is rejected, so the case cannot be approved")]
    Rejected(String),
}

/// Whether `verdicts` decide each of `case`'s declarations exactly once, every rejection with a
/// comment, and allow `decision`: approval only with every declaration accepted.
///
/// ```
/// use sandkasse_markedsplass::governance::{check_verdicts, VerdictError};
/// use sandkasse_markedsplass::store::{DeclarationVerdict::*, Decision, NewVerdict};
/// let v = |id: &str, verdict, comment: &str| NewVerdict {
///     declaration_id: id.into(), verdict, comment: comment.into(),
/// };
/// let ids = ["ERK-01", "ERK-02"];
/// assert_eq!(check_verdicts(&ids, Decision::Approve, &[v("ERK-01", Accept, ""), v("ERK-02", Accept, "")]), Ok(()));
/// assert_eq!(
///     check_verdicts(&ids, Decision::Approve, &[v("ERK-01", Accept, "")]),
///     Err(VerdictError::Undecided("ERK-02".into()))
/// );
/// assert_eq!(
///     check_verdicts(&ids, Decision::Approve, &[v("ERK-01", Accept, ""), v("ERK-02", Reject, "no DPA")]),
///     Err(VerdictError::Rejected("ERK-02".into()))
/// );
/// assert_eq!(check_verdicts(&ids, Decision::Reject, &[v("ERK-01", Accept, ""), v("ERK-02", Reject, "no DPA")]), Ok(()));
/// ```
pub fn check_verdicts(
    declarations: &[&str],
    decision: Decision,
    verdicts: &[NewVerdict],
) -> Result<(), VerdictError> {
    let mut seen = std::collections::BTreeSet::new();
    for v in verdicts {
        if !declarations.contains(&v.declaration_id.as_str()) {
            return Err(VerdictError::Unknown(v.declaration_id.clone()));
        }
        if !seen.insert(v.declaration_id.as_str()) {
            return Err(VerdictError::Twice(v.declaration_id.clone()));
        }
    }
    if let Some(id) = declarations.iter().find(|id| !seen.contains(**id)) {
        return Err(VerdictError::Undecided((*id).to_owned()));
    }
    if let Some(v) = verdicts
        .iter()
        .find(|v| v.verdict == DeclarationVerdict::Reject && v.comment.trim().is_empty())
    {
        return Err(VerdictError::NoComment(v.declaration_id.clone()));
    }
    if decision == Decision::Approve
        && let Some(v) = verdicts
            .iter()
            .find(|v| v.verdict == DeclarationVerdict::Reject)
    {
        return Err(VerdictError::Rejected(v.declaration_id.clone()));
    }
    Ok(())
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
            declarations: Vec::new(),
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
    fn every_declaration_is_decided_once_and_approval_needs_all_accepted() {
        let v = |id: &str, verdict, comment: &str| NewVerdict {
            declaration_id: id.into(),
            verdict,
            comment: comment.into(),
        };
        use DeclarationVerdict::{Accept, Reject};
        let ids = ["ERK-01", "ERK-02"];
        let all = [v("ERK-01", Accept, ""), v("ERK-02", Accept, "ok")];
        assert_eq!(check_verdicts(&ids, Decision::Reject, &all), Ok(()));
        assert_eq!(
            check_verdicts(
                &ids,
                Decision::Approve,
                &[all[0].clone(), v("ERK-03", Accept, "")]
            ),
            Err(VerdictError::Unknown("ERK-03".into()))
        );
        assert_eq!(
            check_verdicts(&ids, Decision::Approve, &[all[0].clone(), all[0].clone()]),
            Err(VerdictError::Twice("ERK-01".into()))
        );
        assert_eq!(
            check_verdicts(&ids, Decision::Reject, &[]),
            Err(VerdictError::Undecided("ERK-01".into()))
        );
        assert_eq!(
            check_verdicts(
                &ids,
                Decision::Reject,
                &[all[0].clone(), v("ERK-02", Reject, "  ")]
            ),
            Err(VerdictError::NoComment("ERK-02".into()))
        );
        // A case without declarations (a suite without any) needs no verdict.
        assert_eq!(check_verdicts(&[], Decision::Approve, &[]), Ok(()));
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
