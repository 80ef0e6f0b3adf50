//! SQL for the `channels` table and the outbox (`notifications`). A claim takes the due
//! rows `FOR UPDATE SKIP LOCKED`, so instances claiming at once split them rather than
//! wait, and sets `claimed_until`, a lease that lapses if the claimer dies.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde_json::Value;
use tokio_postgres::Row;

use super::connect::{bigint, get, pg};
use super::{PostgresStore, millis, settle};
use crate::alerting::ChannelId;
use crate::alerting::channels::{Channel, ChannelConfig};
use crate::auth::UserId;
use crate::store::channel_rows::{ChannelRecord, ClaimRecord};
use crate::store::{ChannelStore, Claimed, OutboxStore, Outcome, StoreError};

const COLUMNS: &str = "id, user_id, name, kind, config, created_at, updated_at";

fn record(row: &Row, at: usize) -> Result<ChannelRecord, StoreError> {
    Ok(ChannelRecord {
        id: get(row, at)?,
        owner: get(row, at + 1)?,
        name: get(row, at + 2)?,
        kind: get(row, at + 3)?,
        config: get::<Value>(row, at + 4)?,
        created_at: get(row, at + 5)?,
        updated_at: get(row, at + 6)?,
    })
}

fn to_channel(row: &Row) -> Result<Channel, StoreError> {
    record(row, 0)?.into_channel()
}

/// A unique-name violation as the conflict it is.
fn named(error: tokio_postgres::Error) -> StoreError {
    match pg(error) {
        StoreError::Conflict(_) => StoreError::Conflict("channel name"),
        other => other,
    }
}

async fn query_channels(
    client: &deadpool_postgres::Object,
    sql: &str,
    params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
) -> Result<Vec<Channel>, StoreError> {
    let stmt = client.prepare_cached(sql).await.map_err(pg)?;
    let rows = client.query(&stmt, params).await.map_err(named)?;
    rows.iter().map(to_channel).collect()
}

#[async_trait]
impl ChannelStore for PostgresStore {
    async fn create_channel(
        &self,
        owner: UserId,
        name: &str,
        config: &ChannelConfig,
    ) -> Result<Channel, StoreError> {
        let client = self.client().await?;
        let now = millis(Utc::now());
        let sql = format!(
            "INSERT INTO channels (user_id, name, kind, config, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $5) RETURNING {COLUMNS}"
        );
        let (kind, json) = (config.kind().as_str(), config.to_stored());
        let result = query_channels(&client, &sql, &[&owner.0, &name, &kind, &json, &now])
            .await
            .and_then(|mut rows| {
                rows.pop()
                    .ok_or_else(|| StoreError::Backend("no row".into()))
            });
        settle(client, result)
    }

    async fn list_channels(&self, owner: UserId) -> Result<Vec<Channel>, StoreError> {
        let client = self.client().await?;
        let sql = format!("SELECT {COLUMNS} FROM channels WHERE user_id = $1 ORDER BY id");
        let result = query_channels(&client, &sql, &[&owner.0]).await;
        settle(client, result)
    }

    async fn get_channel(
        &self,
        owner: UserId,
        id: ChannelId,
    ) -> Result<Option<Channel>, StoreError> {
        let client = self.client().await?;
        let sql = format!("SELECT {COLUMNS} FROM channels WHERE id = $1 AND user_id = $2");
        let result = query_channels(&client, &sql, &[&id.0, &owner.0])
            .await
            .map(|mut rows| rows.pop());
        settle(client, result)
    }

    async fn update_channel(
        &self,
        owner: UserId,
        id: ChannelId,
        name: &str,
        config: &ChannelConfig,
    ) -> Result<Option<Channel>, StoreError> {
        let client = self.client().await?;
        let now = millis(Utc::now());
        let sql = format!(
            "UPDATE channels SET name = $3, config = $4, updated_at = $5 \
             WHERE id = $1 AND user_id = $2 RETURNING {COLUMNS}"
        );
        let json = config.to_stored();
        let result = query_channels(&client, &sql, &[&id.0, &owner.0, &name, &json, &now])
            .await
            .map(|mut rows| rows.pop());
        settle(client, result)
    }

    async fn delete_channel(&self, owner: UserId, id: ChannelId) -> Result<bool, StoreError> {
        let mut client = self.client().await?;
        let result = async {
            let tx = client.transaction().await.map_err(pg)?;
            let gone = tx
                .execute(
                    "DELETE FROM channels WHERE id = $1 AND user_id = $2",
                    &[&id.0, &owner.0],
                )
                .await
                .map_err(pg)?;
            if gone == 0 {
                return Ok(false);
            }
            tx.execute(
                "UPDATE monitors SET channel_ids = array_remove(channel_ids, $2) \
                 WHERE user_id = $1 AND $2 = ANY (channel_ids)",
                &[&owner.0, &id.0],
            )
            .await
            .map_err(pg)?;
            tx.commit().await.map_err(pg)?;
            Ok(true)
        }
        .await;
        settle(client, result)
    }

    async fn foreign_channels(
        &self,
        owner: UserId,
        ids: &[ChannelId],
    ) -> Result<Vec<ChannelId>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<i64> = ids.iter().map(|c| c.0).collect();
        let client = self.client().await?;
        let result = async {
            let stmt = client
                .prepare_cached(
                    "SELECT id FROM unnest($1::bigint[]) AS wanted (id) \
                     WHERE NOT EXISTS (SELECT 1 FROM channels c \
                                       WHERE c.id = wanted.id AND c.user_id = $2) \
                     ORDER BY id",
                )
                .await
                .map_err(pg)?;
            let rows = client.query(&stmt, &[&ids, &owner.0]).await.map_err(pg)?;
            rows.iter()
                .map(|row| get::<i64>(row, 0).map(ChannelId))
                .collect()
        }
        .await;
        settle(client, result)
    }
}

const CLAIM: &str = "\
    WITH claimed AS ( \
        UPDATE notifications SET claimed_until = $2 WHERE id IN ( \
            SELECT id FROM notifications \
            WHERE state = 'pending' AND next_attempt_at <= $1 \
              AND (claimed_until IS NULL OR claimed_until <= $1) \
              AND NOT (channel_id = ANY ($4::bigint[])) \
            ORDER BY next_attempt_at, id LIMIT $3 \
            FOR UPDATE SKIP LOCKED) \
        RETURNING id, attempts, created_at, channel_id, event_id) \
    SELECT n.id, n.attempts, n.created_at, \
           c.id, c.user_id, c.name, c.kind, c.config, c.created_at, c.updated_at, \
           e.id, e.kind, e.at, i.id, i.kind, i.started_at, i.resolved_at, \
           i.cause_kind, i.cause_message, i.cause_status_code, m.id, m.name, m.url \
    FROM claimed n JOIN channels c ON c.id = n.channel_id \
         JOIN events e ON e.id = n.event_id JOIN incidents i ON i.id = e.incident_id \
         JOIN monitors m ON m.id = i.monitor_id \
    ORDER BY e.at, n.id";

fn to_claimed(row: &Row) -> Result<Claimed, StoreError> {
    ClaimRecord {
        id: get(row, 0)?,
        attempts: i64::from(get::<i32>(row, 1)?),
        created_at: get(row, 2)?,
        channel: record(row, 3)?,
        event: (get(row, 10)?, get(row, 11)?, get(row, 12)?),
        incident: (get(row, 13)?, get(row, 14)?, get(row, 15)?, get(row, 16)?),
        cause: (
            get(row, 17)?,
            get(row, 18)?,
            get::<Option<i32>>(row, 19)?.map(i64::from),
        ),
        monitor: (get(row, 20)?, get(row, 21)?, get(row, 22)?),
    }
    .into_claimed()
}

#[async_trait]
impl OutboxStore for PostgresStore {
    async fn claim_notifications(
        &self,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
        limit: u32,
        busy: &[ChannelId],
    ) -> Result<Vec<Claimed>, StoreError> {
        let busy: Vec<i64> = busy.iter().map(|c| c.0).collect();
        let client = self.client().await?;
        let result = async {
            let stmt = client.prepare_cached(CLAIM).await.map_err(pg)?;
            let rows = client
                .query(&stmt, &[&now, &until, &bigint(limit), &busy])
                .await
                .map_err(pg)?;
            let mut claimed = Vec::with_capacity(rows.len());
            for row in &rows {
                match to_claimed(row) {
                    Ok(claim) => claimed.push(claim),
                    // A row that cannot be read would be claimed and fail forever, and hold
                    // up the rest of every batch: it is given up at once, saying why.
                    Err(error) => {
                        let id: i64 = get(row, 0)?;
                        client
                            .execute(
                                "UPDATE notifications SET state = 'failed', \
                                     attempts = attempts + 1, last_error = $2, \
                                     claimed_until = NULL WHERE id = $1",
                                &[&id, &error.to_string()],
                            )
                            .await
                            .map_err(pg)?;
                    }
                }
            }
            Ok(claimed)
        }
        .await;
        settle(client, result)
    }

    async fn settle_notifications(&self, outcomes: &[(i64, Outcome)]) -> Result<(), StoreError> {
        let mut client = self.client().await?;
        let result = async {
            let tx = client.transaction().await.map_err(pg)?;
            let stmt = tx
                .prepare_cached(
                    "UPDATE notifications SET state = $2, attempts = attempts + 1, \
                         last_error = COALESCE($3, last_error), \
                         next_attempt_at = COALESCE($4, next_attempt_at), \
                         delivered_at = $5, claimed_until = NULL \
                     WHERE id = $1 AND state = 'pending'",
                )
                .await
                .map_err(pg)?;
            for (id, outcome) in outcomes {
                let (state, error, next, delivered) = match outcome {
                    Outcome::Delivered { at } => ("delivered", None, None, Some(*at)),
                    Outcome::Retry { error, next } => {
                        ("pending", Some(error.as_str()), Some(*next), None)
                    }
                    Outcome::Failed { error } => ("failed", Some(error.as_str()), None, None),
                };
                tx.execute(&stmt, &[id, &state, &error, &next, &delivered])
                    .await
                    .map_err(pg)?;
            }
            tx.commit().await.map_err(pg)
        }
        .await;
        settle(client, result)
    }
}
