//! A product's listing as everyone sees it: one status, decided by one function
//! ([`ListingStatus::of`]), which the catalogue, the product page, the vendor's dashboard, the API
//! and the catalogue badge all show — so no page can call a suspended listing godkjent.
//!
//! The status is the listing's state with the nightly runs' verdict on its health folded in: a
//! listed product whose nightly run failed is *at risk* (`Listing::at_risk_since`, set and cleared
//! by [`crate::nightly`]) until a godkjent run clears it or the grace period suspends it.
//!
//! ```
//! use sandkasse_markedsplass::listing::ListingStatus;
//! use sandkasse_markedsplass::store::Verdict;
//! assert_eq!(ListingStatus::of(None), ListingStatus::NotListed);
//! assert_eq!(
//!     ListingStatus::Listed.badge_message(Some(Verdict::Godkjent), Some(1.0)),
//!     "oppført · godkjent 100 %"
//! );
//! assert_eq!(ListingStatus::Suspended.badge_message(Some(Verdict::Godkjent), Some(1.0)), "suspendert");
//! ```

use sandkasse_suite::render::badge::{self, Tone};
use serde::{Deserialize, Serialize};

use crate::store::market::text_enum;
use crate::store::{Listing, ListingState, Verdict};

text_enum!(
    /// Where a product stands in the catalogue.
    ListingStatus {
        NotListed = "not_listed",
        Listed = "listed",
        AtRisk = "at_risk",
        Suspended = "suspended",
        Delisted = "delisted",
    }
);

impl ListingStatus {
    /// The status of a product with `listing` (`None`: never listed).
    pub fn of(listing: Option<&Listing>) -> ListingStatus {
        match listing {
            None => ListingStatus::NotListed,
            Some(l) => match l.state {
                ListingState::Listed if l.at_risk_since.is_some() => ListingStatus::AtRisk,
                ListingState::Listed => ListingStatus::Listed,
                ListingState::Suspended => ListingStatus::Suspended,
                ListingState::Delisted => ListingStatus::Delisted,
            },
        }
    }

    /// The badge's words (bokmål, as every badge is): the status, and for a product in the
    /// catalogue also the verdict and score of its listed version's last run — `oppført · godkjent
    /// 100 %`, `i faresonen · ikke godkjent 54 %`, `suspendert`, `fjernet`.
    pub fn badge_message(self, verdict: Option<Verdict>, score: Option<f64>) -> String {
        let status = match self {
            ListingStatus::Listed => "oppført",
            ListingStatus::AtRisk => "i faresonen",
            ListingStatus::Suspended => return "suspendert".into(),
            ListingStatus::Delisted => return "fjernet".into(),
            ListingStatus::NotListed => return "ikke oppført".into(),
        };
        match (verdict, score) {
            (Some(verdict), Some(score)) => format!(
                "{status} · {}",
                badge::verdict_message(verdict == Verdict::Godkjent, score)
            ),
            _ => status.into(),
        }
    }

    fn tone(self) -> Tone {
        match self {
            ListingStatus::Listed => Tone::Good,
            ListingStatus::AtRisk => Tone::Warn,
            ListingStatus::Suspended => Tone::Bad,
            ListingStatus::Delisted | ListingStatus::NotListed => Tone::Neutral,
        }
    }

    /// The catalogue badge of `product` by `vendor` (an SVG document).
    pub fn badge_svg(
        self,
        verdict: Option<Verdict>,
        score: Option<f64>,
        product: &str,
        vendor: &str,
    ) -> String {
        let message = self.badge_message(verdict, score);
        let title = format!("sandkasse: {message} – {product} ({vendor})");
        badge::render(&message, self.tone(), &title)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listing(state: ListingState, at_risk: bool) -> Listing {
        Listing {
            product_id: 1,
            submission_id: 1,
            case_id: 1,
            state,
            listed_at: jiff::Timestamp::UNIX_EPOCH,
            updated_at: jiff::Timestamp::UNIX_EPOCH,
            reason: None,
            at_risk_since: at_risk.then_some(jiff::Timestamp::UNIX_EPOCH),
            at_risk_run_id: at_risk.then_some(2),
        }
    }

    #[test]
    fn the_status_folds_the_nightly_risk_into_the_state() {
        let of = |state, risk| ListingStatus::of(Some(&listing(state, risk)));
        assert_eq!(of(ListingState::Listed, false), ListingStatus::Listed);
        assert_eq!(of(ListingState::Listed, true), ListingStatus::AtRisk);
        assert_eq!(of(ListingState::Suspended, true), ListingStatus::Suspended);
        assert_eq!(of(ListingState::Delisted, false), ListingStatus::Delisted);
        assert_eq!(ListingStatus::of(None), ListingStatus::NotListed);
    }

    #[test]
    fn the_badge_says_the_status_first_and_the_verdict_only_while_listed() {
        let godkjent = (Some(Verdict::Godkjent), Some(1.0));
        let failing = (Some(Verdict::IkkeGodkjent), Some(0.5449));
        let svg = |status: ListingStatus, (v, s): (Option<Verdict>, Option<f64>)| {
            status.badge_svg(v, s, "Journal Nord", "Leverandør A AS")
        };
        let listed = svg(ListingStatus::Listed, godkjent);
        assert!(
            listed.contains(">oppført · godkjent 100 %</text>"),
            "{listed}"
        );
        assert!(listed.contains("#2e7d32"));
        assert!(
            listed.contains("<title>sandkasse: oppført · godkjent 100 % – Journal Nord (Leverandør A AS)</title>"),
            "{listed}"
        );
        let at_risk = svg(ListingStatus::AtRisk, failing);
        assert!(
            at_risk.contains(">i faresonen · ikke godkjent 54 %</text>"),
            "{at_risk}"
        );
        assert!(at_risk.contains("#a35200"));
        let suspended = svg(ListingStatus::Suspended, godkjent);
        assert!(suspended.contains(">suspendert</text>") && !suspended.contains("godkjent"));
        assert!(suspended.contains("#c62828"));
        let delisted = svg(ListingStatus::Delisted, godkjent);
        assert!(delisted.contains(">fjernet</text>") && delisted.contains("#6b6b6b"));
        assert_eq!(ListingStatus::Listed.badge_message(None, None), "oppført");
    }
}
