//! Writes `blob.bin` to `OUT_DIR`: 40 MiB of deterministic pseudo-random bytes (xorshift64*),
//! which no compressor shrinks — the "bundled model/runtime" the greedy adapter carries.

use std::io::Write;

const BLOB_BYTES: usize = 40 << 20;

fn main() {
    let out = std::path::PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"))
        .join("blob.bin");
    let mut file =
        std::io::BufWriter::new(std::fs::File::create(&out).expect("OUT_DIR is writable"));
    let mut state: u64 = 0x5A4E_444B_4153_5345; // "ZNDKASSE"
    let mut chunk = [0u8; 8];
    for _ in 0..BLOB_BYTES / 8 {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        chunk.copy_from_slice(&state.wrapping_mul(0x2545_F491_4F6C_DD1D).to_le_bytes());
        file.write_all(&chunk).expect("writing the blob");
    }
    file.flush().expect("writing the blob");
    println!("cargo::rerun-if-changed=build.rs");
}
