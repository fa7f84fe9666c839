//! The audit trail: append-only, hash-chained events — who did what to what, when and why.
//!
//! Every state change and decision goes through [`Audit::record`]. Each event carries the hash of
//! the one before it, so changing, removing or reordering a stored event breaks the chain, and
//! [`Audit::verify_chain`] names the first event where it breaks (`sandkasse admin verify-audit`).
//!
//! # The hash
//!
//! ```text
//! hash(event n) = hex(sha256( prev_hash || canonical ))
//! prev_hash     = hash(event n-1), or 64 zeros for event 1 (GENESIS_HASH)
//! canonical     = compact JSON array [seq, at, actor, action, subject, reason, details]
//!                 with `at` as RFC 3339 UTC text and every object in `details` with sorted keys
//! ```
//!
//! `prev_hash` is the 64-character hex text, as stored. The format is part of the data: changing it
//! later needs a version marker per event, because old events must keep verifying as written.
//!
//! # Limits
//!
//! The chain proves the trail is unbroken from event 1 to the last event *present*. Truncating the
//! newest events leaves a shorter valid chain; to catch that, keep the head hash that
//! `verify-audit` prints somewhere else (an external anchor is a later step).
//!
//! ```
//! # async fn f(stores: sandkasse_markedsplass::store::Stores) -> Result<(), sandkasse_markedsplass::store::StoreError> {
//! use sandkasse_markedsplass::audit::{Audit, Verification};
//! let audit = Audit::new(stores.audit.clone());
//! audit.record("cli", "organisation.create", "organisation:Acme AS", None, serde_json::json!({})).await?;
//! assert!(matches!(audit.verify_chain().await?, Verification::Intact { events: 1, .. }));
//! # Ok(()) }
//! ```

use std::sync::Arc;

use sha2::{Digest as _, Sha256};

use crate::clock::Clock;
use crate::store::{AuditEvent, AuditStore, NewAuditEvent, StoreError};

/// `prev_hash` of the first event.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Events read per page by [`Audit::verify_chain`].
const PAGE: u32 = 1_000;

/// Gives `event` its place after `prev_hash` as number `seq`. Used by every [`AuditStore`]
/// inside its append transaction.
pub fn seal(seq: i64, prev_hash: String, event: NewAuditEvent) -> AuditEvent {
    let NewAuditEvent {
        at,
        actor,
        action,
        subject,
        reason,
        details,
    } = event;
    let mut sealed = AuditEvent {
        seq,
        at,
        actor,
        action,
        subject,
        reason,
        details,
        prev_hash,
        hash: String::new(),
    };
    sealed.hash = event_hash(&sealed);
    sealed
}

/// The hash `event` must carry, computed from its fields and `prev_hash` (see the module docs).
pub fn event_hash(event: &AuditEvent) -> String {
    let canonical = serde_json::Value::Array(vec![
        event.seq.into(),
        event.at.to_string().into(),
        event.actor.clone().into(),
        event.action.clone().into(),
        event.subject.clone().into(),
        event.reason.clone().into(),
        sorted(&event.details),
    ]);
    let mut hasher = Sha256::new();
    hasher.update(event.prev_hash.as_bytes());
    hasher.update(canonical.to_string().as_bytes());
    hex::encode(hasher.finalize())
}

/// `value` with every object's keys in sorted order (serde_json keeps insertion order here).
fn sorted(value: &serde_json::Value) -> serde_json::Value {
    match value {
        serde_json::Value::Object(map) => {
            let mut entries: Vec<_> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            serde_json::Value::Object(
                entries
                    .into_iter()
                    .map(|(k, v)| (k.clone(), sorted(v)))
                    .collect(),
            )
        }
        serde_json::Value::Array(items) => {
            serde_json::Value::Array(items.iter().map(sorted).collect())
        }
        other => other.clone(),
    }
}

/// The outcome of [`Audit::verify_chain`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verification {
    /// Every event is in place; `head` is the last event's hash (`None` for an empty trail).
    Intact { events: u64, head: Option<String> },
    /// The first event where the chain breaks.
    Broken { seq: i64, problem: Break },
}

/// What is wrong at a broken event.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Break {
    /// An event is missing: the next stored one has a later number.
    #[error("event {expected} is missing (the next stored event is {found})")]
    Missing { expected: i64, found: i64 },
    /// The event does not point at the stored event before it.
    #[error("prev_hash does not match the hash of the event before it")]
    PrevHash,
    /// The event's content does not match its hash: it was changed after it was written.
    #[error("the content does not match the event's hash (changed after it was written)")]
    Content,
}

/// Records and verifies the audit trail over any [`AuditStore`].
#[derive(Clone)]
pub struct Audit {
    store: Arc<dyn AuditStore>,
    clock: Clock,
}

impl std::fmt::Debug for Audit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Audit { .. }")
    }
}

impl Audit {
    pub fn new(store: Arc<dyn AuditStore>) -> Audit {
        Audit::with_clock(store, Clock::system())
    }

    /// An audit trail whose events are stamped by `clock`.
    pub fn with_clock(store: Arc<dyn AuditStore>, clock: Clock) -> Audit {
        Audit { store, clock }
    }

    /// An event stamped now, for a store to write in the same transaction as the change it records
    /// (see [`crate::store::Audited`]). Arguments as for [`Audit::record`].
    pub fn event(
        &self,
        actor: &str,
        action: &str,
        subject: &str,
        reason: Option<&str>,
        details: serde_json::Value,
    ) -> NewAuditEvent {
        NewAuditEvent {
            at: self.clock.now(),
            actor: actor.into(),
            action: action.into(),
            subject: subject.into(),
            reason: reason.map(Into::into),
            details,
        }
    }

    /// Appends an event now. `actor` names who (`user:alice@x.no`, `cli`), `action` what
    /// (`user.create`), `subject` to what (`user:bob@x.no`), `reason` why (a reviewer's note).
    pub async fn record(
        &self,
        actor: &str,
        action: &str,
        subject: &str,
        reason: Option<&str>,
        details: serde_json::Value,
    ) -> Result<AuditEvent, StoreError> {
        self.store
            .append(self.event(actor, action, subject, reason, details))
            .await
    }

    /// Events after `seq`, oldest first, at most `limit`.
    pub async fn events_after(&self, seq: i64, limit: u32) -> Result<Vec<AuditEvent>, StoreError> {
        self.store.events_after(seq, limit).await
    }

    /// Walks the whole trail and reports the first break, if any.
    pub async fn verify_chain(&self) -> Result<Verification, StoreError> {
        let (mut expected, mut prev_hash, mut events) = (1_i64, GENESIS_HASH.to_string(), 0_u64);
        loop {
            let page = self.store.events_after(expected - 1, PAGE).await?;
            if page.is_empty() {
                let head = (events > 0).then_some(prev_hash);
                return Ok(Verification::Intact { events, head });
            }
            for event in page {
                let problem = if event.seq != expected {
                    Some(Break::Missing {
                        expected,
                        found: event.seq,
                    })
                } else if event.prev_hash != prev_hash {
                    Some(Break::PrevHash)
                } else if event_hash(&event) != event.hash {
                    Some(Break::Content)
                } else {
                    None
                };
                if let Some(problem) = problem {
                    let seq = if matches!(problem, Break::Missing { .. }) {
                        expected
                    } else {
                        event.seq
                    };
                    return Ok(Verification::Broken { seq, problem });
                }
                prev_hash = event.hash;
                expected += 1;
                events += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(seq: i64, details: serde_json::Value) -> AuditEvent {
        seal(
            seq,
            GENESIS_HASH.into(),
            NewAuditEvent {
                at: "2026-01-02T03:04:05.123456789Z".parse().unwrap(),
                actor: "cli".into(),
                action: "user.create".into(),
                subject: "user:a@b.no".into(),
                reason: None,
                details,
            },
        )
    }

    #[test]
    fn hash_ignores_key_order_and_covers_every_field() {
        let a = event(1, serde_json::json!({"b": 1, "a": {"y": 2, "x": 3}}));
        let b = event(1, serde_json::json!({"a": {"x": 3, "y": 2}, "b": 1}));
        assert_eq!(a.hash, b.hash);
        assert_eq!(a.hash.len(), 64);
        let mut c = a.clone();
        c.reason = Some("because".into());
        assert_ne!(event_hash(&c), a.hash);
        let mut d = a.clone();
        d.seq = 2;
        assert_ne!(event_hash(&d), a.hash);
    }
}
