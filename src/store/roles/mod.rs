//! The store's roles: one trait per concern, each implemented by both backends, so a caller
//! names (and imports) only the part of the store it uses, and a new concern adds a trait
//! rather than growing one long one. [`super::Store`] is every role at once.

mod accounts;
mod api_keys;
mod apply;
mod channels;
mod cluster;
mod incidents;
mod lifecycle;
mod maintenance;
mod monitors;
mod pages;
mod results;
mod retention;
mod scheduling;
mod sessions;
mod status_pages;

pub use accounts::{Account, AccountStore, User, UserCredentials};
pub use api_keys::{ApiKey, ApiKeyStore, NewApiKey};
pub use apply::{Applied, ApplyStore, Changes};
pub use channels::{ChannelStore, Claimed, OutboxStore, Outcome};
pub use cluster::{ClusterStore, Heartbeat};
pub use incidents::{IncidentStore, Reminder};
pub use lifecycle::{LifecycleStore, MonitorChange};
pub use maintenance::MaintenanceStore;
pub use monitors::MonitorStore;
pub use pages::MonitorPageStore;
pub use results::{HourLatency, ResultStore, StoredResult, Tally, WindowData, Written};
pub use retention::RetentionStore;
pub use scheduling::{Claim, ClaimBatch, ScheduleStore};
pub use sessions::{LiveSession, NewSession, SessionStore};
pub use status_pages::{
    DayCounts, PUBLIC_INCIDENTS, PublicIncident, PublicSnapshot, StatusPageStore,
};
