//! The use cases, in one place that every transport calls: the JSON API, the web pages and
//! the command line parse their input, call a service here and present the answer. A
//! service checks the rules, talks to the store and announces what happened on the
//! [`EventBus`], which the scheduler, the change feed, alerting and live pages follow; so no
//! handler has to remember to tell anyone.

mod accounts;
pub mod api_keys;
pub mod channels;
mod default_names;
mod document_channels;
pub mod documents;
mod error;
pub mod events;
pub mod incidents;
pub mod maintenance;
pub mod monitors;
pub mod sessions;
mod status_pages;

pub use accounts::{Accounts, Caller};
pub use channels::{ChannelDraft, Channels, TestOutcome};
pub use document_channels::ChannelPlan;
pub use error::ServiceError;
pub use events::{Event, EventBus};
pub use incidents::{IncidentPage, Incidents};
pub use maintenance::Maintenance;
pub use monitors::{Monitors, ResultPage};
pub use sessions::{OpenedSession, Sessions};
pub use status_pages::StatusPages;
