//! SQL for the `channels` table and the outbox (`notifications`). A claim is a lease:
//! `claimed_until` set in the claiming write transaction, which SQLite runs one at a time.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::{ErrorCode, Row};

use super::{SqliteStore, backend, optional, query_row};
use crate::alerting::ChannelId;
use crate::alerting::channels::{Channel, ChannelConfig};
use crate::auth::UserId;
use crate::store::channel_rows::{ChannelRecord, ClaimRecord};
use crate::store::{
    ChannelStore, Claimed, OutboxStore, Outcome, StoreError, from_millis, to_millis,
};

const COLUMNS: &str = "id, user_id, name, kind, config, created_at, updated_at";

fn read(
    row: &Row<'_>,
    at: usize,
) -> rusqlite::Result<(i64, i64, String, String, String, i64, i64)> {
    Ok((
        row.get(at)?,
        row.get(at + 1)?,
        row.get(at + 2)?,
        row.get(at + 3)?,
        row.get(at + 4)?,
        row.get(at + 5)?,
        row.get(at + 6)?,
    ))
}

type Raw = (i64, i64, String, String, String, i64, i64);

fn record(
    (id, owner, name, kind, config, created, updated): Raw,
) -> Result<ChannelRecord, StoreError> {
    Ok(ChannelRecord {
        id,
        owner,
        name,
        kind,
        config: serde_json::from_str(&config)
            .map_err(|e| StoreError::Corrupt(format!("channel {id}: config: {e}")))?,
        created_at: from_millis(created)?,
        updated_at: from_millis(updated)?,
    })
}

fn to_channel(raw: Raw) -> Result<Channel, StoreError> {
    record(raw)?.into_channel()
}

/// A unique-name violation as the conflict it is.
fn conflict(error: rusqlite::Error) -> StoreError {
    if error.sqlite_error_code() == Some(ErrorCode::ConstraintViolation) {
        StoreError::Conflict("channel name")
    } else {
        backend(error)
    }
}

fn ids_json(ids: &[ChannelId]) -> String {
    serde_json::to_string(&ids.iter().map(|c| c.0).collect::<Vec<_>>())
        .unwrap_or_else(|_| "[]".into())
}

#[async_trait]
impl ChannelStore for SqliteStore {
    async fn create_channel(
        &self,
        owner: UserId,
        name: &str,
        config: &ChannelConfig,
    ) -> Result<Channel, StoreError> {
        let (name, kind, json) = (
            name.to_owned(),
            config.kind().as_str(),
            config.to_stored().to_string(),
        );
        let now = to_millis(Utc::now());
        let raw = self
            .write(move |tx| {
                tx.query_row(
                    &format!(
                        "INSERT INTO channels (user_id, name, kind, config, created_at, updated_at) \
                         VALUES (?1, ?2, ?3, ?4, ?5, ?5) RETURNING {COLUMNS}"
                    ),
                    (owner.0, &name, kind, &json, now),
                    |row| read(row, 0),
                )
                .map_err(conflict)
            })
            .await?;
        to_channel(raw)
    }

    async fn list_channels(&self, owner: UserId) -> Result<Vec<Channel>, StoreError> {
        let rows = self
            .run(move |conn| {
                let mut stmt = conn
                    .prepare_cached(&format!(
                        "SELECT {COLUMNS} FROM channels WHERE user_id = ?1 ORDER BY id"
                    ))
                    .map_err(backend)?;
                let rows = stmt
                    .query_map([owner.0], |row| read(row, 0))
                    .map_err(backend)?
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(backend)?;
                Ok(rows)
            })
            .await?;
        rows.into_iter().map(to_channel).collect()
    }

    async fn get_channel(
        &self,
        owner: UserId,
        id: ChannelId,
    ) -> Result<Option<Channel>, StoreError> {
        let raw = self
            .run(move |conn| {
                optional(query_row(
                    conn,
                    &format!("SELECT {COLUMNS} FROM channels WHERE id = ?1 AND user_id = ?2"),
                    (id.0, owner.0),
                    |row| read(row, 0),
                ))
            })
            .await?;
        raw.map(to_channel).transpose()
    }

    async fn update_channel(
        &self,
        owner: UserId,
        id: ChannelId,
        name: &str,
        config: &ChannelConfig,
    ) -> Result<Option<Channel>, StoreError> {
        let (name, json) = (name.to_owned(), config.to_stored().to_string());
        let now = to_millis(Utc::now());
        let raw = self
            .write(move |tx| {
                let row = tx.query_row(
                    &format!(
                        "UPDATE channels SET name = ?3, config = ?4, updated_at = ?5 \
                         WHERE id = ?1 AND user_id = ?2 RETURNING {COLUMNS}"
                    ),
                    (id.0, owner.0, &name, &json, now),
                    |row| read(row, 0),
                );
                match row {
                    Err(rusqlite::Error::QueryReturnedNoRows) => Ok(None),
                    other => other.map(Some).map_err(conflict),
                }
            })
            .await?;
        raw.map(to_channel).transpose()
    }

    async fn delete_channel(&self, owner: UserId, id: ChannelId) -> Result<bool, StoreError> {
        self.write(move |tx| {
            let gone = tx
                .execute(
                    "DELETE FROM channels WHERE id = ?1 AND user_id = ?2",
                    (id.0, owner.0),
                )
                .map_err(backend)?;
            if gone == 0 {
                return Ok(false);
            }
            tx.execute(
                "UPDATE monitors SET channel_ids = \
                     (SELECT json_group_array(value) FROM \
                         (SELECT value FROM json_each(monitors.channel_ids) \
                          WHERE value <> ?2 ORDER BY value)) \
                 WHERE user_id = ?1 \
                   AND EXISTS (SELECT 1 FROM json_each(monitors.channel_ids) WHERE value = ?2)",
                (owner.0, id.0),
            )
            .map_err(backend)?;
            Ok(true)
        })
        .await
    }

    async fn foreign_channels(
        &self,
        owner: UserId,
        ids: &[ChannelId],
    ) -> Result<Vec<ChannelId>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let json = ids_json(ids);
        let found = self
            .run(move |conn| {
                let mut stmt = conn
                    .prepare_cached(
                        "SELECT j.value FROM json_each(?1) j \
                         WHERE NOT EXISTS (SELECT 1 FROM channels c \
                                           WHERE c.id = j.value AND c.user_id = ?2) \
                         ORDER BY j.value",
                    )
                    .map_err(backend)?;
                let rows = stmt
                    .query_map((&json, owner.0), |row| row.get::<_, i64>(0))
                    .map_err(backend)?
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(backend)?;
                Ok(rows)
            })
            .await?;
        Ok(found.into_iter().map(ChannelId).collect())
    }
}

const CLAIMED: &str = "\
    SELECT n.id, n.attempts, n.created_at, \
           c.id, c.user_id, c.name, c.kind, c.config, c.created_at, c.updated_at, \
           e.id, e.kind, e.at, i.id, i.kind, i.started_at, i.resolved_at, \
           i.cause_kind, i.cause_message, i.cause_status_code, m.id, m.name, m.url \
    FROM notifications n JOIN channels c ON c.id = n.channel_id \
         JOIN events e ON e.id = n.event_id JOIN incidents i ON i.id = e.incident_id \
         JOIN monitors m ON m.id = i.monitor_id \
    WHERE n.id IN (SELECT value FROM json_each(?1)) ORDER BY e.at, n.id";

type ClaimRaw = (
    (i64, i64, i64),
    Raw,
    (i64, String, i64),
    (i64, String, i64, Option<i64>),
    (String, String, Option<i64>),
    (i64, String, String),
);

fn read_claim(row: &Row<'_>) -> rusqlite::Result<ClaimRaw> {
    Ok((
        (row.get(0)?, row.get(1)?, row.get(2)?),
        read(row, 3)?,
        (row.get(10)?, row.get(11)?, row.get(12)?),
        (row.get(13)?, row.get(14)?, row.get(15)?, row.get(16)?),
        (row.get(17)?, row.get(18)?, row.get(19)?),
        (row.get(20)?, row.get(21)?, row.get(22)?),
    ))
}

fn to_claimed(raw: ClaimRaw) -> Result<Claimed, StoreError> {
    let (
        (id, attempts, created),
        channel,
        (eid, ekind, eat),
        (iid, ikind, started, resolved),
        cause,
        monitor,
    ) = raw;
    ClaimRecord {
        id,
        attempts,
        created_at: from_millis(created)?,
        channel: record(channel)?,
        event: (eid, ekind, from_millis(eat)?),
        incident: (
            iid,
            ikind,
            from_millis(started)?,
            resolved.map(from_millis).transpose()?,
        ),
        cause,
        monitor,
    }
    .into_claimed()
}

#[async_trait]
impl OutboxStore for SqliteStore {
    async fn claim_notifications(
        &self,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
        limit: u32,
        busy: &[ChannelId],
    ) -> Result<Vec<Claimed>, StoreError> {
        let (now, until, busy) = (to_millis(now), to_millis(until), ids_json(busy));
        self.write(move |tx| {
            let ids: Vec<i64> = tx
                .prepare_cached(
                    "UPDATE notifications SET claimed_until = ?2 WHERE id IN ( \
                             SELECT id FROM notifications \
                             WHERE state = 'pending' AND next_attempt_at <= ?1 \
                               AND (claimed_until IS NULL OR claimed_until <= ?1) \
                               AND channel_id NOT IN (SELECT value FROM json_each(?4)) \
                             ORDER BY next_attempt_at, id LIMIT ?3) \
                         RETURNING id",
                )
                .and_then(|mut stmt| {
                    stmt.query_map((now, until, limit, &busy), |row| row.get(0))?
                        .collect()
                })
                .map_err(backend)?;
            if ids.is_empty() {
                return Ok(Vec::new());
            }
            let ids =
                serde_json::to_string(&ids).map_err(|e| StoreError::Backend(e.to_string()))?;
            let rows: Vec<ClaimRaw> = tx
                .prepare_cached(CLAIMED)
                .and_then(|mut stmt| stmt.query_map([&ids], read_claim)?.collect())
                .map_err(backend)?;
            let mut claimed = Vec::with_capacity(rows.len());
            for raw in rows {
                let id = raw.0.0;
                match to_claimed(raw) {
                    Ok(claim) => claimed.push(claim),
                    // A row that cannot be read would be claimed and fail forever, and
                    // hold up the rest of every batch: it is given up at once, saying why.
                    Err(error) => {
                        tx.execute(
                            "UPDATE notifications SET state = 'failed', \
                                     attempts = attempts + 1, last_error = ?2, \
                                     claimed_until = NULL WHERE id = ?1",
                            (id, error.to_string()),
                        )
                        .map_err(backend)?;
                    }
                }
            }
            Ok(claimed)
        })
        .await
    }

    async fn settle_notifications(&self, outcomes: &[(i64, Outcome)]) -> Result<(), StoreError> {
        let outcomes = outcomes.to_vec();
        self.write(move |tx| {
            for (id, outcome) in &outcomes {
                let (state, error, next, delivered) = match outcome {
                    Outcome::Delivered { at } => ("delivered", None, None, Some(to_millis(*at))),
                    Outcome::Retry { error, next } => (
                        "pending",
                        Some(error.as_str()),
                        Some(to_millis(*next)),
                        None,
                    ),
                    Outcome::Failed { error } => ("failed", Some(error.as_str()), None, None),
                };
                tx.prepare_cached(
                    "UPDATE notifications SET state = ?2, attempts = attempts + 1, \
                         last_error = COALESCE(?3, last_error), \
                         next_attempt_at = COALESCE(?4, next_attempt_at), \
                         delivered_at = ?5, claimed_until = NULL \
                     WHERE id = ?1 AND state = 'pending'",
                )
                .and_then(|mut stmt| {
                    stmt.execute(rusqlite::params![id, state, error, next, delivered])
                })
                .map_err(backend)?;
            }
            Ok(())
        })
        .await
    }
}
