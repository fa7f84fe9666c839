//! [`AccountStore`] over SQLite: organisations, users, API tokens and sessions.

use jiff::Timestamp;
use sqlx::Row as _;

use super::SqliteStore;
use crate::i18n::Msg;
use crate::store::rows::{conflict, organisation, token, ts, user};
use crate::store::{
    AccountStore, ApiTokenRecord, Audited, BoxFuture, NewSession, NewUser, Organisation,
    OwnedToken, Role, Session, StoreError, User, UserChange,
};

impl AccountStore for SqliteStore {
    fn insert_organisation<'a>(
        &'a self,
        name: &'a str,
        audit: Audited<'a, Organisation>,
    ) -> BoxFuture<'a, Result<Organisation, StoreError>> {
        let name = name.to_owned();
        Box::pin(self.write(audit, move |conn| {
            Box::pin(async move {
                let row = sqlx::query(
                    "INSERT INTO organisations (name, created_at) VALUES (?, ?) RETURNING *",
                )
                .bind(&name)
                .bind(Timestamp::now().to_string())
                .fetch_one(&mut *conn)
                .await
                .map_err(conflict(
                    Msg::new("what_organisation").arg("name", format!("{name:?}")),
                ))?;
                organisation(&row)
            })
        }))
    }

    fn organisation_by_name<'a>(
        &'a self,
        name: &'a str,
    ) -> BoxFuture<'a, Result<Option<Organisation>, StoreError>> {
        Box::pin(async move {
            let row = sqlx::query("SELECT * FROM organisations WHERE name = ?")
                .bind(name)
                .fetch_optional(&self.pool)
                .await?;
            row.as_ref().map(organisation).transpose()
        })
    }

    fn organisations(&self) -> BoxFuture<'_, Result<Vec<Organisation>, StoreError>> {
        Box::pin(async move {
            let rows = sqlx::query("SELECT * FROM organisations ORDER BY name")
                .fetch_all(&self.pool)
                .await?;
            rows.iter().map(organisation).collect()
        })
    }

    fn users(&self) -> BoxFuture<'_, Result<Vec<User>, StoreError>> {
        Box::pin(async move {
            let rows = sqlx::query("SELECT * FROM users ORDER BY username")
                .fetch_all(&self.pool)
                .await?;
            rows.iter().map(user).collect()
        })
    }

    fn update_user<'a>(
        &'a self,
        id: i64,
        change: UserChange,
        audit: Audited<'a, User>,
    ) -> BoxFuture<'a, Result<User, StoreError>> {
        Box::pin(self.write(audit, move |conn| {
            Box::pin(async move {
                let (query, end_sessions) = match &change {
                    UserChange::Role {
                        role,
                        organisation_id,
                    } => (
                        sqlx::query(
                            "UPDATE users SET role = ?, organisation_id = ? WHERE id = ? RETURNING *",
                        )
                        .bind(role.as_str())
                        .bind(*organisation_id),
                        false,
                    ),
                    UserChange::Disabled(at) => (
                        sqlx::query("UPDATE users SET disabled_at = ? WHERE id = ? RETURNING *")
                            .bind(at.map(|t| t.to_string())),
                        at.is_some(),
                    ),
                    UserChange::Password { hash, must_change } => (
                        sqlx::query(
                            "UPDATE users SET password_hash = ?, must_change_password = ? \
                             WHERE id = ? RETURNING *",
                        )
                        .bind(hash)
                        .bind(*must_change),
                        *must_change,
                    ),
                };
                let row = query
                    .bind(id)
                    .fetch_optional(&mut *conn)
                    .await?
                    .ok_or_else(|| StoreError::Refused(Msg::new("msg_unknown_user_id").arg("id", id)))?;
                let changed = user(&row)?;
                let admins: i64 = sqlx::query_scalar(
                    "SELECT COUNT(*) FROM users WHERE role = 'admin' AND disabled_at IS NULL",
                )
                .fetch_one(&mut *conn)
                .await?;
                if admins == 0 {
                    // Returning an error drops the transaction: the change is rolled back.
                    return Err(StoreError::Refused(Msg::new("msg_last_admin")));
                }
                if end_sessions {
                    sqlx::query("DELETE FROM sessions WHERE user_id = ?")
                        .bind(id)
                        .execute(&mut *conn)
                        .await?;
                }
                // A token was made for what its user could do then: a new role (or organisation)
                // revokes the user's live tokens rather than widening or moving them.
                if matches!(change, UserChange::Role { .. }) {
                    sqlx::query(
                        "UPDATE api_tokens SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL",
                    )
                    .bind(Timestamp::now().to_string())
                    .bind(id)
                    .execute(&mut *conn)
                    .await?;
                }
                Ok(changed)
            })
        }))
    }

    fn insert_user<'a>(
        &'a self,
        new: NewUser,
        audit: Audited<'a, User>,
    ) -> BoxFuture<'a, Result<User, StoreError>> {
        Box::pin(self.write(audit, move |conn| {
            Box::pin(async move {
                let row = sqlx::query(
                    "INSERT INTO users (username, role, organisation_id, password_hash, must_change_password, created_at) \
                     VALUES (?, ?, ?, ?, ?, ?) RETURNING *",
                )
                .bind(&new.username)
                .bind(new.role.as_str())
                .bind(new.organisation_id)
                .bind(&new.password_hash)
                .bind(new.must_change_password)
                .bind(Timestamp::now().to_string())
                .fetch_one(&mut *conn)
                .await
                .map_err(conflict(Msg::new("what_user").arg("name", format!("{:?}", new.username))))?;
                user(&row)
            })
        }))
    }

    fn users_with_role(&self, role: Role) -> BoxFuture<'_, Result<Vec<User>, StoreError>> {
        Box::pin(async move {
            let rows = sqlx::query("SELECT * FROM users WHERE role = ? ORDER BY id")
                .bind(role.as_str())
                .fetch_all(&self.pool)
                .await?;
            rows.iter().map(user).collect()
        })
    }

    fn user_by_username<'a>(
        &'a self,
        username: &'a str,
    ) -> BoxFuture<'a, Result<Option<User>, StoreError>> {
        Box::pin(async move {
            let row = sqlx::query("SELECT * FROM users WHERE username = ?")
                .bind(username)
                .fetch_optional(&self.pool)
                .await?;
            row.as_ref().map(user).transpose()
        })
    }

    fn user_by_id(&self, id: i64) -> BoxFuture<'_, Result<Option<User>, StoreError>> {
        Box::pin(async move {
            let row = sqlx::query("SELECT * FROM users WHERE id = ?")
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
            row.as_ref().map(user).transpose()
        })
    }

    fn insert_token<'a>(
        &'a self,
        user_id: i64,
        name: &'a str,
        prefix: &'a str,
        sha256: &'a str,
        audit: Audited<'a, ApiTokenRecord>,
    ) -> BoxFuture<'a, Result<ApiTokenRecord, StoreError>> {
        let (name, prefix, sha256) = (name.to_owned(), prefix.to_owned(), sha256.to_owned());
        Box::pin(self.write(audit, move |conn| {
            Box::pin(async move {
                let row = sqlx::query(
                    "INSERT INTO api_tokens (user_id, name, prefix, sha256, created_at) VALUES (?, ?, ?, ?, ?) RETURNING *",
                )
                .bind(user_id)
                .bind(&name)
                .bind(&prefix)
                .bind(&sha256)
                .bind(Timestamp::now().to_string())
                .fetch_one(&mut *conn)
                .await
                .map_err(conflict(Msg::new("what_token")))?;
                token(&row)
            })
        }))
    }

    fn token_by_sha256<'a>(
        &'a self,
        sha256: &'a str,
    ) -> BoxFuture<'a, Result<Option<ApiTokenRecord>, StoreError>> {
        Box::pin(async move {
            let row = sqlx::query("SELECT * FROM api_tokens WHERE sha256 = ?")
                .bind(sha256)
                .fetch_optional(&self.pool)
                .await?;
            row.as_ref().map(token).transpose()
        })
    }

    fn token_by_id(&self, id: i64) -> BoxFuture<'_, Result<Option<ApiTokenRecord>, StoreError>> {
        Box::pin(async move {
            let row = sqlx::query("SELECT * FROM api_tokens WHERE id = ?")
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
            row.as_ref().map(token).transpose()
        })
    }

    fn organisation_tokens(
        &self,
        organisation_id: i64,
    ) -> BoxFuture<'_, Result<Vec<OwnedToken>, StoreError>> {
        Box::pin(async move {
            let rows = sqlx::query(
                "SELECT t.*, u.username AS owner FROM api_tokens t JOIN users u ON u.id = t.user_id \
                 WHERE u.organisation_id = ? ORDER BY t.id DESC",
            )
            .bind(organisation_id)
            .fetch_all(&self.pool)
            .await?;
            rows.iter()
                .map(|row| {
                    Ok(OwnedToken {
                        token: token(row)?,
                        username: row.try_get("owner")?,
                    })
                })
                .collect()
        })
    }

    fn touch_token(&self, id: i64, at: Timestamp) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(async move {
            let _turn = self.write_lock.lock().await;
            sqlx::query("UPDATE api_tokens SET last_used_at = ? WHERE id = ?")
                .bind(at.to_string())
                .bind(id)
                .execute(&self.pool)
                .await?;
            Ok(())
        })
    }

    fn revoke_token<'a>(
        &'a self,
        id: i64,
        at: Timestamp,
        audit: Audited<'a, i64>,
    ) -> BoxFuture<'a, Result<bool, StoreError>> {
        // The events are written only when the token was live: an empty list otherwise.
        let audit: Audited<'a, bool> =
            Box::new(move |revoked| if *revoked { audit(&id) } else { Vec::new() });
        Box::pin(self.write(audit, move |conn| {
            Box::pin(async move {
                let done = sqlx::query(
                    "UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
                )
                .bind(at.to_string())
                .bind(id)
                .execute(&mut *conn)
                .await?;
                Ok(done.rows_affected() == 1)
            })
        }))
    }

    fn insert_session<'a>(
        &'a self,
        session: NewSession,
        audit: Audited<'a, NewSession>,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        let audit: Audited<'a, NewSession> = audit;
        Box::pin(async move {
            self.write(audit, move |conn| {
                Box::pin(async move {
                    // Expired sessions are removed as new ones start.
                    sqlx::query("DELETE FROM sessions WHERE expires_at < ?").bind(session.created_at.to_string()).execute(&mut *conn).await?;
                    sqlx::query("INSERT INTO sessions (sha256, user_id, csrf, created_at, expires_at) VALUES (?, ?, ?, ?, ?)")
                        .bind(&session.sha256)
                        .bind(session.user_id)
                        .bind(&session.csrf)
                        .bind(session.created_at.to_string())
                        .bind(session.expires_at.to_string())
                        .execute(&mut *conn)
                        .await
                        .map_err(conflict(Msg::new("what_session")))?;
                    Ok(session)
                })
            })
            .await
            .map(|_| ())
        })
    }

    fn session<'a>(
        &'a self,
        sha256: &'a str,
        now: Timestamp,
    ) -> BoxFuture<'a, Result<Option<Session>, StoreError>> {
        Box::pin(async move {
            let row = sqlx::query(
                "SELECT u.*, s.csrf AS s_csrf, s.expires_at AS s_expires FROM sessions s JOIN users u ON u.id = s.user_id \
                 WHERE s.sha256 = ? AND u.disabled_at IS NULL",
            )
            .bind(sha256)
            .fetch_optional(&self.pool)
            .await?;
            let Some(row) = row else { return Ok(None) };
            let expires_at = ts(row.try_get("s_expires")?)?;
            if expires_at <= now {
                return Ok(None);
            }
            Ok(Some(Session {
                user: user(&row)?,
                csrf: row.try_get("s_csrf")?,
                expires_at,
            }))
        })
    }

    fn delete_session<'a>(
        &'a self,
        sha256: &'a str,
        audit: Audited<'a, i64>,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        let audit = crate::store::when_some(audit);
        let sha256 = sha256.to_owned();
        Box::pin(async move {
            self.write(audit, move |conn| {
                Box::pin(async move {
                    let row =
                        sqlx::query("DELETE FROM sessions WHERE sha256 = ? RETURNING user_id")
                            .bind(&sha256)
                            .fetch_optional(&mut *conn)
                            .await?;
                    row.map(|r| r.try_get::<i64, _>("user_id"))
                        .transpose()
                        .map_err(StoreError::from)
                })
            })
            .await
            .map(|_| ())
        })
    }
}
