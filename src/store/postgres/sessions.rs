//! SQL for the `web_sessions` table.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use deadpool_postgres::Object;

use super::connect::{get, pg};
use super::{PostgresStore, millis, settle};
use crate::auth::UserId;
use crate::store::{LiveSession, NewSession, SessionStore, StoreError};

async fn create(client: &Object, s: &NewSession, now: DateTime<Utc>) -> Result<(), StoreError> {
    let prune = client
        .prepare_cached("DELETE FROM web_sessions WHERE expires_at <= $1")
        .await
        .map_err(pg)?;
    client.execute(&prune, &[&now]).await.map_err(pg)?;
    let insert = client
        .prepare_cached(
            "INSERT INTO web_sessions \
             (id_hash, user_id, token_generation, csrf, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .await
        .map_err(pg)?;
    client
        .execute(
            &insert,
            &[
                &s.id_hash,
                &s.user.0,
                &s.token_generation,
                &s.csrf,
                &millis(now),
                &millis(s.expires_at),
            ],
        )
        .await
        .map_err(pg)?;
    Ok(())
}

async fn find(
    client: &Object,
    id_hash: &str,
    now: DateTime<Utc>,
) -> Result<Option<LiveSession>, StoreError> {
    let stmt = client
        .prepare_cached(
            "SELECT s.user_id, u.admin, s.csrf FROM web_sessions s \
             JOIN users u ON u.id = s.user_id \
             WHERE s.id_hash = $1 AND s.expires_at > $2 \
               AND s.token_generation = u.token_generation",
        )
        .await
        .map_err(pg)?;
    let Some(row) = client
        .query_opt(&stmt, &[&id_hash, &now])
        .await
        .map_err(pg)?
    else {
        return Ok(None);
    };
    Ok(Some(LiveSession {
        user: UserId(get(&row, 0)?),
        admin: get(&row, 1)?,
        csrf: get(&row, 2)?,
    }))
}

async fn delete_where(
    client: &Object,
    sql: &str,
    param: &(dyn tokio_postgres::types::ToSql + Sync),
) -> Result<u64, StoreError> {
    let stmt = client.prepare_cached(sql).await.map_err(pg)?;
    client.execute(&stmt, &[param]).await.map_err(pg)
}

#[async_trait]
impl SessionStore for PostgresStore {
    async fn create_session(
        &self,
        session: &NewSession,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let client = self.client().await?;
        let result = create(&client, session, now).await;
        settle(client, result)
    }

    async fn session(
        &self,
        id_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<LiveSession>, StoreError> {
        let client = self.client().await?;
        let result = find(&client, id_hash, now).await;
        settle(client, result)
    }

    async fn delete_session(&self, id_hash: &str) -> Result<(), StoreError> {
        let client = self.client().await?;
        let sql = "DELETE FROM web_sessions WHERE id_hash = $1";
        let result = delete_where(&client, sql, &id_hash).await.map(|_| ());
        settle(client, result)
    }

    async fn delete_user_sessions(&self, user: UserId) -> Result<u64, StoreError> {
        let client = self.client().await?;
        let sql = "DELETE FROM web_sessions WHERE user_id = $1";
        let result = delete_where(&client, sql, &user.0).await;
        settle(client, result)
    }
}
