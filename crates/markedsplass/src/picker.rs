//! The product picker's rule: an upload names an existing product or, as an explicit choice, a
//! new one — and never a near miss of an existing one.
//!
//! A product is created by the first upload of its name, so a typo would silently start a second
//! product beside the first. Names that differ only in letter case or in spaces (`Journal Nord`,
//! `journal  nord `) are near misses: [`check`] refuses them, naming the product meant.
//!
//! ```
//! use sandkasse_markedsplass::picker::{ProductChoice, check};
//! let existing = ["Journal Nord"];
//! assert!(check("Journal Nord", ProductChoice::Existing, &existing).is_ok());
//! assert!(check("journal nord", ProductChoice::ExistingOrNew, &existing).is_err());
//! assert!(check("Journal Sør", ProductChoice::New, &existing).is_ok());
//! assert!(check("Journal Sør", ProductChoice::Existing, &existing).is_err());
//! ```

use crate::error::AppError;
use crate::i18n::Msg;

/// What an upload says about its product.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ProductChoice {
    /// One of the organisation's products, by its exact name (the upload page's picker;
    /// `new_product=false` in the API).
    Existing,
    /// A new product (`new_product=true`): refused when the name, or a near miss, exists.
    New,
    /// The API without `new_product`: the existing product of that exact name, else a new one.
    #[default]
    ExistingOrNew,
}

impl ProductChoice {
    /// `true` / `false` as a form sends them; `None` for anything else.
    pub fn parse(value: &str) -> Option<ProductChoice> {
        match value.trim() {
            "true" | "on" | "1" => Some(ProductChoice::New),
            "false" | "0" => Some(ProductChoice::Existing),
            _ => None,
        }
    }
}

/// `name` compared loosely: lower case, runs of whitespace as one space, no space at the ends.
fn loose(name: &str) -> String {
    name.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// Whether the upload of product `name` (trimmed) may go ahead given the organisation's
/// `existing` product names: a 400 for an unknown product that had to exist, a 409 for a new one
/// that exists or for a near miss.
pub fn check(name: &str, choice: ProductChoice, existing: &[&str]) -> Result<(), AppError> {
    if existing.contains(&name) {
        return match choice {
            ProductChoice::New => Err(AppError::Conflict(
                Msg::new("msg_product_exists").arg("name", name),
            )),
            ProductChoice::Existing | ProductChoice::ExistingOrNew => Ok(()),
        };
    }
    if let Some(near) = existing.iter().find(|e| loose(e) == loose(name)) {
        return Err(AppError::Conflict(
            Msg::new("msg_product_near_miss")
                .arg("name", name)
                .arg("near", near),
        ));
    }
    match choice {
        // Refused, not malformed: the request is well formed, the organisation has no such product.
        ProductChoice::Existing => Err(AppError::Refused(
            Msg::new("msg_product_unknown").arg("name", name),
        )),
        ProductChoice::New | ProductChoice::ExistingOrNew => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn near_misses_by_case_or_space_are_refused_whatever_the_choice() {
        let existing = ["Journal Nord", "Pleie"];
        for name in ["journal nord", "Journal  Nord", "JOURNAL NORD", "pleie"] {
            for choice in [
                ProductChoice::Existing,
                ProductChoice::New,
                ProductChoice::ExistingOrNew,
            ] {
                let refused = check(name, choice, &existing);
                assert!(
                    matches!(&refused, Err(AppError::Conflict(m)) if m.render(crate::i18n::Lang::Nb).contains("nesten likt")),
                    "{name:?} {choice:?}: {refused:?}"
                );
            }
        }
    }

    #[test]
    fn an_explicit_choice_is_held_to() {
        let existing = ["Journal Nord"];
        assert!(check("Journal Nord", ProductChoice::Existing, &existing).is_ok());
        assert!(check("Journal Nord", ProductChoice::ExistingOrNew, &existing).is_ok());
        assert!(matches!(
            check("Journal Nord", ProductChoice::New, &existing),
            Err(AppError::Conflict(_))
        ));
        assert!(matches!(
            check("Journal Sør", ProductChoice::Existing, &existing),
            Err(AppError::Refused(_))
        ));
        assert!(check("Journal Sør", ProductChoice::New, &existing).is_ok());
        assert!(check("Journal Sør", ProductChoice::ExistingOrNew, &[]).is_ok());
        assert_eq!(ProductChoice::parse("true"), Some(ProductChoice::New));
        assert_eq!(ProductChoice::parse("false"), Some(ProductChoice::Existing));
        assert_eq!(ProductChoice::parse("kanskje"), None);
    }
}
