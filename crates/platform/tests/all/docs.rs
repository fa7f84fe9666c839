//! The curl examples of `docs/platform.md` are replayed in-process (filled in with the docs).
