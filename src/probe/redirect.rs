//! Redirects: where the next hop goes, and which headers may go with it.
//!
//! Headers a user configured for a URL (a token, an API key, a cookie, a proxy credential,
//! or anything else) belong to that URL's origin: a redirect elsewhere must not carry them,
//! whichever name they have, since only the user knows which of them are secret. Every
//! outgoing request that follows redirects with user-set headers (the probe, and alert
//! webhooks) goes through [`UserHeaders`].

use url::Url;

use crate::check::{Failure, FailureKind};

/// Whether the headers a user set may still be sent: true until a redirect leaves the
/// origin they were configured for, and false from then on, even if a later hop comes back
/// (that hop was chosen by the other origin).
#[derive(Debug, Clone, Copy)]
pub struct UserHeaders<'a> {
    first: &'a Url,
    left_origin: bool,
}

impl<'a> UserHeaders<'a> {
    /// For a chain of requests that starts at `first`, the URL the headers were set for.
    pub fn for_url(first: &'a Url) -> Self {
        Self {
            first,
            left_origin: false,
        }
    }

    /// Notes a redirect to `next`; the origin is only compared here, since working it out
    /// allocates and most checks never redirect.
    pub fn follow(&mut self, next: &Url) {
        self.left_origin |= next.origin() != self.first.origin();
    }

    /// Whether the user's headers go with the current hop.
    pub fn allowed(&self) -> bool {
        !self.left_origin
    }
}

/// The URL a `Location` leads to from `current`, if it is an http(s) URL with a host.
pub fn next_url(current: &Url, location: &str) -> Result<Url, Failure> {
    let unusable = |why: String| {
        Failure::new(
            FailureKind::Status,
            format!("{current} redirects to `{location}`, {why}."),
        )
    };
    let next = current
        .join(location)
        .map_err(|e| unusable(format!("which is not a valid URL: {e}")))?;
    if !matches!(next.scheme(), "http" | "https") {
        return Err(unusable(format!(
            "whose scheme {} is not http or https",
            next.scheme()
        )));
    }
    if next.host_str().is_none_or(str::is_empty) {
        return Err(unusable("which has no host".to_owned()));
    }
    Ok(next)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(raw: &str) -> Url {
        Url::parse(raw).expect("test URL")
    }

    #[test]
    fn user_headers_stop_at_the_first_other_origin() {
        let first = url("https://api.example.com/health");
        let mut headers = UserHeaders::for_url(&first);
        assert!(headers.allowed());
        headers.follow(&url("https://api.example.com/v2/health"));
        assert!(headers.allowed(), "same origin");
        for other in [
            "http://api.example.com/health",
            "https://api.example.com:8443/",
            "https://cdn.example.com/",
        ] {
            let mut hop = headers;
            hop.follow(&url(other));
            assert!(!hop.allowed(), "{other}");
            hop.follow(&first);
            assert!(!hop.allowed(), "coming back does not restore them");
        }
    }
}
