//! SQL for the `web_sessions` table.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::{SqliteStore, backend, optional, query_row};
use crate::auth::UserId;
use crate::store::{LiveSession, NewSession, SessionStore, StoreError, to_millis};

#[async_trait]
impl SessionStore for SqliteStore {
    async fn create_session(
        &self,
        session: &NewSession,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let session = session.clone();
        self.write(move |tx| {
            tx.execute(
                "DELETE FROM web_sessions WHERE expires_at <= ?1",
                [to_millis(now)],
            )
            .map_err(backend)?;
            tx.execute(
                "INSERT INTO web_sessions \
                 (id_hash, user_id, token_generation, csrf, created_at, expires_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                (
                    &session.id_hash,
                    session.user.0,
                    session.token_generation,
                    &session.csrf,
                    to_millis(now),
                    to_millis(session.expires_at),
                ),
            )
            .map_err(backend)?;
            Ok(())
        })
        .await
    }

    async fn session(
        &self,
        id_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<LiveSession>, StoreError> {
        let id_hash = id_hash.to_owned();
        self.run(move |conn| {
            optional(query_row(
                conn,
                "SELECT s.user_id, u.admin, s.csrf FROM web_sessions s \
                 JOIN users u ON u.id = s.user_id \
                 WHERE s.id_hash = ?1 AND s.expires_at > ?2 \
                   AND s.token_generation = u.token_generation",
                (&id_hash, to_millis(now)),
                |row| {
                    Ok(LiveSession {
                        user: UserId(row.get(0)?),
                        admin: row.get(1)?,
                        csrf: row.get(2)?,
                    })
                },
            ))
        })
        .await
    }

    async fn delete_session(&self, id_hash: &str) -> Result<(), StoreError> {
        let id_hash = id_hash.to_owned();
        self.write(move |tx| {
            tx.execute("DELETE FROM web_sessions WHERE id_hash = ?1", [&id_hash])
                .map_err(backend)?;
            Ok(())
        })
        .await
    }

    async fn delete_user_sessions(&self, user: UserId) -> Result<u64, StoreError> {
        self.write(move |tx| {
            let n = tx
                .execute("DELETE FROM web_sessions WHERE user_id = ?1", [user.0])
                .map_err(backend)?;
            Ok(n as u64)
        })
        .await
    }
}
