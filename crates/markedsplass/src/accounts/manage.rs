//! Account administration — a user with a temporary password, roles, disabling, password resets
//! and changes — as the admin pages (`crate::admin`) and `sandkasse admin` both call it. The rules
//! are in [`super`]'s documentation.

use argon2::password_hash::rand_core::{OsRng, RngCore as _};
use jiff::Timestamp;
use serde_json::json;

use super::{
    AccountError, Accounts, MIN_PASSWORD_CHARS, NewAccount, TEMPORARY_PASSWORD_CHARS, hash_password,
};
use crate::store::{Role, User, UserChange};

impl Accounts {
    /// Creates a user with a random temporary password they must change at the first login (the
    /// admin pages: no admin chooses a person's password). Returns the password — show it once.
    pub async fn create_user_with_temporary_password(
        &self,
        actor: &str,
        username: &str,
        role: Role,
        organisation: Option<&str>,
    ) -> Result<(User, String), AccountError> {
        let password = temporary_password();
        let new = NewAccount {
            username: username.into(),
            role,
            organisation: organisation.map(Into::into),
            password: password.clone(),
        };
        Ok((self.insert_user(actor, new, true).await?, password))
    }

    /// Gives `username` a new role (and the organisation it needs: see [`NewAccount`]).
    pub async fn set_role(
        &self,
        actor: &str,
        username: &str,
        role: Role,
        organisation: Option<&str>,
    ) -> Result<User, AccountError> {
        let before = self.user(username).await?;
        let organisation_id = self.organisation_for(role, organisation).await?;
        let (from, from_org) = (before.role, before.organisation_id);
        self.update(
            actor,
            &before,
            UserChange::Role {
                role,
                organisation_id,
            },
            "user.role",
            move |user| json!({ "from": from, "to": user.role, "organisation_id_before": from_org, "organisation_id": user.organisation_id, "tokens_revoked": true }),
        )
        .await
    }

    /// Disables (`enabled` false) or enables `username`. Disabling ends their sessions; their API
    /// tokens are refused while disabled.
    pub async fn set_enabled(
        &self,
        actor: &str,
        username: &str,
        enabled: bool,
    ) -> Result<User, AccountError> {
        let before = self.user(username).await?;
        let (change, action) = if enabled {
            (UserChange::Disabled(None), "user.enable")
        } else {
            (UserChange::Disabled(Some(Timestamp::now())), "user.disable")
        };
        self.update(actor, &before, change, action, |_| json!({}))
            .await
    }

    /// Sets a random temporary password for `username`, ends their sessions and makes them change
    /// it at the next login. Returns the password — show it once; only its hash is kept.
    pub async fn reset_password(
        &self,
        actor: &str,
        username: &str,
    ) -> Result<(User, String), AccountError> {
        let before = self.user(username).await?;
        let password = temporary_password();
        let clear = password.clone();
        let hash = self.hashing.run(move || hash_password(&clear)).await??;
        let change = UserChange::Password {
            hash,
            must_change: true,
        };
        let user = self
            .update(actor, &before, change, "user.password_reset", |_| json!({}))
            .await?;
        Ok((user, password))
    }

    /// Changes `username`'s own password after checking the current one (a wrong one is
    /// [`AccountError::InvalidCredentials`]); clears the duty to change it after a reset.
    pub async fn change_password(
        &self,
        actor: &str,
        username: &str,
        current: &str,
        new: &str,
    ) -> Result<User, AccountError> {
        let user = self.authenticate(username, current).await?;
        if new.chars().count() < MIN_PASSWORD_CHARS {
            return Err(AccountError::WeakPassword);
        }
        if new == current {
            return Err(AccountError::SamePassword);
        }
        let clear = new.to_owned();
        let hash = self.hashing.run(move || hash_password(&clear)).await??;
        let change = UserChange::Password {
            hash,
            must_change: false,
        };
        self.update(actor, &user, change, "user.password_change", |_| json!({}))
            .await
    }

    /// Applies `change` to `user`, auditing it as `action` with `details` of the changed user.
    async fn update(
        &self,
        actor: &str,
        user: &User,
        change: UserChange,
        action: &'static str,
        details: impl FnOnce(&User) -> serde_json::Value + Send + 'static,
    ) -> Result<User, AccountError> {
        let audit = self.audit.clone();
        let actor = actor.to_owned();
        Ok(self
            .store
            .update_user(
                user.id,
                change,
                Box::new(move |user| {
                    vec![audit.event(
                        &actor,
                        action,
                        &format!("user:{}", user.username),
                        None,
                        details(user),
                    )]
                }),
            )
            .await?)
    }
}

/// A random temporary password: [`TEMPORARY_PASSWORD_CHARS`] characters from an alphabet without
/// look-alikes (no 0/o, 1/l/i), in groups of four: `k7mq-3xfa-…`.
fn temporary_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
    let mut password = String::with_capacity(TEMPORARY_PASSWORD_CHARS + 3);
    for i in 0..TEMPORARY_PASSWORD_CHARS {
        if i > 0 && i % 4 == 0 {
            password.push('-');
        }
        // Rejection sampling keeps every character equally likely.
        let c = loop {
            let byte = (OsRng.next_u32() & 0xff) as usize;
            if byte < 256 - 256 % ALPHABET.len() {
                break ALPHABET[byte % ALPHABET.len()];
            }
        };
        password.push(char::from(c));
    }
    password
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temporary_passwords_are_long_random_and_unambiguous() {
        let a = temporary_password();
        assert_eq!(a.len(), TEMPORARY_PASSWORD_CHARS + 3, "{a}");
        assert!(a.chars().count() >= MIN_PASSWORD_CHARS);
        assert!(
            a.split('-').all(|g| g.len() == 4
                && g.chars()
                    .all(|c| c.is_ascii_alphanumeric() && !"01ilo".contains(c))),
            "{a}"
        );
        assert_ne!(a, temporary_password());
    }
}
