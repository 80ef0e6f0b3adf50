//! tocsin: a self-hosted HTTP endpoint monitoring service.
//!
//! The modules follow the data's one-way flow (see `DESIGN.md` in the shared folder):
//! [`config`] → [`app`] wiring → [`api`] over [`store`], with the domain rules in
//! [`auth`] and [`monitor`], and logging in [`telemetry`].

pub mod alerting;
pub mod api;
pub mod app;
pub mod auth;
pub mod check;
pub mod cli;
pub mod config;
pub mod document;
pub mod jobs;
pub mod monitor;
pub mod pipeline;
pub mod probe;
pub mod public;
pub mod scheduler;
pub mod service;
pub mod store;
pub mod telemetry;
pub mod time;
pub mod web;
