//! One HTTP(S) check of a monitor, with timing phases and the address guard.
//!
//! STUB: the probe helper replaces this file; the signatures below are the contract.

use std::sync::Arc;

use rustls::pki_types::CertificateDer;

use crate::check::CheckResult;
use crate::monitor::MonitorSpec;

/// How the probe behaves, from the settings.
#[derive(Debug, Clone, Default)]
pub struct ProbeOptions {
    /// Whether loopback, private and link-local addresses may be reached.
    pub allow_private: bool,
    /// Certificate authorities trusted besides the built-in web roots (tests use this).
    pub extra_roots: Vec<CertificateDer<'static>>,
}

/// Runs checks; cheap to clone and share between tasks.
#[derive(Debug, Clone)]
pub struct Probe {
    options: Arc<ProbeOptions>,
}

impl Probe {
    /// A probe with these options.
    pub fn new(options: ProbeOptions) -> Self {
        Self {
            options: Arc::new(options),
        }
    }

    /// Checks `spec` once, within its timeout; never fails: every failure is in the result.
    pub async fn check(&self, spec: &MonitorSpec) -> CheckResult {
        let _ = (&self.options, spec);
        unimplemented!("probe stub")
    }
}
