//! [`WorkbenchStore`]: what a vendor's hosted sandbox keeps across restarts (`crate::workbench`).
//!
//! The synthetic kommune of a sandbox is regenerated from the organisation's seed whenever the
//! sandbox is loaded; only what the vendor changed is stored: the [`JournalEntry`]s of accepted
//! launches and writes, replayed in order on load (the platform is deterministic, so the replay
//! gives the same ids and the same tokens), the secret the sandbox's tokens are made with, and
//! the [`FaultPreset`] switched on.

use jiff::Timestamp;
use sandkasse_platform::LaunchContext;
use serde::{Deserialize, Serialize};

use super::{Audited, BoxFuture, StoreError};

/// The faults a vendor can switch on in its sandbox (`crate::workbench::faults` has the plans).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FaultPreset {
    /// No faults.
    #[default]
    Off,
    /// Every second request: 429 with `Retry-After: 1`.
    Throttle,
    /// Every second request: 503 with `Retry-After: 1`.
    Unavailable,
    /// Every request waits 1 s.
    Latency,
    /// Every third request with a token expires that token (401 from then on).
    ExpiredToken,
    /// Every second search answers with its body cut after 100 bytes.
    TruncatedBody,
    /// Search pages hold at most 2 entries (with a valid `next` link).
    ShortPage,
    /// Served resources carry an unknown element and extension.
    UnknownElements,
}

impl FaultPreset {
    pub const ALL: [FaultPreset; 8] = [
        FaultPreset::Off,
        FaultPreset::Throttle,
        FaultPreset::Unavailable,
        FaultPreset::Latency,
        FaultPreset::ExpiredToken,
        FaultPreset::TruncatedBody,
        FaultPreset::ShortPage,
        FaultPreset::UnknownElements,
    ];

    /// The kebab-case name, as stored and in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            FaultPreset::Off => "off",
            FaultPreset::Throttle => "throttle",
            FaultPreset::Unavailable => "unavailable",
            FaultPreset::Latency => "latency",
            FaultPreset::ExpiredToken => "expired-token",
            FaultPreset::TruncatedBody => "truncated-body",
            FaultPreset::ShortPage => "short-page",
            FaultPreset::UnknownElements => "unknown-elements",
        }
    }

    pub fn parse(s: &str) -> Option<FaultPreset> {
        FaultPreset::ALL.into_iter().find(|p| p.as_str() == s)
    }
}

/// A sandbox as stored. The secret never shows in `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct SandboxRecord {
    pub organisation_id: i64,
    /// The MAC key of the sandbox's tokens ([`sandkasse_platform::PlatformConfig::secret`]).
    pub secret: [u8; 32],
    pub faults: FaultPreset,
    pub created_at: Timestamp,
    pub reset_at: Option<Timestamp>,
    /// Entries in the journal now.
    pub journal_entries: u32,
}

impl std::fmt::Debug for SandboxRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SandboxRecord")
            .field("organisation_id", &self.organisation_id)
            .field("secret", &"<redacted>")
            .field("faults", &self.faults)
            .field("created_at", &self.created_at)
            .field("reset_at", &self.reset_at)
            .field("journal_entries", &self.journal_entries)
            .finish()
    }
}

/// The method of a journaled write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum WriteMethod {
    #[serde(rename = "POST")]
    Post,
    #[serde(rename = "PUT")]
    Put,
}

impl WriteMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            WriteMethod::Post => "POST",
            WriteMethod::Put => "PUT",
        }
    }
}

/// One accepted change to a sandbox, in the order the platform accepted it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum JournalEntry {
    /// A token issued for a launch context (the replay issues it again: the same text).
    Launch { context: LaunchContext },
    /// A create or update the platform answered with 2xx.
    Write {
        method: WriteMethod,
        /// The platform's path, `/{kommunenummer}/fhir/{Type}[/{id}]`.
        path: String,
        /// The request's headers that decide a write: `Content-Type`, `If-Match`, `If-None-Exist`.
        headers: Vec<(String, String)>,
        body: String,
        /// The token the write was made with (issued again by the replay before it).
        token: String,
    },
}

/// The hosted sandboxes' records and journals.
pub trait WorkbenchStore: Send + Sync {
    /// The sandbox of organisation `org`, if it was ever opened.
    fn sandbox(&self, org: i64) -> BoxFuture<'_, Result<Option<SandboxRecord>, StoreError>>;
    /// The sandbox of `org`, created with `secret` if it does not exist yet.
    fn open_sandbox(
        &self,
        org: i64,
        secret: [u8; 32],
        at: Timestamp,
    ) -> BoxFuture<'_, Result<SandboxRecord, StoreError>>;
    /// The journal, in order.
    fn journal(&self, org: i64) -> BoxFuture<'_, Result<Vec<JournalEntry>, StoreError>>;
    /// Appends an entry after the first `after` — the entries the caller's copy of the sandbox
    /// has applied. `false` (nothing written) when the journal holds another number: another
    /// process changed the sandbox (a write, a reset) and the caller's copy is stale. Refused
    /// ([`StoreError::Refused`]) when the journal holds `max` already.
    fn append_journal<'a>(
        &'a self,
        org: i64,
        entry: &'a JournalEntry,
        after: u32,
        max: u32,
    ) -> BoxFuture<'a, Result<bool, StoreError>>;
    /// Switches the fault preset (the sandbox must exist).
    fn set_faults<'a>(
        &'a self,
        org: i64,
        preset: FaultPreset,
        audit: Audited<'a, FaultPreset>,
    ) -> BoxFuture<'a, Result<FaultPreset, StoreError>>;
    /// Empties the journal and gives the sandbox a new secret, so its tokens die with its writes;
    /// returns how many entries were removed.
    fn reset_sandbox<'a>(
        &'a self,
        org: i64,
        secret: [u8; 32],
        at: Timestamp,
        audit: Audited<'a, u32>,
    ) -> BoxFuture<'a, Result<u32, StoreError>>;
}
