//! Petitions (信访) under 信访工作条例 (2022): channels, categories, the handling state
//! machine with its refusals, the tracking code the public uses, and duplicate detection.
//! Pure rules; the `petitions` module of app/store/web builds on them (issue 5).

use crate::validation::{FieldError, FieldErrors, bounded_text};

mod workflow;

pub use workflow::{Event, Facts, MAX_REASON_CHARS, MAX_REPLY_CHARS, PetitionFlow, Refusal, Step};

crate::code_enum! {
    /// How an item arrived (信访工作条例 第十七条: 信息网络、书信、电话、传真、走访; plus the
    /// 12345 hotline and items pushed by the 信访信息系统, 第二十一条).
    pub enum Channel: "信访渠道" {
        Online = ("online", "网上"),
        Letter = ("letter", "来信"),
        Phone = ("phone", "来电"),
        Visit = ("visit", "来访"),
        Hotline12345 = ("hotline12345", "12345"),
        Platform = ("platform", "信访平台推送"),
    }
}

impl Channel {
    /// Items pushed from outside carry the external system's number.
    pub fn needs_external_number(self) -> bool {
        matches!(self, Channel::Hotline12345 | Channel::Platform)
    }
}

crate::code_enum! {
    /// The three categories of 信访工作条例 第二十九至三十一条.
    pub enum Category: "信访类别" {
        /// 建议意见类 (第二十九条).
        Suggestion = ("suggestion", "建议意见类"),
        /// 检举控告类 (第三十条): routed to 纪检监察 and recorded.
        Accusation = ("accusation", "检举控告类"),
        /// 申诉求决类 (第三十一条).
        Claim = ("claim", "申诉求决类"),
    }
}

/// The most representatives a walk-in collective visit should send (第二十条第三款). More
/// is recorded with a warning, not refused: the people are already at the desk.
pub const MAX_VISIT_REPRESENTATIVES: u32 = 5;

crate::code_enum! {
    /// Where an item stands.
    pub enum State: "信访件状态" {
        /// 登记 (第二十一条).
        Registered = ("registered", "已登记"),
        /// 受理 (the 60-day handling clock starts, 第三十四条).
        Accepted = ("accepted", "已受理"),
        /// 不予受理 / 转送 elsewhere, with the written notice (第二十三条).
        NotAccepted = ("not_accepted", "不予受理"),
        /// 办理中: assigned to a department or community.
        Handling = ("handling", "办理中"),
        /// 已出具信访处理意见书 (第三十二条).
        Replied = ("replied", "已出具意见"),
        /// 书面答复已送达.
        Served = ("served", "已送达"),
        /// 办结.
        Closed = ("closed", "已办结"),
        /// 并入另一件 (a duplicate merged into an earlier item).
        Merged = ("merged", "已合并"),
    }
}

impl State {
    /// Still being worked on (counts in the backlog).
    pub fn is_open(self) -> bool {
        !matches!(self, State::Served | State::Closed | State::NotAccepted | State::Merged)
    }
}

crate::code_enum! {
    /// Which round of handling an item is (信访工作条例 第三十五、三十六条).
    pub enum Stage: "办理阶段" {
        /// 初次办理.
        First = ("first", "初次办理"),
        /// 复查 (第三十五条).
        Review = ("review", "复查"),
        /// 复核 (第三十六条): the last round; the same facts are not accepted again.
        Recheck = ("recheck", "复核"),
    }
}

impl Stage {
    /// The deadline rule of the handling clock of this round.
    pub fn handling_rule(self) -> &'static str {
        match self {
            Stage::First => "petition.handle",
            Stage::Review => "petition.review",
            Stage::Recheck => "petition.recheck",
        }
    }

    /// The window (party clock) opened for the next round when this round's reply is served.
    pub fn next_request_rule(self) -> Option<&'static str> {
        match self {
            Stage::First => Some("petition.review_request"),
            Stage::Review => Some("petition.recheck_request"),
            Stage::Recheck => None,
        }
    }
}

/// Days after the written reply within which a 复查 or 复核 may be requested (第三十五条第一款,
/// 第三十六条第一款).
pub const REVIEW_REQUEST_DAYS: i64 = 30;

/// Whether a 复查/复核 request against an item may be taken, and which round it opens.
/// `served_on` is when the item's written reply reached the petitioner.
///
/// # Errors
/// [`AppError::Internal`] for database failures.
pub fn review_request(
    parent_stage: Stage,
    parent_state: State,
    served_on: Option<chrono::NaiveDate>,
    requested_on: chrono::NaiveDate,
) -> Result<Stage, Refusal> {
    let next = match parent_stage {
        Stage::First => Stage::Review,
        Stage::Review => Stage::Recheck,
        Stage::Recheck => return Err(Refusal::RecheckFinal),
    };
    let Some(served) = served_on.filter(|_| matches!(parent_state, State::Served | State::Closed)) else {
        return Err(Refusal::NoReplyYet);
    };
    if requested_on < served {
        return Err(Refusal::RequestBeforeReply);
    }
    if (requested_on - served).num_days() > REVIEW_REQUEST_DAYS {
        return Err(Refusal::RequestTooLate { stage: next.label() });
    }
    Ok(next)
}

crate::code_enum! {
    /// 回访 satisfaction.
    pub enum Satisfaction: "回访评价" {
        Satisfied = ("satisfied", "满意"),
        Basic = ("basic", "基本满意"),
        Unsatisfied = ("unsatisfied", "不满意"),
    }
}

crate::code_enum! {
    /// The opinion of a 信访处理意见书 (第三十二条).
    pub enum Outcome: "处理意见" {
        Support = ("support", "支持"),
        Explain = ("explain", "解释说明"),
        Reject = ("reject", "不予支持"),
    }
}

/// The code a petitioner uses on the portal: 12 characters of Crockford base32 (no I, L,
/// O, U) in three groups, the last character a check character, so a mistyped code is told
/// apart from a random guess without a database lookup. The code says nothing about the item.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct TrackingCode(String);

const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

fn check_char(body: &[u8]) -> u8 {
    let sum: usize =
        body.iter().enumerate().map(|(i, c)| (i + 1) * ALPHABET.iter().position(|a| a == c).unwrap_or(0)).sum();
    ALPHABET[sum % 32]
}

impl TrackingCode {
    /// A code from 11 random bytes (the caller supplies randomness).
    pub fn from_random(random: [u8; 11]) -> Self {
        let mut body: Vec<u8> = random.iter().map(|b| ALPHABET[usize::from(*b) % 32]).collect();
        body.push(check_char(&body));
        Self(String::from_utf8(body).unwrap_or_default())
    }

    /// Accepts `ab3k-92mx-qr7t`, spaces, lower case and the usual confusions (O→0, I/L→1).
    pub fn parse(raw: &str) -> Option<Self> {
        let v: Vec<u8> = raw
            .trim()
            .chars()
            .filter(|c| !matches!(c, '-' | ' '))
            .map(|c| match c.to_ascii_uppercase() {
                'O' => '0',
                'I' | 'L' => '1',
                other => other,
            })
            .map(|c| c as u32)
            .filter_map(|c| u8::try_from(c).ok())
            .collect();
        if v.len() != 12 || !v.iter().all(|c| ALPHABET.contains(c)) || check_char(&v[..11]) != v[11] {
            return None;
        }
        Some(Self(String::from_utf8(v).ok()?))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `AB3K-92MX-QR7T`, as printed on the receipt.
    pub fn display(&self) -> String {
        format!("{}-{}-{}", &self.0[..4], &self.0[4..8], &self.0[8..])
    }
}

/// How alike two requests are: Jaccard similarity of their segmented terms (0..=1).
pub fn similarity<S: AsRef<str>>(a: &[S], b: &[S]) -> f64 {
    use std::collections::BTreeSet;
    let a: BTreeSet<&str> = a.iter().map(AsRef::as_ref).filter(|t| t.chars().count() > 1).collect();
    let b: BTreeSet<&str> = b.iter().map(AsRef::as_ref).filter(|t| t.chars().count() > 1).collect();
    if a.is_empty() || b.is_empty() {
        return 0.0;
    }
    a.intersection(&b).count() as f64 / a.union(&b).count() as f64
}

/// Similarity from which a new item from the same petitioner within the window is offered
/// as a merge (a suggestion to the desk, never automatic).
pub const DUPLICATE_SIMILARITY: f64 = 0.5;

/// The request as typed at the desk or on the portal, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub title: String,
    pub content: String,
    /// Headcount of a collective item (集体访), 1 otherwise.
    pub headcount: u32,
    /// More walk-in representatives than 第二十条 allows: recorded with a warning.
    pub too_many_representatives: bool,
}

/// Validates what a petitioner asks: a title, the request with facts and reasons (第十九条),
/// and the headcount of a collective item.
///
/// # Errors
/// [`AppError::Forbidden`] when the policy refuses; [`AppError::Invalid`] naming the fields at fault; [`AppError::Internal`] for database failures.
pub fn validate_request(channel: Channel, title: &str, content: &str, headcount: u32) -> Result<Request, FieldErrors> {
    let mut e = FieldErrors::new();
    let title = e.take(bounded_text("title", "诉求摘要", title, 1, 100));
    let content = content.trim();
    if content.chars().count() < 5 {
        e.add("content", "请写明诉求、事实和理由（信访工作条例第十九条），至少 5 个字");
    } else if content.chars().count() > 5000 {
        e.add("content", "诉求内容最多 5000 个字");
    }
    if headcount == 0 || headcount > 10_000 {
        e.push(FieldError { field: "headcount", message: "人数应在 1 到 10000 之间".into() });
    }
    e.into_result()?;
    Ok(Request {
        title: title.unwrap_or_default(),
        content: content.to_owned(),
        headcount,
        too_many_representatives: channel == Channel::Visit && headcount > MAX_VISIT_REPRESENTATIVES,
    })
}

#[cfg(test)]
mod tests;
