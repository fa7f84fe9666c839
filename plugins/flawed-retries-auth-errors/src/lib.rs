//! **Mistake:** the reference adapter, except that it retries 401 and 403 answers, up to 10 times
//! per request, 1 s apart, before mapping them to `unauthorized`/`forbidden`.
//!
//! **Must fail** SIK-04 (401 handled: not retried, `unauthorized`) and SIK-05 (403 handled: not
//! retried, `forbidden`): the refused request is repeated.
//!
//! Everything else is the reference's (`adapter-core` with one [`Behaviour`] switch), so it should
//! fail only these vilkår.

use adapter_core::Behaviour;

adapter_core::adapter!(
    Flawed,
    Behaviour {
        retries_auth_errors: true,
        ..Behaviour::HONEST
    }
);
