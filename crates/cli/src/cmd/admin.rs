//! `sandkasse admin …`: organisations, users, API tokens and the audit trail of the markedsplass.
//!
//! It reads the same configuration as `serve` (defaults → `--config FILE` → `SANDKASSE__*` →
//! flags), so it works on the database `serve` uses. Every change is written to the audit trail
//! with the actor `cli`; `verify-audit` only reads. The account changes are the same functions the
//! admin pages call (`sandkasse_markedsplass::accounts::Accounts`), with the same rules — no change
//! leaves the service without an enabled admin — so this is also the way back in when every admin
//! has forgotten their password (`reset-password`).

use std::io::BufRead as _;

use anyhow::Context as _;
use sandkasse_markedsplass::accounts::{Accounts, NewAccount};
use sandkasse_markedsplass::audit::{Audit, Verification};
use sandkasse_markedsplass::store::{Role, Stores};

use super::{ConfigArgs, runtime};

/// The actor recorded in the audit trail for changes made with `sandkasse admin`.
const ACTOR: &str = "cli";
/// Environment variable holding the new user's password (else: one line on stdin).
const PASSWORD_ENV: &str = "SANDKASSE_PASSWORD";

// The arguments of `sandkasse admin` (the subcommand's own help is on `Command`).
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub config: ConfigArgs,
    #[command(subcommand)]
    pub action: AdminAction,
}

/// A user and the role (with a vendor's organisation) to create them with or give them.
#[derive(Debug, clap::Args)]
pub struct UserRole {
    /// Email-like username.
    #[arg(long)]
    username: String,
    /// vendor, reviewer, beslutningsgruppe or admin.
    #[arg(long)]
    role: String,
    /// The vendor's organisation (vendors only).
    #[arg(long)]
    org: Option<String>,
}

/// `sandkasse admin` actions.
#[derive(Debug, clap::Subcommand)]
pub enum AdminAction {
    /// Create a vendor organisation.
    CreateOrg {
        /// The organisation's name, e.g. "Acme Helse AS".
        name: String,
    },
    /// Create a user. The password comes from SANDKASSE_PASSWORD or one line on stdin.
    CreateUser(UserRole),
    /// Issue an API token for a user and print it — once; only its hash is kept.
    CreateToken {
        #[arg(long)]
        username: String,
        /// A name to recognise the token by.
        #[arg(long, default_value = "cli")]
        name: String,
    },
    /// Give a user another role (vendors need --org; the last enabled admin keeps theirs).
    SetRole(UserRole),
    /// Disable a user: logged out, no login, their API tokens refused (not the last enabled admin).
    DisableUser {
        #[arg(long)]
        username: String,
    },
    /// Enable a disabled user again.
    EnableUser {
        #[arg(long)]
        username: String,
    },
    /// Reset a user's password to a temporary one, printed once; they must change it at login.
    ResetPassword {
        #[arg(long)]
        username: String,
    },
    /// Check the audit trail's hash chain; exits 1 and names the first broken event.
    VerifyAudit,
}

/// `sandkasse admin ACTION`. Returns the process exit code.
pub fn run(args: Args) -> anyhow::Result<i32> {
    let config = args.config.load(None)?;
    let action = args.action;
    runtime()?.block_on(async move {
        let stores = Stores::open(&config)
            .await
            .context("opening the database")?;
        let audit = Audit::new(stores.audit.clone());
        let accounts = Accounts::new(stores.accounts.clone(), audit.clone());
        let code = act(&accounts, &audit, action).await;
        stores.health.close().await;
        code
    })
}

async fn act(accounts: &Accounts, audit: &Audit, action: AdminAction) -> anyhow::Result<i32> {
    match action {
        AdminAction::CreateOrg { name } => {
            let org = accounts.create_organisation(ACTOR, &name).await?;
            println!(
                "Opprettet organisasjon / created organisation {:?} (id {})",
                org.name, org.id
            );
        }
        AdminAction::CreateUser(UserRole {
            username,
            role,
            org,
        }) => {
            let role = parse_role(&role)?;
            let password = read_password()?;
            let user = accounts
                .create_user(
                    ACTOR,
                    NewAccount {
                        username,
                        role,
                        organisation: org,
                        password,
                    },
                )
                .await?;
            println!(
                "Opprettet bruker / created user {} ({})",
                user.username, user.role
            );
        }
        AdminAction::CreateToken { username, name } => {
            let (record, token) = accounts.create_token(ACTOR, &username, &name).await?;
            eprintln!(
                "API-token {} for {username} — vises bare nå / shown only now; only its hash is stored:",
                record.prefix
            );
            println!("{token}");
        }
        AdminAction::SetRole(UserRole {
            username,
            role,
            org,
        }) => {
            let user = accounts
                .set_role(ACTOR, &username, parse_role(&role)?, org.as_deref())
                .await?;
            println!(
                "{} har nå rollen / now has the role {}",
                user.username, user.role
            );
        }
        AdminAction::DisableUser { username } => {
            let user = accounts.set_enabled(ACTOR, &username, false).await?;
            println!("Deaktivert / disabled {}", user.username);
        }
        AdminAction::EnableUser { username } => {
            let user = accounts.set_enabled(ACTOR, &username, true).await?;
            println!("Aktivert / enabled {}", user.username);
        }
        AdminAction::ResetPassword { username } => {
            let (user, password) = accounts.reset_password(ACTOR, &username).await?;
            eprintln!(
                "Midlertidig passord for {} — vises bare nå; må byttes ved innlogging / temporary password, shown only now; must be changed at login:",
                user.username
            );
            println!("{password}");
        }
        AdminAction::VerifyAudit => match audit.verify_chain().await? {
            Verification::Intact { events, head } => {
                println!("Revisjonsloggen er intakt / the audit trail is intact: {events} events");
                if let Some(head) = head {
                    println!("head {head}");
                }
            }
            Verification::Broken { seq, problem } => {
                eprintln!(
                    "Revisjonsloggen er brutt / the audit trail is broken at event {seq}: {problem}"
                );
                return Ok(1);
            }
        },
    }
    Ok(0)
}

fn parse_role(role: &str) -> anyhow::Result<Role> {
    Role::parse(role).with_context(|| {
        let all: Vec<_> = Role::ALL.iter().map(|r| r.as_str()).collect();
        format!("unknown role {role:?}: use one of {}", all.join(", "))
    })
}

fn read_password() -> anyhow::Result<String> {
    if let Ok(password) = std::env::var(PASSWORD_ENV) {
        return Ok(password);
    }
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("reading the password from stdin")?;
    let password = line.trim_end_matches(['\r', '\n']).to_owned();
    anyhow::ensure!(
        !password.is_empty(),
        "no password: set {PASSWORD_ENV} or give it as one line on stdin"
    );
    Ok(password)
}
