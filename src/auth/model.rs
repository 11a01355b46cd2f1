//! Account types and the parsing of what users type.

use serde::Serialize;
use time::OffsetDateTime;

use crate::db::ids::{ApiTokenId, UserId};
use crate::error::FieldErrors;

/// The signed-in user, as every handler sees it.
#[derive(Debug, Clone, Serialize)]
pub struct AuthUser {
    pub id: UserId,
    pub email: String,
    pub display_name: String,
    pub is_admin: bool,
}

/// A user as an admin sees it.
#[derive(Debug, Clone, Serialize)]
pub struct User {
    pub id: UserId,
    pub email: String,
    pub display_name: String,
    pub is_admin: bool,
    #[serde(with = "time::serde::rfc3339::option")]
    pub disabled_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

#[derive(Debug, Clone, Serialize)]
pub struct ApiToken {
    pub id: ApiTokenId,
    pub name: String,
    /// The first characters of the token, to tell tokens apart.
    pub prefix: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_used_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub revoked_at: Option<OffsetDateTime>,
}

pub const MIN_PASSWORD_CHARS: usize = 10;
const MAX_PASSWORD_CHARS: usize = 1024;

pub fn parse_email(errors: &mut FieldErrors, field: &str, input: &str) -> String {
    let email = input.trim();
    let valid = email.len() <= 254
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty() && !domain.is_empty() && !domain.contains('@')
        })
        && !email.chars().any(char::is_whitespace);
    if !valid {
        errors.add(field, "Enter an email address like name@example.org.");
    }
    email.to_owned()
}

pub fn parse_display_name(errors: &mut FieldErrors, field: &str, input: &str) -> String {
    let name = input.trim();
    if name.is_empty() {
        errors.add(field, "Enter a name.");
    } else if name.chars().count() > 100 {
        errors.add(field, crate::messages::at_most(100));
    }
    name.to_owned()
}

pub fn parse_new_password(
    errors: &mut FieldErrors,
    field: &str,
    password: &str,
    confirm: Option<&str>,
) {
    let chars = password.chars().count();
    if chars < MIN_PASSWORD_CHARS {
        errors.add(
            field,
            format!("Use at least {MIN_PASSWORD_CHARS} characters."),
        );
    } else if chars > MAX_PASSWORD_CHARS {
        errors.add(
            field,
            format!("Use at most {MAX_PASSWORD_CHARS} characters."),
        );
    }
    if let Some(confirm) = confirm
        && confirm != password
    {
        errors.add("password_confirm", "The two passwords differ.");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_need_one_at_sign_and_no_spaces() {
        for good in ["a@b.c", " Ana@Example.org "] {
            let mut errors = FieldErrors::new();
            parse_email(&mut errors, "email", good);
            assert!(errors.is_empty(), "{good}");
        }
        for bad in ["", "ana", "@b", "a@", "a b@c.d", "a@b@c"] {
            let mut errors = FieldErrors::new();
            parse_email(&mut errors, "email", bad);
            assert!(!errors.is_empty(), "{bad}");
        }
    }

    #[test]
    fn passwords_are_counted_in_characters_and_must_match() {
        let mut errors = FieldErrors::new();
        parse_new_password(&mut errors, "password", "ééééééééé", None);
        assert!(errors.get("password").is_some());
        let mut errors = FieldErrors::new();
        parse_new_password(&mut errors, "password", "long enough pw", Some("other"));
        assert!(errors.get("password_confirm").is_some());
    }
}
