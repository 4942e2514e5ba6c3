//! The serde mirror of scenario format v1: what the YAML says, with locations, before
//! validation. Unknown fields are errors (a typo must not be silently ignored).

use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::Deserialize;
use serde_saphyr::Spanned;
use std::fmt;

pub(crate) type S<T> = Spanned<T>;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawScenario {
    pub version: Option<S<Scalar>>,
    pub name: Option<S<String>>,
    pub about: Option<String>,
    pub host: Option<S<String>>,
    pub scheme: Option<S<String>>,
    pub upstream: Option<S<String>>,
    pub origin: Option<S<Mapping<RawOrigin>>>,
    pub edge: Option<S<Mapping<RawEdge>>>,
    pub clients: Option<S<Vec<S<RawClient>>>>,
    pub steps: Option<S<Vec<S<RawStep>>>>,
    /// The optional traffic model, validated by `crate::traffic::parse`.
    #[allow(dead_code)]
    pub traffic: Option<serde::de::IgnoredAny>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawOrigin {
    pub upstream: Option<S<String>>,
    pub cors: Option<S<Mapping<RawCors>>>,
    pub routes: Option<Vec<S<RawRoute>>>,
    pub latency: Option<S<Scalar>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawCors {
    pub allow_origins: Option<S<StrOrList>>,
    pub allow_origin_suffix: Option<S<String>>,
    pub allow_origin_prefix: Option<S<String>>,
    pub allow_origin_pattern: Option<S<String>>,
    pub allow_credentials: Option<Flag>,
    pub allow_methods: Option<S<StrOrList>>,
    pub allow_headers: Option<S<StrOrList>>,
    pub expose_headers: Option<S<StrOrList>>,
    pub max_age: Option<S<Scalar>>,
    pub vary_origin: Option<S<Scalar>>,
    pub preflight_vary: Option<Flag>,
    pub preflight_cache_control: Option<S<String>>,
    pub preflight_status: Option<S<Scalar>>,
    pub options: Option<Flag>,
    pub allow_private_network: Option<Flag>,
    pub preflight_headers: Option<S<HeaderList>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRoute {
    pub path: S<String>,
    pub methods: Option<S<StrOrList>>,
    pub status: Option<S<Scalar>>,
    pub cache_control: Option<S<String>>,
    pub headers: Option<S<HeaderList>>,
    pub body: Option<String>,
    pub cors: Option<S<Scalar>>,
    pub redirect: Option<S<String>>,
    pub redirect_options: Option<Flag>,
    pub cors_on_304: Option<Flag>,
    pub errors: Option<Vec<S<RawErrorWindow>>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawErrorWindow {
    pub status: S<Scalar>,
    pub from: Option<S<Scalar>>,
    pub until: Option<S<Scalar>>,
    pub cache_control: Option<String>,
    pub cors: Option<Flag>,
    pub body: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawEdge {
    pub profile: Option<S<String>>,
    pub vary: Option<S<String>>,
    pub key_headers: Option<S<StrOrList>>,
    pub cache_options: Option<Flag>,
    pub preflight_key: Option<S<String>>,
    pub query: Option<S<StrOrList>>,
    pub max_variants: Option<S<Scalar>>,
    pub collapse: Option<S<Scalar>>,
    pub ttl: Option<S<Mapping<RawTtl>>>,
    pub pops: Option<S<Scalar>>,
    pub shield: Option<Flag>,
    pub key_host: Option<Flag>,
    pub pass_cookie: Option<Flag>,
    pub pass_authorization: Option<Flag>,
    pub vary_star: Option<S<String>>,
    pub vary_compare: Option<S<String>>,
    pub forward_headers: Option<S<StrOrList>>,
    pub forward_strip: Option<S<StrOrList>>,
    pub forward_add: Option<S<HeaderList>>,
    pub edge_cors: Option<S<Mapping<RawEdgeCors>>>,
    pub import: Option<S<String>>,
    pub key_head_apart: Option<Flag>,
    pub stale_while_revalidate: Option<Flag>,
    pub grace: Option<S<Mapping<RawGrace>>>,
}

/// A document read only for its `edge:` block (a scenario, or `import cdn-config`
/// output); other top-level keys are not looked at.
#[derive(Debug, Deserialize)]
pub(crate) struct RawEdgeDoc {
    pub edge: Option<S<Mapping<RawEdge>>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawEdgeCors {
    pub allow_origins: Option<S<StrOrList>>,
    pub allow_origin_patterns: Option<S<StrOrList>>,
    pub allow_methods: Option<S<StrOrList>>,
    pub allow_headers: Option<S<StrOrList>>,
    pub expose_headers: Option<S<StrOrList>>,
    pub allow_credentials: Option<Flag>,
    pub max_age: Option<S<Scalar>>,
    pub origin_override: Option<Flag>,
    pub hide_origin_acao: Option<Flag>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawGrace {
    pub default: Option<S<Scalar>>,
    pub fixed: Option<S<Scalar>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawTtl {
    pub default: Option<S<Scalar>>,
    pub min: Option<S<Scalar>>,
    pub max: Option<S<Scalar>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawClient {
    pub name: S<String>,
    pub origin: Option<S<String>>,
    pub browser: Option<S<String>>,
    pub mode: Option<S<String>>,
    pub cookie: Option<S<String>>,
    pub pop: Option<S<Scalar>>,
    pub private_network: Option<Flag>,
    pub headers: Option<S<HeaderList>>,
    pub user: Option<S<String>>,
    pub http_cache: Option<Flag>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawStep {
    pub at: Option<S<Scalar>>,
    pub client: S<String>,
    pub fetch: S<String>,
    // The optional keys are boxed: a span costs 80 bytes, and a generated scenario of a
    // million steps held them all inline (1,096 bytes a step) before any was validated.
    pub headers: Option<Box<S<HeaderList>>>,
    pub credentials: Option<Box<S<String>>>,
    pub mode: Option<Box<S<String>>>,
    pub redirect: Option<Box<S<String>>>,
    pub expect: Option<Box<S<Mapping<RawExpect>>>>,
}

/// A line and column (both 1-based) in the scenario file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Pos {
    pub line: u32,
    pub column: u32,
}

/// A line or column as [`Pos`] keeps it (the YAML reader's locations are 32-bit too).
pub(crate) fn narrow(n: u64) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

impl From<&serde_saphyr::Location> for Pos {
    fn from(l: &serde_saphyr::Location) -> Pos {
        Pos {
            line: narrow(l.line()),
            column: narrow(l.column()),
        }
    }
}

/// A value and where it is written.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct At<T> {
    pub value: T,
    pub at: Pos,
}

impl<'a> At<std::borrow::Cow<'a, str>> {
    fn owned(s: S<String>) -> Self {
        At {
            at: Pos::from(&s.referenced),
            value: std::borrow::Cow::Owned(s.value),
        }
    }
}

/// One step before validation, from either reader: the YAML reader's [`RawStep`], or
/// the quick reader of one-line steps (`quick.rs`), which borrows its text from the file.
#[derive(Debug)]
pub(crate) struct StepIn<'a> {
    /// The line the step is written on.
    pub line: u64,
    pub at: Option<At<std::borrow::Cow<'a, str>>>,
    pub client: At<std::borrow::Cow<'a, str>>,
    pub fetch: At<std::borrow::Cow<'a, str>>,
    pub credentials: Option<At<std::borrow::Cow<'a, str>>>,
    pub mode: Option<At<std::borrow::Cow<'a, str>>>,
    pub redirect: Option<At<std::borrow::Cow<'a, str>>>,
    /// Only the YAML reader fills these two (the quick reader gives up on them).
    pub headers: Option<Box<S<HeaderList>>>,
    pub expect: Option<Box<S<Mapping<RawExpect>>>>,
}

impl From<S<RawStep>> for StepIn<'_> {
    fn from(s: S<RawStep>) -> Self {
        let line = s.referenced.line();
        let r = s.value;
        let boxed = |b: Option<Box<S<String>>>| b.map(|b| At::owned(*b));
        StepIn {
            line,
            at: r.at.map(|a| At {
                at: Pos::from(&a.referenced),
                value: std::borrow::Cow::Owned(a.value.0),
            }),
            client: At::owned(r.client),
            fetch: At::owned(r.fetch),
            credentials: boxed(r.credentials),
            mode: boxed(r.mode),
            redirect: boxed(r.redirect),
            headers: r.headers,
            expect: r.expect,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawExpect {
    pub cors: Option<S<String>>,
    pub reason: Option<S<String>>,
    pub cache: Option<S<String>>,
    pub cache_induced: Option<Flag>,
    pub preflight: Option<S<String>>,
    pub poisoned_by: Option<S<Scalar>>,
    pub status: Option<S<Scalar>>,
    pub served_by: Option<S<String>>,
}

/// The keys a mapping section accepts, named in the error when a scalar or list stands
/// where the mapping belongs (`ttl: 60` instead of `ttl: { default: 60 }`).
pub(crate) trait Section {
    /// How the section is written, e.g. "`ttl:` takes a mapping with keys default, min, max".
    const EXPECTED: &'static str;
}

/// A mapping section whose wrong shape is reported with the keys it accepts.
#[derive(Debug)]
pub(crate) struct Mapping<T>(pub T);

impl<T> std::ops::Deref for Mapping<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<'de, T: Deserialize<'de> + Section> Deserialize<'de> for Mapping<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(std::marker::PhantomData<T>);
        impl<T> V<T> {
            fn wrong<E: de::Error>(found: &str) -> E
            where
                T: Section,
            {
                E::custom(format!("{}; found {found}", T::EXPECTED))
            }
        }
        impl<'de, T: Deserialize<'de> + Section> Visitor<'de> for V<T> {
            type Value = Mapping<T>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str(T::EXPECTED)
            }
            fn visit_map<A: MapAccess<'de>>(self, m: A) -> Result<Mapping<T>, A::Error> {
                T::deserialize(de::value::MapAccessDeserializer::new(m)).map(Mapping)
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, _: A) -> Result<Mapping<T>, A::Error> {
                Err(Self::wrong("a list"))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Mapping<T>, E> {
                Err(Self::wrong(&format!("{v:?}")))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Mapping<T>, E> {
                Err(Self::wrong(&v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Mapping<T>, E> {
                Err(Self::wrong(&v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Mapping<T>, E> {
                Err(Self::wrong(&v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Mapping<T>, E> {
                Err(Self::wrong(&v.to_string()))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Mapping<T>, E> {
                Err(Self::wrong("nothing"))
            }
        }
        d.deserialize_any(V(std::marker::PhantomData))
    }
}

impl Section for RawOrigin {
    const EXPECTED: &'static str =
        "`origin:` takes a mapping with keys upstream, cors, routes, latency";
}
impl Section for RawCors {
    const EXPECTED: &'static str = "`cors:` takes a mapping with keys allow_origins, \
        allow_origin_suffix, allow_origin_prefix, allow_origin_pattern, allow_credentials, \
        allow_methods, allow_headers, expose_headers, max_age, vary_origin, preflight_vary, \
        preflight_cache_control, preflight_status, options, allow_private_network, preflight_headers";
}
impl Section for RawEdge {
    const EXPECTED: &'static str = "`edge:` takes a mapping with keys profile, vary, \
        key_headers, cache_options, preflight_key, query, max_variants, collapse, ttl, pops, \
        shield, key_host, pass_cookie, pass_authorization, vary_star, vary_compare, \
        forward_headers, forward_strip, forward_add, edge_cors, import, key_head_apart, \
        stale_while_revalidate, grace";
}
impl Section for RawGrace {
    const EXPECTED: &'static str =
        "`grace:` takes a mapping with keys default, fixed (durations), e.g. `grace: { default: 10s }`";
}
impl Section for RawTtl {
    const EXPECTED: &'static str =
        "`ttl:` takes a mapping with keys default, min, max (durations), e.g. `ttl: { default: 1h }`";
}
impl Section for RawEdgeCors {
    const EXPECTED: &'static str = "`edge_cors:` takes a mapping with keys allow_origins, \
        allow_origin_patterns, allow_methods, allow_headers, expose_headers, allow_credentials, max_age, origin_override, \
        hide_origin_acao";
}
impl Section for RawExpect {
    const EXPECTED: &'static str = "`expect:` takes a mapping with keys cors, reason, cache, \
        cache_induced, preflight, poisoned_by, status, served_by";
}

/// A YAML scalar of any type, kept as written (`true`, `5`, `5s`, `when-origin`,
/// `99999999999999999999`): numbers are not converted, so an error can quote the text
/// the user wrote and a value too large for a number is told as too large. A key that
/// takes a boolean reads YAML 1.2's spellings of one with [`Scalar::boolean`].
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Scalar(pub String);

impl Scalar {
    /// The text with YAML 1.2's boolean spellings (`True`, `FALSE`) written `true` and
    /// `false`; any other text as it is.
    pub(crate) fn boolean(&self) -> &str {
        match self.0.as_str() {
            "true" | "True" | "TRUE" => "true",
            "false" | "False" | "FALSE" => "false",
            other => other,
        }
    }
}

impl<'de> Deserialize<'de> for Scalar {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Scalar;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a single value (a string, number or boolean)")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
        }
        // `str`, not `any`: the reader hands over a plain scalar's text as written.
        d.deserialize_str(V)
    }
}

/// A boolean written `true` or `false`; anything else is an error that says so and
/// quotes what was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Flag(pub bool);

impl Flag {
    /// The value, or `default` when the key is absent.
    pub(crate) fn or(f: Option<Flag>, default: bool) -> bool {
        f.map_or(default, |f| f.0)
    }
}

impl<'de> Deserialize<'de> for Flag {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = Scalar::deserialize(d)?;
        match s.boolean() {
            "true" => Ok(Flag(true)),
            "false" => Ok(Flag(false)),
            other => Err(de::Error::custom(format!(
                "expected true or false, found {other:?}"
            ))),
        }
    }
}

/// A string or a list of strings (`"*"`, `reflect-any`, `[a, b]`).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum StrOrList {
    One(String),
    Many(Vec<String>),
}

impl<'de> Deserialize<'de> for StrOrList {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = StrOrList;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string or a list of strings")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<StrOrList, E> {
                Ok(StrOrList::One(v.to_string()))
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<StrOrList, A::Error> {
                let mut out = Vec::new();
                while let Some(s) = seq.next_element::<Scalar>()? {
                    out.push(s.0);
                }
                Ok(StrOrList::Many(out))
            }
        }
        d.deserialize_any(V)
    }
}

/// A header map kept in file order, values of any scalar type.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct HeaderList(pub Vec<(String, String)>);

impl<'de> Deserialize<'de> for HeaderList {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = HeaderList;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a map of header names to values")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<HeaderList, A::Error> {
                let mut out = Vec::new();
                while let Some((k, v)) = m.next_entry::<String, Scalar>()? {
                    out.push((k, v.0));
                }
                Ok(HeaderList(out))
            }
        }
        // `any`, so a scalar or list here is reported with what the key takes (`deserialize_map`
        // failed with the parser's own "expected mapping start").
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The keys serde accepts for `T`, read from its unknown-field error.
    fn keys<T: for<'de> Deserialize<'de> + fmt::Debug>() -> Vec<String> {
        let err = serde_saphyr::from_str::<T>("zzz_not_a_key: 1\n")
            .expect_err("an unknown key is an error")
            .to_string();
        let list = err
            .split("expected one of")
            .nth(1)
            .unwrap_or_else(|| panic!("no key list in {err:?}"));
        let list = list.lines().next().unwrap_or_default();
        list.split(',')
            .map(|k| k.trim().trim_matches('`').to_string())
            .collect()
    }

    /// docs/scenario-format.md documents every key the format accepts, in a table row.
    #[test]
    fn the_format_reference_names_every_key() {
        let doc = include_str!("../../docs/scenario-format.md");
        let all = [
            ("top level", keys::<RawScenario>()),
            ("origin", keys::<RawOrigin>()),
            ("cors", keys::<RawCors>()),
            ("route", keys::<RawRoute>()),
            ("edge", keys::<RawEdge>()),
            ("ttl", keys::<RawTtl>()),
            ("grace", keys::<RawGrace>()),
            ("client", keys::<RawClient>()),
            ("step", keys::<RawStep>()),
            ("expect", keys::<RawExpect>()),
        ];
        for (what, ks) in all {
            assert!(ks.len() > 1, "{what}: {ks:?}");
            for k in ks {
                let row = format!("| `{k}` |");
                assert!(
                    doc.contains(&row)
                        || (what == "ttl" && doc.contains("`default`, `min`, `max`"))
                        || (what == "grace" && doc.contains("mapping `default`, `fixed`")),
                    "docs/scenario-format.md lacks the {what} key `{k}`"
                );
            }
        }
        // And the section errors name exactly the keys serde accepts.
        for (expected, ks) in [
            (RawOrigin::EXPECTED, keys::<RawOrigin>()),
            (RawCors::EXPECTED, keys::<RawCors>()),
            (RawEdge::EXPECTED, keys::<RawEdge>()),
            (RawTtl::EXPECTED, keys::<RawTtl>()),
            (RawGrace::EXPECTED, keys::<RawGrace>()),
            (RawExpect::EXPECTED, keys::<RawExpect>()),
        ] {
            for k in ks {
                assert!(expected.contains(&k), "{expected:?} lacks {k}");
            }
        }
    }
}
