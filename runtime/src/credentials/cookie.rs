//! The session cookie: its value in the request's `Cookie` headers.
//!
//! Every value of the app's cookie is returned, from every `Cookie` header: a request that
//! carries the cookie twice with different values (cookie tossing from a sibling domain) is
//! refused by the caller, never resolved by picking one.
//!
//! A pair is `name=value` with white space around the pair dropped; the name must be exactly
//! the app's (a browser never sends white space around `=`, so `s =v` is another cookie), and
//! one surrounding pair of quotes is removed from the value (RFC 6265's `cookie-value`).
//!
//! This is not the `cookie` crate's `Cookie::split_parse`, which parses and allocates every
//! pair of the header, the analytics cookies beside the session's too, on every request that
//! misses the token cache (BENCHMARKS.md, "Cookie parsing"); it would also add the crate to
//! every user's build for these twenty lines.

use http::HeaderMap;
use http::header::COOKIE;

/// The values of the cookie `name` in a request (all of them: duplicates are an attack), in
/// header order.
pub(crate) fn values<'a>(headers: &'a HeaderMap, name: &str) -> impl Iterator<Item = &'a str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|header| header.to_str().ok())
        .flat_map(|header| header.split(';'))
        .filter_map(move |pair| match pair.trim().split_once('=') {
            Some((key, value)) if key == name => Some(unquote(value)),
            _ => None,
        })
}

/// Two different values of the session cookie in one request.
#[derive(Debug)]
pub(crate) struct Conflicting;

/// The one value of the cookie `name`: `Ok(None)` when the request does not carry it, and
/// [`Conflicting`] when it carries it with two different values. The same value twice is that
/// value. Reads the headers in place: no list of values is built.
pub(crate) fn value<'a>(
    headers: &'a HeaderMap,
    name: &str,
) -> Result<Option<&'a str>, Conflicting> {
    let mut all = values(headers, name);
    let Some(first) = all.next() else {
        return Ok(None);
    };
    if all.all(|other| other == first) {
        Ok(Some(first))
    } else {
        Err(Conflicting)
    }
}

/// A `cookie-value` without its one optional pair of surrounding quotes (RFC 6265 section
/// 4.1.1): `"v"` is `v`, but `"v` and `""v""` stay as sent.
fn unquote(value: &str) -> &str {
    value
        .strip_prefix('"')
        .and_then(|inner| inner.strip_suffix('"'))
        .unwrap_or(value)
}

/// The bytes after `<name>=` when the request has exactly one `Cookie` header and it starts
/// with the cookie `name`, unchecked: the key the token cache is asked with before the cookies
/// are parsed.
///
/// Only the cache may take these bytes as a token, and only on a hit. It holds nothing but
/// values [`values`] returned that then verified as JWTs, which are base64url and dots: no
/// `;`, `=`, quote or white space. Bytes equal to one are therefore a header holding that one
/// cookie and nothing else, which [`values`] reads as exactly that value.
#[inline]
pub(crate) fn cache_key<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a [u8]> {
    let mut all = headers.get_all(COOKIE).iter();
    let only = all.next()?;
    if all.next().is_some() {
        return None;
    }
    only.as_bytes()
        .strip_prefix(name.as_bytes())?
        .strip_prefix(b"=")
}

#[cfg(test)]
mod tests {
    use http::HeaderValue;

    use super::*;

    fn map(headers: &[&str]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for header in headers {
            map.append(COOKIE, HeaderValue::from_str(header).unwrap());
        }
        map
    }

    fn read(headers: &[&str]) -> Vec<String> {
        values(&map(headers), "s").map(str::to_owned).collect()
    }

    /// One value, however often it is repeated; none when absent; two different values are a
    /// conflict, wherever the second one sits.
    #[test]
    fn the_one_value_of_a_cookie() {
        let one = |headers: &[&str]| match value(&map(headers), "s") {
            Ok(found) => Ok(found.map(str::to_owned)),
            Err(Conflicting) => Err(()),
        };
        assert_eq!(one(&[]), Ok(None));
        assert_eq!(one(&["a=1; S=v"]), Ok(None));
        assert_eq!(one(&["a=1; s=v"]), Ok(Some("v".to_owned())));
        assert_eq!(one(&["s=v; s=v", "s=\"v\""]), Ok(Some("v".to_owned())));
        assert_eq!(one(&["s=v; s=w"]), Err(()));
        assert_eq!(one(&["s=v", "a=1", "s=v; s="]), Err(()));
    }

    /// The value exactly as sent (one pair of quotes removed), every occurrence of the exact
    /// name, in every `Cookie` header.
    #[test]
    fn values_as_the_cookie_grammar_reads_them() {
        let cases: [(&[&str], &[&str]); 14] = [
            (&["a=1; s=v"], &["v"]),
            (&["s=v; s=w"], &["v", "w"]),
            (&["s=v", "s=w"], &["v", "w"]),
            (&["s=\"v\""], &["v"]),
            (&["s=\"v"], &["\"v"]),
            (&["s=\"\"v\"\""], &["\"v\""]),
            (&[" s=v "], &["v"]),
            (&["s =v", "s\t=w", "s= v"], &[" v"]),
            (&["s=v=w"], &["v=w"]),
            (&["s="], &[""]),
            (&["=v; s"], &[]),
            (&[";;s=v;;"], &["v"]),
            (&["S=v"], &[]),
            (&["s=%41"], &["%41"]),
        ];
        for (headers, want) in cases {
            assert_eq!(read(headers), want, "{headers:?}");
        }
    }
}
