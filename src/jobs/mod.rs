//! Background jobs that keep the store tidy. Each runs on a period in its own task and stops
//! with the process.

pub mod retention;
