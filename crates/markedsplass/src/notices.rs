//! What a vendor is told when the project acts on its listing: a listing request decided
//! (approved or rejected, with the deciding note) and a listing suspended, reinstated or delisted
//! by hand (with the reason). The nightly runs tell of their own changes (`nightly/evaluate.rs`).
//!
//! Each notification is written in the same transaction as the change it tells of, shown on the
//! vendor's dashboard (worded by the page in its language from the kind, the version and the
//! note) and POSTed, signed, to the webhook ([`crate::nightly::deliver`]); its `payload` is the
//! webhook body, its `message` the same in bokmål and English for the API.
//!
//! ```
//! use sandkasse_markedsplass::notices;
//! use sandkasse_markedsplass::store::NotificationKind;
//! # fn f(case: &sandkasse_markedsplass::store::Case) {
//! if let Some(n) = notices::decided(case, jiff::Timestamp::now()) {
//!     assert!(matches!(n.kind, NotificationKind::Approved | NotificationKind::Rejected));
//! }
//! # }
//! ```

use jiff::Timestamp;
use serde_json::json;

use crate::store::{Case, CaseState, Listing, NewNotification, NotificationKind, Product};

/// The notification of a case's final decision (`None` while it is open or escalated).
pub fn decided(case: &Case, at: Timestamp) -> Option<NewNotification> {
    let (kind, what) = match case.state {
        CaseState::Approved => (
            NotificationKind::Approved,
            "er godkjent og oppført i den løpende oversikten / is approved and listed in the catalogue",
        ),
        CaseState::Rejected => (
            NotificationKind::Rejected,
            "er avslått for oppføring / was rejected for listing",
        ),
        CaseState::InReview | CaseState::Escalated => return None,
    };
    let note = case.note.clone().unwrap_or_default();
    let message = format!("{} {} {what}: {note}", case.product, case.version);
    let payload = json!({
        "kind": kind, "product_id": case.product_id, "product": case.product, "vendor": case.vendor,
        "version": case.version, "case_id": case.id, "run_id": case.run_id, "note": note,
        "message": message, "at": at,
    });
    Some(NewNotification {
        kind,
        message,
        night_id: None,
        run_id: Some(case.run_id),
        case_id: Some(case.id),
        version: Some(case.version.clone()),
        note: Some(note),
        payload,
    })
}

/// The notification of a listing the project suspended, reinstated or delisted with `reason`.
pub fn listing_changed(
    kind: NotificationKind,
    product: &Product,
    version: &str,
    listing: &Listing,
    reason: &str,
    at: Timestamp,
) -> NewNotification {
    let what = match kind {
        NotificationKind::Reinstated => {
            "er gjeninnsatt i den løpende oversikten / is reinstated in the catalogue"
        }
        NotificationKind::Delisted => {
            "er fjernet fra den løpende oversikten / is delisted from the catalogue"
        }
        _ => "er suspendert fra den løpende oversikten / is suspended from the catalogue",
    };
    let message = format!("{} {version} {what}: {reason}", product.name);
    let payload = json!({
        "kind": kind, "product_id": product.id, "product": product.name, "vendor": product.vendor,
        "version": version, "state": listing.state, "case_id": listing.case_id, "note": reason,
        "message": message, "at": at,
    });
    NewNotification {
        kind,
        message,
        night_id: None,
        run_id: None,
        case_id: None,
        version: Some(version.to_owned()),
        note: Some(reason.to_owned()),
        payload,
    }
}
