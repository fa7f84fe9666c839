//! `sandkasse inspect`: what a component is and whether the sandbox accepts it.

use std::path::PathBuf;

use super::{CompileArgs, read, sandbox};

// The arguments of `sandkasse inspect` (the subcommand's own help is on `Command`).
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The component (.wasm).
    pub adapter: PathBuf,
    /// Print JSON instead of a readable summary.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub compile: CompileArgs,
}

pub fn run(args: &Args) -> anyhow::Result<()> {
    let (adapter, json) = (&args.adapter, args.json);
    let bytes = read(adapter)?;
    let sandbox = sandbox(&args.compile)?;
    let (inspection, verdict) = sandbox.inspect(&bytes);
    if json {
        let out = serde_json::json!({
            "inspection": inspection,
            "accepted": verdict.is_ok(),
            "rejection": verdict.as_ref().err().map(|e| e.to_string()),
        });
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        println!("Fil / file:  {}", adapter.display());
        println!("Størrelse:   {} byte", bytes.len());
        println!(
            "SHA-256:     {}",
            sandkasse_sandbox::inspect::digest(&bytes)
        );
        if let Some(i) = &inspection {
            println!("Verden:      {}", i.world);
            println!("Eksporterer / exports:");
            for e in &i.exports {
                println!("  {e}");
            }
            println!("Importerer / imports:");
            for name in &i.imports {
                let ok = sandkasse_sandbox::inspect::audit_imports([name.as_str()]).is_ok();
                println!("  {} {name}", if ok { "✓" } else { "✗" });
            }
        }
        match &verdict {
            Ok(()) => println!("Vurdering / verdict: godtatt / accepted"),
            Err(e) => println!("Vurdering / verdict: avvist / rejected — {e}"),
        }
    }
    if verdict.is_err() {
        // The verdict is printed above; the exit code tells scripts and CI.
        std::process::exit(1);
    }
    Ok(())
}
