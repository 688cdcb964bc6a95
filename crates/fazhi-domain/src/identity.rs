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
        if !PROVINCE_CODES.contains(&&v[..2]) {
            return Err(err("身份证号前两位不是有效的省级行政区划代码（GB/T 2260），请核对"));
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

    /// [`CitizenId::parse`], and the birth date it encodes is not after `today`: a number
    /// whose holder is not yet born is not a possible one.
    ///
    /// # Errors
    /// As [`CitizenId::parse`]; "身份证号中的出生日期晚于今天" on `field`.
    pub fn parse_on(field: &'static str, raw: &str, today: chrono::NaiveDate) -> Result<Self, FieldError> {
        let id = Self::parse(field, raw)?;
        if id.birth_date() > today {
            return Err(FieldError { field, message: "身份证号中的出生日期晚于今天，请核对".into() });
        }
        Ok(id)
    }

    /// The birth date encoded in digits 7–14 (valid: checked by [`CitizenId::parse`]).
    pub fn birth_date(&self) -> chrono::NaiveDate {
        let n = |r: std::ops::Range<usize>| self.0[r].parse().unwrap_or(1);
        chrono::NaiveDate::from_ymd_opt(n(6..10) as i32, n(10..12), n(12..14)).unwrap_or_default()
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

/// The first two digits of a resident identity number: the province-level division of GB/T
/// 2260 (11–15 华北, 21–23 东北, 31–37 华东, 41–46 中南, 50–54 西南, 61–65 西北), plus 71
/// 台湾 and the 港澳台居民居住证 codes 81 香港, 82 澳门, 83 台湾 (国务院办公厅《港澳台居民居住证
/// 申领发放办法》, 国办发〔2018〕81号, 第五条).
pub const PROVINCE_CODES: &[&str] = &[
    "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37", "41", "42", "43", "44",
    "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64", "65", "71", "81", "82", "83",
];

/// Mobile number prefixes (号段) allocated to public mobile networks, by their first three
/// digits. Source: 工业和信息化部《电信网编号计划（2017年版）》 and its later allocations (162,
/// 165, 167, 190, 192, 196, 197). A new allocation is one entry here.
pub const MOBILE_PREFIXES: &[&str] = &[
    "130", "131", "132", "133", "134", "135", "136", "137", "138", "139", "145", "146", "147", "148", "149", "150",
    "151", "152", "153", "155", "156", "157", "158", "159", "162", "165", "166", "167", "170", "171", "172", "173",
    "174", "175", "176", "177", "178", "180", "181", "182", "183", "184", "185", "186", "187", "188", "189", "190",
    "191", "192", "193", "195", "196", "197", "198", "199",
];

/// A contact phone in one stored form: a mobile as its 11 digits (`13800138000`, the
/// country code `+86` / `0086` dropped), a landline as `area-number[-extension]`
/// (`022-23456789-8001`) or, without an area code, `number[-extension]`. Accepted as
/// people write them: spaces, hyphens, dots, brackets around the area code, full-width
/// digits, `转` / `ext` before an extension.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(transparent)]
pub struct Phone(String);

const PHONE_RULE: &str = "电话应为 11 位手机号（号段须已启用，如 138…；可带 +86），或固定电话：区号-号码[-分机]（如 022-23456789、022-23456789-8001）";

impl Phone {
    /// Parses a phone as written into its stored form.
    ///
    /// # Errors
    /// A [`FieldError`] on `field` naming the accepted forms.
    pub fn parse(field: &'static str, raw: &str) -> Result<Self, FieldError> {
        let bad = || FieldError { field, message: PHONE_RULE.into() };
        // Full-width digits and signs as ASCII; an extension marker as a separator.
        let text: String = raw
            .trim()
            .chars()
            .map(|c| match u32::from(c) {
                n @ 0xFF01..=0xFF5E => char::from_u32(n - 0xFEE0).unwrap_or(c),
                _ => c,
            })
            .collect::<String>()
            .replace("转", "-")
            .replace("分机", "-")
            .to_ascii_lowercase()
            .replace("ext.", "-")
            .replace("ext", "-");
        if text.is_empty() || text.chars().any(|c| !matches!(c, '0'..='9' | '+' | '-' | ' ' | '.' | '(' | ')')) {
            return Err(bad());
        }
        let digits: String = text.chars().filter(char::is_ascii_digit).collect();
        // A mobile, with or without the country code.
        let national = digits
            .strip_prefix("0086")
            .or_else(|| text.trim_start().starts_with('+').then(|| digits.strip_prefix("86")).flatten())
            .or_else(|| (digits.len() == 13).then(|| digits.strip_prefix("86")).flatten())
            .unwrap_or(&digits);
        if national.len() == 11 && national.starts_with('1') {
            return if MOBILE_PREFIXES.contains(&&national[..3]) { Ok(Self(national.to_owned())) } else { Err(bad()) };
        }
        if text.contains('+') {
            return Err(bad());
        }
        // A landline: groups split at hyphens and brackets (spaces and dots inside a
        // group are only spacing).
        let groups: Vec<String> = text
            .replace(['(', ')'], "-")
            .split('-')
            .map(|g| g.chars().filter(char::is_ascii_digit).collect::<String>())
            .filter(|g| !g.is_empty())
            .collect();
        let area_len = |d: &str| if d.starts_with("01") || d.starts_with("02") { 3 } else { 4 };
        let (area, number, ext) = match groups.as_slice() {
            [one] if one.starts_with('0') => {
                let n = area_len(one);
                (Some(one.get(..n).unwrap_or("")), one.get(n..).unwrap_or(""), None)
            }
            [one] => (None, one.as_str(), None),
            [a, n] if a.starts_with('0') => (Some(a.as_str()), n.as_str(), None),
            [n, e] => (None, n.as_str(), Some(e.as_str())),
            [a, n, e] if a.starts_with('0') => (Some(a.as_str()), n.as_str(), Some(e.as_str())),
            _ => return Err(bad()),
        };
        let area_ok = area.is_none_or(|a| (3..=4).contains(&a.len()) && a.len() == area_len(a));
        let number_ok = (7..=8).contains(&number.len()) && !number.starts_with(['0', '1']);
        let ext_ok = ext.is_none_or(|e| (1..=6).contains(&e.len()));
        if !(area_ok && number_ok && ext_ok) {
            return Err(bad());
        }
        let mut out = area.map(|a| format!("{a}-")).unwrap_or_default();
        out.push_str(number);
        if let Some(e) = ext {
            out.push('-');
            out.push_str(e);
        }
        Ok(Self(out))
    }

    /// A mobile number only (accounts), in its stored form.
    ///
    /// # Errors
    /// A [`FieldError`] on `field` when `raw` is not an allocated mobile number.
    pub fn mobile(field: &'static str, raw: &str) -> Result<Self, FieldError> {
        match Self::parse(field, raw) {
            Ok(p) if p.0.len() == 11 && !p.0.contains('-') => Ok(p),
            _ => Err(FieldError {
                field, message: "手机号应为 11 位（号段须已启用，如 138…；可带 +86）".into()
            }),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
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
        // A possible value, not only a well-formed one: province 99 does not exist, and a
        // holder born after today is not yet born (check characters recomputed).
        let with_check = |first17: &str| {
            let sum: u32 = first17.chars().zip(WEIGHTS).map(|(c, w)| c.to_digit(10).unwrap() * w).sum();
            format!("{first17}{}", CHECK[(sum % 11) as usize])
        };
        assert!(CitizenId::parse("id", &with_check("99010519491231002")).unwrap_err().message.contains("GB/T 2260"));
        let unborn = with_check("11010520301231002");
        assert!(CitizenId::parse("id", &unborn).is_ok());
        let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 30).unwrap();
        assert!(CitizenId::parse_on("id", &unborn, today).unwrap_err().message.contains("晚于今天"));
        let id = CitizenId::parse_on("id", "11010519491231002X", today).unwrap();
        assert_eq!(id.birth_date(), chrono::NaiveDate::from_ymd_opt(1949, 12, 31).unwrap());
    }

    #[test]
    fn phones_as_people_write_them() {
        for (raw, stored) in [
            ("13800000000", "13800000000"),
            ("+86 138 0013 8000", "13800138000"),
            ("008613800138000", "13800138000"),
            ("8613800138000", "13800138000"),
            ("138-0013-8000", "13800138000"),
            ("１３８００１３８０００", "13800138000"),
            ("022-23456789", "022-23456789"),
            ("02223456789", "022-23456789"),
            ("(022) 2345 6789", "022-23456789"),
            ("022-23456789-8001", "022-23456789-8001"),
            ("022-23456789转8001", "022-23456789-8001"),
            ("0755 8888 7777", "0755-88887777"),
            ("0371-6234567", "0371-6234567"),
            ("010 6523 4567", "010-65234567"),
            ("23456789", "23456789"),
            ("23456789-12", "23456789-12"),
        ] {
            assert_eq!(Phone::parse("phone", raw).map(Phone::into_string), Ok(stored.to_owned()), "{raw}");
        }
        for bad in [
            "12345678901",
            "11000000000",
            "1380000000",
            "abc",
            "23800000000",
            "12345",
            "+1 415 555 0100",
            "022-0345678",
            "022-23456789-8001-9",
            "0222-23456789",
            "",
        ] {
            assert!(Phone::parse("phone", bad).is_err(), "{bad}");
        }
        assert!(Phone::mobile("mobile", "022-23456789").is_err());
        assert_eq!(Phone::mobile("mobile", "+86 138 0013 8000").unwrap().as_str(), "13800138000");
    }
}
