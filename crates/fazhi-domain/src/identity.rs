//! Validated identity data of citizens: 居民身份证号码 (GB 11643-1999) and phone numbers.
//! Parse, don't validate: a form converts into these types, and only valid values go on.

use crate::validation::FieldError;

/// An 18-character resident identity number with a valid GB 11643-1999 check character.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct CitizenId(String);

/// GB 11643-1999 §8: weights 2^(17-i) mod 11 and the check characters for sum mod 11.
const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK: [char; 11] = ['1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'];

impl CitizenId {
    /// Parse.
    ///
    /// # Errors
    /// [`AppError::Internal`] for database failures.
    pub fn parse(field: &'static str, raw: &str) -> Result<Self, FieldError> {
        let v = raw.trim().to_ascii_uppercase();
        let err = |m: &str| FieldError { field, message: m.to_owned() };
        let chars: Vec<char> = v.chars().collect();
        if chars.len() != 18 {
            return Err(err("身份证号应为 18 位"));
        }
        if !chars[..17].iter().all(char::is_ascii_digit) || !(chars[17].is_ascii_digit() || chars[17] == 'X') {
            return Err(err("身份证号前 17 位应为数字，最后一位为数字或 X"));
        }
        let sum: u32 = chars[..17].iter().zip(WEIGHTS).map(|(c, w)| c.to_digit(10).unwrap_or(0) * w).sum();
        if CHECK[(sum % 11) as usize] != chars[17] {
            return Err(err("身份证号校验位不正确，请核对（GB 11643）"));
        }
        let (y, m, d) = (&v[6..10], &v[10..12], &v[12..14]);
        let valid_date =
            chrono::NaiveDate::from_ymd_opt(y.parse().unwrap_or(0), m.parse().unwrap_or(0), d.parse().unwrap_or(0))
                .is_some_and(|date| date.year_ce().1 >= 1900);
        if !valid_date {
            return Err(err("身份证号中的出生日期不正确"));
        }
        Ok(Self(v))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The form shown where a full number must not be (e.g. lists): `1201**********123X`.
    pub fn masked(&self) -> String {
        format!("{}{}{}", &self.0[..4], "*".repeat(10), &self.0[14..])
    }
}

use chrono::Datelike;

/// A contact phone: an 11-digit mobile starting with 1, or a landline of 7–8 digits with
/// an optional area code (`022-23456789`, `02223456789`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(transparent)]
pub struct Phone(String);

impl Phone {
    /// Parse.
    ///
    /// # Errors
    /// [`AppError::Internal`] for database failures.
    pub fn parse(field: &'static str, raw: &str) -> Result<Self, FieldError> {
        let v: String = raw.trim().chars().filter(|c| !matches!(c, ' ' | '-')).collect();
        let digits = v.chars().all(|c| c.is_ascii_digit());
        let mobile = v.len() == 11 && v.starts_with('1');
        let landline = (7..=8).contains(&v.len()) || (v.starts_with('0') && (10..=12).contains(&v.len()));
        if digits && (mobile || landline) {
            Ok(Self(v))
        } else {
            Err(FieldError {
                field, message: "电话应为 11 位手机号，或带区号的固定电话（如 022-23456789）".into()
            })
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn citizen_ids() {
        // Check characters computed by hand with the GB 11643 weights.
        assert!(CitizenId::parse("id", "11010519491231002X").is_ok());
        assert!(CitizenId::parse("id", "11010519491231002x").is_ok(), "lower-case x accepted");
        assert_eq!(
            CitizenId::parse("id", "110105194912310021").unwrap_err().message,
            "身份证号校验位不正确，请核对（GB 11643）"
        );
        assert!(CitizenId::parse("id", "1101051949123100").unwrap_err().message.contains("18 位"));
        assert!(CitizenId::parse("id", "11010519491331002X").is_err(), "month 13");
        assert_eq!(CitizenId::parse("id", "11010519491231002X").unwrap().masked(), "1101**********002X");
    }

    #[test]
    fn phones() {
        for ok in ["13800000000", "022-23456789", "23456789", "0755 8888 7777"] {
            assert!(Phone::parse("phone", ok).is_ok(), "{ok}");
        }
        for bad in ["1380000000", "abc", "23800000000", "12345"] {
            assert!(Phone::parse("phone", bad).is_err(), "{bad}");
        }
    }
}
