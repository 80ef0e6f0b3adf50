//! Certificate expiry end to end: an https monitor whose certificate expires within
//! `cert_expiry_days` opens a `certificate` incident with one `certificate_expiring` event
//! carrying the expiry, and a renewed certificate resolves it. The certificates are made by
//! the test and served by a local TLS server whose certificate can be swapped.

use std::convert::Infallible;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use bytes::Bytes;
use chrono::{Datelike, TimeDelta, Utc};
use http_body_util::Full;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

use crate::checks::{engine_app, eventually};
use crate::helpers::TestApp;
use crate::incidents::add_channel;
use crate::pki::{Ca, Leaf};

/// An HTTPS server on 127.0.0.1 answering 200 to everything with the current certificate.
struct TlsServer {
    addr: std::net::SocketAddr,
    config: Arc<RwLock<Arc<rustls::ServerConfig>>>,
}

fn server_config(leaf: &Leaf) -> Arc<rustls::ServerConfig> {
    let chain = vec![CertificateDer::from_pem_slice(leaf.cert.as_bytes()).expect("cert PEM")];
    let key = PrivateKeyDer::from_pem_slice(leaf.key.as_bytes()).expect("key PEM");
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("protocols")
    .with_no_client_auth()
    .with_single_cert(chain, key)
    .expect("server config");
    Arc::new(config)
}

impl TlsServer {
    async fn start(leaf: &Leaf) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("binds");
        let addr = listener.local_addr().expect("address");
        let config = Arc::new(RwLock::new(server_config(leaf)));
        let current = config.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let acceptor = TlsAcceptor::from(current.read().expect("config").clone());
                tokio::spawn(async move {
                    let Ok(stream) = acceptor.accept(stream).await else {
                        return;
                    };
                    let service = service_fn(|_| async {
                        Ok::<_, Infallible>(hyper::Response::new(Full::new(Bytes::from(
                            "hello tocsin",
                        ))))
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Self { addr, config }
    }

    /// Presents `leaf` to connections from now on.
    fn renew(&self, leaf: &Leaf) {
        *self.config.write().expect("config") = server_config(leaf);
    }
}

/// `days` from today, as the date a certificate expires at the start of.
fn in_days(days: i64) -> (i32, u8, u8) {
    let day = (Utc::now() + TimeDelta::days(days)).date_naive();
    (day.year(), day.month() as u8, day.day() as u8)
}

async fn incidents(app: &TestApp, token: &str, id: i64) -> Vec<Value> {
    let page: Value = app
        .get(&format!("/api/v1/monitors/{id}/incidents"), token)
        .await
        .json()
        .await
        .expect("JSON");
    page["incidents"].as_array().expect("incidents").clone()
}

#[tokio::test]
async fn an_expiring_certificate_opens_an_incident_that_a_renewed_one_resolves() {
    let ca = Ca::new("tocsin expiry test CA");
    let expiring = ca.server_until(&["127.0.0.1"], in_days(3));
    let server = TlsServer::start(&expiring).await;
    let app = engine_app().await;
    let token = app.new_user().await;
    let channel = add_channel(&app, &token).await;
    let m = app
        .create_monitor(
            &token,
            json!({"url": format!("https://{}/", server.addr), "interval_seconds": 1,
                   "tls_ca_pem": ca.pem(), "cert_expiry_days": 14,
                   "channel_ids": [channel]}),
        )
        .await;
    let id = m["id"].as_i64().expect("id");

    let opened = eventually(
        Duration::from_secs(15),
        "a certificate incident",
        || async {
            let found = incidents(&app, &token, id).await;
            (!found.is_empty()).then_some(found)
        },
    )
    .await;
    assert_eq!(opened.len(), 1, "only the certificate incident: {opened:?}");
    let incident = &opened[0];
    assert_eq!(incident["kind"], "certificate");
    assert_eq!(incident["resolved_at"], Value::Null);
    assert_eq!(incident["cause"]["kind"], "certificate");
    let (y, mo, d) = in_days(3);
    let expiry = format!("{y:04}-{mo:02}-{d:02}T00:00:00.000Z");
    assert_eq!(incident["cert_expires_at"], expiry);
    assert!(
        incident["cause"]["message"]
            .as_str()
            .is_some_and(|m| m.contains(&expiry[..10])),
        "the message says the date: {incident}"
    );
    let events: Vec<&Value> = incident["notifications"]
        .as_array()
        .expect("notifications")
        .iter()
        .map(|n| &n["event"])
        .collect();
    assert_eq!(events, vec!["certificate_expiring"]);

    // A few more checks of the same certificate change nothing.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(incidents(&app, &token, id).await.len(), 1);

    server.renew(&ca.server_until(&["127.0.0.1"], in_days(90)));
    let resolved = eventually(Duration::from_secs(15), "the incident resolved", || async {
        let found = incidents(&app, &token, id).await;
        (found.len() == 1 && !found[0]["resolved_at"].is_null()).then_some(found)
    })
    .await;
    let events = resolved[0]["notifications"]
        .as_array()
        .expect("notifications");
    assert_eq!(events.len(), 1, "a renewal notifies nobody: {events:?}");
    let monitor: Value = app
        .get(&format!("/api/v1/monitors/{id}"), &token)
        .await
        .json()
        .await
        .expect("JSON");
    assert_eq!(monitor["state"], "up");
}
