//! Black-box tests of the HTTP API: each test starts tocsin on a random port with a fresh
//! SQLite database and drives it over real HTTP. Compiled as one binary, so it links once.

mod accounts;
mod api_keys;
mod as_code;
mod auth;
mod backup;
mod binary;
mod certificates;
mod channels;
mod checks;
mod cluster;
mod deliveries;
#[path = "../support/dns.rs"]
mod dns;
mod document_channels;
mod documents;
mod email;
mod errors;
mod health;
mod helpers;
mod in_flight;
mod incidents;
mod kinds;
mod limits;
mod monitor_rules;
mod monitors;
mod names;
mod notify_cluster;
mod overload;
mod paging;
#[path = "../support/pki.rs"]
mod pki;
mod production;
#[path = "../support/proxy.rs"]
mod proxy;
mod readme_alerts;
mod readme_status;
mod receiver;
mod redis_durability;
#[path = "../support/redis_servers.rs"]
mod redis_servers;
mod results;
mod seed;
#[path = "../support/services.rs"]
mod services;
mod shutdown;
mod slow_claims;
#[path = "../support/smtp.rs"]
mod smtp;
#[path = "../support/sqlite_store.rs"]
mod sqlite_store;
mod status_incidents;
mod status_pages;
mod target;
mod web;
mod web_keys;
mod web_pages;
