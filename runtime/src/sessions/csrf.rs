//! Cross-site request forgery: checked in the guard for every cookie-authenticated request
//! that can change state, so a form POST cannot forget it.
//!
//! The check follows the browser's own signals (the approach of Go 1.25's
//! `http.CrossOriginProtection` and Rails 8):
//!
//! 1. `GET`, `HEAD` and `OPTIONS` pass, except a WebSocket handshake (a `GET` that opens a
//!    channel both ways: cross-site WebSocket hijacking) and any request to a route made with
//!    `routing::any` (whose handler cannot tell a safe method from a state change). Bearer
//!    credentials are exempt: a browser never attaches one on its own.
//! 2. An `Origin` on the trusted list passes.
//! 3. `Sec-Fetch-Site: same-origin` or `none` passes; any other value is refused.
//! 4. Without `Sec-Fetch-Site`: no `Origin` passes (not a browser, or a very old one) unless
//!    `require_origin` is set. An `Origin` must be one of the app's declared origins
//!    (`origin`: scheme, host and port compared); when none is declared, its host and
//!    port must equal `Host` (the scheme is not compared: behind a TLS-terminating proxy the
//!    server cannot know its own). `Origin: null` is refused.
//!
//! It runs before the session store is asked, so forged requests cost no store lookup.

use axum::extract::Request;
use axum::handler::Handler;
use http::request::Parts;
use http::{HeaderMap, Method, header};

#[cfg(test)]
use crate::credentials::is_websocket_handshake;

/// CSRF settings of a Gate's cookie credentials (set through
/// [`Sessions`](super::Sessions)).
#[derive(Clone, Debug, Default)]
pub(crate) struct Csrf {
    /// Other sites' origins whose state changes are accepted, normalized.
    trusted: Vec<String>,
    /// The app's own public origins, normalized; empty: compare with `Host`.
    own: Vec<String>,
    require_origin: bool,
}

/// Marks a request routed by `routing::any` or to a guarded fallback: the origin check
/// applies to every method.
#[derive(Clone, Copy, Debug)]
pub(crate) struct EveryMethod;

/// A handler that takes every method (`routing::any`, a guarded fallback): its requests are
/// marked [`EveryMethod`] before its guard runs. A handler wrapper rather than a tower layer,
/// so the route pays no extra service and no boxed future.
#[derive(Clone, Debug)]
pub(crate) struct OnEveryMethod<H>(pub(crate) H);

impl<H, T, S> Handler<T, S> for OnEveryMethod<H>
where
    H: Handler<T, S>,
{
    type Future = H::Future;

    fn call(self, mut request: Request, state: S) -> Self::Future {
        request.extensions_mut().insert(EveryMethod);
        self.0.call(request, state)
    }
}

impl Csrf {
    /// Accepts state changes from this origin too (`scheme://host[:port]`, compared with the
    /// request's `Origin` as a browser sends it: lower case, without the default port).
    pub(crate) fn trusted_origin(&mut self, origin: String) {
        self.trusted
            .push(normalize_origin(&origin).unwrap_or(origin));
    }

    /// Declares an origin the app is served from (`https://app.example.com`). Without
    /// `Sec-Fetch-Site`, a request's `Origin` must then be one of the declared origins,
    /// scheme, host and port alike, instead of matching the `Host` header by host and port.
    /// Call it once per origin.
    pub(crate) fn origin(&mut self, origin: String) {
        self.own.push(normalize_origin(&origin).unwrap_or(origin));
    }

    /// Refuses cookie-authenticated state changes that carry neither `Sec-Fetch-Site` nor
    /// `Origin`, instead of assuming a non-browser client.
    pub(crate) fn require_origin(&mut self) {
        self.require_origin = true;
    }

    /// Checks one cookie-authenticated request; `Err` carries the reason for the logs.
    #[cfg(test)]
    pub(crate) fn check(&self, parts: &Parts) -> Result<(), &'static str> {
        self.check_request(parts, is_websocket_handshake(&parts.headers))
    }

    /// [`check`](Self::check), told whether the request is a WebSocket handshake.
    pub(crate) fn check_request(&self, parts: &Parts, handshake: bool) -> Result<(), &'static str> {
        let safe = matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
        if safe && !handshake && parts.extensions.get::<EveryMethod>().is_none() {
            return Ok(());
        }
        self.check_origin(parts)
    }

    /// The origin check itself, whatever the method: steps 2 to 4 of the module's list. A
    /// login runs it on every request ([`LoginAttempt`](crate::LoginAttempt)).
    pub(crate) fn check_origin(&self, parts: &Parts) -> Result<(), &'static str> {
        let origin = single(&parts.headers, header::ORIGIN.as_str())?;
        // A browser serializes an origin one way (lower case, no default port, no path), so
        // a request's `Origin` is compared as sent with the normalized configured ones.
        if let Some(origin) = origin
            && self.trusted.iter().any(|t| t == origin)
        {
            return Ok(());
        }
        if let Some(site) = single(&parts.headers, "sec-fetch-site")? {
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
        if !self.own.is_empty() {
            return if self.own.iter().any(|o| o == origin) {
                Ok(())
            } else {
                Err("csrf_origin_mismatch")
            };
        }
        let host = single(&parts.headers, header::HOST.as_str())?
            .or_else(|| parts.uri.authority().map(|a| a.as_str()))
            .ok_or("csrf_no_host")?;
        match origin.split_once("://") {
            Some((_, origin_host)) if origin_host.eq_ignore_ascii_case(host) => Ok(()),
            _ => Err("csrf_origin_mismatch"),
        }
    }

    /// The path and query of the request's `Referer` when the page that sent it is of this
    /// app's origin (one of the declared origins, or, when none is declared, on the `Host` of
    /// the request, as step 4 decides for `Origin`); `None` otherwise.
    pub(crate) fn same_origin_referer<'a>(&self, parts: &'a Parts) -> Option<&'a str> {
        let referer = single(&parts.headers, header::REFERER.as_str()).ok()??;
        let (scheme, rest) = referer.split_once("://")?;
        let split = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let (authority, path) = rest.split_at(split);
        let origin = normalize_origin(&format!("{scheme}://{authority}"))?;
        let ours = if self.own.is_empty() {
            let host = single(&parts.headers, header::HOST.as_str()).ok()??;
            let (scheme, authority) = origin.split_once("://")?;
            normalize_authority(scheme, host).is_some_and(|host| host == authority)
        } else {
            self.own.contains(&origin)
        };
        let path = path.split('#').next().unwrap_or_default();
        match (ours, path.starts_with('/')) {
            (true, true) => Some(path),
            (true, false) => Some("/"),
            (false, _) => None,
        }
    }
}

/// An origin as `scheme://host[:port]` in lower case, without the scheme's default port;
/// `None` for anything that is not an HTTP(S) origin (a path, user info, a bad port).
fn normalize_origin(origin: &str) -> Option<String> {
    let (scheme, authority) = origin.trim_end_matches('/').split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "http" && scheme != "https" {
        return None;
    }
    let authority = normalize_authority(&scheme, authority)?;
    Some(format!("{scheme}://{authority}"))
}

/// `host[:port]` in lower case, without the default port of `scheme`; `None` when it holds
/// anything but a host and a port.
fn normalize_authority(scheme: &str, authority: &str) -> Option<String> {
    if authority.is_empty() || authority.contains(['/', '?', '#', '@', ' ']) {
        return None;
    }
    let authority = authority.to_ascii_lowercase();
    // The port follows the last `:` unless it is inside an IPv6 literal (`[::1]`).
    let (host, port) = match authority.rsplit_once(':') {
        Some((host, port)) if !port.contains(']') => (host, Some(port)),
        _ => (authority.as_str(), None),
    };
    let default = match scheme {
        "https" => "443",
        _ => "80",
    };
    match port {
        Some(port) if port.is_empty() || !port.bytes().all(|b| b.is_ascii_digit()) => None,
        Some(port) if port != default => Some(format!("{host}:{port}")),
        _ => Some(host.to_owned()),
    }
}

/// The one value of a header; two values or non-ASCII bytes are refused outright.
fn single<'a>(headers: &'a HeaderMap, name: &str) -> Result<Option<&'a str>, &'static str> {
    let mut values = headers.get_all(name).iter();
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
        let mut csrf = Csrf::default();
        csrf.trusted_origin("https://admin.example.com/".into());
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
        let mut strict = Csrf::default();
        strict.require_origin();
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

    /// A WebSocket handshake and a request to a `routing::any` route are checked although
    /// their method is `GET`.
    #[test]
    fn websocket_handshakes_and_any_routes_are_checked_on_get() {
        let csrf = Csrf::default();
        let host = ("host", "app.example.com");
        let sibling = ("origin", "http://app.example.com:8080");
        for upgrade in ["websocket", "WebSocket", "h2c, websocket"] {
            let ws = parts("GET", &[host, sibling, ("upgrade", upgrade)]);
            assert_eq!(csrf.check(&ws), Err("csrf_origin_mismatch"), "{upgrade}");
        }
        let same_site = parts(
            "GET",
            &[
                host,
                ("upgrade", "websocket"),
                ("sec-fetch-site", "same-site"),
            ],
        );
        assert_eq!(csrf.check(&same_site), Err("csrf_sec_fetch_site"));
        let same = parts(
            "GET",
            &[
                host,
                ("upgrade", "websocket"),
                ("origin", "http://app.example.com"),
            ],
        );
        assert!(csrf.check(&same).is_ok());
        assert!(
            csrf.check(&parts("GET", &[host, sibling, ("upgrade", "h2c")]))
                .is_ok()
        );
        let mut any = parts("GET", &[host, ("sec-fetch-site", "cross-site")]);
        assert!(csrf.check(&any).is_ok());
        any.extensions.insert(EveryMethod);
        assert_eq!(csrf.check(&any), Err("csrf_sec_fetch_site"));
    }

    /// Without a declared origin the host and port of `Origin` must equal `Host` (any case);
    /// with one, the `Origin` must be a declared origin exactly as a browser serializes it:
    /// scheme, host and port, the declaration normalized.
    #[test]
    fn origins_compare_scheme_host_and_port_once_declared() {
        let by_host = Csrf::default();
        let mut declared = Csrf::default();
        declared.origin("https://App.Example.com:443/".into());
        type Case<'a> = (&'a str, &'a str, bool, bool);
        let cases: &[Case<'_>] = &[
            ("https://app.example.com", "app.example.com", true, true),
            ("http://app.example.com", "app.example.com", true, false),
            ("https://APP.example.com", "app.example.com", true, false),
            (
                "https://app.example.com:443",
                "app.example.com",
                false,
                false,
            ),
            (
                "https://app.example.com:8443",
                "app.example.com",
                false,
                false,
            ),
            (
                "https://app.example.com",
                "app.example.com:8443",
                false,
                true,
            ),
            ("https://evil.example", "app.example.com", false, false),
            ("https://app.example.com/", "app.example.com", false, false),
            (
                "https://user@app.example.com",
                "app.example.com",
                false,
                false,
            ),
        ];
        for (origin, host_header, want_by_host, want_declared) in cases {
            let request = parts("POST", &[("host", host_header), ("origin", origin)]);
            assert_eq!(
                by_host.check(&request).is_ok(),
                *want_by_host,
                "by host: {origin} {host_header}"
            );
            assert_eq!(
                declared.check(&request).is_ok(),
                *want_declared,
                "declared: {origin} {host_header}"
            );
        }
        let mut ports = Csrf::default();
        ports.origin("http://[::1]:3000".into());
        ports.origin("HTTP://localhost:80".into());
        for (origin, want) in [
            ("http://[::1]:3000", true),
            ("http://localhost", true),
            ("http://localhost:80", false),
        ] {
            let request = parts("POST", &[("host", "x"), ("origin", origin)]);
            assert_eq!(ports.check(&request).is_ok(), want, "{origin}");
        }
    }
}
