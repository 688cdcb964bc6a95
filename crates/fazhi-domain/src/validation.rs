//! Field-level validation errors. Every message names the field (in Chinese, as the user
//! sees it) and the rule that was broken.

use std::fmt;

/// One broken rule on one field of a form or API body.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FieldError {
    /// The form/API field name (`name`, `username`, `parent_id` ...).
    pub field: &'static str,
    /// Chinese message naming the field and the rule.
    pub message: String,
}

/// All the broken rules of one input; empty means valid.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct FieldErrors(pub Vec<FieldError>);

impl FieldErrors {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn single(field: &'static str, message: impl Into<String>) -> Self {
        let mut e = Self::new();
        e.add(field, message);
        e
    }

    pub fn push(&mut self, e: FieldError) {
        self.0.push(e);
    }

    pub fn add(&mut self, field: &'static str, message: impl Into<String>) {
        self.0.push(FieldError { field, message: message.into() });
    }

    /// Records the error of a parse, returning the value when it parsed.
    pub fn take<T>(&mut self, r: Result<T, FieldError>) -> Option<T> {
        match r {
            Ok(v) => Some(v),
            Err(e) => {
                self.0.push(e);
                None
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The first message for a field, for showing it under that field.
    pub fn get(&self, field: &str) -> Option<&str> {
        self.0.iter().find(|e| e.field == field).map(|e| e.message.as_str())
    }

    /// `Ok(())` when empty, else `Err(self)`.
    ///
    /// # Errors
    /// [`AppError::Invalid`] naming the fields at fault; [`AppError::Internal`] for database failures.
    pub fn into_result(self) -> Result<(), FieldErrors> {
        if self.is_empty() { Ok(()) } else { Err(self) }
    }
}

impl fmt::Display for FieldErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let msgs: Vec<&str> = self.0.iter().map(|e| e.message.as_str()).collect();
        f.write_str(&msgs.join("；"))
    }
}

impl std::error::Error for FieldErrors {}

/// A trimmed, single-line text of bounded length in characters (not bytes).
///
/// `label` is the Chinese field name used in the message.
///
/// # Errors
/// [`AppError::Internal`] for database failures.
pub fn bounded_text(field: &'static str, label: &str, raw: &str, min: usize, max: usize) -> Result<String, FieldError> {
    let v = raw.trim();
    let n = v.chars().count();
    if n == 0 && min > 0 {
        return Err(FieldError { field, message: format!("{label}不能为空") });
    }
    if n < min {
        return Err(FieldError { field, message: format!("{label}至少 {min} 个字") });
    }
    if n > max {
        return Err(FieldError { field, message: format!("{label}最多 {max} 个字（现在 {n} 个）") });
    }
    if v.chars().any(char::is_control) {
        return Err(FieldError { field, message: format!("{label}不能包含换行或控制字符") });
    }
    Ok(v.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_text_rules() {
        assert_eq!(bounded_text("name", "名称", "  万兴街道 ", 1, 10).unwrap(), "万兴街道");
        assert_eq!(bounded_text("name", "名称", "   ", 1, 10).unwrap_err().message, "名称不能为空");
        let long = "街".repeat(11);
        assert!(bounded_text("name", "名称", &long, 1, 10).unwrap_err().message.contains("最多 10 个字"));
        assert!(bounded_text("name", "名称", "a\u{7}b", 1, 10).is_err());
        assert_eq!(bounded_text("note", "备注", "", 0, 10).unwrap(), "");
    }

    #[test]
    fn field_errors_collect() {
        let mut e = FieldErrors::new();
        assert!(e.take(bounded_text("a", "甲", "", 1, 3)).is_none());
        assert_eq!(e.take(bounded_text("b", "乙", "x", 1, 3)).as_deref(), Some("x"));
        assert_eq!(e.get("a"), Some("甲不能为空"));
        assert_eq!(e.get("b"), None);
        assert!(e.into_result().is_err());
    }
}
