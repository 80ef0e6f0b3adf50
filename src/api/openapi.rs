//! Completing the generated OpenAPI document so that it is true: the answers every route
//! can give besides its own (a malformed body, a missing token, a throttled login, the
//! store away) are added to each operation from what the operation is (it has a body, a
//! token, an `{id}`…), so routes added later are documented the same way without anyone
//! remembering to; path ids get their bounds, and a created monitor links to what can be
//! done with it, for clients and stateful testers to follow.

use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::info::{ContactBuilder, LicenseBuilder};
use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::{Content, OpenApi, Ref, RefOr, Response};

/// Routes that hash a password, and so are throttled per client address.
const THROTTLED: [&str; 5] = [
    "/register",
    "/login",
    "/api/v1/auth/register",
    "/api/v1/auth/login",
    "/api/v1/me/password",
];

/// Routes that answer without the store, so never 503.
const WITHOUT_STORE: [&str; 3] = ["/healthz", "/metrics", "/api/v1/openapi.json"];

/// Routes that make an account, refused when registration is closed.
const REGISTER: [&str; 2] = ["/register", "/api/v1/auth/register"];

/// Fills in `doc`'s metadata and every operation's common answers.
pub(super) fn complete(doc: &mut OpenApi) {
    doc.info.title = "tocsin".into();
    doc.info.version = env!("CARGO_PKG_VERSION").into();
    doc.info.description = Some(
        "Self-hosted HTTP endpoint monitoring. Every error is \
         `{\"error\": {\"code\", \"message\"}}`; times are RFC 3339 UTC with milliseconds."
            .into(),
    );
    // utoipa fills these from its own package otherwise.
    doc.info.contact = Some(ContactBuilder::new().name(Some("tocsin")).build());
    doc.info.license = Some(
        LicenseBuilder::new()
            .name(env!("CARGO_PKG_LICENSE"))
            .identifier(Some(env!("CARGO_PKG_LICENSE")))
            .build(),
    );
    for (path, item) in doc.paths.paths.iter_mut() {
        let operations = [
            (item.get.as_mut(), false),
            (item.put.as_mut(), true),
            (item.post.as_mut(), true),
            (item.delete.as_mut(), true),
            (item.patch.as_mut(), true),
        ];
        for (operation, writes) in operations {
            let Some(operation) = operation else { continue };
            bound_ids(operation);
            add_common_answers(path, operation);
            if writes && operation.security.as_ref().is_some_and(|s| !s.is_empty()) {
                // A read-only API key is refused on every write.
                operation
                    .responses
                    .responses
                    .entry("403".to_owned())
                    .or_insert_with(|| {
                        RefOr::T(error_response(
                            "403",
                            "The API key's scope is `read` (`read_only_key`)",
                        ))
                    });
            }
        }
    }
}

/// The document as JSON, with links from a created monitor to every operation on
/// `/api/v1/monitors/{id}…` (written here: utoipa 5 spells a link's `operationId` in
/// snake case, which validators refuse).
pub(super) fn to_json(doc: &OpenApi) -> Result<serde_json::Value, serde_json::Error> {
    let mut json = serde_json::to_value(doc)?;
    let operations: Vec<String> = doc
        .paths
        .paths
        .iter()
        .filter(|(path, _)| path.starts_with("/api/v1/monitors/{id}"))
        .flat_map(|(_, item)| {
            [&item.get, &item.put, &item.post, &item.delete, &item.patch]
                .into_iter()
                .flatten()
                .filter_map(|operation| operation.operation_id.clone())
                .collect::<Vec<_>>()
        })
        .collect();
    if let Some(created) = json.pointer_mut("/paths/~1api~1v1~1monitors/post/responses/201")
        && let Some(created) = created.as_object_mut()
    {
        let links: serde_json::Map<String, serde_json::Value> = operations
            .into_iter()
            .map(|id| {
                let link = serde_json::json!({
                    "operationId": id,
                    "parameters": {"id": "$response.body#/id"},
                });
                (id, link)
            })
            .collect();
        created.insert("links".into(), links.into());
    }
    Ok(json)
}

/// Ids in paths (`{id}`, `{monitor_id}`) are positive: `0` and below are answered 400.
fn bound_ids(operation: &mut Operation) {
    for parameter in operation.parameters.iter_mut().flatten() {
        if parameter.parameter_in == ParameterIn::Path
            && matches!(parameter.name.as_str(), "id" | "monitor_id")
        {
            parameter.schema = Some(RefOr::T(
                ObjectBuilder::new()
                    .schema_type(Type::Integer)
                    .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(
                        utoipa::openapi::KnownFormat::Int64,
                    )))
                    .minimum(Some(1))
                    .build()
                    .into(),
            ));
        }
    }
}

fn add_common_answers(path: &str, operation: &mut Operation) {
    let mut add = |status: &str, description: &str| {
        operation
            .responses
            .responses
            .entry(status.to_owned())
            .or_insert_with(|| RefOr::T(error_response(status, description)));
    };
    let has_body = operation.request_body.is_some();
    let has_token = operation.security.as_ref().is_some_and(|s| !s.is_empty());
    let has_query = operation
        .parameters
        .iter()
        .flatten()
        .any(|p| p.parameter_in == ParameterIn::Query);
    if has_body {
        add(
            "400",
            "The body is not JSON, or is cut short (`malformed_json`)",
        );
        add("413", "The body is over 1 MiB (`payload_too_large`)");
        add(
            "415",
            "The body is not sent as `Content-Type: application/json` (`unsupported_media_type`)",
        );
        add(
            "422",
            "A missing field, a wrong type or an unknown key (`invalid_json`), or a value out of \
             bounds (`validation_failed`)",
        );
    }
    if has_query {
        add("400", "A malformed query string (`bad_request`)");
        add(
            "422",
            "A query parameter out of bounds (`validation_failed`)",
        );
    }
    if path.contains("{id}") {
        add("400", "The id is not a positive integer (`bad_request`)");
        add("404", "No such monitor of yours (`not_found`)");
    }
    if has_token {
        add(
            "401",
            "No token, or a malformed, forged, expired or revoked one (`missing_token`, \
             `invalid_token`, `token_expired`, `token_revoked`)",
        );
    }
    if THROTTLED.contains(&path) {
        add(
            "429",
            "Too many attempts from this address; `Retry-After` says when to come back",
        );
    }
    if REGISTER.contains(&path) {
        add(
            "403",
            "Registration is closed and the instance has its first account (`registration_closed`)",
        );
    }
    if !WITHOUT_STORE.contains(&path) {
        add("503", "The database does not answer (`unavailable`)");
    }
}

/// An answer with the common error body, and the headers its status carries.
fn error_response(status: &str, description: &str) -> Response {
    let mut response = Response::new(description);
    response.content.insert(
        "application/json".to_owned(),
        Content::new(Some(Ref::from_schema_name("ErrorBody"))),
    );
    let string = || {
        HeaderBuilder::new()
            .schema(ObjectBuilder::new().schema_type(Type::String))
            .build()
    };
    match status {
        "429" => {
            let mut header = HeaderBuilder::new()
                .schema(ObjectBuilder::new().schema_type(Type::Integer))
                .build();
            header.description = Some("Seconds until an attempt is allowed again".into());
            response.headers.insert("Retry-After".into(), header);
        }
        "401" => {
            let mut header = string();
            header.description = Some("`Bearer`".into());
            response.headers.insert("WWW-Authenticate".into(), header);
        }
        _ => {}
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_refer_to_the_error_body() {
        let response = error_response("429", "throttled");
        assert!(response.content.contains_key("application/json"));
        assert!(response.headers.contains_key("Retry-After"));
    }
}
