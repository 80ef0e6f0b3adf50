//! The binary tells an operator when its Redis persists nothing: a warning at start and
//! `persistence` in `/readyz` (status `degraded`), and nothing of the kind with AOF on.

use serde_json::Value;

use crate::binary::Server;
use crate::redis_servers::RedisLab;

async fn readyz(addr: &str) -> Value {
    reqwest::get(format!("http://{addr}/readyz"))
        .await
        .expect("answers")
        .json()
        .await
        .expect("JSON")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_without_persistence_is_warned_about_and_shown_in_readyz() {
    let Some(lab) = RedisLab::new() else { return };
    for (args, persistence, status) in [
        (&["--appendonly", "no"][..], "none", "degraded"),
        (&["--appendonly", "yes"][..], "aof", "ready"),
    ] {
        let redis = lab.server(args);
        let url = format!("redis://127.0.0.1:{}", redis.port);
        let server = tokio::task::block_in_place(|| {
            Server::start(&[
                ("TOCSIN_REDIS_URL", &url),
                ("TOCSIN_REDIS_PREFIX", "durability"),
            ])
        });
        let ready = readyz(&server.addr).await;
        assert_eq!(ready["buffer"]["persistence"], persistence, "{ready}");
        assert_eq!(ready["status"], status, "{ready}");
        let (output, _dir) = tokio::task::block_in_place(|| server.stop());
        let log = String::from_utf8_lossy(&output.stderr);
        assert_eq!(
            log.contains("persists nothing"),
            persistence == "none",
            "{persistence}: {log}"
        );
        if persistence == "none" {
            let detail = ready["detail"].as_str().expect("a detail");
            assert!(detail.contains("persists nothing"), "{detail}");
        }
    }
}
