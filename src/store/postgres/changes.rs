//! Monitor changes across instances. The statements that edit, pause, resume or delete a
//! monitor, and results writes that change a monitor's state, also `pg_notify` on [`CHANNEL`] with `"<origin>:<owner>:<monitor>"`, in their own
//! transaction, so PostgreSQL delivers the notification when (and only if) they commit.
//! One dedicated connection per store `LISTEN`s and forwards what other stores sent (the
//! origin is a random number per store): a process announces its own changes itself, and
//! hearing them back would apply them twice. Nothing is sent or polled while nothing changes.
//!
//! The listening connection is not from the pool: it has to stay open and be read from all
//! the time. When it is lost (a failover, a restart) it is opened again with the store's own
//! connection settings, so a multi-host URL with `target_session_attrs=read-write` finds the
//! new primary; notifications are only delivered on the server they were sent on. A change
//! committed while it is reconnecting is not reported.

use std::future::poll_fn;
use std::sync::Arc;
use std::time::Duration;

use super::tls::{Connector, Tls};
use tokio::sync::mpsc;
use tokio_postgres::{AsyncMessage, Client, Config, Connection, Socket};

use crate::auth::UserId;
use crate::monitor::MonitorId;
use crate::store::MonitorChange;

/// The notification channel (one per database; instances on other databases never hear it).
pub(super) const CHANNEL: &str = "tocsin_monitor_changes";

/// The first wait before reconnecting; it doubles up to [`MAX_RETRY`] while attempts fail.
const FIRST_RETRY: Duration = Duration::from_millis(250);
/// The longest wait between attempts: a failover takes seconds, and changes are missed
/// until the connection is back.
const MAX_RETRY: Duration = Duration::from_secs(5);
/// Changes waiting for the follower; a full queue holds back reading the connection (the
/// server queues them meanwhile), it loses nothing.
const QUEUE: usize = 256;

/// The payload a change by the store `origin` is sent with, the inverse of [`parse`], as
/// SQL over a row of `monitors` (or a CTE returning its columns) named `row`. The origin is
/// written into the statement (a number, so nothing to escape); a store's statements keep
/// one text, so the statement cache still serves them.
pub(super) fn notify_sql(row: &str, origin: u64) -> String {
    format!("pg_notify('{CHANNEL}', '{origin}:' || {row}.user_id::text || ':' || {row}.id::text)")
}

/// Starts listening in a task of its own, which ends when the receiver is dropped; changes
/// sent by `origin` (the listening store itself) are not reported.
pub(super) fn spawn(
    config: Arc<Config>,
    tls: Connector,
    origin: u64,
) -> mpsc::Receiver<MonitorChange> {
    let (sender, receiver) = mpsc::channel(QUEUE);
    tokio::spawn(listen(config, tls, origin, sender));
    receiver
}

/// Why a listening connection ended.
enum Ended {
    /// Nobody reads the changes any more.
    Stopped,
    /// The connection failed or could not be opened.
    Lost(String),
}

/// Keeps one listening connection open until the receiver is dropped. A lost connection is
/// logged once at warn; the attempts that follow only at debug until one succeeds.
async fn listen(
    config: Arc<Config>,
    tls: Connector,
    origin: u64,
    sender: mpsc::Sender<MonitorChange>,
) {
    let mut retry = FIRST_RETRY;
    let mut lost = false;
    loop {
        let opened = tokio::select! {
            () = sender.closed() => return,
            opened = subscribe(&config, tls.clone()) => opened,
        };
        let ended = match opened {
            Ok((client, connection)) => {
                if lost {
                    tracing::info!("listening for monitor changes again");
                }
                lost = false;
                retry = FIRST_RETRY;
                forward(client, connection, origin, &sender).await
            }
            Err(error) => Ended::Lost(error),
        };
        match ended {
            Ended::Stopped => return,
            Ended::Lost(error) if !lost => {
                lost = true;
                tracing::warn!(
                    %error,
                    "not listening for monitor changes from other instances; reconnecting \
                     (changes made meanwhile reach checks this instance already claimed late)"
                );
            }
            Ended::Lost(error) => {
                tracing::debug!(%error, ?retry, "still cannot listen for monitor changes");
            }
        }
        tokio::select! {
            () = sender.closed() => return,
            () = tokio::time::sleep(retry) => {}
        }
        retry = (retry * 2).min(MAX_RETRY);
    }
}

/// Opens a connection and `LISTEN`s on it.
async fn subscribe(
    config: &Config,
    tls: Connector,
) -> Result<(Client, Connection<Socket, Tls<Socket>>), String> {
    let (client, mut connection) = config.connect(tls).await.map_err(|e| e.to_string())?;
    let sql = format!("LISTEN {CHANNEL}");
    {
        // The connection has to be driven for LISTEN to be answered.
        let listen = client.batch_execute(&sql);
        tokio::pin!(listen);
        loop {
            tokio::select! {
                done = &mut listen => {
                    done.map_err(|e| e.to_string())?;
                    break;
                }
                message = poll_fn(|cx| connection.poll_message(cx)) => match message {
                    Some(Ok(_)) => {}
                    Some(Err(error)) => return Err(error.to_string()),
                    None => return Err("the server closed the connection".into()),
                },
            }
        }
    }
    Ok((client, connection))
}

/// Forwards notifications until the connection fails or the receiver is dropped.
async fn forward(
    client: Client,
    mut connection: Connection<Socket, Tls<Socket>>,
    origin: u64,
    sender: &mpsc::Sender<MonitorChange>,
) -> Ended {
    // Held, not used: dropping the client would end the session.
    let _client = client;
    loop {
        let message = tokio::select! {
            () = sender.closed() => return Ended::Stopped,
            message = poll_fn(|cx| connection.poll_message(cx)) => message,
        };
        match message {
            Some(Ok(AsyncMessage::Notification(notification))) => {
                match parse(notification.payload()) {
                    Some((from, _)) if from == origin => {}
                    Some((_, change)) => {
                        if sender.send(change).await.is_err() {
                            return Ended::Stopped;
                        }
                    }
                    None => tracing::warn!(
                        payload = notification.payload(),
                        "ignoring a malformed monitor change notification"
                    ),
                }
            }
            // Notices, e.g. a warning before an administrator's shutdown.
            Some(Ok(_)) => {}
            Some(Err(error)) => return Ended::Lost(error.to_string()),
            None => return Ended::Lost("the server closed the connection".into()),
        }
    }
}

/// `"<origin>:<owner>:<monitor>"`, as [`notify_sql`] writes it.
fn parse(payload: &str) -> Option<(u64, MonitorChange)> {
    let (origin, rest) = payload.split_once(':')?;
    let (owner, id) = rest.split_once(':')?;
    let change = MonitorChange {
        owner: UserId(owner.parse().ok()?),
        id: MonitorId(id.parse().ok()?),
    };
    Some((origin.parse().ok()?, change))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_parse_back_to_changes() {
        assert_eq!(
            parse("9:7:42"),
            Some((
                9,
                MonitorChange {
                    owner: UserId(7),
                    id: MonitorId(42)
                }
            ))
        );
        for bad in [
            "", "7", "7:42", "9:7:", "9::42", "9:7:x", "9:7:42:1", "a:b:c", "x:7:42",
        ] {
            assert_eq!(parse(bad), None, "{bad:?}");
        }
    }
}
