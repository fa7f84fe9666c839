//! The platform's integration tests: one binary, one module per concern. Expectations are
//! computed from the generator's ground truth (`Tenant.truth`, `Tenant.resources`), never copied.

mod access_matrix;
mod audit;
mod determinism;
mod docs;
mod errors;
mod faults;
mod http_server;
mod read_search;
mod schema_walk;
mod support;
mod tokens;
mod writes;
