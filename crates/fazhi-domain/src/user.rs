//! Users: what a valid username, display name and password are.

use crate::OrgId;
use crate::validation::{FieldError, FieldErrors, bounded_text};

pub const USERNAME_MIN: usize = 3;
pub const USERNAME_MAX: usize = 32;
pub const DISPLAY_NAME_MAX: usize = 30;
pub const PASSWORD_MIN: usize = 10;
pub const PASSWORD_MAX: usize = 128;

/// A login name: 3–32 ASCII letters, digits, `.`, `_` or `-`, starting with a letter.
/// Stored lower-case so `Zhang.San` and `zhang.san` are one account.
///
/// # Errors
/// [`AppError::Internal`] for database failures.
pub fn username(raw: &str) -> Result<String, FieldError> {
    let v = raw.trim().to_ascii_lowercase();
    let err = |m: &str| FieldError { field: "username", message: m.to_owned() };
    if v.is_empty() {
        return Err(err("用户名不能为空"));
    }
    let n = v.chars().count();
    if !(USERNAME_MIN..=USERNAME_MAX).contains(&n) {
        return Err(err(&format!("用户名长度应为 {USERNAME_MIN}–{USERNAME_MAX} 个字符（现在 {n} 个）")));
    }
    if !v.starts_with(|c: char| c.is_ascii_lowercase()) {
        return Err(err("用户名必须以英文字母开头"));
    }
    if !v.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-')) {
        return Err(err("用户名只能包含英文字母、数字和 . _ -"));
    }
    Ok(v)
}

/// The person's real name as shown in the UI and on documents.
///
/// # Errors
/// [`AppError::Internal`] for database failures.
pub fn display_name(raw: &str) -> Result<String, FieldError> {
    bounded_text("display_name", "姓名", raw, 1, DISPLAY_NAME_MAX)
}

/// An optional mobile number: 11 digits starting with 1.
///
/// # Errors
/// [`AppError::Internal`] for database failures.
pub fn mobile(raw: &str) -> Result<Option<String>, FieldError> {
    let v = raw.trim();
    if v.is_empty() {
        return Ok(None);
    }
    crate::identity::Phone::mobile("mobile", v).map(|p| Some(p.into_string()))
}

/// The password rules (等保 2.0 level 3 habit): at least 10 characters, at least three of
/// the four classes (lower case, upper case, digits, other), and not the username.
///
/// # Errors
/// [`AppError::Internal`] for database failures.
pub fn check_password(field: &'static str, username: &str, password: &str) -> Result<(), FieldError> {
    let err = |m: String| FieldError { field, message: m };
    let n = password.chars().count();
    if n < PASSWORD_MIN {
        return Err(err(format!("密码至少 {PASSWORD_MIN} 个字符（现在 {n} 个）")));
    }
    if n > PASSWORD_MAX {
        return Err(err(format!("密码最多 {PASSWORD_MAX} 个字符")));
    }
    let classes = [
        password.chars().any(|c| c.is_ascii_lowercase()),
        password.chars().any(|c| c.is_ascii_uppercase()),
        password.chars().any(|c| c.is_ascii_digit()),
        password.chars().any(|c| !c.is_ascii_alphanumeric()),
    ];
    if classes.iter().filter(|b| **b).count() < 3 {
        return Err(err("密码须包含小写字母、大写字母、数字、其他符号中的至少三类".into()));
    }
    if password.eq_ignore_ascii_case(username.trim()) {
        return Err(err("密码不能与用户名相同".into()));
    }
    Ok(())
}

/// A user account as the rules see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewUser {
    pub username: String,
    pub display_name: String,
    pub mobile: Option<String>,
    pub org_id: OrgId,
}

/// What a form or API body offers for a new user.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct UserDraft {
    #[serde(default)]
    pub username: String,
    #[serde(default)]
    pub display_name: String,
    #[serde(default)]
    pub mobile: String,
    pub org_id: Option<i64>,
}

impl UserDraft {
    /// Validate.
    ///
    /// # Errors
    /// [`AppError::Forbidden`] when the policy refuses; [`AppError::Invalid`] naming the fields at fault; [`AppError::Internal`] for database failures.
    pub fn validate(&self) -> Result<NewUser, FieldErrors> {
        let mut e = FieldErrors::new();
        let username = e.take(username(&self.username));
        let display_name = e.take(display_name(&self.display_name));
        let mobile = e.take(mobile(&self.mobile));
        if self.org_id.is_none() {
            e.add("org_id", "请选择所属机构");
        }
        e.into_result()?;
        Ok(NewUser {
            username: username.unwrap_or_default(),
            display_name: display_name.unwrap_or_default(),
            mobile: mobile.flatten(),
            org_id: OrgId(self.org_id.unwrap_or_default()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case("zhangsan", Ok("zhangsan"))]
    #[case(" Zhang.San ", Ok("zhang.san"))]
    #[case("ab", Err("长度"))]
    #[case("", Err("不能为空"))]
    #[case("1abc", Err("字母开头"))]
    #[case("张三abc", Err("字母开头"))]
    #[case("abc def", Err("只能包含"))]
    #[case(&"a".repeat(33), Err("长度"))]
    fn usernames(#[case] raw: &str, #[case] want: Result<&str, &str>) {
        match (username(raw), want) {
            (Ok(v), Ok(w)) => assert_eq!(v, w),
            (Err(e), Err(w)) => assert!(e.message.contains(w), "{}", e.message),
            (got, w) => panic!("{raw:?}: got {got:?}, want {w:?}"),
        }
    }

    #[rstest]
    #[case("Abcdefgh12", None)]
    #[case("abcdefgh1!", None)]
    #[case("ABCDEFGH1!", None)]
    #[case("Abc1!", Some("至少 10 个字符"))]
    #[case("abcdefghij1", Some("至少三类"))]
    #[case("ABCDEFGHIJK", Some("至少三类"))]
    #[case("Zhangsan.01", Some("不能与用户名相同"))]
    fn passwords(#[case] pw: &str, #[case] want: Option<&str>) {
        match (check_password("password", "zhangsan.01", pw), want) {
            (Ok(()), None) => {}
            (Err(e), Some(w)) => assert!(e.message.contains(w), "{}", e.message),
            (got, w) => panic!("{pw:?}: got {got:?}, want {w:?}"),
        }
    }

    #[test]
    fn draft() {
        let d = UserDraft {
            username: "li.si".into(),
            display_name: "李四".into(),
            mobile: "13800000000".into(),
            org_id: Some(3),
        };
        let u = d.validate().unwrap();
        assert_eq!((u.username.as_str(), u.mobile.as_deref(), u.org_id), ("li.si", Some("13800000000"), OrgId(3)));
        let bad = UserDraft { mobile: "123".into(), ..Default::default() };
        let e = bad.validate().unwrap_err();
        for f in ["username", "display_name", "mobile", "org_id"] {
            assert!(e.get(f).is_some(), "{f}");
        }
    }
}
