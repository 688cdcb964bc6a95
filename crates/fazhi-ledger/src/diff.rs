//! The canonical change of a ledger entry, derived from what was saved rather than written
//! by hand: [`diff`] of a record's stored fields before and after, plus the step's payload.
//!
//! Shape of an entry's change (`change_json`):
//!
//! ```text
//! { "fields": { "state": ["registered", "accepted"], "accepted_on": [null, "2026-03-04"] },
//!   "payload": { … what the step said beyond the fields: a reason, a target's name … } }
//! ```
//!
//! `fields` holds exactly the fields whose value changed, as `[before, after]`; a record's
//! first entry has `before = null` for every field, so folding a record's entries in order
//! ([`fold`]) gives the value of every field the ledger vouches for, which `ledger verify`
//! compares with the stored row.

use serde_json::{Map, Value};

/// The key of the changed fields in an entry's change.
pub const FIELDS: &str = "fields";
/// The key of the step's payload in an entry's change.
pub const PAYLOAD: &str = "payload";

/// `{"field": [before, after], …}` for every top-level field whose value differs between two
/// JSON objects (a missing field counts as `null`). A record's first entry (`before` is
/// `None`) lists EVERY field, null ones too, so the ledger vouches for every column from the
/// start. Fields are in key order.
pub fn diff(before: Option<&Value>, after: &Value) -> Map<String, Value> {
    if before.is_none() {
        let a = after.as_object().cloned().unwrap_or_default();
        let mut keys: Vec<&String> = a.keys().collect();
        keys.sort();
        return keys.into_iter().map(|k| (k.clone(), Value::Array(vec![Value::Null, a[k].clone()]))).collect();
    }
    let empty = Map::new();
    let b = before.and_then(Value::as_object).unwrap_or(&empty);
    let a = after.as_object().unwrap_or(&empty);
    let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
    keys.sort();
    keys.dedup();
    let mut out = Map::new();
    for k in keys {
        let old = b.get(k).unwrap_or(&Value::Null);
        let new = a.get(k).unwrap_or(&Value::Null);
        if old != new {
            out.insert(k.clone(), Value::Array(vec![old.clone(), new.clone()]));
        }
    }
    out
}

/// The change of an entry: the field diff and the payload (`payload` omitted when null).
pub fn change(fields: Map<String, Value>, payload: Value) -> Value {
    let mut m = Map::new();
    m.insert(FIELDS.into(), Value::Object(fields));
    if !payload.is_null() {
        m.insert(PAYLOAD.into(), payload);
    }
    Value::Object(m)
}

/// Applies one entry's change to the field values known so far: every `[before, after]` of
/// its `fields` sets the field to `after`. Changes without `fields` (entries written before
/// the diff format, or by kernel actions such as clocks) leave the state as it is.
pub fn fold(state: &mut Map<String, Value>, change: &Value) {
    if let Some(fields) = change.get(FIELDS).and_then(Value::as_object) {
        for (k, v) in fields {
            if let Some(after) = v.as_array().and_then(|pair| pair.get(1)) {
                state.insert(k.clone(), after.clone());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn diff_fold_roundtrip() {
        let v1 = json!({"state": "registered", "reply_text": "", "n": 1});
        let v2 = json!({"state": "replied", "reply_text": "经核实", "n": 1});
        let first = diff(None, &v1);
        assert_eq!(first.len(), 3);
        assert_eq!(diff(None, &json!({"a": null}))["a"], json!([null, null]), "null fields are vouched for too");
        assert_eq!(first["state"], json!([null, "registered"]));
        let second = diff(Some(&v1), &v2);
        assert_eq!(
            Value::Object(second.clone()),
            json!({"reply_text": ["", "经核实"], "state": ["registered", "replied"]})
        );
        let mut state = Map::new();
        fold(&mut state, &change(first, Value::Null));
        fold(&mut state, &change(second, json!({"reason": "x"})));
        assert_eq!(Value::Object(state), v2);
        assert!(diff(Some(&v2), &v2).is_empty());
        assert_eq!(change(Map::new(), Value::Null), json!({"fields": {}}));
        let mut s = Map::new();
        fold(&mut s, &json!({"clock_id": 3}));
        assert!(s.is_empty(), "kernel entries carry no fields");
    }
}
