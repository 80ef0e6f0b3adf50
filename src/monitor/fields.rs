//! The small value types of a monitor: its HTTP method, expected status codes and headers.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use http::{HeaderName, HeaderValue};

use super::MonitorError;

/// The HTTP methods a check may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Method {
    /// `GET`, the default.
    #[default]
    Get,
    /// `HEAD`
    Head,
    /// `POST`
    Post,
    /// `PUT`
    Put,
    /// `PATCH`
    Patch,
    /// `DELETE`
    Delete,
    /// `OPTIONS`
    Options,
}

impl Method {
    /// Every method, in the order the docs list them.
    pub const ALL: [Method; 7] = [
        Self::Get,
        Self::Head,
        Self::Post,
        Self::Put,
        Self::Patch,
        Self::Delete,
        Self::Options,
    ];

    /// The method's name in upper case, as sent on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Get => "GET",
            Self::Head => "HEAD",
            Self::Post => "POST",
            Self::Put => "PUT",
            Self::Patch => "PATCH",
            Self::Delete => "DELETE",
            Self::Options => "OPTIONS",
        }
    }
}

impl FromStr for Method {
    type Err = MonitorError;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|m| m.as_str().eq_ignore_ascii_case(raw.trim()))
            .ok_or_else(|| {
                MonitorError::invalid(
                    "method",
                    format!("`{raw}` is not supported: use one of GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS"),
                )
            })
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The status codes that count as up, e.g. `200-399` or `200,204,301-302`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusRanges(Vec<(u16, u16)>);

impl StatusRanges {
    /// The default: any success or redirect.
    pub const DEFAULT: &'static str = "200-399";
    const MAX_PARTS: usize = 32;

    /// Whether `code` is one of the expected codes.
    pub fn contains(&self, code: u16) -> bool {
        self.0.iter().any(|&(lo, hi)| (lo..=hi).contains(&code))
    }
}

impl Default for StatusRanges {
    fn default() -> Self {
        Self(vec![(200, 399)])
    }
}

impl FromStr for StatusRanges {
    type Err = MonitorError;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        let invalid = |why: String| MonitorError::invalid("expected_status", why);
        let code = |part: &str| -> Result<u16, MonitorError> {
            part.trim()
                .parse::<u16>()
                .ok()
                .filter(|c| (100..=599).contains(c))
                .ok_or_else(|| {
                    invalid(format!("`{part}` is not a status code between 100 and 599"))
                })
        };
        let mut ranges = Vec::new();
        for part in raw.split(',') {
            let range = match part.split_once('-') {
                Some((lo, hi)) => (code(lo)?, code(hi)?),
                None => {
                    let c = code(part)?;
                    (c, c)
                }
            };
            if range.0 > range.1 {
                return Err(invalid(format!("range `{}` runs backwards", part.trim())));
            }
            ranges.push(range);
        }
        if ranges.len() > Self::MAX_PARTS {
            return Err(invalid(format!(
                "at most {} codes or ranges",
                Self::MAX_PARTS
            )));
        }
        Ok(Self(ranges))
    }
}

impl fmt::Display for StatusRanges {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, &(lo, hi)) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            if lo == hi {
                write!(f, "{lo}")?;
            } else {
                write!(f, "{lo}-{hi}")?;
            }
        }
        Ok(())
    }
}

/// Extra request headers, names lower-cased; framing and hop-by-hop headers are the probe's.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Headers(BTreeMap<String, String>);

impl Headers {
    const MAX_COUNT: usize = 32;
    const MAX_VALUE_LEN: usize = 4096;
    const RESERVED: [&'static str; 8] = [
        "connection",
        "content-length",
        "keep-alive",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    ];

    /// Validates every name and value.
    pub fn parse(raw: BTreeMap<String, String>) -> Result<Self, MonitorError> {
        let invalid = |why: String| MonitorError::invalid("headers", why);
        if raw.len() > Self::MAX_COUNT {
            return Err(invalid(format!("at most {} headers", Self::MAX_COUNT)));
        }
        let mut headers = BTreeMap::new();
        for (name, value) in raw {
            let parsed = HeaderName::from_bytes(name.trim().as_bytes())
                .map_err(|_| invalid(format!("`{name}` is not a valid header name")))?;
            if Self::RESERVED.contains(&parsed.as_str()) {
                return Err(invalid(format!(
                    "`{name}` is set by tocsin itself and cannot be overridden"
                )));
            }
            // `HeaderValue` also takes bytes above 0x7f, which servers read as Latin-1 or refuse.
            let visible = value
                .bytes()
                .all(|b| b == b'\t' || (0x20..0x7f).contains(&b));
            if value.len() > Self::MAX_VALUE_LEN
                || !visible
                || HeaderValue::from_str(&value).is_err()
            {
                return Err(invalid(format!(
                    "the value of `{name}` must be visible ASCII without line breaks, at most {} bytes",
                    Self::MAX_VALUE_LEN
                )));
            }
            if headers.insert(parsed.as_str().to_owned(), value).is_some() {
                return Err(invalid(format!("`{name}` is given twice")));
            }
        }
        Ok(Self(headers))
    }

    /// The headers, names in lower case.
    pub fn as_map(&self) -> &BTreeMap<String, String> {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn methods_parse_in_any_case() {
        assert_eq!("get".parse::<Method>().ok(), Some(Method::Get));
        assert_eq!(" Options ".parse::<Method>().ok(), Some(Method::Options));
        let err = "TRACE"
            .parse::<Method>()
            .expect_err("unsupported")
            .to_string();
        assert!(err.starts_with("method:") && err.contains("TRACE"), "{err}");
    }

    #[test]
    fn status_ranges_parse_match_and_print() {
        let r: StatusRanges = "200-299, 301 ,404".parse().expect("valid");
        assert!(r.contains(200) && r.contains(299) && r.contains(301) && r.contains(404));
        assert!(!r.contains(300) && !r.contains(500));
        assert_eq!(r.to_string(), "200-299,301,404");
        assert_eq!(StatusRanges::default().to_string(), StatusRanges::DEFAULT);
    }

    #[test]
    fn status_ranges_name_the_bad_part() {
        let err = |raw: &str| raw.parse::<StatusRanges>().expect_err(raw).to_string();
        assert!(err("200-abc").contains("`abc`"));
        assert!(err("99").contains("between 100 and 599"));
        assert!(err("399-200").contains("backwards"));
        assert!(err("").starts_with("expected_status:"));
    }

    #[test]
    fn headers_are_checked_and_lowercased() {
        let map = |pairs: &[(&str, &str)]| {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<BTreeMap<_, _>>()
        };
        let ok =
            Headers::parse(map(&[("X-Token", "abc"), ("Accept", "text/html")])).expect("valid");
        assert_eq!(ok.as_map().get("x-token").map(String::as_str), Some("abc"));
        let err =
            |pairs: &[(&str, &str)]| Headers::parse(map(pairs)).expect_err("invalid").to_string();
        assert!(err(&[("Bad Name", "x")]).contains("not a valid header name"));
        assert!(err(&[("X-A", "line\r\nbreak")]).contains("line breaks"));
        assert!(err(&[("X-A", "caf\u{e9}")]).contains("visible ASCII"));
        assert!(err(&[("Content-Length", "5")]).contains("set by tocsin"));
        assert!(err(&[("X-A", "1"), ("x-a", "2")]).contains("twice"));
    }
}
