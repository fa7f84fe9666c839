//! The compile worker of [`sandkasse_sandbox::compile`]: reads a job and a component on stdin,
//! compiles it into the compile cache, answers on stdout. Started by a sandbox whose
//! `compile_worker` names this program; not meant to be run by hand.

fn main() -> std::process::ExitCode {
    sandkasse_sandbox::compile::worker_main()
}
