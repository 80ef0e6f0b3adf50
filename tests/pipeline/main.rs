//! The Redis result buffer against a real Redis and the real batch writer and SQLite store:
//! results reach Redis at once and the store after the flush interval, survive a crashed
//! writer and a Redis outage, stay bounded locally, and drain on close.

mod app;
mod helpers;
#[path = "../support/proxy.rs"]
mod proxy;
mod redis_buffer;
mod redis_outage;
#[path = "../support/services.rs"]
mod services;
