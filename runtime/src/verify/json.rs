//! A zero-copy reader of JSON objects for token headers and payloads: members borrowed from
//! the input, duplicate names refused, and the value shapes claims use (NumericDate, strings,
//! names) read without a second parse.

use std::borrow::Cow;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, MapAccess, Visitor};
use serde_json::value::RawValue;

use super::Invalid;
use super::path::ClaimPath;

/// A JSON object's members as raw values, refusing duplicate names (RFC 7519 section 4 lets a
/// parser refuse them, and accepting them lets two parsers disagree on who the user is).
pub(super) struct Object<'a>(Members<'a>);

/// A member whose name is borrowed from the input (no escapes): two words each, no drop.
type Member<'a> = (&'a str, &'a RawValue);

/// An object's members: the first 16 in place (a header or a typical payload allocates
/// nothing), any more on the heap.
struct Members<'a> {
    inline: [Member<'a>; 16],
    len: usize,
    heap: Vec<Member<'a>>,
    /// Members whose names had escapes, decoded (rare): kept apart so that the others stay
    /// plain borrowed pairs.
    escaped: Vec<(String, &'a RawValue)>,
    /// A one-word filter of the names present ([`name_bit`]): a name whose bit is clear is
    /// absent without a scan. Claim names rarely share a bit, so the duplicate check and the
    /// lookups of absent claims (`scope`, `nbf`, ..) mostly end here.
    names: u64,
}

/// The filter bit of a claim name: its length, first and last byte. The registered claim
/// names and the usual role and scope claims each get their own bit.
#[inline]
pub(super) fn name_bit(name: &str) -> u64 {
    let bytes = name.as_bytes();
    let (first, last) = match bytes {
        [] => (0, 0),
        [first, .., last] => (*first, *last),
        [only] => (*only, *only),
    };
    let h = bytes.len() * 7 + usize::from(first) * 3 + usize::from(last);
    1 << (h % 64)
}

impl<'a> Members<'a> {
    #[inline]
    fn new() -> Self {
        // Placeholders past `len`, never read.
        Members {
            inline: [("", RawValue::NULL); 16],
            len: 0,
            heap: Vec::new(),
            escaped: Vec::new(),
            names: 0,
        }
    }

    #[inline]
    fn push(&mut self, name: Text<'a>, value: &'a RawValue) {
        self.names |= name_bit(&name.0);
        let name = match name.0 {
            Cow::Borrowed(name) => name,
            Cow::Owned(name) => return self.escaped.push((name, value)),
        };
        match self.inline.get_mut(self.len) {
            Some(slot) => *slot = (name, value),
            None => self.heap.push((name, value)),
        }
        self.len += 1;
    }

    /// Every member, in no particular order (names are unique).
    #[inline]
    fn iter(&self) -> impl Iterator<Item = (&str, &'a RawValue)> {
        let plain = [&self.inline[..self.len.min(16)], &self.heap[..]];
        let escaped = self.escaped.iter().map(|(k, v)| (k.as_str(), *v));
        plain.into_iter().flatten().copied().chain(escaped)
    }

    /// Whether a member has this name.
    #[inline]
    fn has(&self, name: &str) -> bool {
        self.find(name).is_some()
    }

    /// The value of the member with this name.
    #[inline]
    fn find(&self, name: &str) -> Option<&'a RawValue> {
        if self.names & name_bit(name) == 0 {
            return None;
        }
        let plain =
            |members: &[Member<'a>]| members.iter().find(|(k, _)| same(k, name)).map(|(_, v)| *v);
        plain(&self.inline[..self.len.min(16)])
            .or_else(|| plain(&self.heap))
            .or_else(|| {
                let mut escaped = self.escaped.iter();
                escaped.find(|(k, _)| same(k, name)).map(|(_, v)| *v)
            })
    }
}

/// The registered claims of a payload, found in one pass over its members.
#[derive(Default)]
pub(super) struct Registered<'a> {
    pub(super) exp: Option<&'a RawValue>,
    pub(super) nbf: Option<&'a RawValue>,
    pub(super) iat: Option<&'a RawValue>,
    pub(super) iss: Option<&'a RawValue>,
    pub(super) aud: Option<&'a RawValue>,
    pub(super) sub: Option<&'a RawValue>,
    pub(super) jti: Option<&'a RawValue>,
}

/// A member's value as `T`; absent and `null` are `None`, another type is `ClaimType`.
pub(super) fn typed<'a, T: Deserialize<'a>>(
    raw: Option<&'a RawValue>,
) -> Result<Option<T>, Invalid> {
    match raw {
        None => Ok(None),
        Some(raw) if raw.get() == "null" => Ok(None),
        Some(raw) => serde_json::from_str(raw.get())
            .map(Some)
            .map_err(|_| Invalid::ClaimType),
    }
}

/// A string member's text, borrowed from the payload: [`typed`] as `Text`, without a second
/// parse for a string with no escapes (most claims). A raw value is one valid JSON value with
/// no surrounding whitespace, so a string in it without `\\` is exactly its content.
#[inline]
pub(super) fn text<'a>(raw: Option<&'a RawValue>) -> Result<Option<Text<'a>>, Invalid> {
    if let Some(plain) = raw.and_then(|raw| plain_string(raw.get())) {
        return Ok(Some(Text(Cow::Borrowed(plain))));
    }
    typed(raw)
}

/// The content of a JSON string token without escapes; `None` for anything else.
#[inline]
fn plain_string(json: &str) -> Option<&str> {
    let inner = json.strip_prefix('"')?.strip_suffix('"')?;
    (!inner.contains('\\')).then_some(inner)
}

/// A NumericDate: a finite, non-negative JSON number (RFC 7519 section 2).
#[inline]
pub(super) fn number(raw: Option<&RawValue>) -> Result<Option<f64>, Invalid> {
    // The common form, a plain integer of up to 15 digits, read directly: exactly what
    // serde_json makes of it (an integer below 2^53 converts to f64 without rounding).
    if let Some(digits) = raw.map(|raw| raw.get().as_bytes())
        && (1..=15).contains(&digits.len())
        && let Some(n) = digits.iter().try_fold(0u64, |n, &d| {
            let digit = d.wrapping_sub(b'0');
            (digit < 10).then_some(n * 10 + u64::from(digit))
        })
    {
        return Ok(Some(n as f64));
    }
    match typed::<f64>(raw)? {
        Some(n) if n.is_finite() && n >= 0.0 => Ok(Some(n)),
        Some(_) => Err(Invalid::ClaimType),
        None => Ok(None),
    }
}

impl<'a> Object<'a> {
    #[inline]
    pub(super) fn new() -> Self {
        Object(Members::new())
    }

    /// Reads `json` (as `serde_json::from_str` would) into this empty object, in place: the
    /// members are too large to move through serde's return values cheaply.
    #[inline]
    pub(super) fn fill(&mut self, json: &'a str) -> Result<(), Invalid> {
        let mut deserializer = serde_json::Deserializer::from_str(json);
        de::DeserializeSeed::deserialize(Fill(&mut self.0), &mut deserializer)
            .and_then(|()| deserializer.end())
            .map_err(|_| Invalid::Malformed)
    }

    #[inline]
    pub(super) fn raw(&self, name: &str) -> Option<&'a RawValue> {
        self.0.find(name)
    }

    pub(super) fn get<T: Deserialize<'a>>(&self, name: &str) -> Result<Option<T>, Invalid> {
        typed(self.raw(name))
    }

    /// What `raw` would find for each registered claim (names are unique: duplicates were
    /// refused by the parse).
    #[inline]
    pub(super) fn registered(&self) -> Registered<'a> {
        let mut found = Registered::default();
        for (name, value) in self.0.iter() {
            // Every registered claim name is three bytes: compared as one array.
            let &[a, b, c] = name.as_bytes() else {
                continue;
            };
            let slot = match [a, b, c] {
                [b'e', b'x', b'p'] => &mut found.exp,
                [b'n', b'b', b'f'] => &mut found.nbf,
                [b'i', b'a', b't'] => &mut found.iat,
                [b'i', b's', b's'] => &mut found.iss,
                [b'a', b'u', b'd'] => &mut found.aud,
                [b's', b'u', b'b'] => &mut found.sub,
                [b'j', b't', b'i'] => &mut found.jti,
                _ => continue,
            };
            *slot = Some(value);
        }
        found
    }

    /// The value at a claim path, walking nested objects.
    #[inline]
    pub(super) fn at(&self, path: &ClaimPath) -> Result<Option<&'a RawValue>, Invalid> {
        let Some((first, rest)) = path.0.split_first() else {
            return Ok(None);
        };
        let mut value = match self.raw(first) {
            Some(v) => v,
            None => return Ok(None),
        };
        for segment in rest {
            let mut nested = Object::new();
            nested.fill(value.get()).map_err(|_| Invalid::ClaimType)?;
            value = match nested.raw(segment) {
                Some(v) => v,
                None => return Ok(None),
            };
        }
        Ok(Some(value))
    }

    /// Role names: an array of strings, or a single string, appended to `names`.
    #[inline]
    pub(super) fn names_at(
        &self,
        path: &ClaimPath,
        names: &mut Vec<String>,
    ) -> Result<(), Invalid> {
        for_each_name(self.at(path)?, |name| names.push(name.to_owned()))?;
        Ok(())
    }

    /// Scopes: a space-delimited string (RFC 8693 `scope`) or an array of strings (`scp`).
    /// `Ok(false)`: the claim is absent, and `scopes` untouched.
    #[inline]
    pub(super) fn scopes_at(
        &self,
        path: &ClaimPath,
        scopes: &mut Vec<String>,
    ) -> Result<bool, Invalid> {
        for_each_name(self.at(path)?, |names| {
            scopes.extend(
                names
                    .split(' ')
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned),
            );
        })
    }
}

/// `a == b`, deciding most unequal claim names (`sub`, `iss`, `aud`, `exp`, `iat`: same
/// length) on the first byte.
#[inline]
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.as_bytes().first() == b.as_bytes().first() && a == b
}

/// Reads a JSON object's members into `Members`, refusing duplicate names.
struct Fill<'m, 'a>(&'m mut Members<'a>);

impl<'de: 'a, 'a> de::DeserializeSeed<'de> for Fill<'_, 'a> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de: 'a, 'a> Visitor<'de> for Fill<'_, 'a> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }
    fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<(), M::Error> {
        while let Some(name) = map.next_key::<Text<'a>>()? {
            if self.0.has(&name.0) {
                return Err(de::Error::custom("duplicate claim"));
            }
            let value: &'a RawValue = map.next_value()?;
            self.0.push(name, value);
        }
        Ok(())
    }
}

/// A JSON string, borrowed from the input unless it has escapes. (`Cow<str>`'s own
/// `Deserialize` always copies; this type accepts exactly the same JSON.)
pub(super) struct Text<'a>(pub(super) Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(TextVisitor(std::marker::PhantomData))
    }
}

struct TextVisitor<'a>(std::marker::PhantomData<&'a ()>);

impl<'de: 'a, 'a> Visitor<'de> for TextVisitor<'a> {
    type Value = Text<'a>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Text<'a>, E> {
        Ok(Text(Cow::Borrowed(v)))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Text<'a>, E> {
        Ok(Text(Cow::Owned(v.to_owned())))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Text<'a>, E> {
        Ok(Text(Cow::Owned(v)))
    }
}

/// Calls `each` with every name of a claim that holds one name or an array of names (and
/// nothing else: not `null` inside the array, not numbers), without collecting them first.
/// `Ok(false)`: the claim is absent or `null`; another shape is `ClaimType`.
pub(super) fn for_each_name(
    raw: Option<&RawValue>,
    mut each: impl FnMut(&str),
) -> Result<bool, Invalid> {
    if let Some(name) = raw.and_then(|raw| plain_string(raw.get())) {
        each(name);
        return Ok(true);
    }
    match raw {
        None => Ok(false),
        Some(raw) if raw.get() == "null" => Ok(false),
        Some(raw) => {
            let mut deserializer = serde_json::Deserializer::from_str(raw.get());
            de::Deserializer::deserialize_any(&mut deserializer, NamesVisitor(each))
                .and_then(|()| deserializer.end())
                .map_err(|_| Invalid::ClaimType)?;
            Ok(true)
        }
    }
}

struct NamesVisitor<F>(F);

impl<'de, F: FnMut(&str)> Visitor<'de> for NamesVisitor<F> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string or an array of strings")
    }
    fn visit_str<E: de::Error>(mut self, v: &str) -> Result<(), E> {
        (self.0)(v);
        Ok(())
    }
    fn visit_seq<A: de::SeqAccess<'de>>(mut self, mut seq: A) -> Result<(), A::Error> {
        while let Some(name) = seq.next_element::<Text<'de>>()? {
            (self.0)(&name.0);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    /// The shortcuts for plain integers and strings without escapes answer what the general
    /// serde parse answers, for every JSON value.
    #[test]
    fn value_shortcuts_agree_with_serde() {
        let values = [
            "0",
            "7",
            "1700000000",
            "123456789012345",
            "1234567890123456",
            "9007199254740993",
            "1e3",
            "1.5",
            "-1",
            "-0",
            "1E400",
            "null",
            "true",
            "\"\"",
            "\"a\"",
            "\"1700000000\"",
            "\"a\\u0041\"",
            "\"\\\"\"",
            "\"é\"",
            "[\"a\"]",
            "{}",
            "[]",
            "\"a b\"",
        ];
        for json in values {
            let raw: &RawValue = serde_json::from_str(json).unwrap();
            let general = typed::<f64>(Some(raw)).and_then(|n| match n {
                Some(n) if n.is_finite() && n >= 0.0 => Ok(Some(n)),
                Some(_) => Err(Invalid::ClaimType),
                None => Ok(None),
            });
            assert_eq!(number(Some(raw)), general, "number {json}");
            let general = typed::<Text<'_>>(Some(raw)).map(|t| t.map(|t| t.0.into_owned()));
            let short = text(Some(raw)).map(|t| t.map(|t| t.0.into_owned()));
            assert_eq!(short, general, "text {json}");
            let names = |raw| {
                let mut names = Vec::new();
                for_each_name(raw, |n| names.push(n.to_owned())).map(|found| (found, names))
            };
            let mut deserializer = serde_json::Deserializer::from_str(json);
            let general = <Option<either::Names>>::deserialize(&mut deserializer)
                .map(|n| n.map_or((false, vec![]), |n| (true, n.0)))
                .map_err(|_| Invalid::ClaimType);
            assert_eq!(names(Some(raw)), general, "names {json}");
        }
        assert_eq!(number(None), Ok(None));
        assert!(text(None).unwrap().is_none());
    }

    /// What `for_each_name` accepts, spelled out with serde: a string or an array of strings.
    mod either {
        #[derive(serde::Deserialize)]
        #[serde(untagged)]
        enum OneOrMany {
            One(String),
            Many(Vec<String>),
        }
        pub(super) struct Names(pub(super) Vec<String>);
        impl<'de> serde::Deserialize<'de> for Names {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                Ok(Names(match OneOrMany::deserialize(d)? {
                    OneOrMany::One(name) => vec![name],
                    OneOrMany::Many(names) => names,
                }))
            }
        }
    }
}
