//! JSON request bodies: content type, size limit and errors that name the field.
//!
//! [`JsonBody`] is strict (exact keys, as documented). [`AnyCaseJson`] matches keys without
//! regard to case, as the seed's Go binding did: its README sends `"Email"`, its load test
//! `"email"`, and both must keep working.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::header;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::error::ApiError;

/// The largest request body accepted.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// A JSON body deserialized into `T`, with exact key names.
pub struct JsonBody<T>(pub T);

/// A JSON object body whose keys are matched to `T`'s fields without regard to case.
pub struct AnyCaseJson<T>(pub T);

/// A body type whose field names are listed, so keys can be matched to them in any case.
pub trait AnyCaseFields {
    /// The field names as `T` deserializes them.
    const FIELDS: &'static [&'static str];
}

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, _state: &S) -> Result<Self, ApiError> {
        let bytes = json_bytes(req).await?;
        let mut de = serde_json::Deserializer::from_slice(&bytes);
        let value = serde_path_to_error::deserialize(&mut de).map_err(path_error)?;
        de.end().map_err(syntax_or_shape)?;
        Ok(Self(value))
    }
}

impl<S: Send + Sync, T: DeserializeOwned + AnyCaseFields> FromRequest<S> for AnyCaseJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, _state: &S) -> Result<Self, ApiError> {
        let bytes = json_bytes(req).await?;
        let Entries(object) = serde_json::from_slice(&bytes).map_err(syntax_or_shape)?;
        let folded = fold_keys(object, T::FIELDS)?;
        serde_path_to_error::deserialize(Value::Object(folded))
            .map(Self)
            .map_err(path_error)
    }
}

/// A JSON object's members in order, duplicates kept: a `Map` would keep only the last of
/// two `"Email"`s, silently, and a body must mean one thing.
struct Entries(Vec<(String, Value)>);

impl<'de> serde::Deserialize<'de> for Entries {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct EntriesVisitor;
        impl<'de> serde::de::Visitor<'de> for EntriesVisitor {
            type Value = Entries;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("the body to be a JSON object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Entries, A::Error> {
                let mut entries = Vec::with_capacity(map.size_hint().unwrap_or(2));
                while let Some(entry) = map.next_entry::<String, Value>()? {
                    entries.push(entry);
                }
                Ok(Entries(entries))
            }
        }
        d.deserialize_map(EntriesVisitor)
    }
}

/// Renames each key that matches a field in another case to the field's own spelling, and
/// refuses a key given twice, in the same case or not.
fn fold_keys(
    object: impl IntoIterator<Item = (String, Value)>,
    fields: &[&str],
) -> Result<Map<String, Value>, ApiError> {
    let mut folded = Map::new();
    for (key, value) in object {
        let name = fields
            .iter()
            .find(|f| f.eq_ignore_ascii_case(&key))
            .map_or(key, |f| (*f).to_owned());
        if folded.contains_key(&name) {
            return Err(ApiError::InvalidJson(format!(
                "{name}: given twice (keys are matched without regard to case)"
            )));
        }
        folded.insert(name, value);
    }
    Ok(folded)
}

/// Checks the content type and reads the body up to the limit.
async fn json_bytes(req: Request) -> Result<Bytes, ApiError> {
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    if !content_type.is_some_and(is_json) {
        return Err(ApiError::UnsupportedMediaType(format!(
            "expected Content-Type: application/json, got {}",
            content_type.map_or_else(|| "none".to_owned(), |c| format!("`{c}`"))
        )));
    }
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_BODY_BYTES as u64) {
        return Err(ApiError::PayloadTooLarge);
    }
    let limited = axum::body::to_bytes(req.into_body(), MAX_BODY_BYTES);
    limited.await.map_err(|e| {
        let too_large = std::error::Error::source(&e)
            .is_some_and(|s| s.is::<http_body_util::LengthLimitError>());
        if too_large {
            ApiError::PayloadTooLarge
        } else {
            ApiError::BadRequest(format!("could not read the body: {e}"))
        }
    })
}

/// `application/json`, with parameters, or any `application/*+json`.
fn is_json(content_type: &str) -> bool {
    let mime = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    mime == "application/json" || (mime.starts_with("application/") && mime.ends_with("+json"))
}

fn syntax_or_shape(error: serde_json::Error) -> ApiError {
    use serde_json::error::Category;
    match error.classify() {
        Category::Syntax | Category::Eof | Category::Io => {
            ApiError::MalformedJson(error.to_string())
        }
        Category::Data => ApiError::InvalidJson(error.to_string()),
    }
}

/// Prefixes a shape error with the path of the field it is about (`headers.x-a: …`).
fn path_error(error: serde_path_to_error::Error<serde_json::Error>) -> ApiError {
    let path = error.path().to_string();
    let inner = error.into_inner();
    match syntax_or_shape(inner) {
        ApiError::InvalidJson(message) if path != "." => {
            ApiError::InvalidJson(format!("{path}: {message}"))
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_content_types() {
        assert!(is_json("application/json"));
        assert!(is_json("Application/JSON; charset=utf-8"));
        assert!(is_json("application/merge-patch+json"));
        assert!(!is_json("application/x-www-form-urlencoded"));
        assert!(!is_json("text/plain"));
    }

    #[test]
    fn keys_fold_to_the_fields_spelling() {
        let object = serde_json::json!({"email": "a@b.c", "PASSWORD": "x", "Other": 1});
        let Value::Object(object) = object else {
            unreachable!()
        };
        let folded = fold_keys(object, &["Email", "Password"]).expect("folds");
        assert!(
            folded.contains_key("Email")
                && folded.contains_key("Password")
                && folded.contains_key("Other")
        );
    }

    #[test]
    fn the_same_key_twice_is_refused() {
        let body = br#"{"Email": "a@b.c", "Email": "d@e.f"}"#;
        let Entries(entries) = serde_json::from_slice(body).expect("an object");
        assert_eq!(entries.len(), 2);
        assert!(fold_keys(entries, &["Email"]).is_err());
        assert!(serde_json::from_slice::<Entries>(b"[1]").is_err());
    }

    #[test]
    fn the_same_key_in_two_cases_is_refused() {
        let object = serde_json::json!({"email": "a@b.c", "Email": "d@e.f"});
        let Value::Object(object) = object else {
            unreachable!()
        };
        assert!(fold_keys(object, &["Email"]).is_err());
    }
}
