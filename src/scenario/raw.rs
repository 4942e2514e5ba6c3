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
    pub version: Option<S<u32>>,
    pub name: Option<S<String>>,
    pub about: Option<String>,
    pub host: Option<S<String>>,
    pub scheme: Option<S<String>>,
    pub upstream: Option<S<String>>,
    pub origin: Option<S<RawOrigin>>,
    pub edge: Option<S<RawEdge>>,
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
    pub cors: Option<S<RawCors>>,
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
    pub allow_credentials: Option<bool>,
    pub allow_methods: Option<S<StrOrList>>,
    pub allow_headers: Option<S<StrOrList>>,
    pub expose_headers: Option<S<StrOrList>>,
    pub max_age: Option<u64>,
    pub vary_origin: Option<S<Scalar>>,
    pub preflight_vary: Option<bool>,
    pub preflight_cache_control: Option<String>,
    pub preflight_status: Option<S<u16>>,
    pub options: Option<bool>,
    pub allow_private_network: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRoute {
    pub path: S<String>,
    pub methods: Option<S<StrOrList>>,
    pub status: Option<S<u16>>,
    pub cache_control: Option<String>,
    pub headers: Option<S<HeaderList>>,
    pub body: Option<String>,
    pub cors: Option<S<Scalar>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawEdge {
    pub profile: Option<S<String>>,
    pub vary: Option<S<String>>,
    pub key_headers: Option<S<StrOrList>>,
    pub cache_options: Option<bool>,
    pub preflight_key: Option<S<String>>,
    pub query: Option<S<StrOrList>>,
    pub max_variants: Option<S<u64>>,
    pub collapse: Option<S<Scalar>>,
    pub ttl: Option<S<RawTtl>>,
    pub pops: Option<S<u32>>,
    pub shield: Option<bool>,
    pub key_host: Option<bool>,
    pub pass_cookie: Option<bool>,
    pub pass_authorization: Option<bool>,
    pub vary_star: Option<S<String>>,
    pub vary_compare: Option<S<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawTtl {
    pub default: Option<u64>,
    pub min: Option<u64>,
    pub max: Option<u64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawClient {
    pub name: S<String>,
    pub origin: Option<S<String>>,
    pub browser: Option<S<String>>,
    pub mode: Option<S<String>>,
    pub cookie: Option<String>,
    pub pop: Option<S<u32>>,
    pub private_network: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawStep {
    pub at: Option<S<Scalar>>,
    pub client: S<String>,
    pub fetch: S<String>,
    pub headers: Option<S<HeaderList>>,
    pub credentials: Option<S<String>>,
    pub mode: Option<S<String>>,
    pub expect: Option<S<RawExpect>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawExpect {
    pub cors: Option<S<String>>,
    pub reason: Option<S<String>>,
    pub cache: Option<S<String>>,
    pub cache_induced: Option<bool>,
    pub preflight: Option<S<String>>,
    pub poisoned_by: Option<S<u64>>,
    pub status: Option<u16>,
}

/// A YAML scalar of any type, kept as text (`true`, `5`, `5s`, `when-origin`).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Scalar(pub String);

impl<'de> Deserialize<'de> for Scalar {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Scalar;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a scalar (string, number or boolean)")
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
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
        }
        d.deserialize_any(V)
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
        d.deserialize_map(V)
    }
}
