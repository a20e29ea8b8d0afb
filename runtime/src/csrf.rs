//! Cross-site request forgery: checked in the guard for every cookie-authenticated request
//! whose method changes state, so a form POST cannot forget it.
//!
//! The check follows the browser's own signals (the approach of Go 1.25's
//! `http.CrossOriginProtection` and Rails 8):
//!
//! 1. `GET`, `HEAD` and `OPTIONS` pass; bearer-authenticated requests are exempt (a browser
//!    never attaches a bearer header on its own).
//! 2. An `Origin` on the trusted list passes.
//! 3. `Sec-Fetch-Site: same-origin` or `none` passes; any other value is refused.
//! 4. Without `Sec-Fetch-Site`: no `Origin` passes (not a browser, or a very old one) unless
//!    [`Csrf::require_origin`] is set; otherwise the `Origin` host must equal `Host`.
//!    `Origin: null` is refused.
//!
//! It runs before the session store is asked, so forged requests cost no store lookup.

use http::request::Parts;
use http::{Method, header};

/// CSRF settings of a Gate's cookie credentials.
///
/// ```
/// use authgate::Csrf;
/// let csrf = Csrf::default()
///     .trusted_origin("https://admin.example.com")
///     .require_origin();
/// ```
#[derive(Clone, Debug, Default)]
pub struct Csrf {
    trusted: Vec<String>,
    require_origin: bool,
}

impl Csrf {
    /// Accepts state changes from this origin too (`scheme://host[:port]`, compared exactly).
    pub fn trusted_origin(mut self, origin: impl Into<String>) -> Self {
        self.trusted
            .push(origin.into().trim_end_matches('/').to_owned());
        self
    }

    /// Refuses cookie-authenticated state changes that carry neither `Sec-Fetch-Site` nor
    /// `Origin`, instead of assuming a non-browser client.
    pub fn require_origin(mut self) -> Self {
        self.require_origin = true;
        self
    }

    /// Checks one cookie-authenticated request; `Err` carries the reason for the logs.
    pub fn check(&self, parts: &Parts) -> Result<(), &'static str> {
        if matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS) {
            return Ok(());
        }
        let origin = single(parts, header::ORIGIN.as_str())?;
        if let Some(origin) = origin
            && self.trusted.iter().any(|t| t == origin)
        {
            return Ok(());
        }
        if let Some(site) = single(parts, "sec-fetch-site")? {
            return match site {
                "same-origin" | "none" => Ok(()),
                _ => Err("csrf_sec_fetch_site"),
            };
        }
        let Some(origin) = origin else {
            return if self.require_origin {
                Err("csrf_no_origin")
            } else {
                Ok(())
            };
        };
        if origin == "null" {
            return Err("csrf_null_origin");
        }
        let host = single(parts, header::HOST.as_str())?
            .or_else(|| parts.uri.authority().map(|a| a.as_str()))
            .ok_or("csrf_no_host")?;
        match origin.split_once("://") {
            Some((_, origin_host)) if origin_host.eq_ignore_ascii_case(host) => Ok(()),
            _ => Err("csrf_origin_mismatch"),
        }
    }
}

/// The one value of a header; two values or non-ASCII bytes are refused outright.
fn single<'a>(parts: &'a Parts, name: &str) -> Result<Option<&'a str>, &'static str> {
    let mut values = parts.headers.get_all(name).iter();
    let Some(value) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err("csrf_duplicate_header");
    }
    value.to_str().map(Some).map_err(|_| "csrf_bad_header")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(method: &str, headers: &[(&str, &str)]) -> Parts {
        let mut req = http::Request::builder().method(method).uri("/x");
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        req.body(()).unwrap().into_parts().0
    }

    #[test]
    fn matrix() {
        let csrf = Csrf::default().trusted_origin("https://admin.example.com/");
        let host = ("host", "app.example.com");
        type Case<'a> = (&'a str, &'a [(&'a str, &'a str)], bool);
        let cases: &[Case<'_>] = &[
            ("GET", &[("sec-fetch-site", "cross-site")], true),
            ("POST", &[host, ("sec-fetch-site", "same-origin")], true),
            ("POST", &[host, ("sec-fetch-site", "none")], true),
            ("POST", &[host, ("sec-fetch-site", "same-site")], false),
            ("POST", &[host, ("sec-fetch-site", "cross-site")], false),
            ("DELETE", &[host, ("sec-fetch-site", "cross-site")], false),
            ("POST", &[host], true),
            ("POST", &[host, ("origin", "https://app.example.com")], true),
            (
                "POST",
                &[host, ("origin", "https://evil.example.com")],
                false,
            ),
            ("POST", &[host, ("origin", "null")], false),
            (
                "PUT",
                &[
                    host,
                    ("origin", "https://admin.example.com"),
                    ("sec-fetch-site", "same-site"),
                ],
                true,
            ),
            (
                "POST",
                &[host, ("origin", "https://app.example.com.evil.io")],
                false,
            ),
        ];
        for (method, headers, ok) in cases {
            assert_eq!(
                csrf.check(&parts(method, headers)).is_ok(),
                *ok,
                "{method} {headers:?}"
            );
        }
        let strict = Csrf::default().require_origin();
        assert!(strict.check(&parts("POST", &[host])).is_err());
        assert!(
            strict
                .check(&parts(
                    "POST",
                    &[host, ("origin", "https://app.example.com")]
                ))
                .is_ok()
        );
    }
}
