//! SQL for the `users` table.

use super::SqliteStore;
use crate::store::AccountStore;
use async_trait::async_trait;

use chrono::Utc;
use rusqlite::{Connection, ErrorCode, Row, Transaction};

use super::{backend, optional, query_row};
use crate::auth::{Email, UserId};
use crate::store::{StoreError, User, UserCredentials, from_millis, to_millis};

pub(super) fn insert(tx: &Transaction<'_>, email: Email, hash: &str) -> Result<User, StoreError> {
    let now = to_millis(Utc::now());
    let inserted = tx.query_row(
        "INSERT INTO users (email, password_hash, created_at) VALUES (?1, ?2, ?3) RETURNING id",
        (email.as_str(), hash, now),
        |row| row.get::<_, i64>(0),
    );
    match inserted {
        Ok(id) => Ok(User {
            id: UserId(id),
            email,
            created_at: from_millis(now)?,
        }),
        Err(e) if e.sqlite_error_code() == Some(ErrorCode::ConstraintViolation) => {
            Err(StoreError::Conflict("email"))
        }
        Err(e) => Err(backend(e)),
    }
}

pub(super) fn credentials(
    conn: &Connection,
    email: Email,
) -> Result<Option<UserCredentials>, StoreError> {
    let row = optional(query_row(
        conn,
        "SELECT id, created_at, password_hash FROM users WHERE email = ?1",
        [email.as_str()],
        |row: &Row<'_>| {
            Ok((
                row.get::<_, i64>(0)?,
                row.get::<_, i64>(1)?,
                row.get::<_, String>(2)?,
            ))
        },
    ))?;
    row.map(|(id, created_at, password_hash)| {
        Ok(UserCredentials {
            user: User {
                id: UserId(id),
                email,
                created_at: from_millis(created_at)?,
            },
            password_hash,
        })
    })
    .transpose()
}

#[async_trait]
impl AccountStore for SqliteStore {
    async fn create_user(&self, email: &Email, password_hash: &str) -> Result<User, StoreError> {
        let (email, hash) = (email.clone(), password_hash.to_owned());
        self.write(move |tx| insert(tx, email, &hash)).await
    }

    async fn user_credentials(&self, email: &Email) -> Result<Option<UserCredentials>, StoreError> {
        let email = email.clone();
        self.run(move |conn| credentials(conn, email.clone())).await
    }
}
