//! The login redirect: the `Location` of a page route's 303 (`/login?next=<this page>`), and
//! the validation of the user-supplied `next` a login form sends back, against open redirects.

use axum::extract::OriginalUri;
use http::Method;
use http::request::Parts;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};

use super::csrf::Csrf;

/// Everything but RFC 3986 unreserved characters is encoded in `next`.
const NOT_UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// `login?next=<where to come back to, percent-encoded>`: where a page route sends a visitor
/// who is not logged in.
///
/// After the login the browser `GET`s `next`, so it is this request's path and query only
/// when the request was a `GET` or `HEAD`. A form that posted (`/notes/3/delete`, `/logout`)
/// comes back to the page that showed the form: the `Referer`, when it is of this app's origin
/// and a safe path; otherwise there is no `next`, and the login page's own default applies.
pub(crate) fn login_location(login: &str, parts: &Parts, csrf: &Csrf) -> String {
    let target = if matches!(parts.method, Method::GET | Method::HEAD) {
        // Inside `nest`, axum strips the prefix from `parts.uri`; the original URI has it.
        let uri = parts
            .extensions
            .get::<OriginalUri>()
            .map_or(&parts.uri, |original| &original.0);
        Some(uri.path_and_query().map_or("/", |pq| pq.as_str()))
    } else {
        csrf.same_origin_referer(parts)
            .filter(|path| is_safe_next(path))
    };
    let Some(target) = target else {
        return login.to_owned();
    };
    let separator = if login.contains('?') { '&' } else { '?' };
    format!(
        "{login}{separator}next={}",
        utf8_percent_encode(target, NOT_UNRESERVED)
    )
}

/// `next` if it is a path on this site, else `default`.
///
/// Accepted: an absolute path (`/invoices?page=2`). Refused, also in their percent-encoded
/// forms: `//host` and `/\host` (browsers read both as another host), any scheme
/// (`https:`, `javascript:`), backslashes, `.` and `..` path segments (`/..//host` normalizes
/// to `//host`), control characters and white space, and anything over 2 KiB.
///
/// ```
/// use authgate::sessions::safe_next;
/// assert_eq!(safe_next(Some("/invoices?page=2"), "/dashboard"), "/invoices?page=2");
/// assert_eq!(safe_next(Some("//evil.example"), "/dashboard"), "/dashboard");
/// assert_eq!(safe_next(Some("/%2F%2Fevil.example"), "/dashboard"), "/dashboard");
/// assert_eq!(safe_next(None, "/dashboard"), "/dashboard");
/// ```
pub fn safe_next<'a>(next: Option<&'a str>, default: &'a str) -> &'a str {
    match next {
        Some(next) if is_safe_next(next) => next,
        _ => default,
    }
}

/// Whether `next` is a same-site path that is safe to redirect to.
pub fn is_safe_next(next: &str) -> bool {
    if next.len() > 2048 || !next.starts_with('/') {
        return false;
    }
    // Check the text as given and once percent-decoded (repeatedly, for %252F), so that an
    // encoded `//` or `\` cannot reach a browser or a second decoder.
    let mut text = next.to_owned();
    for _ in 0..4 {
        if !plain_path_ok(&text) {
            return false;
        }
        match percent_decode(&text) {
            Some(decoded) if decoded == text => return true,
            Some(decoded) => text = decoded,
            None => return false,
        }
    }
    false
}

fn plain_path_ok(path: &str) -> bool {
    let bytes = path.as_bytes();
    if bytes.first() != Some(&b'/') || matches!(bytes.get(1), Some(b'/' | b'\\')) {
        return false;
    }
    if path
        .chars()
        .any(|c| c == '\\' || c.is_control() || c.is_whitespace())
    {
        return false;
    }
    // Dot segments: `/..//evil.example` normalizes to `//evil.example`, an open redirect for
    // anything that re-parses the path.
    let path_only = path.split(['?', '#']).next().unwrap_or_default();
    !path_only
        .split('/')
        .any(|segment| segment == "." || segment == "..")
}

/// Decodes `%XX` escapes; `None` for a `%` not followed by two hex digits, or bytes that are
/// not UTF-8.
fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let well_formed = bytes.iter().enumerate().all(|(i, &b)| {
        b != b'%'
            || bytes
                .get(i + 1..i + 3)
                .is_some_and(|hex| hex.iter().all(u8::is_ascii_hexdigit))
    });
    if !well_formed {
        return None;
    }
    percent_decode_str(s)
        .decode_utf8()
        .ok()
        .map(|text| text.into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_cases() {
        let ok = [
            "/",
            "/dashboard",
            "/invoices?page=2&sort=asc",
            "/a/b#frag",
            "/caf%C3%A9",
        ];
        for next in ok {
            assert!(is_safe_next(next), "{next}");
        }
        assert!(!is_safe_next("/a%20b"), "decoded white space");
        let bad = [
            "",
            "dashboard",
            "//evil.example",
            "/\\evil.example",
            "\\\\evil.example",
            "https://evil.example",
            "javascript:alert(1)",
            "/%2F%2Fevil.example",
            "/%2fevil.example",
            "%2F%2Fevil.example",
            "/%5Cevil.example",
            "/%255Cevil.example",
            "/%252F%252Fevil.example",
            "/a\r\nSet-Cookie: x=y",
            "/a%0d%0aSet-Cookie:%20x=y",
            "/a\tb",
            "/%",
            "/%zz",
            "/%ff",
            " /dashboard",
            "/..//evil.example",
            "/./",
            "/a/../b",
            "/%2e%2e//evil.example",
            "/%2E%2E/%2Fevil.example",
        ];
        for next in bad {
            assert!(!is_safe_next(next), "{next:?}");
        }
        assert!(!is_safe_next(&format!("/{}", "a".repeat(3000))));
    }
}
