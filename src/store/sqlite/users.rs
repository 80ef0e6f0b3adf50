//! SQL for the `users` table.

use super::SqliteStore;
use crate::store::AccountStore;
use async_trait::async_trait;

use chrono::Utc;
use rusqlite::{Connection, ErrorCode, Row, Transaction};

use super::{backend, optional, query_row};
use crate::auth::{Email, UserId};
use crate::monitor::MonitorId;
use crate::store::{Account, StoreError, User, UserCredentials, from_millis, to_millis};

/// Inserts an account; the first account of the database is its administrator.
fn insert(tx: &Transaction<'_>, email: Email, hash: &str) -> Result<User, StoreError> {
    let now = to_millis(Utc::now());
    let inserted = tx.query_row(
        "INSERT INTO users (email, password_hash, created_at, admin) \
         VALUES (?1, ?2, ?3, NOT EXISTS (SELECT 1 FROM users)) RETURNING id, admin",
        (email.as_str(), hash, now),
        |row| Ok((row.get::<_, i64>(0)?, row.get::<_, bool>(1)?)),
    );
    match inserted {
        Ok((id, admin)) => Ok(User {
            id: UserId(id),
            email,
            created_at: from_millis(now)?,
            admin,
        }),
        Err(e) if e.sqlite_error_code() == Some(ErrorCode::ConstraintViolation) => {
            Err(StoreError::Conflict("email"))
        }
        Err(e) => Err(backend(e)),
    }
}

fn any_user(tx: &Transaction<'_>) -> Result<bool, StoreError> {
    tx.query_row("SELECT EXISTS (SELECT 1 FROM users)", [], |row| row.get(0))
        .map_err(backend)
}

const USER_COLUMNS: &str = "id, email, created_at, admin, token_generation";

fn read_account(row: &Row<'_>) -> rusqlite::Result<(i64, String, i64, bool, i64)> {
    Ok((
        row.get(0)?,
        row.get(1)?,
        row.get(2)?,
        row.get(3)?,
        row.get(4)?,
    ))
}

pub(super) fn to_account(
    (id, email, created_at, admin, token_generation): (i64, String, i64, bool, i64),
) -> Result<Account, StoreError> {
    Ok(Account {
        user: User {
            id: UserId(id),
            email: Email::parse(&email).map_err(|e| StoreError::Corrupt(e.to_string()))?,
            created_at: from_millis(created_at)?,
            admin,
        },
        token_generation,
    })
}

fn credentials(conn: &Connection, email: Email) -> Result<Option<UserCredentials>, StoreError> {
    let row = optional(query_row(
        conn,
        "SELECT id, created_at, password_hash, admin FROM users WHERE email = ?1",
        [email.as_str()],
        |row: &Row<'_>| {
            Ok((
                row.get::<_, i64>(0)?,
                row.get::<_, i64>(1)?,
                row.get::<_, String>(2)?,
                row.get::<_, bool>(3)?,
            ))
        },
    ))?;
    row.map(|(id, created_at, password_hash, admin)| {
        Ok(UserCredentials {
            user: User {
                id: UserId(id),
                email,
                created_at: from_millis(created_at)?,
                admin,
            },
            password_hash,
        })
    })
    .transpose()
}

/// Deletes the account; its monitors go with it and, by `ON DELETE CASCADE`, everything
/// that refers to them or to the account.
fn delete(tx: &Transaction<'_>, id: UserId) -> Result<Option<Vec<MonitorId>>, StoreError> {
    let monitors = tx
        .prepare_cached("SELECT id FROM monitors WHERE user_id = ?1")
        .and_then(|mut stmt| {
            stmt.query_map([id.0], |row| row.get::<_, i64>(0))?
                .map(|id| id.map(MonitorId))
                .collect::<rusqlite::Result<Vec<_>>>()
        })
        .map_err(backend)?;
    let deleted = tx
        .execute("DELETE FROM users WHERE id = ?1", [id.0])
        .map_err(backend)?;
    Ok((deleted > 0).then_some(monitors))
}

#[async_trait]
impl AccountStore for SqliteStore {
    async fn create_user(&self, email: &Email, password_hash: &str) -> Result<User, StoreError> {
        let (email, hash) = (email.clone(), password_hash.to_owned());
        self.write(move |tx| insert(tx, email, &hash)).await
    }

    async fn create_first_user(
        &self,
        email: &Email,
        password_hash: &str,
    ) -> Result<Option<User>, StoreError> {
        let (email, hash) = (email.clone(), password_hash.to_owned());
        // Writes take turns, so no other account can appear between the two statements.
        self.write(move |tx| {
            if any_user(tx)? {
                return Ok(None);
            }
            insert(tx, email, &hash).map(Some)
        })
        .await
    }

    async fn user_credentials(&self, email: &Email) -> Result<Option<UserCredentials>, StoreError> {
        let email = email.clone();
        self.run(move |conn| credentials(conn, email.clone())).await
    }

    async fn account(&self, id: UserId) -> Result<Option<Account>, StoreError> {
        self.run(move |conn| {
            let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = ?1");
            optional(query_row(conn, &sql, [id.0], read_account))?
                .map(to_account)
                .transpose()
        })
        .await
    }

    async fn change_password(&self, id: UserId, hash: &str) -> Result<Option<i64>, StoreError> {
        let hash = hash.to_owned();
        self.write(move |tx| {
            optional(tx.query_row(
                "UPDATE users SET password_hash = ?2, token_generation = token_generation + 1 \
                 WHERE id = ?1 RETURNING token_generation",
                (id.0, &hash),
                |row| row.get::<_, i64>(0),
            ))
        })
        .await
    }

    async fn delete_user(&self, id: UserId) -> Result<Option<Vec<MonitorId>>, StoreError> {
        self.write(move |tx| delete(tx, id)).await
    }
}
