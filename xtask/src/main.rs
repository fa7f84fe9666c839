//! `cargo xtask` — the repository's own commands, the ones the README tells people to run.
//!
//! ```text
//! cargo xtask demo [ARGS...]     build the sample adapters, then run the markedsplass demo (sandkasse demo)
//! cargo xtask test [ARGS...]     run every test in the repository
//! cargo xtask plugins            build the sample adapters in plugins/ (wasm32-wasip2, and the
//!                                Python one with componentize-py)
//! cargo xtask mutants            build plugins/, then measure the suite's mutation score
//! cargo xtask bench [ARGS...]    cargo bench --workspace
//! ```
//!
//! Every command runs with the repository root as its current directory. Missing prerequisites
//! stop the command with the exact command that installs them; nothing is skipped silently.
//! Std only (plus `anyhow`), so building xtask costs next to nothing.

use std::env;
use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, ExitStatus};
use std::time::Instant;

use anyhow::{Context, Result, bail};

const USAGE: &str = "\
Usage: cargo xtask <command> [args...]

Commands:
  demo [ARGS...]    build plugins/, then run `sandkasse demo` (release build): the markedsplass on
                    127.0.0.1:8080 with demo accounts, tested adapters and a listed product;
                    ARGS are passed to `sandkasse demo`
  test [ARGS...]    run every test: build plugins/ (wasm32-wasip2), browser tests in tests/browser,
                    `cargo test --workspace --all-targets [ARGS...]`, `cargo test --workspace --doc`,
                    schemathesis against a served markedsplass (tests/api/schemathesis.sh)
  plugins           build the sample adapters in plugins/ for wasm32-wasip2, and
                    plugins/python-reference with componentize-py
  mutants           build plugins/, then run the mutation harness with its table shown:
                    `cargo test -p sandkasse-suite --test all mutants -- --nocapture`
                    (plugins/mutants.toml; docs/verdict-trust.md)
  soak [--runs N] [--mixed]
                    build plugins/, then the hostile soak against a release `sandkasse serve`:
                    every kind of the hostile corpus classified, N hostile runs (default 1 000;
                    --mixed adds the reference and flawed adapters) with the service's memory,
                    descriptors and database sampled per 50
                    (`cargo bench -p sandkasse-cli --bench soak`; docs/performance.md)
  bench [ARGS...]   `cargo bench --workspace [ARGS...]`
  help              print this message
";

/// The rustup target plugins are built for.
const WASM_TARGET: &str = "wasm32-wasip2";
/// The browser the browser tests drive (Debian's `chromium` package).
const CHROMIUM: &str = "/usr/bin/chromium";

fn main() -> ExitCode {
    match run() {
        Ok(code) => code,
        Err(err) => {
            eprintln!("xtask: error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<ExitCode> {
    let mut args = env::args_os().skip(1);
    let command = args.next();
    let rest: Vec<OsString> = args.collect();
    let root = repo_root()?;

    match command.as_deref().map(OsStr::to_string_lossy).as_deref() {
        None | Some("help" | "-h" | "--help") => {
            print!("{USAGE}");
            Ok(ExitCode::SUCCESS)
        }
        Some("test") => test(&root, &rest),
        Some("demo") => {
            // The demo uploads the Rust sample adapters; it needs no Python toolchain.
            build_plugins(&root, false)?;
            let mut cmd = cargo(&root);
            cmd.args(["run", "--release", "-p", "sandkasse-cli", "--", "demo"])
                .args(&rest);
            Ok(exit_code(spawn(&mut cmd)?))
        }
        Some("plugins") => {
            if let Some(extra) = rest.first() {
                bail!(
                    "`cargo xtask plugins` takes no arguments (got `{}`)",
                    extra.to_string_lossy()
                );
            }
            if let Outcome::Ok = build_plugins(&root, true)? {
                println!("xtask: plugins built in plugins/target/{WASM_TARGET}/release");
            }
            Ok(ExitCode::SUCCESS)
        }
        Some("mutants") => {
            if let Some(extra) = rest.first() {
                bail!(
                    "`cargo xtask mutants` takes no arguments (got `{}`)",
                    extra.to_string_lossy()
                );
            }
            // The harness patches plugins/target/…/mutant.wasm and runs the flawed-* crates.
            build_plugins(&root, false)?;
            let mut cmd = cargo(&root);
            let test = ["test", "-p", "sandkasse-suite", "--test", "all", "mutants"];
            cmd.args(test).args(["--", "--nocapture"]);
            Ok(exit_code(spawn(&mut cmd)?))
        }
        Some("soak") => {
            // The hostile corpus is the sample components plus bombs built in the bench.
            build_plugins(&root, false)?;
            let mut cmd = cargo(&root);
            cmd.args(["bench", "-p", "sandkasse-cli", "--bench", "soak", "--"])
                .args(&rest);
            Ok(exit_code(spawn(&mut cmd)?))
        }
        Some("bench") => {
            let mut cmd = cargo(&root);
            cmd.args(["bench", "--workspace"]).args(&rest);
            Ok(exit_code(spawn(&mut cmd)?))
        }
        Some(other) => {
            eprint!("xtask: unknown command `{other}`\n\n{USAGE}");
            Ok(ExitCode::from(2))
        }
    }
}

/// `cargo xtask test`: plugins, browser tests, workspace tests, the markedsplass tests again on
/// PostgreSQL (`SANDKASSE_TEST_DATABASE=postgres`), doc tests, the OpenAPI document against the
/// served API — in that order.
///
/// A missing prerequisite or a failed plugin build stops the run (later steps depend on it); a
/// failing test step does not stop the next one, so one run shows every failure. Ends with a
/// one-line summary of what ran.
fn test(root: &Path, extra: &[OsString]) -> Result<ExitCode> {
    let mut summary = Summary::default();

    // Formatting first: it takes a second and a diff is the cheapest failure to report.
    match formatting(root) {
        Ok(outcome) => summary.push("cargo fmt --check", outcome),
        Err(err) => return Ok(summary.stop("cargo fmt --check", &err)),
    }

    // The markedsplass tests run a second time on PostgreSQL: its server binaries must be here.
    if let Err(err) = sandkasse_pgtemp::bin_dir() {
        return Ok(summary.stop("PostgreSQL server binaries", &anyhow::Error::new(err)));
    }

    match build_plugins(root, true) {
        Ok(outcome) => summary.push("plugins", outcome),
        Err(err) => return Ok(summary.stop("plugins", &err)),
    }

    match browser_tests(root) {
        Ok(outcome) => summary.push("browser tests", outcome),
        Err(err) => return Ok(summary.stop("browser tests", &err)),
    }

    let mut cmd = cargo(root);
    cmd.args(["test", "--workspace", "--all-targets"])
        .args(extra);
    summary.push("cargo test", Outcome::from_status(spawn(&mut cmd)?));

    // The same store and service tests on PostgreSQL: a throw-away server from the binaries
    // checked above, a fresh database per test.
    let mut cmd = cargo(root);
    cmd.args(["test", "-p", "sandkasse-markedsplass", "--test", "all"])
        .env("SANDKASSE_TEST_DATABASE", "postgres");
    summary.push(
        "cargo test markedsplass on PostgreSQL",
        Outcome::from_status(spawn(&mut cmd)?),
    );

    let mut cmd = cargo(root);
    cmd.args(["test", "--workspace", "--doc"]);
    summary.push("doc tests", Outcome::from_status(spawn(&mut cmd)?));

    match api_conformance(root) {
        Ok(outcome) => summary.push("schemathesis (OpenAPI vs service)", outcome),
        Err(err) => return Ok(summary.stop("schemathesis (OpenAPI vs service)", &err)),
    }
    match lints(root) {
        Ok(outcome) => summary.push("cargo clippy -D warnings", outcome),
        Err(err) => return Ok(summary.stop("cargo clippy -D warnings", &err)),
    }

    // The guest kit's pure helpers (URL, encoding, FHIR paging) are unit-tested on the host.
    if root.join("plugins/guest-kit/Cargo.toml").is_file() {
        let mut cmd = cargo(root);
        cmd.args([
            "test",
            "--manifest-path",
            "plugins/Cargo.toml",
            "-p",
            "guest-kit",
            "--lib",
            "--target",
            &host_triple()?,
        ]);
        summary.push("guest-kit tests", Outcome::from_status(spawn(&mut cmd)?));
    }

    Ok(summary.finish())
}

/// Stops with the exact install command when a rustup component (rustfmt, clippy) is missing.
fn ensure_component(root: &Path, subcommand: &str, component: &str) -> Result<()> {
    let output = cargo(root).args([subcommand, "--version"]).output();
    match output {
        Ok(o) if o.status.success() => Ok(()),
        Ok(o) => bail!(
            "`cargo {subcommand} --version` failed ({}): {}\nif it is not installed, run: rustup component add {component}",
            o.status,
            String::from_utf8_lossy(&o.stderr).trim()
        ),
        Err(e) => bail!(
            "`cargo {subcommand}` could not be started ({e}); if it is not installed, run: rustup component add {component}"
        ),
    }
}

/// `cargo fmt --check` over both workspaces (style: `rustfmt.toml`).
fn formatting(root: &Path) -> Result<Outcome> {
    ensure_component(root, "fmt", "rustfmt")?;
    let mut cmd = cargo(root);
    cmd.args(["fmt", "--all", "--check"]);
    let mut outcome = Outcome::from_status(spawn(&mut cmd)?);
    if matches!(outcome, Outcome::Ok) && root.join("plugins/Cargo.toml").is_file() {
        let mut cmd = cargo(root);
        cmd.args([
            "fmt",
            "--all",
            "--check",
            "--manifest-path",
            "plugins/Cargo.toml",
        ]);
        outcome = Outcome::from_status(spawn(&mut cmd)?);
    }
    Ok(outcome)
}

/// `cargo clippy -- -D warnings` over the workspace (every target) and the plugins (wasm).
fn lints(root: &Path) -> Result<Outcome> {
    ensure_component(root, "clippy", "clippy")?;
    let mut cmd = cargo(root);
    cmd.args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ]);
    let mut outcome = Outcome::from_status(spawn(&mut cmd)?);
    if matches!(outcome, Outcome::Ok) && root.join("plugins/Cargo.toml").is_file() {
        let mut cmd = cargo(root);
        cmd.args(["clippy", "--release", "--target", WASM_TARGET])
            .args(["--manifest-path", "plugins/Cargo.toml"])
            .args(["--target-dir", "plugins/target", "--", "-D", "warnings"]);
        outcome = Outcome::from_status(spawn(&mut cmd)?);
    }
    Ok(outcome)
}

/// `tests/api/schemathesis.sh`: the served OpenAPI document against a running `sandkasse serve`,
/// bounded (examples per operation, 150 s at most); any undocumented answer or 5xx fails it. A
/// missing schemathesis stops the run with the command that installs it.
fn api_conformance(root: &Path) -> Result<Outcome> {
    const SCRIPT: &str = "tests/api/schemathesis.sh";
    let check = Command::new("bash")
        .args([SCRIPT, "--check-install"])
        .current_dir(root)
        .output()
        .with_context(|| format!("could not run `bash {SCRIPT} --check-install`"))?;
    if !check.status.success() {
        bail!("{}", String::from_utf8_lossy(&check.stderr).trim());
    }
    let status = spawn(Command::new("bash").arg(SCRIPT).current_dir(root))?;
    Ok(Outcome::from_status(status))
}

/// Builds the `plugins/` workspace for `wasm32-wasip2`, installing the target if it is missing,
/// and with `python`, the Python reference adapter (the tests need it; the demo does not).
fn build_plugins(root: &Path, python: bool) -> Result<Outcome> {
    if !root.join("plugins/Cargo.toml").is_file() {
        println!("xtask: no plugins yet (plugins/Cargo.toml does not exist): nothing to build");
        return Ok(Outcome::Skipped("no plugins yet"));
    }
    ensure_wasm_target(root)?;
    let mut cmd = cargo(root);
    // Explicit target dir: the tests read plugins/target even when CARGO_TARGET_DIR is set.
    cmd.args(["build", "--release", "--target", WASM_TARGET])
        .args(["--manifest-path", "plugins/Cargo.toml"])
        .args(["--target-dir", "plugins/target"]);
    let status = spawn(&mut cmd)?;
    if !status.success() {
        bail!("building plugins failed ({status})");
    }
    if python {
        build_python_reference(root)?;
    }
    Ok(Outcome::Ok)
}

/// What builds the Python reference adapter (the version `plugins/python-reference/build.sh` expects).
const COMPONENTIZE_PY: &str = "componentize-py==0.25.1";

/// Builds `plugins/python-reference` with componentize-py into its own `target/`; a missing
/// componentize-py stops with the install command.
fn build_python_reference(root: &Path) -> Result<()> {
    if !on_path("componentize-py") {
        bail!(
            "the Python reference adapter needs componentize-py; run: pip install {COMPONENTIZE_PY}"
        );
    }
    let status = spawn(
        Command::new("bash")
            .arg("plugins/python-reference/build.sh")
            .current_dir(root),
    )?;
    if !status.success() {
        bail!("building plugins/python-reference failed ({status})");
    }
    Ok(())
}

fn ensure_wasm_target(root: &Path) -> Result<()> {
    let install = format!("rustup target add {WASM_TARGET}");
    let listed = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .current_dir(root)
        .output()
        .with_context(|| {
            format!("could not run `rustup` (is rustup installed?); then run: {install}")
        })?;
    if !listed.status.success() {
        bail!(
            "`rustup target list --installed` failed ({}); run: {install}",
            listed.status
        );
    }
    if String::from_utf8_lossy(&listed.stdout)
        .lines()
        .any(|l| l.trim() == WASM_TARGET)
    {
        return Ok(());
    }
    println!("xtask: the {WASM_TARGET} target is not installed; trying `{install}`");
    let added = spawn(
        Command::new("rustup")
            .args(["target", "add", WASM_TARGET])
            .current_dir(root),
    );
    match added {
        Ok(status) if status.success() => Ok(()),
        Ok(status) => {
            bail!("installing the {WASM_TARGET} target failed ({status}); run: {install}")
        }
        Err(err) => Err(err.context(format!(
            "installing the {WASM_TARGET} target failed; run: {install}"
        ))),
    }
}

/// Runs `npm test` in `tests/browser` after checking Chromium, node, npm and `node_modules`.
fn browser_tests(root: &Path) -> Result<Outcome> {
    let dir = root.join("tests/browser");
    if !dir.join("package.json").is_file() {
        println!("xtask: no browser tests yet (tests/browser/package.json does not exist)");
        return Ok(Outcome::Skipped("no browser tests yet"));
    }
    if !Path::new(CHROMIUM).is_file() {
        bail!("browser tests need {CHROMIUM}; run: apt-get install -y chromium");
    }
    for tool in ["node", "npm"] {
        if !on_path(tool) {
            bail!("browser tests need `{tool}` on PATH; run: apt-get install -y nodejs npm");
        }
    }
    if !dir.join("node_modules").is_dir() {
        bail!("browser test dependencies are not installed; run: npm ci --prefix tests/browser");
    }
    let status = spawn(
        Command::new("npm")
            .args(["test", "--prefix", "tests/browser"])
            .current_dir(root),
    )?;
    Ok(Outcome::from_status(status))
}

/// What became of one step of `cargo xtask test`.
#[derive(Debug, Clone, Copy)]
enum Outcome {
    Ok,
    Failed(ExitStatus),
    Skipped(&'static str),
}

impl Outcome {
    fn from_status(status: ExitStatus) -> Self {
        if status.success() {
            Outcome::Ok
        } else {
            Outcome::Failed(status)
        }
    }
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Outcome::Ok => write!(f, "ok"),
            Outcome::Failed(status) => write!(f, "FAILED ({status})"),
            Outcome::Skipped(why) => write!(f, "skipped ({why})"),
        }
    }
}

/// The steps of `cargo xtask test` that ran, for the closing summary line: what each came to and
/// how long it took (so a slow CI run says where its time went).
#[derive(Debug)]
struct Summary {
    steps: Vec<(&'static str, String)>,
    failed: bool,
    /// When the step now running started (the previous step's end).
    since: Instant,
}

impl Default for Summary {
    fn default() -> Self {
        Self {
            steps: Vec::new(),
            failed: false,
            since: Instant::now(),
        }
    }
}

impl Summary {
    fn push(&mut self, step: &'static str, outcome: Outcome) {
        self.failed |= matches!(outcome, Outcome::Failed(_));
        let took = self.since.elapsed().as_secs();
        self.since = Instant::now();
        self.steps.push((step, format!("{outcome} ({took} s)")));
    }

    /// A step could not run at all: report why, and end the run.
    fn stop(mut self, step: &'static str, err: &anyhow::Error) -> ExitCode {
        eprintln!("xtask: error: {err:#}");
        self.steps
            .push((step, "STOPPED (see error above)".to_owned()));
        self.failed = true;
        self.finish()
    }

    fn finish(self) -> ExitCode {
        let steps: Vec<String> = self
            .steps
            .iter()
            .map(|(step, outcome)| format!("{step}: {outcome}"))
            .collect();
        let verdict = if self.failed { "FAILED" } else { "passed" };
        println!("xtask test {verdict} — {}", steps.join("; "));
        if self.failed {
            ExitCode::FAILURE
        } else {
            ExitCode::SUCCESS
        }
    }
}

/// The repository root: the parent of this crate's manifest directory.
fn repo_root() -> Result<PathBuf> {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let root = manifest_dir.parent().with_context(|| {
        format!(
            "xtask's manifest directory {} has no parent",
            manifest_dir.display()
        )
    })?;
    Ok(root.to_path_buf())
}

/// A `cargo` command in the repository root, using the cargo that runs xtask.
fn cargo(root: &Path) -> Command {
    let mut cmd = Command::new(env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    cmd.current_dir(root);
    cmd
}

/// Prints the command line, runs it with inherited stdio and waits for it.
fn spawn(cmd: &mut Command) -> Result<ExitStatus> {
    let line = command_line(cmd);
    println!("xtask: $ {line}");
    cmd.status()
        .with_context(|| format!("could not start `{line}`"))
}

fn command_line(cmd: &Command) -> String {
    let program = Path::new(cmd.get_program());
    // Show `cargo`, not the toolchain path in $CARGO.
    let program = program
        .file_name()
        .unwrap_or(program.as_os_str())
        .to_string_lossy();
    let args = cmd.get_args().map(OsStr::to_string_lossy);
    // The variables set for this command only, as a shell would show them.
    let envs = cmd.get_envs().filter_map(|(key, value)| {
        Some(format!("{}={}", key.to_string_lossy(), value?.to_string_lossy()).into())
    });
    envs.chain(std::iter::once(program))
        .chain(args)
        .collect::<Vec<_>>()
        .join(" ")
}

fn exit_code(status: ExitStatus) -> ExitCode {
    match status.code() {
        Some(code) => ExitCode::from(u8::try_from(code).unwrap_or(1)),
        None => ExitCode::FAILURE, // killed by a signal
    }
}

fn on_path(program: &str) -> bool {
    env::var_os("PATH")
        .is_some_and(|path| env::split_paths(&path).any(|dir| dir.join(program).is_file()))
}

/// The host's target triple, from `rustc -vV`.
fn host_triple() -> Result<String> {
    let out = Command::new("rustc")
        .arg("-vV")
        .output()
        .context("could not run `rustc -vV`")?;
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("host: ").map(str::to_owned))
        .context("`rustc -vV` printed no host triple")
}
