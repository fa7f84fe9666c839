//! **Mistake:** the reference adapter, except that it sends the DocumentReference search (built by
//! hand) without the `Authorization` header, and carries on with whatever it gets: the platform's
//! 401 leaves the documents out of the overview.
//!
//! **Must fail** SIK-01 (the token on every request): one request per overview reaches the platform
//! without a token. (Expect the overview to lack DocumentReferences too.)
//!
//! Everything else is the reference's (`adapter-core` with one [`Behaviour`] switch), so it should
//! fail only these vilkår.

use adapter_core::Behaviour;

adapter_core::adapter!(
    Flawed,
    Behaviour {
        drops_token: true,
        ..Behaviour::HONEST
    }
);
