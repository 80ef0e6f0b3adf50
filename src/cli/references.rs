//! `${VAR}` references in a document's `channels`: `tocsin apply` replaces each with the
//! value of that environment variable before sending, so secrets live in the environment,
//! not in the file. The server stores no reference; a missing variable stops the apply.

use serde_json::Value;

/// `text` with every `${VAR}` in its `channels` section's texts replaced by `lookup(VAR)`,
/// sent as JSON when any was (a YAML text would need its quoting redone); the text as it is
/// when it has none, or does not parse (the server then says where it is wrong). Fails
/// naming the variable and the channel when `lookup` has no value.
pub fn resolve(text: &str, lookup: impl Fn(&str) -> Option<String>) -> Result<String, String> {
    if !text.contains("${") {
        return Ok(text.to_owned());
    }
    let parsed: Option<Value> = if text.trim_start().starts_with('{') {
        serde_json::from_str(text).ok()
    } else {
        serde_norway::from_str(text).ok()
    };
    let Some(mut document) = parsed else {
        return Ok(text.to_owned());
    };
    let mut replaced = false;
    if let Some(Value::Object(channels)) = document.get_mut("channels") {
        for (channel, entry) in channels.iter_mut() {
            replace(entry, &lookup, &mut replaced).map_err(|variable| {
                format!(
                    "channel `{channel}`: the environment variable `{variable}` it refers to \
                     (`${{{variable}}}`) is not set"
                )
            })?;
        }
    }
    if !replaced {
        return Ok(text.to_owned());
    }
    serde_json::to_string(&document).map_err(|e| format!("cannot write the document: {e}"))
}

/// Replaces the references under `value`; fails with the first variable without a value.
fn replace(
    value: &mut Value,
    lookup: &impl Fn(&str) -> Option<String>,
    replaced: &mut bool,
) -> Result<(), String> {
    match value {
        Value::String(text) => {
            let mut out = String::new();
            let mut rest = text.as_str();
            while let Some(start) = rest.find("${") {
                let after = &rest[start + 2..];
                let Some(end) = after.find('}').filter(|&end| is_name(&after[..end])) else {
                    out.push_str(&rest[..start + 2]);
                    rest = after;
                    continue;
                };
                let name = &after[..end];
                let found = lookup(name).ok_or_else(|| name.to_owned())?;
                out.push_str(&rest[..start]);
                out.push_str(&found);
                rest = &after[end + 1..];
                *replaced = true;
            }
            out.push_str(rest);
            *text = out;
        }
        Value::Object(map) => {
            for inner in map.values_mut() {
                replace(inner, lookup, replaced)?;
            }
        }
        Value::Array(items) => {
            for inner in items {
                replace(inner, lookup, replaced)?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// An environment variable's name: a letter or `_`, then letters, digits and `_`.
fn is_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = "\
channels:
  ops:
    kind: webhook
    url: https://hooks.example.com/in
    secret: ${OPS_SECRET}
monitors:
  api:
    url: https://api.example.com
    channels: [ops]
";

    #[test]
    fn references_in_channels_take_the_environment_s_values() {
        let sent = resolve(DOC, |name| {
            (name == "OPS_SECRET").then(|| "s3cr: \"et".into())
        })
        .expect("resolved");
        let value: Value = serde_json::from_str(&sent).expect("JSON");
        assert_eq!(value["channels"]["ops"]["secret"], "s3cr: \"et");
        assert_eq!(value["monitors"]["api"]["channels"][0], "ops");
    }

    #[test]
    fn a_missing_variable_names_itself_and_the_channel() {
        let error = resolve(DOC, |_| None).expect_err("refused");
        assert!(error.contains("`OPS_SECRET`"), "{error}");
        assert!(error.contains("channel `ops`"), "{error}");
    }

    #[test]
    fn a_document_without_references_is_sent_as_written() {
        let plain = DOC.replace("${OPS_SECRET}", "plain");
        assert_eq!(resolve(&plain, |_| None).as_deref(), Ok(plain.as_str()));
    }
}
