//! URLs built in one place.

use crate::db::ids::ProjectId;

pub fn login_with_next(next: &str) -> String {
    if next.is_empty() || next == "/" {
        return "/login".into();
    }
    let encoded: String = form_urlencoded::byte_serialize(next.as_bytes()).collect();
    format!("/login?next={encoded}")
}

/// Where to go after signing in: only paths on this site, never `//host`.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.starts_with("/\\") => {
            n.to_owned()
        }
        _ => "/".into(),
    }
}

pub fn project(id: ProjectId) -> String {
    format!("/projects/{id}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_stays_on_this_site() {
        assert_eq!(safe_next(Some("/projects/1")), "/projects/1");
        assert_eq!(safe_next(Some("//evil.example")), "/");
        assert_eq!(safe_next(Some("/\\evil.example")), "/");
        assert_eq!(safe_next(Some("https://evil.example")), "/");
        assert_eq!(safe_next(None), "/");
        assert_eq!(login_with_next("/a?b=c"), "/login?next=%2Fa%3Fb%3Dc");
    }
}
