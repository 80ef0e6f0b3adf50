//! Resolving the names checks connect to, on the check's own event loop. Through
//! `getaddrinfo` every check of a name went to tokio's blocking pool and back (a hand-off to
//! another thread and a wake-up per check) and read `/etc/hosts` and `/etc/resolv.conf`
//! again: at 100 checks/s a name cost 1.47 times the CPU of a literal address (issue 17).
//! Here an asynchronous stub resolver reads the system's configuration once (name servers,
//! search domains, `/etc/hosts`) and asks over UDP from the loop the check runs on.
//!
//! Answers are cached for their TTL, at most [`MAX_TTL`] (as an operating system's cache
//! would), and failures at most [`MAX_NEGATIVE_TTL`], so a record that changes or a name
//! that comes back is seen within a minute. Without a usable `/etc/resolv.conf` the
//! system resolver is used as before.

use std::fmt;
use std::net::SocketAddr;
use std::time::Duration;

use hickory_resolver::TokioResolver;

/// The longest a name's addresses are reused without asking again.
pub const MAX_TTL: Duration = Duration::from_secs(60);
/// The longest a failed lookup is remembered.
pub const MAX_NEGATIVE_TTL: Duration = Duration::from_secs(10);

/// How checks resolve names: the asynchronous resolver, or the system's as a fallback.
#[derive(Clone)]
pub struct Names {
    resolver: Option<TokioResolver>,
}

impl fmt::Debug for Names {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let how = if self.resolver.is_some() {
            "async stub resolver"
        } else {
            "getaddrinfo"
        };
        f.debug_struct("Names").field("via", &how).finish()
    }
}

impl Names {
    /// The resolver the system's configuration describes; the system resolver when that
    /// configuration cannot be read (said once in the log).
    pub fn system() -> Self {
        let built = TokioResolver::builder_tokio().and_then(|mut builder| {
            let options = builder.options_mut();
            options.positive_max_ttl = Some(MAX_TTL);
            options.negative_max_ttl = Some(MAX_NEGATIVE_TTL);
            builder.build()
        });
        match built {
            Ok(resolver) => Self {
                resolver: Some(resolver),
            },
            Err(error) => {
                tracing::warn!(
                    %error,
                    "cannot read the system's DNS configuration; checks resolve names \
                     through getaddrinfo"
                );
                Self { resolver: None }
            }
        }
    }

    /// The addresses of `name` with `port`, in the resolver's order; the error says why
    /// there are none.
    pub async fn lookup(&self, name: &str, port: u16) -> Result<Vec<SocketAddr>, String> {
        let Some(resolver) = &self.resolver else {
            return tokio::net::lookup_host((name, port))
                .await
                .map(|found| found.collect())
                .map_err(|error| error.to_string());
        };
        match resolver.lookup_ip(name).await {
            Ok(found) => Ok(found.iter().map(|ip| SocketAddr::new(ip, port)).collect()),
            Err(error) if error.is_nx_domain() => Err("no such name (NXDOMAIN)".to_owned()),
            Err(error) if error.is_no_records_found() => {
                Err("no address records for that name".to_owned())
            }
            Err(error) => Err(error.to_string()),
        }
    }
}
