//! SQL for the `users` and `settings` tables.

use super::{PostgresStore, settle};
use crate::store::AccountStore;
use async_trait::async_trait;

use chrono::Utc;
use deadpool_postgres::Object;

use super::connect::{get, pg};
use super::millis;
use crate::auth::{Email, UserId};
use crate::store::{StoreError, User, UserCredentials};

pub(super) async fn setting_or_insert(
    client: &Object,
    key: &str,
    value: &str,
) -> Result<String, StoreError> {
    // Two statements, each with its own snapshot: a concurrent first writer's INSERT makes
    // this one's wait and do nothing, and the SELECT after it sees the winner's value.
    let insert = client
        .prepare_cached(
            "INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING",
        )
        .await
        .map_err(pg)?;
    client.execute(&insert, &[&key, &value]).await.map_err(pg)?;
    let select = client
        .prepare_cached("SELECT value FROM settings WHERE key = $1")
        .await
        .map_err(pg)?;
    let row = client.query_one(&select, &[&key]).await.map_err(pg)?;
    get(&row, 0)
}

pub(super) async fn insert(client: &Object, email: &Email, hash: &str) -> Result<User, StoreError> {
    let now = millis(Utc::now());
    let stmt = client
        .prepare_cached(
            "INSERT INTO users (email, password_hash, created_at) VALUES ($1, $2, $3) \
             RETURNING id",
        )
        .await
        .map_err(pg)?;
    let row = client
        .query_one(&stmt, &[&email.as_str(), &hash, &now])
        .await
        .map_err(pg)?;
    Ok(User {
        id: UserId(get(&row, 0)?),
        email: email.clone(),
        created_at: now,
    })
}

pub(super) async fn credentials(
    client: &Object,
    email: &Email,
) -> Result<Option<UserCredentials>, StoreError> {
    let stmt = client
        .prepare_cached("SELECT id, created_at, password_hash FROM users WHERE email = $1")
        .await
        .map_err(pg)?;
    let Some(row) = client
        .query_opt(&stmt, &[&email.as_str()])
        .await
        .map_err(pg)?
    else {
        return Ok(None);
    };
    Ok(Some(UserCredentials {
        user: User {
            id: UserId(get(&row, 0)?),
            email: email.clone(),
            created_at: get(&row, 1)?,
        },
        password_hash: get(&row, 2)?,
    }))
}

#[async_trait]
impl AccountStore for PostgresStore {
    async fn create_user(&self, email: &Email, password_hash: &str) -> Result<User, StoreError> {
        let client = self.client().await?;
        let result = insert(&client, email, password_hash).await;
        settle(client, result)
    }

    async fn user_credentials(&self, email: &Email) -> Result<Option<UserCredentials>, StoreError> {
        let client = self.client().await?;
        let result = credentials(&client, email).await;
        settle(client, result)
    }
}
