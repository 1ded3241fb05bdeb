//! How requests are read: the JSON body, path and query extractors every handler uses, and the
//! configuration of actix's own ones. This is the boundary where malformed input becomes a `400`
//! envelope whose message speaks of JSON fields and parameters (never of Rust types), and where text
//! containing NUL characters (U+0000) is refused: PostgreSQL cannot store them in text columns (it
//! would answer 500 where SQLite stores them), and no field of the API has a use for them.

use std::fmt::Write as _;
use std::future::{Ready, ready};
use std::ops::Deref;

use actix_web::dev::Payload;
use actix_web::error::{JsonPayloadError, PathError, QueryPayloadError};
use actix_web::{FromRequest, HttpRequest, web};
use futures_util::future::LocalBoxFuture;
use serde::de::DeserializeOwned;
use serde_json::error::Category;
use serde_json::value::RawValue;
use serde_json::{Value, json};

use crate::error::{ApiError, ErrorCode};

/// Largest accepted request body.
pub const BODY_LIMIT: usize = 1024 * 1024;

/// What the envelope says about a NUL character, per field.
const NUL_RULE: &str = "must not contain NUL characters (U+0000)";

/// JSON bodies: 1 MiB, `application/json` only.
pub fn json_config() -> web::JsonConfig {
    web::JsonConfig::default().limit(BODY_LIMIT).error_handler(|err, _req| json_error(err).into())
}

/// Raw bodies (`Bytes`, `String`): 1 MiB.
pub fn payload_config() -> web::PayloadConfig {
    web::PayloadConfig::new(BODY_LIMIT)
}

/// Errors of actix's own `web::Path`, should a handler use it instead of [`Path`].
pub fn path_config() -> web::PathConfig {
    web::PathConfig::default().error_handler(|err, req| path_error(req, err).into())
}

/// Errors of actix's own `web::Query`, should a handler use it instead of [`Query`].
pub fn query_config() -> web::QueryConfig {
    web::QueryConfig::default().error_handler(|err, _req| query_error(err).into())
}

/// A JSON object body, deserialized into `T`; refuses NUL characters anywhere in it.
///
/// actix's own extractor reads the body as raw JSON text (so `json_config` keeps applying: size
/// limit, content type, malformed JSON), then it is checked and deserialized into `T` with the path
/// of any field that does not fit tracked (serde_json's message does not say which field).
///
/// NUL is looked for in the text, not in a decoded tree: in valid JSON a string can only hold U+0000
/// through the escape `\u0000` (raw control characters are invalid), so one pass over the
/// backslashes finds it, without building a `serde_json::Value` of every body (bodies are up to
/// 1 MiB) and without changing how `T` is deserialized (a tree would silently keep the last of two
/// duplicate fields, which serde refuses from text). It covers keys and free-form JSON
/// (`metadata`, `properties`, `attachments`) at any depth alike. Only when it finds one is the body
/// decoded into a tree, to name the field.
pub struct Json<T>(pub T);

impl<T> Json<T> {
    /// The deserialized body.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> Deref for Json<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for Json<T> {
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<'static, Result<Self, actix_web::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let raw = web::Json::<Box<RawValue>>::from_request(req, payload);
        Box::pin(async move {
            let web::Json(raw) = raw.await?;
            Ok(Json(body(raw.get())?))
        })
    }
}

/// Checks a body (one valid JSON value) and deserializes it into `T`.
fn body<T: DeserializeOwned>(text: &str) -> Result<T, ApiError> {
    // Every request body of the API is an object; serde would also take an array for a struct,
    // field by position, which no client means.
    if !text.starts_with('{') {
        let kind = match text.as_bytes().first() {
            Some(b'[') => "an array",
            Some(b'"') => "a string",
            Some(b't' | b'f') => "a boolean",
            Some(b'n') => "null",
            _ => "a number",
        };
        return Err(ApiError::validation(format!("the request body must be a JSON object, not {kind}")));
    }
    if has_nul_escape(text) {
        // Decoded, a NUL may still be gone: a duplicate key whose last value is kept has none.
        let path = serde_json::from_str::<Value>(text).ok().and_then(|value| nul_path(&value));
        match path.as_deref() {
            Some("") => {
                return Err(ApiError::validation(format!("field names in the request body {NUL_RULE}")));
            }
            Some(path) => return Err(nul_error("field", path)),
            None => {}
        }
    }
    let mut json = serde_json::Deserializer::from_str(text);
    serde_path_to_error::deserialize(&mut json).map_err(|e| {
        let path = e.path().to_string();
        let raw = match e.inner().classify() {
            // The text is valid JSON: serde_json says "expected value" here only when it reads an
            // enum (all of the API's are strings) and finds neither a string nor an object.
            Category::Syntax if e.inner().to_string().starts_with("expected value") => {
                "expected a string".to_owned()
            }
            _ => without_position(e.inner()),
        };
        data_error("field", (path != ".").then_some(path.as_str()), &raw)
    })
}

/// Whether valid JSON text holds a string with U+0000 in it, that is the escape `\u0000`. Every
/// backslash of valid JSON starts an escape, so escapes are read left to right, each skipping the
/// character it escapes: `\\u0000` (an escaped backslash, then "u0000") is ordinary text.
fn has_nul_escape(text: &str) -> bool {
    let mut rest = text;
    while let Some(at) = rest.find('\\') {
        let escape = &rest[at + 1..];
        if escape.starts_with("u0000") {
            return true;
        }
        // Past the backslash and the character it escapes (ASCII in valid JSON).
        rest = escape.get(1..).unwrap_or_default();
    }
    false
}

/// Query parameters deserialized into `T`; refuses NUL characters (`%00`) in names and values.
pub struct Query<T>(pub T);

impl<T> Query<T> {
    /// The deserialized parameters.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> Deref for Query<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: DeserializeOwned> FromRequest for Query<T> {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(query(req.query_string()).map(Query))
    }
}

/// Parses a query string into `T`, naming the parameter that does not fit.
fn query<T: DeserializeOwned>(query: &str) -> Result<T, ApiError> {
    let pairs = || form_urlencoded::parse(query.as_bytes());
    if let Some((name, _)) = pairs().find(|(name, value)| name.contains('\0') || value.contains('\0')) {
        return Err(nul_error("query parameter", &name));
    }
    // The same deserializer as `web::Query` (serde_urlencoded), with the path of the failing
    // parameter tracked.
    serde_path_to_error::deserialize(serde_urlencoded::Deserializer::new(pairs())).map_err(|e| {
        let path = e.path().to_string();
        data_error("query parameter", (path != ".").then_some(path.as_str()), &e.into_inner().to_string())
    })
}

/// Path parameters (the `{id}` of a route) deserialized into `T`; refuses NUL characters (`%00`).
pub struct Path<T>(pub T);

impl<T> Path<T> {
    /// The deserialized parameters.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> Deref for Path<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: DeserializeOwned> FromRequest for Path<T> {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let params = req.match_info();
        // The router has percent-decoded the segments already, `%00` included.
        if let Some((name, _)) = params.iter().find(|(_, value)| value.contains('\0')) {
            return ready(Err(nul_error("path parameter", name)));
        }
        ready(params.load::<T>().map(Path).map_err(|e| path_error(req, PathError::Deserialize(e))))
    }
}

/// The path (`metadata.tags[1]`) of the first string in `value` that contains U+0000, or of the
/// object that has such a key (`""` for the body itself).
fn nul_path(value: &Value) -> Option<String> {
    fn walk(value: &Value, path: &mut String) -> bool {
        match value {
            Value::String(text) => text.contains('\0'),
            Value::Array(items) => items.iter().enumerate().any(|(i, item)| {
                let len = path.len();
                let _ = write!(path, "[{i}]");
                walk(item, path) || {
                    path.truncate(len);
                    false
                }
            }),
            Value::Object(fields) => {
                fields.keys().any(|key| key.contains('\0'))
                    || fields.iter().any(|(key, item)| {
                        let len = path.len();
                        if !path.is_empty() {
                            path.push('.');
                        }
                        path.push_str(key);
                        walk(item, path) || {
                            path.truncate(len);
                            false
                        }
                    })
            }
            Value::Null | Value::Bool(_) | Value::Number(_) => false,
        }
    }
    // serde_json refuses documents nested deeper than 128 levels, so the recursion is bounded.
    let mut path = String::new();
    walk(value, &mut path).then_some(path)
}

/// 400 for a NUL character in `name`, a field or a parameter (`what`).
fn nul_error(what: &str, name: &str) -> ApiError {
    let name = shown(name);
    ApiError::validation(format!("{what} `{name}`: text {NUL_RULE}"))
        .with_details(json!({ "fields": { name: [NUL_RULE] } }))
}

/// 400 for a value serde could not take. `place` is what the values are ("field", "query
/// parameter"), `path` where the failure is (none: the whole input), `raw` serde's message.
fn data_error(place: &str, path: Option<&str>, raw: &str) -> ApiError {
    // serde names the field itself in these.
    let named =
        [("unknown field `", "unknown"), ("missing field `", "required"), ("duplicate field `", "repeated")];
    for (prefix, rule) in named {
        if let Some(name) = raw.strip_prefix(prefix).and_then(|rest| rest.split('`').next()) {
            // The path of an unknown or repeated field may end with it; that of a missing one is its
            // object's.
            let field = match path {
                Some(p) if p == name || p.ends_with(&format!(".{name}")) => p.to_owned(),
                Some(p) => format!("{p}.{name}"),
                None => name.to_owned(),
            };
            let rest = raw.get(prefix.len() + name.len() + 1..).unwrap_or_default();
            let message = match rule {
                "unknown" => format!("unknown {place} `{}`{rest}", shown(&field)),
                "required" => format!("missing {place} `{}`", shown(&field)),
                _ => format!("{place} `{}` is given twice", shown(&field)),
            };
            return ApiError::validation(message)
                .with_details(json!({ "fields": { shown(&field): [rule] } }));
        }
    }
    let what = plain(raw);
    match path {
        None if place == "field" => ApiError::validation(format!("the request body: {what}")),
        None => ApiError::validation(format!("invalid {place}: {what}")),
        Some(path) => ApiError::validation(format!("{place} `{}`: {what}", shown(path)))
            .with_details(json!({ "fields": { shown(path): [what] } })),
    }
}

/// serde's message in JSON terms: what was expected and what came, without Rust type names and
/// without echoing the value (which may be long).
fn plain(raw: &str) -> String {
    if raw.starts_with("UUID parsing failed") {
        return "expected a UUID".into();
    }
    // Numbers in query strings are parsed from text; these are the standard library's messages.
    if ["invalid digit", "cannot parse integer", "number too"].iter().any(|m| raw.starts_with(m)) {
        return "expected an integer".into();
    }
    if ["invalid float", "cannot parse float"].iter().any(|m| raw.starts_with(m)) {
        return "expected a number".into();
    }
    if let Some(rest) = raw.strip_prefix("invalid type: ").or_else(|| raw.strip_prefix("invalid value: "))
        && let Some((got, expected)) = rest.rsplit_once(", expected ")
    {
        return format!("expected {}, got {}", json_expected(expected), json_unexpected(got));
    }
    if let Some(rest) = raw.strip_prefix("invalid length ")
        && let Some((length, expected)) = rest.split_once(", expected ")
    {
        return format!("expected {}, got {length} elements", json_expected(expected));
    }
    raw.to_owned()
}

/// serde's "expected ..." in JSON terms: Rust's names for types (`struct ConversationPatchInput`,
/// `i64`, `enum Role`) become JSON's.
fn json_expected(expected: &str) -> &str {
    const INTEGERS: [&str; 12] =
        ["i8", "i16", "i32", "i64", "i128", "isize", "u8", "u16", "u32", "u64", "u128", "usize"];
    const PREFIXES: [(&str, &str); 13] = [
        ("struct", "a JSON object"),
        ("a map", "a JSON object"),
        ("tuple", "an array"),
        ("a sequence", "an array"),
        ("unit", "null"),
        ("newtype", "a value"),
        ("option", "a value or null"),
        // Enums of the API are strings (`"open"`); serde_json says "string or map" for them.
        ("enum", "a string"),
        ("string", "a string"),
        ("a string", "a string"),
        ("a borrowed string", "a string"),
        ("char", "a string"),
        ("a character", "a string"),
    ];
    if INTEGERS.contains(&expected) {
        return "an integer";
    }
    if expected == "f32" || expected == "f64" {
        return "a number";
    }
    if expected.contains("UUID") {
        return "a UUID";
    }
    PREFIXES.iter().find(|(prefix, _)| expected.starts_with(prefix)).map_or(expected, |(_, plain)| plain)
}

/// serde's description of the value it got ("string \"x\"", "integer `1`"), as a JSON type.
fn json_unexpected(got: &str) -> &str {
    match got.split([' ', '`']).next().unwrap_or_default() {
        "string" | "char" => "a string",
        "integer" => "an integer",
        "floating" => "a number",
        "boolean" => "a boolean",
        "unit" | "null" => "null",
        "map" => "a JSON object",
        "sequence" => "an array",
        _ => got,
    }
}

/// A client-chosen name as shown in a message: NUL written out, at most 100 characters.
fn shown(name: &str) -> String {
    let escaped = name.replace('\0', "\\u0000");
    match escaped.char_indices().nth(100) {
        Some((cut, _)) => format!("{}…", &escaped[..cut]),
        None => escaped,
    }
}

fn json_error(err: JsonPayloadError) -> ApiError {
    match err {
        JsonPayloadError::Overflow { limit } | JsonPayloadError::OverflowKnownLength { limit, .. } => {
            ApiError::new(ErrorCode::PayloadTooLarge, format!("request body exceeds {limit} bytes"))
                .with_details(json!({ "limit": limit }))
        }
        JsonPayloadError::ContentType => {
            ApiError::new(ErrorCode::UnsupportedMediaType, "expected Content-Type: application/json")
        }
        // Only actix's own `web::Json<T>` gets here with a data error ([`Json`] has it read raw
        // text, which any valid JSON is), and it does not track the field's path.
        JsonPayloadError::Deserialize(e) if e.is_data() => {
            ApiError::validation(format!("invalid request body: {}", plain(&without_position(&e))))
        }
        JsonPayloadError::Deserialize(e) => ApiError::validation(format!("malformed JSON: {e}")),
        JsonPayloadError::Payload(_) => {
            ApiError::validation("the request body could not be read (bad chunked encoding, or cut short)")
        }
        other => ApiError::validation(format!("unreadable request body: {other}")),
    }
}

/// serde_json's message without its " at line L column C".
fn without_position(e: &serde_json::Error) -> String {
    let text = e.to_string();
    match text.rfind(" at line ") {
        Some(at) if e.line() > 0 => text[..at].to_owned(),
        _ => text,
    }
}

fn path_error(req: &HttpRequest, err: PathError) -> ApiError {
    let PathError::Deserialize(e) = err else { return ApiError::validation("invalid path parameter") };
    // Every route has at most one parameter today; with more, the message cannot tell which.
    let mut names = req.match_info().iter().map(|(name, _)| name);
    match (names.next(), names.next()) {
        (Some(name), None) => data_error("path parameter", Some(name), &e.to_string()),
        _ => data_error("path parameter", None, &e.to_string()),
    }
}

fn query_error(err: QueryPayloadError) -> ApiError {
    let QueryPayloadError::Deserialize(e) = err else { return ApiError::validation("invalid query string") };
    data_error("query parameter", None, &e.to_string())
}
