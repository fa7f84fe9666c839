fn main() {
    println!("{:?} {:?}", std::env::args().collect::<Vec<_>>(), option_env!("CARGO_BIN_EXE_sandkasse"));
}
