//! The JSON path after `[BODY]`, as Gatus writes it: `.key`, `[index]`, in any sequence
//! (`[BODY].data[0].id`, `[BODY][1].name`, `[BODY].matrix[0][2]`).

use std::fmt;

use serde_json::Value as Json;

use super::ConditionError;

/// One step of a path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// An object's member.
    Key(String),
    /// An array's element, from 0.
    Index(usize),
}

/// A path into a JSON document; empty means the whole body.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JsonPath(pub(super) Vec<Step>);

impl JsonPath {
    /// Parses the text after `[BODY]`; `offset` is its position in the condition, in bytes,
    /// so errors point at the right column of the whole condition.
    pub(super) fn parse(
        text: &str,
        condition: &str,
        offset: usize,
    ) -> Result<Self, ConditionError> {
        let at = |i: usize, reason: String| ConditionError {
            column: super::parse::column(condition, offset + i),
            reason,
        };
        let mut steps = Vec::new();
        let bytes = text.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'.' => {
                    let start = i + 1;
                    let end = text[start..]
                        .find(['.', '['])
                        .map_or(text.len(), |n| start + n);
                    let key = &text[start..end];
                    if key.is_empty() {
                        return Err(at(i, "a `.` must be followed by a key name".into()));
                    }
                    if let Some(bad) = key.find(']') {
                        return Err(at(start + bad, format!("`]` without `[` in key `{key}`")));
                    }
                    steps.push(Step::Key(key.to_owned()));
                    i = end;
                }
                b'[' => {
                    let Some(close) = text[i..].find(']') else {
                        return Err(at(i, "`[` is not closed with `]`".into()));
                    };
                    let inner = &text[i + 1..i + close];
                    let index = inner
                        .parse::<usize>()
                        .ok()
                        .filter(|_| inner.bytes().all(|b| b.is_ascii_digit()))
                        .ok_or_else(|| {
                            at(
                                i + 1,
                                format!("`{inner}` is not an array index (a whole number from 0)"),
                            )
                        })?;
                    steps.push(Step::Index(index));
                    i += close + 1;
                }
                _ => {
                    return Err(at(
                        i,
                        "expected `.key` or `[index]` after [BODY] (e.g. [BODY].data[0].id)".into(),
                    ));
                }
            }
        }
        Ok(Self(steps))
    }

    /// Whether the path is empty, i.e. names the whole body.
    pub fn is_root(&self) -> bool {
        self.0.is_empty()
    }

    /// The value at this path in `document`, or why there is none.
    pub(super) fn find<'a>(&self, document: &'a Json) -> Result<&'a Json, String> {
        let mut here = document;
        for (n, step) in self.0.iter().enumerate() {
            let next = match (step, here) {
                (Step::Key(key), Json::Object(map)) => map.get(key),
                (Step::Index(index), Json::Array(items)) => items.get(*index),
                (_, other) => {
                    let walked = JsonPath(self.0[..n].to_vec());
                    return Err(format!(
                        "[BODY]{walked} is {}, not {}",
                        describe(other),
                        match step {
                            Step::Key(_) => "an object",
                            Step::Index(_) => "an array",
                        }
                    ));
                }
            };
            here = next.ok_or_else(|| match step {
                Step::Key(key) => format!("there is no key `{key}`"),
                Step::Index(index) => format!("there is no element {index}"),
            })?;
        }
        Ok(here)
    }
}

impl fmt::Display for JsonPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for step in &self.0 {
            match step {
                Step::Key(key) => write!(f, ".{key}")?,
                Step::Index(index) => write!(f, "[{index}]")?,
            }
        }
        Ok(())
    }
}

/// A JSON value's type, for messages.
fn describe(value: &Json) -> &'static str {
    match value {
        Json::Null => "null",
        Json::Bool(_) => "a boolean",
        Json::Number(_) => "a number",
        Json::String(_) => "a string",
        Json::Array(_) => "an array",
        Json::Object(_) => "an object",
    }
}
