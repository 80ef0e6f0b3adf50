//! Background jobs: heartbeats, following other instances' monitor changes, and keeping the
//! store tidy, and reminding channels of incidents still open. Each runs on a period in its own
//! task and stops with the process; those that must not overlap across instances run only
//! while they hold their lease in the store.

pub mod changes;
pub mod heartbeat;
pub mod notify;
pub mod reminders;
pub mod retention;
