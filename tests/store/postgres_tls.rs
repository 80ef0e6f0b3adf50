//! TLS to PostgreSQL, against private clusters with `ssl = on` and a CA made in the test:
//! `require` encrypts, `verify-full` connects with the right CA and host name and refuses a
//! wrong name or an unknown CA saying so, `verify-ca` ignores the name, client certificates
//! log in where `pg_hba.conf` asks for them, and a multi-host URL fails over under TLS.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use tocsin::store::{PostgresStore, StoreError};

use crate::pg_cluster::PgCluster;
use crate::pki::{Ca, write};
use crate::results::owned_monitor;
use crate::suite::S;

/// Certificates for the `certuser` role, TLS for everyone else, and no plain connection
/// over TCP at all: a store that connects at all connected encrypted.
const HBA: &str = "\
local all all trust
hostssl all certuser 127.0.0.1/32 cert
hostssl all all 127.0.0.1/32 trust
hostnossl all all 127.0.0.1/32 reject
";

/// A cluster serving a certificate for `localhost` signed by `ca`.
fn tls_cluster(ca: &Ca, extra_conf: &str) -> Option<PgCluster> {
    let server = ca.server(&["localhost"]);
    PgCluster::start(
        &format!(
            "ssl = on\nssl_cert_file = 'server.crt'\nssl_key_file = 'server.key'\n\
             ssl_ca_file = 'ca.crt'\n{extra_conf}"
        ),
        HBA,
        &[
            ("server.crt", server.cert.as_bytes()),
            ("server.key", server.key.as_bytes()),
            ("ca.crt", ca.pem().as_bytes()),
        ],
    )
}

async fn open(url: &str) -> Result<PostgresStore, StoreError> {
    tokio::time::timeout(Duration::from_secs(30), PostgresStore::open(url))
        .await
        .expect("answers within the connect timeouts")
}

fn message(result: Result<PostgresStore, StoreError>) -> String {
    match result {
        Ok(_) => panic!("connected where it had to be refused"),
        Err(error) => error.to_string(),
    }
}

fn q(path: &Path) -> String {
    path.display().to_string()
}

#[tokio::test]
async fn sslmodes_verify_what_they_promise_against_a_tls_server() {
    let ca = Ca::new("tocsin test CA");
    let Some(cluster) = tls_cluster(&ca, "") else {
        return;
    };
    let files = tempfile::TempDir::new().expect("temp dir");
    let ca_file = write(files.path(), "ca.pem", &ca.pem());
    let stranger = write(files.path(), "other-ca.pem", &Ca::new("someone else").pem());
    let port = cluster.port;
    let url =
        |host: &str, query: &str| format!("postgres://postgres@{host}:{port}/postgres?{query}");

    // Plain TCP is refused by pg_hba.conf, so each of these connected over TLS.
    let refused = message(open(&url("localhost", "sslmode=disable")).await);
    assert!(refused.contains("no encryption"), "{refused}");
    for query in [
        "sslmode=prefer".to_owned(),
        "sslmode=require".to_owned(),
        format!("sslmode=verify-full&sslrootcert={}", q(&ca_file)),
    ] {
        let store: S = Arc::new(open(&url("localhost", &query)).await.expect(&query));
        store.migrate().await.expect("migrates over TLS");
        store.ping().await.expect("answers");
    }

    // The certificate names `localhost`, not the address.
    let wrong_name = message(
        open(&url(
            "127.0.0.1",
            &format!("sslmode=verify-full&sslrootcert={}", q(&ca_file)),
        ))
        .await,
    );
    assert!(
        wrong_name.contains("not valid for host name `127.0.0.1`"),
        "{wrong_name}"
    );
    // verify-ca checks the chain only, so the same address is fine.
    open(&url(
        "127.0.0.1",
        &format!("sslmode=verify-ca&sslrootcert={}", q(&ca_file)),
    ))
    .await
    .expect("verify-ca ignores the host name");

    for mode in ["verify-full", "verify-ca", "require"] {
        let unknown = message(
            open(&url(
                "localhost",
                &format!("sslmode={mode}&sslrootcert={}", q(&stranger)),
            ))
            .await,
        );
        assert!(
            unknown.contains("unknown certificate authority"),
            "{mode}: {unknown}"
        );
    }

    let missing = message(
        open(&url(
            "localhost",
            "sslmode=verify-full&sslrootcert=/nonexistent/ca.pem",
        ))
        .await,
    );
    assert!(missing.contains("/nonexistent/ca.pem"), "{missing}");
}

#[tokio::test]
async fn client_certificates_log_in_where_the_server_asks_for_them() {
    let ca = Ca::new("tocsin test CA");
    let Some(cluster) = tls_cluster(&ca, "") else {
        return;
    };
    cluster
        .execute("CREATE ROLE certuser LOGIN SUPERUSER")
        .await;
    let files = tempfile::TempDir::new().expect("temp dir");
    let ca_file = write(files.path(), "ca.pem", &ca.pem());
    let client = ca.client("certuser");
    let cert = write(files.path(), "client.crt", &client.cert);
    let key = write(files.path(), "client.key", &client.key);
    let base = format!(
        "postgres://certuser@localhost:{}/postgres?sslmode=verify-full&sslrootcert={}",
        cluster.port,
        q(&ca_file)
    );

    let without = message(open(&base).await);
    assert!(without.contains("certificate"), "{without}");

    let store: S = Arc::new(
        open(&format!("{base}&sslcert={}&sslkey={}", q(&cert), q(&key)))
            .await
            .expect("logs in with its certificate"),
    );
    store.migrate().await.expect("migrates");
    owned_monitor(&store, "cert").await;

    // A certificate for another user is not this user's.
    let other = ca.client("someoneelse");
    let other_cert = write(files.path(), "other.crt", &other.cert);
    let other_key = write(files.path(), "other.key", &other.key);
    let refused = message(
        open(&format!(
            "{base}&sslcert={}&sslkey={}",
            q(&other_cert),
            q(&other_key)
        ))
        .await,
    );
    assert!(refused.contains("certificate"), "{refused}");
}

#[tokio::test]
async fn a_multi_host_url_fails_over_under_verify_full() {
    let ca = Ca::new("tocsin test CA");
    // `standby` refuses writes until it is "promoted"; target_session_attrs skips it.
    let Some(standby) = tls_cluster(&ca, "default_transaction_read_only = on") else {
        return;
    };
    let Some(primary) = tls_cluster(&ca, "") else {
        return;
    };
    let files = tempfile::TempDir::new().expect("temp dir");
    let ca_file = write(files.path(), "ca.pem", &ca.pem());
    let url = format!(
        "postgres://postgres@localhost:{},localhost:{}/postgres?target_session_attrs=read-write\
         &sslmode=verify-full&sslrootcert={}&connect_timeout=2",
        standby.port,
        primary.port,
        q(&ca_file)
    );
    let store: S = Arc::new(open(&url).await.expect("opens on the writable host"));
    store.migrate().await.expect("migrates on the primary");
    owned_monitor(&store, "before").await;

    primary.stop();
    standby
        .execute("ALTER SYSTEM SET default_transaction_read_only = off")
        .await;
    standby.execute("SELECT pg_reload_conf()").await;

    // The pool drops the dead primary's connections and connects to the promoted host.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        match store.migrate().await {
            Ok(()) => break,
            Err(error) => {
                assert!(
                    tokio::time::Instant::now() < deadline,
                    "no failover within 30 s: {error}\n{}",
                    standby.log()
                );
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    }
    owned_monitor(&store, "after").await;
}
