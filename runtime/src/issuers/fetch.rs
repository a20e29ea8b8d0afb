//! The HTTP side of fetched keys: which URLs may be fetched, one bounded GET, the
//! `Cache-Control: max-age` of its answer, and the discovery document's `jwks_uri`.

use std::time::Duration;

use reqwest::Url;
use reqwest::header::{ACCEPT, CACHE_CONTROL, HeaderMap};
use serde::Deserialize;

/// A document as fetched: its bytes, and how long the server says it may be kept.
pub(super) struct Fetched {
    pub(super) body: Vec<u8>,
    pub(super) max_age: Option<Duration>,
}

/// `url` when it may be fetched: HTTPS, or plain HTTP to a loopback address (tests and local
/// providers), with no credentials in it.
pub(crate) fn checked_url(url: &str) -> Result<Url, String> {
    let parsed = Url::parse(url).map_err(|e| format!("{url:?} is not a URL ({e})"))?;
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(format!("{url:?} carries credentials"));
    }
    let Some(host) = parsed.host_str() else {
        return Err(format!("{url:?} has no host"));
    };
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    let loopback = match bare.parse::<std::net::IpAddr>() {
        Ok(ip) => ip.is_loopback(),
        Err(_) => bare.eq_ignore_ascii_case("localhost"),
    };
    match parsed.scheme() {
        "https" => Ok(parsed),
        "http" if loopback => Ok(parsed),
        _ => Err(format!("{url:?} is not an HTTPS URL")),
    }
}

/// Where OpenID Connect Discovery 1.0 (section 4) puts an issuer's configuration.
pub(crate) fn discovery_url(issuer: &str) -> Result<Url, String> {
    checked_url(&format!(
        "{}/.well-known/openid-configuration",
        issuer.trim_end_matches('/')
    ))
}

/// One GET of at most `limit` bytes; anything but a 200 is an error. Redirects are not
/// followed (the client is built so), so the URL checked is the URL fetched.
pub(super) async fn get(
    client: &reqwest::Client,
    url: &Url,
    limit: usize,
) -> Result<Fetched, String> {
    let mut response = client
        .get(url.clone())
        .header(ACCEPT, "application/json")
        .send()
        .await
        .map_err(describe)?;
    let status = response.status();
    if status != reqwest::StatusCode::OK {
        return Err(format!("HTTP {status}"));
    }
    if response
        .content_length()
        .is_some_and(|len| len > limit as u64)
    {
        return Err(format!("larger than {limit} bytes"));
    }
    let max_age = max_age(response.headers());
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(describe)? {
        if body.len() + chunk.len() > limit {
            return Err(format!("larger than {limit} bytes"));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Fetched { body, max_age })
}

/// The error's kind and cause chain (a timeout says so), without the response.
fn describe(error: reqwest::Error) -> String {
    use std::error::Error as _;
    let kind = if error.is_timeout() {
        "timed out"
    } else if error.is_connect() {
        "cannot connect"
    } else {
        "request failed"
    };
    let mut text = kind.to_owned();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// `max-age` of `Cache-Control`; `no-store` and `no-cache` count as 0 (the lower bound then
/// applies).
fn max_age(headers: &HeaderMap) -> Option<Duration> {
    let mut found = None;
    for value in headers.get_all(CACHE_CONTROL) {
        let Ok(value) = value.to_str() else { continue };
        for directive in value.split(',').map(str::trim) {
            let lower = directive.to_ascii_lowercase();
            if lower == "no-store" || lower == "no-cache" {
                return Some(Duration::ZERO);
            }
            if let Some(secs) = lower.strip_prefix("max-age=") {
                found = secs.trim_matches('"').parse().ok().map(Duration::from_secs);
            }
        }
    }
    found
}

#[derive(Deserialize)]
struct Configuration {
    issuer: String,
    jwks_uri: String,
}

/// The `jwks_uri` of a discovery document, which must name exactly `issuer` (OpenID Connect
/// Discovery 1.0, section 4.3: otherwise another issuer's keys would be trusted for it).
pub(super) fn jwks_uri(document: &[u8], issuer: &str) -> Result<Url, String> {
    let configuration: Configuration = serde_json::from_slice(document).map_err(|_| {
        "the discovery document is not JSON with `issuer` and `jwks_uri`".to_owned()
    })?;
    if configuration.issuer != issuer {
        return Err(format!(
            "the discovery document names the issuer {:?}, not {issuer:?}",
            configuration.issuer
        ));
    }
    checked_url(&configuration.jwks_uri)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_https_or_loopback() {
        assert!(checked_url("https://login.example.com/jwks").is_ok());
        assert!(checked_url("http://127.0.0.1:8080/jwks").is_ok());
        assert!(checked_url("http://[::1]/jwks").is_ok());
        assert!(checked_url("http://localhost/jwks").is_ok());
        assert!(checked_url("http://login.example.com/jwks").is_err());
        assert!(checked_url("http://10.0.0.1/jwks").is_err());
        assert!(checked_url("ftp://127.0.0.1/jwks").is_err());
        assert!(checked_url("https://user:pw@login.example.com/").is_err());
        assert!(checked_url("not a url").is_err());
    }

    #[test]
    fn cache_control() {
        let headers = |v: &str| {
            let mut h = HeaderMap::new();
            h.insert(CACHE_CONTROL, v.parse().unwrap());
            h
        };
        assert_eq!(
            max_age(&headers("public, max-age=600")),
            Some(Duration::from_secs(600))
        );
        assert_eq!(max_age(&headers("no-store")), Some(Duration::ZERO));
        assert_eq!(max_age(&headers("public")), None);
        assert_eq!(max_age(&HeaderMap::new()), None);
    }

    #[test]
    fn discovery_issuer_must_match_exactly() {
        let doc = br#"{"issuer":"https://a.example","jwks_uri":"https://a.example/keys"}"#;
        assert!(jwks_uri(doc, "https://a.example").is_ok());
        assert!(jwks_uri(doc, "https://a.example/").is_err());
        let http = br#"{"issuer":"https://a.example","jwks_uri":"http://a.example/keys"}"#;
        assert!(jwks_uri(http, "https://a.example").is_err());
        assert!(jwks_uri(b"[]", "https://a.example").is_err());
    }
}
