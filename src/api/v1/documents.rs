//! `/api/v1/apply` and `/api/v1/export`: the account's monitors as one document.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::api::AppState;
use crate::api::current_user::{AnyScope, CurrentUser, writable};
use crate::api::error::{ApiError, ErrorBody};
use crate::api::json::JsonBody;
use crate::document::{Document, Format};
use crate::service::documents::Plan;

/// A document to apply.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApplyRequest {
    /// The document: its YAML (or JSON) text as a string, whose errors then give their
    /// line, or the document itself as a JSON object: `{"monitors": {"<name>": {...}}}`.
    #[schema(value_type = Object)]
    document: serde_json::Value,
    /// Delete the monitors the document does not name; default false.
    #[serde(default)]
    prune: bool,
    /// Only answer the plan; default false. A `read` API key may do this.
    #[serde(default)]
    dry_run: bool,
}

/// The plan, and whether it was carried out.
#[derive(Serialize, ToSchema)]
pub struct ApplyAnswer {
    /// What applying does (or did).
    #[serde(flatten)]
    plan: Plan,
    /// Whether the changes were made: false for a dry run and when there was nothing to do.
    applied: bool,
}

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(apply))
        .routes(routes!(export))
}

/// Makes the caller's monitors what the document says, in one transaction (all or
/// nothing), and answers the plan: created, updated (each field's change), deleted (with
/// `prune`), unchanged. Applying the same document again changes nothing.
#[utoipa::path(post, path = "/apply", tag = "monitors", request_body = ApplyRequest,
    security(("token" = [])),
    responses((status = 200, body = ApplyAnswer), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
async fn apply(
    State(state): State<AppState>,
    AnyScope(caller): AnyScope,
    JsonBody(body): JsonBody<ApplyRequest>,
) -> Result<Json<ApplyAnswer>, ApiError> {
    if !body.dry_run {
        writable(caller)?;
    }
    let document = match body.document {
        serde_json::Value::String(text) => Document::from_yaml(&text),
        value @ serde_json::Value::Object(_) => Document::from_json(value),
        _ => {
            return Err(ApiError::InvalidJson(
                "document: must be the document's text (a string) or the document (an object)"
                    .into(),
            ));
        }
    }
    .map_err(|e| ApiError::InvalidDocument(e.to_string()))?;
    let plan = state
        .monitors
        .apply(caller.id, &document, body.prune, body.dry_run)
        .await?;
    let applied = !body.dry_run && !plan.is_empty();
    Ok(Json(ApplyAnswer { plan, applied }))
}

/// The caller's monitors as a document (each with only what differs from its defaults):
/// JSON, or YAML when asked with `Accept: application/yaml`.
#[utoipa::path(get, path = "/export", tag = "monitors", security(("token" = [])),
    responses((status = 200, description = "The document", content(
        (Object = "application/json"), (String = "application/yaml"))),
        (status = 401, body = ErrorBody)))]
async fn export(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let document = state.monitors.export(user).await?;
    let yaml = headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.contains("yaml"));
    let (format, content_type) = if yaml {
        (Format::Yaml, "application/yaml")
    } else {
        (Format::Json, "application/json")
    };
    let text = document
        .render(format)
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok((
        [(header::CONTENT_TYPE, HeaderValue::from_static(content_type))],
        text,
    )
        .into_response())
}
