//! [`Day`]: a calendar day in Beijing, stored as TEXT `YYYY-MM-DD` on both engines, with the
//! date rules every form repeats (a date is not in the future, not before the day the matter
//! was received).

use std::fmt;

use chrono::NaiveDate;

use crate::clock::{Millis, beijing_date};
use crate::validation::FieldError;

/// A calendar day (no time, no zone: the day in Beijing). Text form `YYYY-MM-DD`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Day(pub NaiveDate);

/// The error of a stored or typed day that is not `YYYY-MM-DD`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("日期「{0}」应为 YYYY-MM-DD")]
pub struct BadDay(pub String);

impl Day {
    /// The day in Beijing at unix-millisecond instant `ms` (see [`beijing_date`]).
    pub fn at(ms: Millis) -> Self {
        Self(beijing_date(ms))
    }

    /// Parses `YYYY-MM-DD` (surrounding spaces ignored).
    ///
    /// # Errors
    /// [`BadDay`] for anything else.
    pub fn from_text(raw: &str) -> Result<Self, BadDay> {
        // Full-width digits and hyphens, as an IME or a pasted document types them.
        let folded: String = raw
            .trim()
            .chars()
            .map(|c| match c {
                '０'..='９' => char::from(b'0' + (c as u32 - '０' as u32) as u8),
                '－' | '‐' | '‑' => '-',
                c => c,
            })
            .collect();
        let t = folded.as_str();
        // chrono's `%Y` also takes a sign and more than four digits ("+12026-01-05"): only a
        // four-digit year, a one- or two-digit month and day are a date as people write it.
        let mut parts = t.split('-');
        let shaped = matches!(
            (parts.next(), parts.next(), parts.next(), parts.next()),
            (Some(y), Some(m), Some(d), None)
                if y.len() == 4 && (1..=2).contains(&m.len()) && (1..=2).contains(&d.len())
                    && t.bytes().all(|b| b.is_ascii_digit() || b == b'-')
        );
        let bad = || BadDay(raw.chars().take(40).collect());
        if !shaped {
            return Err(bad());
        }
        NaiveDate::parse_from_str(t, "%Y-%m-%d").map(Self).map_err(|_| bad())
    }

    /// Parses a day typed into field `field` (Chinese name `label`).
    ///
    /// # Errors
    /// "{label}应为 YYYY-MM-DD" on `field` when `raw` is not a date.
    pub fn parse(field: &'static str, label: &str, raw: &str) -> Result<Self, FieldError> {
        let day =
            Self::from_text(raw).map_err(|_| FieldError { field, message: format!("{label}应为 YYYY-MM-DD") })?;
        if !(Self::EARLIEST..=Self::LATEST).contains(&day) {
            return Err(FieldError {
                field,
                message: format!("{label} {day} 不是可能的日期（应在 {} 至 {} 之间）", Self::EARLIEST, Self::LATEST),
            });
        }
        Ok(day)
    }

    /// The earliest day a person can type into a form: the founding of the People's Republic
    /// (no record this platform keeps, nor an agreement or a deadline, is older).
    pub const EARLIEST: Day = Day(NaiveDate::from_ymd_opt(1949, 10, 1).expect("a date"));

    /// The latest day a person can type (a performance deadline or a plan can lie years
    /// ahead, not a century).
    pub const LATEST: Day = Day(NaiveDate::from_ymd_opt(2099, 12, 31).expect("a date"));

    /// The day itself when it lies in `[from, today]`: an act is not dated in the future
    /// nor before the matter it belongs to was received. `from_label` names `from` (收到日期,
    /// 受理日期).
    ///
    /// # Errors
    /// "日期不能晚于今天" or "日期不能早于{from_label} {from}" on `field`.
    pub fn within(self, field: &'static str, from: (&str, Day), today: Day) -> Result<Self, FieldError> {
        if self > today {
            Err(FieldError { field, message: "日期不能晚于今天".into() })
        } else if self < from.1 {
            Err(FieldError { field, message: format!("日期不能早于{} {}", from.0, from.1) })
        } else {
            Ok(self)
        }
    }

    /// The date.
    pub fn date(self) -> NaiveDate {
        self.0
    }

    /// The day `n` calendar days later (earlier when negative).
    pub fn plus_days(self, n: i64) -> Self {
        Self(self.0 + chrono::Duration::days(n))
    }

    /// The day as documents print it: `2026年3月2日` (see [`chinese_date`]).
    pub fn chinese(self) -> String {
        chinese_date(self.0)
    }
}

/// A date as official documents print it, in the body and as 成文日期: Arabic numerals, the
/// year in full, month and day without leading zeros, `2026年3月2日` (GB/T 9704-2012 §7.3.5).
/// Never the ISO form `2026-03-02` in a document.
pub fn chinese_date(d: NaiveDate) -> String {
    use chrono::Datelike;
    format!("{}年{}月{}日", d.year(), d.month(), d.day())
}

/// A stored `YYYY-MM-DD` text as [`chinese_date`] prints it; anything else unchanged (a
/// document shows what was stored rather than nothing).
pub fn chinese_text(raw: &str) -> String {
    Day::from_text(raw).map_or_else(|_| raw.to_owned(), Day::chinese)
}

impl fmt::Display for Day {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.format("%Y-%m-%d"))
    }
}

impl From<NaiveDate> for Day {
    fn from(d: NaiveDate) -> Self {
        Self(d)
    }
}

impl From<Day> for NaiveDate {
    fn from(d: Day) -> Self {
        d.0
    }
}

impl From<Day> for String {
    fn from(d: Day) -> Self {
        d.to_string()
    }
}

impl TryFrom<String> for Day {
    type Error = BadDay;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::from_text(&s)
    }
}

impl std::str::FromStr for Day {
    type Err = BadDay;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::from_text(s)
    }
}

impl serde::Serialize for Day {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Day {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str> as serde::Deserialize>::deserialize(d)?;
        Self::from_text(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Day {
        Day::from_text(s).unwrap()
    }

    #[test]
    fn text_form() {
        assert_eq!(d(" 2026-03-02 ").to_string(), "2026-03-02");
        assert!(Day::from_text("2026-3-2x").is_err());
        assert!(Day::from_text("2026-02-30").is_err());
        assert_eq!(d("2026-3-2"), d("2026-03-02"), "month and day as people write them");
        assert_eq!(d("２０２６－０３－０２"), d("2026-03-02"), "full-width as pasted");
        for bad in ["+2026-03-02", "12026-03-02", "-2026-03-02", "26-03-02", "2026-003-02", "2026-03-02-", "2026/03/02"]
        {
            assert!(Day::from_text(bad).is_err(), "{bad}");
        }
        let e = Day::parse("date", "送达日期", "0001-01-01").unwrap_err();
        assert_eq!(e.message, "送达日期 0001-01-01 不是可能的日期（应在 1949-10-01 至 2099-12-31 之间）");
        assert!(Day::parse("date", "送达日期", "2100-01-01").is_err());
        assert!(Day::parse("date", "送达日期", "1949-10-01").is_ok());
        let e = Day::parse("date", "送达日期", "明天").unwrap_err();
        assert_eq!((e.field, e.message.as_str()), ("date", "送达日期应为 YYYY-MM-DD"));
        assert_eq!(serde_json::to_string(&d("2026-01-05")).unwrap(), "\"2026-01-05\"");
        assert_eq!(serde_json::from_str::<Day>("\"2026-01-05\"").unwrap(), d("2026-01-05"));
        assert_eq!(Day::at(1_795_851_120_000), d("2026-11-28"));
        assert_eq!(d("2026-02-28").plus_days(1), d("2026-03-01"));
    }

    #[test]
    fn chinese_form_has_no_leading_zeros() {
        assert_eq!(d("2026-01-05").chinese(), "2026年1月5日");
        assert_eq!(d("2026-11-30").chinese(), "2026年11月30日");
        assert_eq!(chinese_text("2026-03-02"), "2026年3月2日");
        assert_eq!(chinese_text("不详"), "不详");
    }

    #[test]
    fn within_the_matter() {
        let today = d("2026-03-10");
        let from = ("收到日期", d("2026-03-02"));
        assert_eq!(d("2026-03-05").within("date", from, today), Ok(d("2026-03-05")));
        assert_eq!(d("2026-03-11").within("date", from, today).unwrap_err().message, "日期不能晚于今天");
        assert_eq!(d("2026-03-01").within("date", from, today).unwrap_err().message, "日期不能早于收到日期 2026-03-02");
    }
}
