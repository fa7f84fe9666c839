//! Proves: a component that does not export the adapter world is rejected at upload.
//!
//! A plain `fn main` built for wasm32-wasip2 is a valid component of the `wasi:cli/command`
//! world: it exports only `wasi:cli/run@0.2.x` and none of `kommune:sandkasse/adapter-api@0.1.0`.
//! The host must reject it when it is loaded, with a message saying the export
//! `kommune:sandkasse/adapter-api@0.1.0` is missing (and naming what it exports instead);
//! classification **rejected: wrong world**.

fn main() {
    println!("I am a command-line program, not an adapter.");
}
