//! Declarations (egenerklæringer): the vilkår no test can run — information security after
//! Normen, a data processing agreement, incident handling, universal design — as data in
//! `conformance/erklaeringer/` (loaded with the suite, [`sandkasse_suite::model::Erklaering`]).
//!
//! A vendor answers them in the listing request ([`check`]: every required one answered, with an
//! attachment where the declaration asks for one, within the limits of
//! [`crate::config::Declarations`]); the answers are stored with the case, and each reviewer gives
//! a verdict on each answer with the decision ([`crate::governance::check_verdicts`]). Answers and
//! attachments are the vendor's and the project's to read; the catalogue shows only which
//! declarations a listing carries.
//!
//! ```
//! use sandkasse_markedsplass::declarations::sniff;
//! assert!(sniff("application/pdf", b"%PDF-1.7 ..."));
//! assert!(!sniff("image/png", b"%PDF-1.7 ..."));
//! assert!(sniff("text/plain", "Rutine for avvik, versjon 3".as_bytes()));
//! ```

use std::collections::BTreeSet;

use sandkasse_suite::load::Suite;
use sandkasse_suite::text::{Lines, check_plain};
use serde::{Deserialize, Serialize};

use crate::config::Declarations;
use crate::error::AppError;
use crate::i18n::{Lang, Msg};
use crate::store::{CaseDeclaration, NewAttachment, NewDeclaration};

/// The media types whose content [`sniff`] can check; `declarations.attachment_types` is a subset.
pub const KNOWN_TYPES: [&str; 4] = ["application/pdf", "image/png", "image/jpeg", "text/plain"];

/// Longest attachment file name, in characters.
pub const MAX_FILE_NAME_CHARS: usize = 200;

/// One answer as the vendor gives it.
#[derive(Debug, Clone, Default)]
pub struct Answer {
    /// The declaration's id, e.g. `ERK-01`.
    pub id: String,
    pub answer: String,
    pub attachments: Vec<NewAttachment>,
}

/// Whether `bytes` are what `content_type` says: a PDF starts `%PDF-`, a PNG and a JPEG with
/// their signatures, text is UTF-8 without control characters besides line breaks and tabs.
pub fn sniff(content_type: &str, bytes: &[u8]) -> bool {
    match content_type {
        "application/pdf" => bytes.starts_with(b"%PDF-"),
        "image/png" => bytes.starts_with(b"\x89PNG\r\n\x1a\n"),
        "image/jpeg" => bytes.starts_with(b"\xff\xd8\xff"),
        "text/plain" => {
            std::str::from_utf8(bytes).is_ok_and(|t| check_plain(t, Lines::Many).is_ok())
        }
        _ => false,
    }
}

/// The field of a declaration's answer a [`Refusal`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    /// The answer's text.
    Answer,
    /// Its attachments.
    Attachment,
}

/// Why a listing request was refused: the error (its status: 400, 413 for a file too large, 415
/// for a file of a type not taken, and any other refusal of the request) and, when it is about an
/// answer, the declaration and the field — so a form can say it next to the field.
#[derive(Debug)]
pub struct Refusal {
    pub error: AppError,
    /// The declaration's id as given (one the suite may not have) and the field.
    pub at: Option<(String, Field)>,
}

impl From<Refusal> for AppError {
    fn from(r: Refusal) -> AppError {
        r.error
    }
}

impl From<AppError> for Refusal {
    /// A refusal about no answer in particular.
    fn from(error: AppError) -> Refusal {
        Refusal { error, at: None }
    }
}

/// Checks a listing request's answers against the suite's declarations and the limits: no
/// unknown or repeated id, every required declaration answered, an attachment where one is
/// required, every text plain and within its length, every attachment of an allowed type, its
/// content matching that type, within the size and count. Blank answers without attachments are
/// left out (an optional declaration not answered). The result is in id order.
pub fn check(
    suite: &Suite,
    limits: &Declarations,
    answers: Vec<Answer>,
) -> Result<Vec<NewDeclaration>, Refusal> {
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for a in answers {
        let id = a.id.trim().to_owned();
        let refuse = |field, error| Refusal {
            error,
            at: Some((id.clone(), field)),
        };
        let invalid = |field, msg: Msg| refuse(field, AppError::invalid(msg.arg("id", &id)));
        let Some(erk) = suite.erklaering(&id) else {
            return Err(invalid(Field::Answer, Msg::new("msg_declaration_unknown")));
        };
        if !seen.insert(id.clone()) {
            return Err(invalid(Field::Answer, Msg::new("msg_declaration_twice")));
        }
        let answer = a.answer.trim();
        if answer.is_empty() && a.attachments.is_empty() {
            continue;
        }
        if answer.is_empty() {
            return Err(invalid(Field::Answer, Msg::new("msg_declaration_missing")));
        }
        if answer.chars().count() > limits.max_answer_chars {
            return Err(invalid(
                Field::Answer,
                Msg::new("msg_declaration_too_long").arg("max", limits.max_answer_chars),
            ));
        }
        check_plain(answer, Lines::Many).map_err(|why| {
            refuse(
                Field::Answer,
                AppError::invalid(crate::error::unplain(
                    Msg::new("field_declaration_answer").arg("id", &id),
                    &why,
                )),
            )
        })?;
        if a.attachments.len() > limits.max_attachments {
            return Err(invalid(
                Field::Attachment,
                Msg::new("msg_attachments_too_many").arg("max", limits.max_attachments),
            ));
        }
        if erk.attachment_required && a.attachments.is_empty() {
            return Err(invalid(
                Field::Attachment,
                Msg::new("msg_attachment_required"),
            ));
        }
        let mut attachments = Vec::new();
        for f in a.attachments {
            attachments
                .push(check_attachment(&id, limits, f).map_err(|e| refuse(Field::Attachment, e))?);
        }
        out.push(NewDeclaration {
            declaration_id: id,
            answer: answer.to_owned(),
            attachments,
        });
    }
    if let Some(missing) = suite
        .erklaeringer
        .iter()
        .find(|e| e.required && !out.iter().any(|d| d.declaration_id == e.id))
    {
        return Err(Refusal {
            error: AppError::invalid(Msg::new("msg_declaration_missing").arg("id", &missing.id)),
            at: Some((missing.id.clone(), Field::Answer)),
        });
    }
    out.sort_by(|a, b| a.declaration_id.cmp(&b.declaration_id));
    Ok(out)
}

fn check_attachment(
    id: &str,
    limits: &Declarations,
    f: NewAttachment,
) -> Result<NewAttachment, AppError> {
    let name = f.file_name.trim();
    // Only the last part of a path a browser may send.
    let name = name.rsplit(['/', '\\']).next().unwrap_or(name).to_owned();
    if name.is_empty() || name.chars().count() > MAX_FILE_NAME_CHARS {
        return Err(AppError::invalid(
            Msg::new("msg_attachment_name")
                .arg("id", id)
                .arg("max", MAX_FILE_NAME_CHARS),
        ));
    }
    check_plain(&name, Lines::One).map_err(|why| {
        AppError::invalid(crate::error::unplain(
            Msg::new("field_attachment_name").arg("id", id),
            &why,
        ))
    })?;
    // `text/plain; charset=utf-8` is text/plain.
    let content_type = f
        .content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    if !limits.attachment_types.contains(&content_type) {
        return Err(AppError::UnsupportedMediaType(
            Msg::new("msg_attachment_type")
                .arg("id", id)
                .arg("name", &name)
                .arg("types", limits.attachment_types.join(", ")),
        ));
    }
    if f.bytes.len() as u64 > limits.max_attachment_bytes {
        return Err(AppError::TooLarge(
            Msg::new("msg_attachment_too_large")
                .arg("id", id)
                .arg("name", &name)
                .arg("max", limits.max_attachment_bytes),
        ));
    }
    if f.bytes.is_empty() || !sniff(&content_type, &f.bytes) {
        return Err(AppError::invalid(
            Msg::new("msg_attachment_content")
                .arg("id", id)
                .arg("name", &name)
                .arg("type", &content_type),
        ));
    }
    Ok(NewAttachment {
        file_name: name,
        content_type,
        bytes: f.bytes,
    })
}

/// Synthetic answers to every declaration of `suite` (a short text attachment where one is
/// required), for the demo data and the benches: `vendor` names who declares.
pub fn sample_answers(suite: &Suite, vendor: &str) -> Vec<Answer> {
    suite
        .erklaeringer
        .iter()
        .map(|e| Answer {
            id: e.id.clone(),
            answer: format!(
                "{vendor} erklærer at «{}» er oppfylt; dokumentasjonen er vedlagt eller beskrevet her (syntetiske demodata).",
                e.title.nb
            ),
            attachments: if e.attachment_required {
                vec![NewAttachment {
                    file_name: format!("{}-dokumentasjon.txt", e.id.to_lowercase()),
                    content_type: "text/plain".into(),
                    bytes: format!("{}: {}\nSyntetisk dokumentasjon fra {vendor}.\n", e.id, e.title.nb)
                        .into_bytes(),
                }]
            } else {
                Vec::new()
            },
        })
        .collect()
}

/// A verdict accepting each of `case`'s declarations with `comment` (demo data and benches).
pub fn accept_all(case: &crate::store::Case, comment: &str) -> Vec<crate::service::VerdictInput> {
    case.declarations
        .iter()
        .map(|d| crate::service::VerdictInput {
            id: d.declaration_id.clone(),
            verdict: crate::store::DeclarationVerdict::Accept.as_str().into(),
            comment: comment.into(),
        })
        .collect()
}

/// A declaration as a page shows it: the suite's texts in the page's language, and, in a case,
/// the vendor's answer and the verdicts.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct View {
    pub id: String,
    pub title: String,
    pub text: String,
    pub evidence: String,
    pub required: bool,
    pub attachment_required: bool,
    /// `document, section`.
    pub source: String,
    pub reference: String,
}

/// The suite's declarations in `lang`, in id order.
pub fn views(suite: &Suite, lang: Lang) -> Vec<View> {
    let pick = |t: &sandkasse_suite::model::Text| match lang {
        Lang::Nb => t.nb.clone(),
        Lang::En => t.en.clone(),
    };
    suite
        .erklaeringer
        .iter()
        .map(|e| View {
            id: e.id.clone(),
            title: pick(&e.title),
            text: pick(&e.text),
            evidence: pick(&e.evidence),
            required: e.required,
            attachment_required: e.attachment_required,
            source: format!("{}, {}", e.source.document, e.source.section),
            reference: e.source.reference.clone(),
        })
        .collect()
}

/// The title of declaration `id` in `lang`; the id itself for a declaration the current suite no
/// longer has.
pub fn title(suite: &Suite, id: &str, lang: Lang) -> String {
    suite.erklaering(id).map_or_else(
        || id.to_owned(),
        |e| match lang {
            Lang::Nb => e.title.nb.clone(),
            Lang::En => e.title.en.clone(),
        },
    )
}

/// A case's declarations with the suite's texts, for the case page.
#[derive(Debug, Clone, Serialize)]
pub struct Answered<'a> {
    pub view: Option<View>,
    pub title: String,
    pub declaration: &'a CaseDeclaration,
}

/// Each of a case's declarations with its title (and texts, when the suite still has it).
pub fn answered<'a>(
    suite: &Suite,
    lang: Lang,
    declarations: &'a [CaseDeclaration],
) -> Vec<Answered<'a>> {
    let all = views(suite, lang);
    declarations
        .iter()
        .map(|d| Answered {
            view: all.iter().find(|v| v.id == d.declaration_id).cloned(),
            title: title(suite, &d.declaration_id, lang),
            declaration: d,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn suite() -> Suite {
        sandkasse_suite::load::load(&sandkasse_suite::load::default_root()).unwrap()
    }

    fn pdf() -> NewAttachment {
        NewAttachment {
            file_name: "normen.pdf".into(),
            content_type: "application/pdf".into(),
            bytes: b"%PDF-1.4 synthetic".to_vec(),
        }
    }

    fn all_answered(suite: &Suite) -> Vec<Answer> {
        suite
            .erklaeringer
            .iter()
            .map(|e| Answer {
                id: e.id.clone(),
                answer: format!("Vi oppfyller {}", e.id),
                attachments: if e.attachment_required {
                    vec![pdf()]
                } else {
                    Vec::new()
                },
            })
            .collect()
    }

    fn key(r: Refusal) -> String {
        match r.error {
            AppError::BadRequest { message, .. }
            | AppError::TooLarge(message)
            | AppError::UnsupportedMediaType(message) => message.key().to_owned(),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn every_required_declaration_must_be_answered_with_its_attachment() {
        let (suite, limits) = (suite(), Declarations::default());
        let ok = check(&suite, &limits, all_answered(&suite)).unwrap();
        assert_eq!(ok.len(), suite.erklaeringer.len());
        let mut missing = all_answered(&suite);
        missing.remove(1);
        let refused = check(&suite, &limits, missing).unwrap_err();
        // Named with its field, for the form to say it there.
        assert_eq!(
            refused.at.clone(),
            Some(("ERK-02".to_owned(), Field::Answer))
        );
        assert_eq!(key(refused), "msg_declaration_missing");
        let mut blank = all_answered(&suite);
        blank[0].answer = "  ".into();
        assert_eq!(
            key(check(&suite, &limits, blank).unwrap_err()),
            "msg_declaration_missing"
        );
        let mut no_file = all_answered(&suite);
        no_file[0].attachments.clear();
        assert_eq!(
            key(check(&suite, &limits, no_file).unwrap_err()),
            "msg_attachment_required"
        );
        let mut twice = all_answered(&suite);
        twice.push(twice[0].clone());
        assert_eq!(
            key(check(&suite, &limits, twice).unwrap_err()),
            "msg_declaration_twice"
        );
        let mut unknown = all_answered(&suite);
        unknown[0].id = "ERK-99".into();
        assert_eq!(
            key(check(&suite, &limits, unknown).unwrap_err()),
            "msg_declaration_unknown"
        );
    }

    #[test]
    fn attachments_are_held_to_type_content_size_and_count() {
        let (suite, mut limits) = (suite(), Declarations::default());
        let with = |f: NewAttachment| {
            let mut a = all_answered(&suite);
            a[0].attachments = vec![f];
            a
        };
        let exe = NewAttachment {
            content_type: "application/x-msdownload".into(),
            ..pdf()
        };
        let refused = check(&suite, &limits, with(exe)).unwrap_err();
        assert_eq!(
            refused.at.clone(),
            Some(("ERK-01".to_owned(), Field::Attachment))
        );
        assert!(matches!(refused.error, AppError::UnsupportedMediaType(_)));
        assert_eq!(key(refused), "msg_attachment_type");
        let lying = NewAttachment {
            content_type: "image/png".into(),
            ..pdf()
        };
        assert_eq!(
            key(check(&suite, &limits, with(lying)).unwrap_err()),
            "msg_attachment_content"
        );
        let path = NewAttachment {
            file_name: "C:\\docs\\normen.pdf".into(),
            ..pdf()
        };
        let stored = check(&suite, &limits, with(path)).unwrap();
        assert_eq!(stored[0].attachments[0].file_name, "normen.pdf");
        limits.max_attachment_bytes = 10;
        assert_eq!(
            key(check(&suite, &limits, with(pdf())).unwrap_err()),
            "msg_attachment_too_large"
        );
        limits = Declarations {
            max_attachments: 1,
            ..Declarations::default()
        };
        let mut two = all_answered(&suite);
        two[0].attachments = vec![pdf(), pdf()];
        assert_eq!(
            key(check(&suite, &limits, two).unwrap_err()),
            "msg_attachments_too_many"
        );
        limits = Declarations {
            max_answer_chars: 5,
            ..Declarations::default()
        };
        assert_eq!(
            key(check(&suite, &limits, all_answered(&suite)).unwrap_err()),
            "msg_declaration_too_long"
        );
    }
}
