//! [`ClaimPath`]: where in a token's claims a list of names (roles, scopes) or a value lives.

/// Where in the claims a list of names (roles, scopes) lives: a top-level claim, or a path
/// through nested objects (`realm_access`, then `roles`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ClaimPath(pub(crate) Vec<String>);

impl ClaimPath {
    /// A top-level claim name, taken whole (`https://example.com/claims/roles` is one name),
    /// or a JSON Pointer (RFC 6901: `/realm_access/roles`, with `~1` for `/` and `~0` for `~`
    /// in a name). `None` for anything that names no claim: nothing, an empty name, a `~` not
    /// followed by `0` or `1`.
    pub(crate) fn parse(claim: &str) -> Option<ClaimPath> {
        let Some(pointer) = claim.strip_prefix('/') else {
            return (!claim.is_empty()).then(|| ClaimPath(vec![claim.to_owned()]));
        };
        let mut segments = Vec::new();
        for segment in pointer.split('/') {
            let escapes_ok = segment
                .match_indices('~')
                .all(|(i, _)| matches!(segment.as_bytes().get(i + 1), Some(b'0' | b'1')));
            if segment.is_empty() || !escapes_ok {
                return None;
            }
            segments.push(segment.replace("~1", "/").replace("~0", "~"));
        }
        Some(ClaimPath(segments))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claim_places_are_names_or_json_pointers() {
        let path = |p: &[&str]| Some(ClaimPath(p.iter().map(|s| (*s).to_owned()).collect()));
        assert_eq!(ClaimPath::parse("roles"), path(&["roles"]));
        assert_eq!(
            ClaimPath::parse("https://example.com/claims/roles"),
            path(&["https://example.com/claims/roles"])
        );
        assert_eq!(
            ClaimPath::parse("/realm_access/roles"),
            path(&["realm_access", "roles"])
        );
        assert_eq!(ClaimPath::parse("/a~1b/c~0d"), path(&["a/b", "c~d"]));
        assert_eq!(ClaimPath::parse("/~01"), path(&["~1"]));
        for bad in ["", "/", "//a", "/a/", "/a~", "/a~2", "/~"] {
            assert_eq!(ClaimPath::parse(bad), None, "{bad:?}");
        }
    }
}
