//! The Redis result buffer against a real Redis and the real batch writer and SQLite store:
//! results reach Redis at once and the store after the flush interval, survive a crashed
//! writer and a Redis outage, stay bounded locally, and drain on close.

mod app;
mod durability;
mod helpers;
#[path = "../support/pki.rs"]
mod pki;
#[path = "../support/proxy.rs"]
mod proxy;
mod redis_buffer;
mod redis_outage;
#[path = "../support/redis_servers.rs"]
mod redis_servers;
mod sentinel;
#[path = "../support/services.rs"]
mod services;
#[path = "../support/sqlite_store.rs"]
mod sqlite_store;
mod writer_batches;
