//! SQL for the `api_keys` table.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::{Connection, Row, Transaction};

use super::{SqliteStore, backend, optional, query_row};
use crate::auth::UserId;
use crate::store::rows::ApiKeyRecord;
use crate::store::{Account, ApiKey, ApiKeyStore, NewApiKey, StoreError, from_millis, to_millis};

const COLUMNS: &str = "id, user_id, name, scope, created_at, expires_at, last_used_at";

/// A row with its times still in milliseconds.
type Raw = (i64, i64, String, String, i64, Option<i64>, Option<i64>);

fn read(row: &Row<'_>) -> rusqlite::Result<Raw> {
    Ok((
        row.get(0)?,
        row.get(1)?,
        row.get(2)?,
        row.get(3)?,
        row.get(4)?,
        row.get(5)?,
        row.get(6)?,
    ))
}

fn to_key((id, owner, name, scope, created, expires, used): Raw) -> Result<ApiKey, StoreError> {
    ApiKeyRecord {
        id,
        owner,
        name,
        scope,
        created_at: from_millis(created)?,
        expires_at: expires.map(from_millis).transpose()?,
        last_used_at: used.map(from_millis).transpose()?,
    }
    .into_key()
}

fn insert(
    tx: &Transaction<'_>,
    owner: UserId,
    name: &str,
    scope: &str,
    hash: &str,
    expires_at: Option<i64>,
    limit: u32,
) -> Result<ApiKey, StoreError> {
    // Writes take turns, so the count cannot change before the insert.
    let count: i64 = query_row(
        tx,
        "SELECT count(*) FROM api_keys WHERE user_id = ?1",
        [owner.0],
        |row| row.get(0),
    )
    .map_err(backend)?;
    if count >= i64::from(limit) {
        return Err(StoreError::LimitReached { limit });
    }
    let sql = format!(
        "INSERT INTO api_keys (user_id, name, scope, key_hash, created_at, expires_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6) RETURNING {COLUMNS}"
    );
    let now = to_millis(Utc::now());
    let raw = query_row(
        tx,
        &sql,
        (owner.0, name, scope, hash, now, expires_at),
        read,
    )
    .map_err(backend)?;
    to_key(raw)
}

fn list(conn: &Connection, owner: UserId) -> Result<Vec<ApiKey>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM api_keys WHERE user_id = ?1 ORDER BY id");
    let mut stmt = conn.prepare_cached(&sql).map_err(backend)?;
    let rows = stmt.query_map([owner.0], read).map_err(backend)?;
    rows.map(|row| to_key(row.map_err(backend)?)).collect()
}

fn by_hash(conn: &Connection, hash: &str) -> Result<Option<(ApiKey, Account)>, StoreError> {
    let sql = "SELECT k.id, k.user_id, k.name, k.scope, k.created_at, k.expires_at, \
               k.last_used_at, u.email, u.created_at, u.admin, u.token_generation \
               FROM api_keys k JOIN users u ON u.id = k.user_id WHERE k.key_hash = ?1";
    let found = optional(query_row(conn, sql, [hash], |row| {
        Ok((
            read(row)?,
            (
                row.get::<_, i64>(1)?,
                row.get::<_, String>(7)?,
                row.get::<_, i64>(8)?,
                row.get::<_, bool>(9)?,
                row.get::<_, i64>(10)?,
            ),
        ))
    }))?;
    found
        .map(|(key, account)| Ok((to_key(key)?, super::users::to_account(account)?)))
        .transpose()
}

#[async_trait]
impl ApiKeyStore for SqliteStore {
    async fn create_api_key(
        &self,
        owner: UserId,
        key: &NewApiKey<'_>,
        limit: u32,
    ) -> Result<ApiKey, StoreError> {
        let name = key.name.to_owned();
        let hash = key.hash.to_owned();
        let scope = key.scope.as_str();
        let expires = key.expires_at.map(to_millis);
        self.write(move |tx| insert(tx, owner, &name, scope, &hash, expires, limit))
            .await
    }

    async fn list_api_keys(&self, owner: UserId) -> Result<Vec<ApiKey>, StoreError> {
        self.run(move |conn| list(conn, owner)).await
    }

    async fn delete_api_key(&self, owner: UserId, id: i64) -> Result<bool, StoreError> {
        self.write(move |tx| {
            tx.prepare_cached("DELETE FROM api_keys WHERE id = ?1 AND user_id = ?2")
                .and_then(|mut stmt| stmt.execute((id, owner.0)))
                .map(|deleted| deleted > 0)
                .map_err(backend)
        })
        .await
    }

    async fn api_key_by_hash(&self, hash: &str) -> Result<Option<(ApiKey, Account)>, StoreError> {
        let hash = hash.to_owned();
        self.run(move |conn| by_hash(conn, &hash)).await
    }

    async fn touch_api_key(&self, id: i64, at: DateTime<Utc>) -> Result<(), StoreError> {
        let at = to_millis(at);
        self.write(move |tx| {
            tx.prepare_cached("UPDATE api_keys SET last_used_at = ?2 WHERE id = ?1")
                .and_then(|mut stmt| stmt.execute((id, at)))
                .map(|_| ())
                .map_err(backend)
        })
        .await
    }
}
