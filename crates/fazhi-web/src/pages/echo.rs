//! A refused step form, sent back as it was typed: a record page holds several step forms
//! whose fields share names (`date`, `reason` …). After a refusal the form that was sent
//! comes back open, with every value the person typed, and the errors on its own fields —
//! never on the other forms' fields of the same name, and no form loses what was typed.

use fazhi_domain::FieldErrors;
use serde_json::{Map, Value};

/// What the refused form sent (`action` and its fields) and its errors; [`Echo::none`] on a
/// page shown fresh.
#[derive(Debug, Default)]
pub struct Echo {
    action: String,
    values: Map<String, Value>,
    errors: FieldErrors,
    empty: FieldErrors,
}

impl Echo {
    /// Nothing was refused.
    pub fn none() -> Self {
        Self::default()
    }

    /// The form `action` sent `input` (any serializable step input) and was refused with
    /// `errors`.
    pub fn new<T: serde::Serialize>(action: &str, input: &T, errors: FieldErrors) -> Self {
        let values = match serde_json::to_value(input) {
            Ok(Value::Object(m)) => m,
            _ => Map::new(),
        };
        Self { action: action.to_owned(), values, errors, empty: FieldErrors::new() }
    }

    /// Every error (the page's summary at the top).
    pub fn all(&self) -> &FieldErrors {
        &self.errors
    }

    /// Whether `action` is the form that was sent (it is shown open).
    pub fn is(&self, action: &str) -> bool {
        !self.action.is_empty() && self.action == action
    }

    /// The errors of form `action`: the refusal's when it was sent, else none.
    pub fn errors(&self, action: &str) -> &FieldErrors {
        if self.is(action) { &self.errors } else { &self.empty }
    }

    /// The value of `field` in form `action`: as typed when it was sent, else `default`.
    pub fn val(&self, action: &str, field: &str, default: &str) -> String {
        if !self.is(action) {
            return default.to_owned();
        }
        match self.values.get(field) {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Number(n)) => n.to_string(),
            Some(Value::Bool(b)) => if *b { "yes" } else { "" }.to_owned(),
            _ => String::new(),
        }
    }

    /// Whether checkbox `field` of form `action` was ticked when it was sent.
    pub fn checked(&self, action: &str, field: &str) -> bool {
        self.is(action) && matches!(self.values.get(field), Some(Value::Bool(true)))
    }
}

/// Whether option `value` is the `selected` one (option values are codes or ids).
pub fn chosen(selected: impl AsRef<str>, value: impl std::fmt::Display) -> bool {
    let selected = selected.as_ref();
    !selected.is_empty() && value.to_string() == selected
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Serialize)]
    struct Input {
        date: String,
        days: Option<u32>,
        approved: bool,
    }

    #[test]
    fn only_the_sent_form_gets_its_values_and_errors() {
        let e = Echo::new(
            "extend",
            &Input { date: "2026-13-01".into(), days: Some(12), approved: true },
            FieldErrors::single("date", "日期应为 YYYY-MM-DD"),
        );
        assert_eq!((e.val("extend", "date", "x"), e.val("extend", "days", "")), ("2026-13-01".into(), "12".into()));
        assert!(e.checked("extend", "approved") && e.is("extend") && !e.is("serve"));
        assert_eq!(e.val("serve", "date", "2026-11-30"), "2026-11-30", "another form keeps its default");
        assert!(e.errors("serve").is_empty() && e.errors("extend").get("date").is_some());
        assert!(!Echo::none().is(""), "a fresh page has no sent form");
    }
}
