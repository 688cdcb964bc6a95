//! Lenient field decoding shared by forms and the JSON API: one input type per use case
//! serves both faces, and a form sends every value as text (`""` for nothing, `"yes"` for a
//! ticked box) where the API sends numbers and booleans.

use serde::{Deserialize, Deserializer};

#[derive(Deserialize)]
#[serde(untagged)]
enum Raw {
    Int(i64),
    Bool(bool),
    Text(String),
    Null(()),
}

/// An optional id: a number, or text holding one; `""`, `null` or anything else is `None`
/// (the use case then says which field is missing).
///
/// # Errors
/// Never for well-formed JSON or form values.
pub fn opt_i64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    Ok(match Option::<Raw>::deserialize(d)? {
        Some(Raw::Int(n)) => Some(n),
        Some(Raw::Text(t)) => t.trim().parse().ok(),
        _ => None,
    })
}

/// An optional count of days: as [`opt_i64`], within `u32`.
///
/// # Errors
/// Never for well-formed JSON or form values.
pub fn opt_u32<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    Ok(opt_i64(d)?.and_then(|n| u32::try_from(n).ok()))
}

/// A yes/no: `true`, or a form's "yes" / "on" / "true" / "1".
///
/// # Errors
/// Never for well-formed JSON or form values.
pub fn flag<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    Ok(match Option::<Raw>::deserialize(d)? {
        Some(Raw::Bool(b)) => b,
        Some(Raw::Int(n)) => n != 0,
        Some(Raw::Text(t)) => matches!(t.trim(), "yes" | "on" | "true" | "1"),
        _ => false,
    })
}

#[cfg(test)]
mod tests {
    #[derive(serde::Deserialize, Debug, Default)]
    #[serde(default)]
    struct T {
        #[serde(deserialize_with = "super::opt_i64")]
        target: Option<i64>,
        #[serde(deserialize_with = "super::flag")]
        approved: bool,
    }

    #[test]
    fn both_faces() {
        let j: T = serde_json::from_str(r#"{"target": 12, "approved": true}"#).unwrap();
        assert_eq!((j.target, j.approved), (Some(12), true));
        let f: T = serde_json::from_str(r#"{"target": " 12 ", "approved": "yes"}"#).unwrap();
        assert_eq!((f.target, f.approved), (Some(12), true));
        let e: T = serde_json::from_str(r#"{"target": "", "approved": ""}"#).unwrap();
        assert_eq!((e.target, e.approved), (None, false));
        let n: T = serde_json::from_str(r#"{"target": null}"#).unwrap();
        assert_eq!(n.target, None);
    }
}
