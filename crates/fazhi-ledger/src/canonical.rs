//! Canonical JSON: object keys sorted by their UTF-8 bytes, no insignificant whitespace,
//! numbers and strings as serde_json writes them. The leaf bytes of an entry must not
//! depend on map ordering or on which serde_json features another crate turned on.

use serde_json::Value;

/// The canonical text of a JSON value.
pub fn to_string(v: &Value) -> String {
    let mut out = String::new();
    write(v, &mut out);
    out
}

fn write(v: &Value, out: &mut String) {
    match v {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(k.clone()).to_string());
                out.push(':');
                write(&map[k], out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write(item, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keys_sorted_at_every_depth() {
        let v = json!({"b": 1, "a": {"z": [3, {"y": "中", "x": null}], "c": true}});
        assert_eq!(to_string(&v), r#"{"a":{"c":true,"z":[3,{"x":null,"y":"中"}]},"b":1}"#);
    }

    #[test]
    fn strings_are_escaped() {
        assert_eq!(to_string(&json!({"k": "a\"b\n"})), r#"{"k":"a\"b\n"}"#);
    }
}
