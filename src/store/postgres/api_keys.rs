//! SQL for the `api_keys` table.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use deadpool_postgres::Object;
use tokio_postgres::Row;

use super::connect::{get, pg};
use super::{PostgresStore, millis, settle};
use crate::auth::{Email, UserId};
use crate::store::rows::ApiKeyRecord;
use crate::store::{Account, ApiKey, ApiKeyStore, NewApiKey, StoreError, User};

const COLUMNS: &str = "id, user_id, name, scope, created_at, expires_at, last_used_at";

fn read(row: &Row) -> Result<ApiKey, StoreError> {
    ApiKeyRecord {
        id: get(row, 0)?,
        owner: get(row, 1)?,
        name: get(row, 2)?,
        scope: get(row, 3)?,
        created_at: get(row, 4)?,
        expires_at: get(row, 5)?,
        last_used_at: get(row, 6)?,
    }
    .into_key()
}

async fn insert(
    client: &mut Object,
    owner: UserId,
    key: &NewApiKey<'_>,
    limit: u32,
) -> Result<ApiKey, StoreError> {
    let tx = client.transaction().await.map_err(pg)?;
    // Locking the account's row makes concurrent creations take turns, so the count each
    // sees is the last one's.
    let lock = tx
        .prepare_cached("SELECT 1 FROM users WHERE id = $1 FOR UPDATE")
        .await
        .map_err(pg)?;
    tx.query_opt(&lock, &[&owner.0]).await.map_err(pg)?;
    let count = tx
        .prepare_cached("SELECT count(*) FROM api_keys WHERE user_id = $1")
        .await
        .map_err(pg)?;
    let count: i64 = get(&tx.query_one(&count, &[&owner.0]).await.map_err(pg)?, 0)?;
    if count >= i64::from(limit) {
        return Err(StoreError::LimitReached { limit });
    }
    let sql = format!(
        "INSERT INTO api_keys (user_id, name, scope, key_hash, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING {COLUMNS}"
    );
    let stmt = tx.prepare_cached(&sql).await.map_err(pg)?;
    let now = millis(Utc::now());
    let expires = key.expires_at.map(millis);
    let row = tx
        .query_one(
            &stmt,
            &[
                &owner.0,
                &key.name,
                &key.scope.as_str(),
                &key.hash,
                &now,
                &expires,
            ],
        )
        .await
        .map_err(pg)?;
    let key = read(&row)?;
    tx.commit().await.map_err(pg)?;
    Ok(key)
}

async fn list(client: &Object, owner: UserId) -> Result<Vec<ApiKey>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM api_keys WHERE user_id = $1 ORDER BY id");
    let stmt = client.prepare_cached(&sql).await.map_err(pg)?;
    let rows = client.query(&stmt, &[&owner.0]).await.map_err(pg)?;
    rows.iter().map(read).collect()
}

async fn by_hash(client: &Object, hash: &str) -> Result<Option<(ApiKey, Account)>, StoreError> {
    let stmt = client
        .prepare_cached(
            "SELECT k.id, k.user_id, k.name, k.scope, k.created_at, k.expires_at, \
             k.last_used_at, u.email, u.created_at, u.admin, u.token_generation \
             FROM api_keys k JOIN users u ON u.id = k.user_id WHERE k.key_hash = $1",
        )
        .await
        .map_err(pg)?;
    let Some(row) = client.query_opt(&stmt, &[&hash]).await.map_err(pg)? else {
        return Ok(None);
    };
    let key = read(&row)?;
    let email: String = get(&row, 7)?;
    let account = Account {
        user: User {
            id: key.owner,
            email: Email::parse(&email).map_err(|e| StoreError::Corrupt(e.to_string()))?,
            created_at: get(&row, 8)?,
            admin: get(&row, 9)?,
        },
        token_generation: get(&row, 10)?,
    };
    Ok(Some((key, account)))
}

async fn execute(
    client: &Object,
    sql: &str,
    params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
) -> Result<u64, StoreError> {
    let stmt = client.prepare_cached(sql).await.map_err(pg)?;
    client.execute(&stmt, params).await.map_err(pg)
}

#[async_trait]
impl ApiKeyStore for PostgresStore {
    async fn create_api_key(
        &self,
        owner: UserId,
        key: &NewApiKey<'_>,
        limit: u32,
    ) -> Result<ApiKey, StoreError> {
        let mut client = self.client().await?;
        let result = insert(&mut client, owner, key, limit).await;
        settle(client, result)
    }

    async fn list_api_keys(&self, owner: UserId) -> Result<Vec<ApiKey>, StoreError> {
        let client = self.client().await?;
        let result = list(&client, owner).await;
        settle(client, result)
    }

    async fn delete_api_key(&self, owner: UserId, id: i64) -> Result<bool, StoreError> {
        let client = self.client().await?;
        let result = execute(
            &client,
            "DELETE FROM api_keys WHERE id = $1 AND user_id = $2",
            &[&id, &owner.0],
        )
        .await
        .map(|deleted| deleted > 0);
        settle(client, result)
    }

    async fn api_key_by_hash(&self, hash: &str) -> Result<Option<(ApiKey, Account)>, StoreError> {
        let client = self.client().await?;
        let result = by_hash(&client, hash).await;
        settle(client, result)
    }

    async fn touch_api_key(&self, id: i64, at: DateTime<Utc>) -> Result<(), StoreError> {
        let client = self.client().await?;
        let at = millis(at);
        let result = execute(
            &client,
            "UPDATE api_keys SET last_used_at = $2 WHERE id = $1",
            &[&id, &at],
        )
        .await
        .map(|_| ());
        settle(client, result)
    }
}
