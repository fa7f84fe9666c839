//! Integration tests of `sandkasse-fhir`, one binary.

mod invalid_corpus;
