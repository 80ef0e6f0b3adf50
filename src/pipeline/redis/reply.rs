//! Stream replies read straight from Redis values, field names and values as bytes, so an
//! entry someone else wrote (not UTF-8, odd shapes) becomes a corrupt entry to skip instead
//! of a reply that cannot be parsed and would stop the flusher.

use redis::Value;

/// One stream entry: its id and its fields in order.
#[derive(Debug, Default)]
pub(super) struct RawEntry {
    pub id: String,
    pub fields: Vec<(Vec<u8>, Vec<u8>)>,
}

fn text(value: Value) -> Option<String> {
    match value {
        Value::BulkString(bytes) => String::from_utf8(bytes).ok(),
        Value::SimpleString(text) => Some(text),
        Value::VerbatimString { text, .. } => Some(text),
        _ => None,
    }
}

fn bytes(value: Value) -> Vec<u8> {
    match value {
        Value::BulkString(bytes) => bytes,
        Value::SimpleString(text) | Value::VerbatimString { text, .. } => text.into_bytes(),
        Value::Int(n) => n.to_string().into_bytes(),
        _ => Vec::new(),
    }
}

fn items(value: Value) -> Vec<Value> {
    match value {
        Value::Array(items) | Value::Set(items) => items,
        Value::Map(pairs) => pairs.into_iter().flat_map(|(k, v)| [k, v]).collect(),
        _ => Vec::new(),
    }
}

/// `[id, [field, value, …]]`; the fields are empty for an entry deleted since delivery.
fn entry(value: Value) -> Option<RawEntry> {
    let mut parts = items(value).into_iter();
    let id = text(parts.next()?)?;
    let mut flat = parts.next().map(items).unwrap_or_default().into_iter();
    let mut fields = Vec::new();
    while let (Some(key), Some(value)) = (flat.next(), flat.next()) {
        fields.push((bytes(key), bytes(value)));
    }
    Some(RawEntry { id, fields })
}

fn entries(value: Value) -> Vec<RawEntry> {
    items(value).into_iter().filter_map(entry).collect()
}

/// The entries of an `XREADGROUP` reply for one stream (nil when there were none).
pub(super) fn read(value: Value) -> Vec<RawEntry> {
    match value {
        // RESP3 answers a map of stream → entries.
        Value::Map(pairs) => pairs
            .into_iter()
            .flat_map(|(_, found)| entries(found))
            .collect(),
        // RESP2: [[stream, entries]].
        other => items(other)
            .into_iter()
            .flat_map(|stream| items(stream).into_iter().nth(1).map(entries))
            .flatten()
            .collect(),
    }
}

/// An `XAUTOCLAIM` reply: the cursor to go on from and the entries claimed.
pub(super) fn claimed(value: Value) -> (String, Vec<RawEntry>) {
    let mut parts = items(value).into_iter();
    let cursor = parts.next().and_then(text).unwrap_or_else(|| "0-0".into());
    let claimed = parts.next().map(entries).unwrap_or_default();
    (cursor, claimed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bulk(s: &[u8]) -> Value {
        Value::BulkString(s.to_vec())
    }

    #[test]
    fn odd_entries_still_give_their_ids() {
        let reply = Value::Array(vec![Value::Array(vec![
            bulk(b"k"),
            Value::Array(vec![
                Value::Array(vec![
                    bulk(b"1-0"),
                    Value::Array(vec![bulk(b"\xff\xfe"), bulk(b"x")]),
                ]),
                Value::Array(vec![bulk(b"2-0"), Value::Nil]),
                Value::Array(vec![
                    bulk(b"3-0"),
                    Value::Array(vec![bulk(b"v"), bulk(b"1")]),
                ]),
            ]),
        ])]);
        let found = read(reply);
        let ids: Vec<&str> = found.iter().map(|e| e.id.as_str()).collect();
        assert_eq!(ids, ["1-0", "2-0", "3-0"]);
        assert_eq!(found[0].fields, vec![(b"\xff\xfe".to_vec(), b"x".to_vec())]);
        assert!(found[1].fields.is_empty());
        assert!(read(Value::Nil).is_empty());
    }

    #[test]
    fn autoclaim_gives_the_cursor_and_entries() {
        let reply = Value::Array(vec![
            bulk(b"5-0"),
            Value::Array(vec![Value::Array(vec![
                bulk(b"4-0"),
                Value::Array(vec![bulk(b"v"), bulk(b"1")]),
            ])]),
            Value::Array(vec![]),
        ]);
        let (cursor, found) = claimed(reply);
        assert_eq!(cursor, "5-0");
        assert_eq!(found.len(), 1);
    }
}
