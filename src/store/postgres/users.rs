//! SQL for the `users` and `settings` tables.

use super::{PostgresStore, changes, settle};
use crate::store::AccountStore;
use async_trait::async_trait;

use chrono::Utc;
use deadpool_postgres::{GenericClient, Object};

use super::connect::{get, pg};
use super::millis;
use crate::auth::{Email, UserId};
use crate::monitor::MonitorId;
use crate::store::{Account, StoreError, User, UserCredentials};

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

/// Serializes the creation of first accounts, so two made at once cannot both be first.
const FIRST_ACCOUNT_LOCK: i64 = 0x746f_6373_696e_0001;

/// Inserts an account; the first account of the database is its administrator.
async fn insert(
    client: &impl GenericClient,
    email: &Email,
    hash: &str,
) -> Result<User, StoreError> {
    let now = millis(Utc::now());
    let stmt = client
        .prepare_cached(
            "INSERT INTO users (email, password_hash, created_at, admin) \
             VALUES ($1, $2, $3, NOT EXISTS (SELECT 1 FROM users)) RETURNING id, admin",
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
        admin: get(&row, 1)?,
    })
}

/// Creates the account only if there is none, under a transaction lock that every first
/// account takes (registration is rare, so the lock costs nothing that matters).
async fn insert_first(
    client: &mut Object,
    email: &Email,
    hash: &str,
) -> Result<Option<User>, StoreError> {
    let tx = client.transaction().await.map_err(pg)?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&FIRST_ACCOUNT_LOCK])
        .await
        .map_err(pg)?;
    let exists: bool = get(
        &tx.query_one("SELECT EXISTS (SELECT 1 FROM users)", &[])
            .await
            .map_err(pg)?,
        0,
    )?;
    if exists {
        return Ok(None);
    }
    let user = insert(&tx, email, hash).await?;
    tx.commit().await.map_err(pg)?;
    Ok(Some(user))
}

async fn credentials(
    client: &Object,
    email: &Email,
) -> Result<Option<UserCredentials>, StoreError> {
    let stmt = client
        .prepare_cached("SELECT id, created_at, password_hash, admin FROM users WHERE email = $1")
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
            admin: get(&row, 3)?,
        },
        password_hash: get(&row, 2)?,
    }))
}

async fn account(client: &Object, id: UserId) -> Result<Option<Account>, StoreError> {
    let stmt = client
        .prepare_cached(
            "SELECT email, created_at, admin, token_generation FROM users WHERE id = $1",
        )
        .await
        .map_err(pg)?;
    let Some(row) = client.query_opt(&stmt, &[&id.0]).await.map_err(pg)? else {
        return Ok(None);
    };
    let email: String = get(&row, 0)?;
    Ok(Some(Account {
        user: User {
            id,
            email: Email::parse(&email).map_err(|e| StoreError::Corrupt(e.to_string()))?,
            created_at: get(&row, 1)?,
            admin: get(&row, 2)?,
        },
        token_generation: get(&row, 3)?,
    }))
}

async fn change_password(
    client: &Object,
    id: UserId,
    hash: &str,
) -> Result<Option<i64>, StoreError> {
    let stmt = client
        .prepare_cached(
            "UPDATE users SET password_hash = $2, token_generation = token_generation + 1 \
             WHERE id = $1 RETURNING token_generation",
        )
        .await
        .map_err(pg)?;
    let row = client.query_opt(&stmt, &[&id.0, &hash]).await.map_err(pg)?;
    row.map(|row| get(&row, 0)).transpose()
}

/// Deletes the account: its monitors first (announced to every instance, like a single
/// deletion), their results (which have no foreign key to cascade along), then the account,
/// whose `ON DELETE CASCADE` references take everything else it owns.
async fn delete(
    client: &mut Object,
    origin: u64,
    id: UserId,
) -> Result<Option<Vec<MonitorId>>, StoreError> {
    let tx = client.transaction().await.map_err(pg)?;
    let sql = format!(
        "DELETE FROM monitors WHERE user_id = $1 RETURNING id, {}",
        changes::notify_sql("monitors", origin)
    );
    let monitors: Vec<i64> = tx
        .query(&sql, &[&id.0])
        .await
        .map_err(pg)?
        .iter()
        .map(|row| get(row, 0))
        .collect::<Result<_, _>>()?;
    tx.execute(
        "DELETE FROM results WHERE monitor_id = ANY($1)",
        &[&monitors],
    )
    .await
    .map_err(pg)?;
    let deleted = tx
        .execute("DELETE FROM users WHERE id = $1", &[&id.0])
        .await
        .map_err(pg)?;
    tx.commit().await.map_err(pg)?;
    Ok((deleted > 0).then(|| monitors.into_iter().map(MonitorId).collect()))
}

#[async_trait]
impl AccountStore for PostgresStore {
    async fn create_user(&self, email: &Email, password_hash: &str) -> Result<User, StoreError> {
        let client = self.client().await?;
        let result = insert(&client, email, password_hash).await;
        settle(client, result)
    }

    async fn create_first_user(
        &self,
        email: &Email,
        password_hash: &str,
    ) -> Result<Option<User>, StoreError> {
        let mut client = self.client().await?;
        let result = insert_first(&mut client, email, password_hash).await;
        settle(client, result)
    }

    async fn user_credentials(&self, email: &Email) -> Result<Option<UserCredentials>, StoreError> {
        let client = self.client().await?;
        let result = credentials(&client, email).await;
        settle(client, result)
    }

    async fn account(&self, id: UserId) -> Result<Option<Account>, StoreError> {
        let client = self.client().await?;
        let result = account(&client, id).await;
        settle(client, result)
    }

    async fn change_password(&self, id: UserId, hash: &str) -> Result<Option<i64>, StoreError> {
        let client = self.client().await?;
        let result = change_password(&client, id, hash).await;
        settle(client, result)
    }

    async fn delete_user(&self, id: UserId) -> Result<Option<Vec<MonitorId>>, StoreError> {
        let mut client = self.client().await?;
        let result = delete(&mut client, self.origin, id).await;
        settle(client, result)
    }
}
