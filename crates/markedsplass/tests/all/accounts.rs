use sandkasse_markedsplass::accounts::{AccountError, NewAccount};
use sandkasse_markedsplass::audit::Verification;
use sandkasse_markedsplass::i18n::Lang;
use sandkasse_markedsplass::store::Role;

use super::TestDb;

const PASSWORD: &str = "korrekt hest batteri stift";

fn account(username: &str, role: Role, organisation: Option<&str>) -> NewAccount {
    NewAccount {
        username: username.into(),
        role,
        organisation: organisation.map(Into::into),
        password: PASSWORD.into(),
    }
}

#[tokio::test]
async fn users_authenticate_with_their_password_only() {
    let db = TestDb::new().await;
    db.accounts
        .create_organisation("test", "Acme Helse AS")
        .await
        .unwrap();
    let kari = db
        .accounts
        .create_user(
            "test",
            account("Kari@Acme.no", Role::Vendor, Some("Acme Helse AS")),
        )
        .await
        .unwrap();
    assert_eq!(kari.username, "kari@acme.no");
    assert!(kari.organisation_id.is_some());
    assert!(
        !format!("{kari:?}").contains("argon2"),
        "Debug hides the hash"
    );

    let ok = db
        .accounts
        .authenticate("KARI@acme.no", PASSWORD)
        .await
        .unwrap();
    assert_eq!(ok.id, kari.id);
    let wrong = db
        .accounts
        .authenticate("kari@acme.no", "korrekt hest batteri stifT")
        .await;
    assert!(matches!(wrong, Err(AccountError::InvalidCredentials)));
    let unknown = db.accounts.authenticate("ola@acme.no", PASSWORD).await;
    assert!(
        matches!(unknown, Err(AccountError::InvalidCredentials)),
        "same answer for an unknown user"
    );
}

#[tokio::test]
async fn roles_and_organisations_are_checked() {
    let db = TestDb::new().await;
    let no_org = db
        .accounts
        .create_user("test", account("kari@acme.no", Role::Vendor, None))
        .await;
    assert!(matches!(no_org, Err(AccountError::VendorNeedsOrganisation)));
    let unknown = db
        .accounts
        .create_user(
            "test",
            account("kari@acme.no", Role::Vendor, Some("Nope AS")),
        )
        .await;
    assert!(matches!(unknown, Err(AccountError::UnknownOrganisation(_))));
    db.accounts
        .create_organisation("test", "Acme Helse AS")
        .await
        .unwrap();
    let reviewer = db
        .accounts
        .create_user(
            "test",
            account("per@prosjekt.no", Role::Reviewer, Some("Acme Helse AS")),
        )
        .await;
    assert!(matches!(
        reviewer,
        Err(AccountError::OrganisationOnlyForVendors(Role::Reviewer))
    ));
    let bad_name = db
        .accounts
        .create_user("test", account("per", Role::Admin, None))
        .await;
    assert!(matches!(bad_name, Err(AccountError::InvalidUsername(_))));
    let short = NewAccount {
        password: "kort".into(),
        ..account("per@prosjekt.no", Role::Admin, None)
    };
    assert!(matches!(
        db.accounts.create_user("test", short).await,
        Err(AccountError::WeakPassword)
    ));

    db.accounts
        .create_user(
            "test",
            account("per@prosjekt.no", Role::Beslutningsgruppe, None),
        )
        .await
        .unwrap();
    let again = db
        .accounts
        .create_user("test", account("PER@prosjekt.no", Role::Admin, None))
        .await;
    assert!(
        matches!(again, Err(AccountError::Duplicate(_))),
        "{again:?}"
    );
    let org_again = db
        .accounts
        .create_organisation("test", "Acme Helse AS")
        .await;
    assert!(matches!(org_again, Err(AccountError::Duplicate(_))));
}

#[tokio::test]
async fn api_tokens_are_shown_once_stored_hashed_and_revocable() {
    let db = TestDb::new().await;
    let admin = db
        .accounts
        .create_user("test", account("admin@prosjekt.no", Role::Admin, None))
        .await
        .unwrap();
    let (record, token) = db
        .accounts
        .create_token("test", "admin@prosjekt.no", "ci")
        .await
        .unwrap();
    assert!(token.starts_with("sk_") && token.len() == 46, "{token}");
    assert_eq!(record.prefix, &token[..11]);
    assert_ne!(record.sha256, token);
    assert!(
        !record.sha256.contains(&token[3..]),
        "only the hash is stored"
    );

    assert_eq!(db.accounts.verify_token(&token).await.unwrap().id, admin.id);
    let used = db
        .stores
        .accounts
        .token_by_sha256(&record.sha256)
        .await
        .unwrap()
        .unwrap();
    assert!(used.last_used_at.is_some());

    let mut forged = token.clone();
    forged.replace_range(20..21, if &token[20..21] == "A" { "B" } else { "A" });
    assert!(matches!(
        db.accounts.verify_token(&forged).await,
        Err(AccountError::InvalidToken)
    ));
    assert!(matches!(
        db.accounts.verify_token("Bearer x").await,
        Err(AccountError::InvalidToken)
    ));

    assert!(db.accounts.revoke_token("test", record.id).await.unwrap());
    assert!(
        !db.accounts.revoke_token("test", record.id).await.unwrap(),
        "already revoked"
    );
    assert!(matches!(
        db.accounts.verify_token(&token).await,
        Err(AccountError::RevokedToken)
    ));
}

#[tokio::test]
async fn every_account_change_is_audited() {
    let db = TestDb::new().await;
    db.accounts
        .create_organisation("cli", "Acme Helse AS")
        .await
        .unwrap();
    db.accounts
        .create_user(
            "cli",
            account("kari@acme.no", Role::Vendor, Some("Acme Helse AS")),
        )
        .await
        .unwrap();
    let (record, _) = db
        .accounts
        .create_token("cli", "kari@acme.no", "ci")
        .await
        .unwrap();
    db.accounts.revoke_token("admin", record.id).await.unwrap();
    let events = db.audit.events_after(0, 100).await.unwrap();
    let actions: Vec<_> = events.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions,
        [
            "organisation.create",
            "user.create",
            "token.create",
            "token.revoke"
        ]
    );
    let text = serde_json::to_string(&events).unwrap();
    assert!(
        !text.contains(PASSWORD) && !text.contains("argon2"),
        "no secret in the trail: {text}"
    );
    assert!(matches!(
        db.audit.verify_chain().await.unwrap(),
        Verification::Intact { events: 4, .. }
    ));
}

/// Names others see — organisations, usernames, token names — are plain text: a control,
/// bidirectional or invisible character is refused by name (its code point), in both languages,
/// as a 400, and nothing is stored.
#[tokio::test]
async fn names_with_hidden_characters_are_refused() {
    use sandkasse_markedsplass::error::AppError;
    use sandkasse_suite::text::Unplain;

    let db = TestDb::new().await;
    for name in [
        "Acme\u{202e}SA ehleH",
        "Acme\u{2067}Helse AS",
        "Acme\u{1b}[2J AS",
    ] {
        let err = db
            .accounts
            .create_organisation("test", name)
            .await
            .unwrap_err();
        assert!(
            matches!(
                &err,
                AccountError::NotPlain {
                    why: Unplain::Invisible(_) | Unplain::Control(_),
                    ..
                }
            ),
            "{name:?}: {err:?}"
        );
        let app = AppError::from(err);
        assert_eq!(app.status_and_code().0, axum::http::StatusCode::BAD_REQUEST);
        let message = app.text(Lang::Nb);
        assert!(
            message.starts_with("Organisasjonsnavn: ")
                && message.ends_with(" er ikke tillatt")
                && message.contains("U+"),
            "{message}"
        );
        let message = app.text(Lang::En);
        assert!(
            message.starts_with("Organisation name: ") && message.ends_with(" is not allowed"),
            "{message}"
        );
    }
    db.accounts
        .create_organisation("test", "Acme Helse AS")
        .await
        .unwrap();
    let err = db
        .accounts
        .create_user(
            "test",
            account("kari\u{200f}@acme.no", Role::Vendor, Some("Acme Helse AS")),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            AccountError::NotPlain {
                why: Unplain::Invisible('\u{200f}'),
                ..
            }
        ),
        "{err:?}"
    );
    db.accounts
        .create_user(
            "test",
            account("kari@acme.no", Role::Vendor, Some("Acme Helse AS")),
        )
        .await
        .unwrap();
    let err = db
        .accounts
        .create_token("test", "kari@acme.no", "ci\u{202e}dorp")
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            AccountError::NotPlain {
                why: Unplain::Invisible('\u{202e}'),
                ..
            }
        ),
        "{err:?}"
    );
    let events = db.audit.events_after(0, 100).await.unwrap();
    let actions: Vec<&str> = events.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions,
        ["organisation.create", "user.create"],
        "only the plain names were stored"
    );
}
