//! `/`, login, register and logout.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use secrecy::SecretString;
use serde::Deserialize;

use super::WebError;
use super::layout::{csrf_token, field, page};
use super::session::{
    PRE_COOKIE, Posted, PrePosted, SESSION_COOKIE, cookie, current, session_cookie, set_cookie,
};
use crate::api::AppState;
use crate::auth::AuthError;
use crate::service::ServiceError;
use crate::store::StoreError;

/// The login and register forms' fields.
#[derive(Deserialize)]
pub struct Credentials {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
}

/// A form with no field but its CSRF token.
#[derive(Deserialize)]
pub struct Empty {}

/// `GET /`: the dashboard for a live session, the login page otherwise.
pub async fn root(State(state): State<AppState>, headers: HeaderMap) -> Response {
    match current(&headers, &state).await {
        Ok(Some(_)) => Redirect::to("/app").into_response(),
        _ => Redirect::to("/app/login").into_response(),
    }
}

/// Which of the two forms.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Login,
    Register,
}

/// Errors to show: one for the whole form, or beside a field.
#[derive(Default)]
struct Errors {
    form: Option<String>,
    email: Option<String>,
    password: Option<String>,
}

fn form(kind: Kind, token: &str, email: &str, errors: &Errors) -> Markup {
    let (title, action, button) = match kind {
        Kind::Login => ("Log in", "/app/login", "Log in"),
        Kind::Register => ("Create an account", "/app/register", "Create account"),
    };
    let body = html! {
        div.auth {
            h1 { (title) }
            @if let Some(error) = &errors.form {
                p.notice.bad role="alert" { (error) }
            }
            form method="post" action=(action) novalidate {
                (csrf_token(token))
                (field("email", "Email", "email", email, errors.email.as_deref(), None))
                (field("password", "Password", "password", "", errors.password.as_deref(),
                    (kind == Kind::Register).then_some("8 to 1024 characters")))
                button type="submit" { (button) }
            }
            @match kind {
                Kind::Login => p { "No account yet? " a href="/app/register" { "Create one" } },
                Kind::Register => p { "Have an account? " a href="/app/login" { "Log in" } },
            }
        }
    };
    page(title, None, body)
}

/// The pre-session token in the request's cookie, or a new one to set.
fn token(state: &AppState, headers: &HeaderMap) -> (String, bool) {
    match cookie(headers, PRE_COOKIE).filter(|t| state.sessions.pre_session_token_valid(t)) {
        Some(token) => (token.to_owned(), false),
        None => (state.sessions.pre_session_token(), true),
    }
}

fn show(
    state: &AppState,
    headers: &HeaderMap,
    kind: Kind,
    status: StatusCode,
    email: &str,
    errors: &Errors,
) -> Response {
    let (token, fresh) = token(state, headers);
    let mut response = (status, form(kind, &token, email, errors)).into_response();
    if fresh {
        // Lives as long as a form may stay open in a tab.
        let value = set_cookie(state, PRE_COOKIE, &token, 24 * 60 * 60);
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

/// `GET /app/login`
pub async fn login_page(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Ok(Some(_)) = current(&headers, &state).await {
        return Redirect::to("/app").into_response();
    }
    show(
        &state,
        &headers,
        Kind::Login,
        StatusCode::OK,
        "",
        &Errors::default(),
    )
}

/// `GET /app/register`
pub async fn register_page(State(state): State<AppState>, headers: HeaderMap) -> Response {
    show(
        &state,
        &headers,
        Kind::Register,
        StatusCode::OK,
        "",
        &Errors::default(),
    )
}

/// `POST /app/login`: the API's login rules; a wrong email and a wrong password read the same.
pub async fn login(
    State(state): State<AppState>,
    headers: HeaderMap,
    PrePosted(form): PrePosted<Credentials>,
) -> Result<Response, WebError> {
    match state
        .sessions
        .login(&form.email, SecretString::from(form.password))
        .await
    {
        Ok(opened) => Ok(signed_in(&state, &opened.cookie)),
        Err(ServiceError::Auth(error)) => {
            let status = match error {
                AuthError::InvalidPassword(_) => StatusCode::UNPROCESSABLE_ENTITY,
                _ => StatusCode::UNAUTHORIZED,
            };
            let errors = Errors {
                form: Some(match error {
                    AuthError::InvalidCredentials => "wrong email or password".to_owned(),
                    other => other.to_string(),
                }),
                ..Errors::default()
            };
            Ok(show(
                &state,
                &headers,
                Kind::Login,
                status,
                &form.email,
                &errors,
            ))
        }
        Err(other) => Err(other.into()),
    }
}

/// `POST /app/register`: the API's register rules; the new account is logged in.
pub async fn register(
    State(state): State<AppState>,
    headers: HeaderMap,
    PrePosted(form): PrePosted<Credentials>,
) -> Result<Response, WebError> {
    let errors = match state
        .sessions
        .register(&form.email, SecretString::from(form.password))
        .await
    {
        Ok((_, opened)) => return Ok(signed_in(&state, &opened.cookie)),
        Err(ServiceError::Auth(AuthError::InvalidEmail(why))) => Errors {
            email: Some(why),
            ..Errors::default()
        },
        Err(ServiceError::Auth(AuthError::InvalidPassword(why))) => Errors {
            password: Some(why),
            ..Errors::default()
        },
        Err(ServiceError::Store(StoreError::Conflict(_))) => Errors {
            email: Some("an account with this email already exists: log in instead".into()),
            ..Errors::default()
        },
        Err(error @ ServiceError::RegistrationClosed) => Errors {
            form: Some(error.to_string()),
            ..Errors::default()
        },
        Err(other) => return Err(other.into()),
    };
    let status = if errors.form.is_some() {
        StatusCode::FORBIDDEN
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    Ok(show(
        &state,
        &headers,
        Kind::Register,
        status,
        &form.email,
        &errors,
    ))
}

/// A session opened: to the dashboard with its cookie; the pre-session cookie is spent.
fn signed_in(state: &AppState, value: &str) -> Response {
    let mut response = Redirect::to("/app").into_response();
    let headers = response.headers_mut();
    headers.append(header::SET_COOKIE, session_cookie(state, value));
    headers.append(header::SET_COOKIE, set_cookie(state, PRE_COOKIE, "", 0));
    response
}

/// `POST /app/logout`: ends the session on the server and forgets the cookie.
pub async fn logout(
    State(state): State<AppState>,
    Posted(viewer, _): Posted<Empty>,
) -> Result<Response, WebError> {
    state.sessions.logout(&viewer.cookie).await?;
    let mut response = Redirect::to("/app/login").into_response();
    response.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(&state, SESSION_COOKIE, "", 0),
    );
    Ok(response)
}
