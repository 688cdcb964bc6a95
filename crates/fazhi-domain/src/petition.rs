//! Petitions (信访) under 信访工作条例 (2022): channels, categories, the handling state
//! machine with its refusals, the tracking code the public uses, and duplicate detection.
//! Pure rules; the `petitions` module of app/store/web builds on them (issue 5).

use crate::validation::{FieldError, FieldErrors, bounded_text};

/// How an item arrived (信访工作条例 第十七条: 信息网络、书信、电话、传真、走访; plus the
/// 12345 hotline and items pushed by the 信访信息系统, 第二十一条).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Online,
    Letter,
    Phone,
    Visit,
    Hotline12345,
    Platform,
}

impl Channel {
    pub const ALL: [Channel; 6] =
        [Channel::Online, Channel::Letter, Channel::Phone, Channel::Visit, Channel::Hotline12345, Channel::Platform];

    pub fn label(self) -> &'static str {
        match self {
            Channel::Online => "网上",
            Channel::Letter => "来信",
            Channel::Phone => "来电",
            Channel::Visit => "来访",
            Channel::Hotline12345 => "12345",
            Channel::Platform => "信访平台推送",
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Channel::Online => "online",
            Channel::Letter => "letter",
            Channel::Phone => "phone",
            Channel::Visit => "visit",
            Channel::Hotline12345 => "hotline12345",
            Channel::Platform => "platform",
        }
    }

    pub fn parse(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.code() == code)
    }

    /// Items pushed from outside carry the external system's number.
    pub fn needs_external_number(self) -> bool {
        matches!(self, Channel::Hotline12345 | Channel::Platform)
    }
}

/// The three categories of 信访工作条例 第二十九至三十一条.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    /// 建议意见类 (第二十九条).
    Suggestion,
    /// 检举控告类 (第三十条): routed to 纪检监察 and recorded.
    Accusation,
    /// 申诉求决类 (第三十一条).
    Claim,
}

impl Category {
    pub fn label(self) -> &'static str {
        match self {
            Category::Suggestion => "建议意见类",
            Category::Accusation => "检举控告类",
            Category::Claim => "申诉求决类",
        }
    }
}

/// The most representatives a walk-in collective visit should send (第二十条第三款). More
/// is recorded with a warning, not refused: the people are already at the desk.
pub const MAX_VISIT_REPRESENTATIVES: u32 = 5;

/// Where an item stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// 登记 (第二十一条).
    Registered,
    /// 受理 (the 60-day handling clock starts, 第三十四条).
    Accepted,
    /// 不予受理 / 转送 elsewhere, with the written notice (第二十三条).
    NotAccepted,
    /// 办理中: assigned to a department or community.
    Handling,
    /// 已出具信访处理意见书 (第三十二条).
    Replied,
    /// 书面答复已送达.
    Served,
    /// 办结.
    Closed,
}

impl State {
    pub fn label(self) -> &'static str {
        match self {
            State::Registered => "已登记",
            State::Accepted => "已受理",
            State::NotAccepted => "不予受理",
            State::Handling => "办理中",
            State::Replied => "已出具意见",
            State::Served => "已送达",
            State::Closed => "已办结",
        }
    }
}

/// The opinion of a 信访处理意见书 (第三十二条).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Support,
    Explain,
    Reject,
}

impl Outcome {
    pub fn label(self) -> &'static str {
        match self {
            Outcome::Support => "支持",
            Outcome::Explain => "解释说明",
            Outcome::Reject => "不予支持",
        }
    }
}

/// What happens to an item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    Accept,
    NotAccept {
        reason: String,
    },
    Assign,
    Reply {
        outcome: Outcome,
        legal_basis: String,
    },
    Serve,
    Close,
    /// Extension of the 60-day handling period (第三十四条): at most 30 days, approved.
    Extend {
        days: u32,
        approved: bool,
    },
}

/// Why a step is refused, with the rule it comes from.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("「{state}」状态下不能{action}")]
    WrongState { state: &'static str, action: &'static str },
    #[error("不予受理须写明理由（信访工作条例第二十三条）")]
    MissingReason,
    #[error("信访处理意见书须写明依据（信访工作条例第三十二条）")]
    MissingBasis,
    #[error("书面答复送达后才能办结（信访工作条例第三十二条）")]
    NotServed,
    #[error("办理期限最多延长 30 日（信访工作条例第三十四条），现为 {0} 日")]
    ExtensionTooLong(u32),
    #[error("延长办理期限须经负责人批准，并告知信访人延期理由（信访工作条例第三十四条）")]
    ExtensionNotApproved,
    #[error("办理期限只能延长一次（信访工作条例第三十四条）")]
    AlreadyExtended,
}

/// The state machine: the next state after `event`, or why not. `extended` says whether
/// the handling period was already extended.
pub fn transition(state: State, event: &Event, extended: bool) -> Result<State, Refusal> {
    use State::*;
    let wrong = |action| Err(Refusal::WrongState { state: state.label(), action });
    match (state, event) {
        (Registered, Event::Accept) => Ok(Accepted),
        (Registered, Event::NotAccept { reason }) => {
            if reason.trim().is_empty() {
                Err(Refusal::MissingReason)
            } else {
                Ok(NotAccepted)
            }
        }
        (Accepted, Event::Assign) | (Handling, Event::Assign) => Ok(Handling),
        (Accepted | Handling, Event::Reply { legal_basis, .. }) => {
            if legal_basis.trim().is_empty() {
                Err(Refusal::MissingBasis)
            } else {
                Ok(Replied)
            }
        }
        (Replied, Event::Serve) => Ok(Served),
        (Served, Event::Close) => Ok(Closed),
        (Accepted | Handling | Replied, Event::Close) => Err(Refusal::NotServed),
        (Accepted | Handling, Event::Extend { days, approved }) => {
            if extended {
                Err(Refusal::AlreadyExtended)
            } else if *days == 0 || *days > 30 {
                Err(Refusal::ExtensionTooLong(*days))
            } else if !approved {
                Err(Refusal::ExtensionNotApproved)
            } else {
                Ok(state)
            }
        }
        (_, Event::Accept) => wrong("受理"),
        (_, Event::NotAccept { .. }) => wrong("不予受理"),
        (_, Event::Assign) => wrong("交办"),
        (_, Event::Reply { .. }) => wrong("出具处理意见"),
        (_, Event::Serve) => wrong("送达"),
        (_, Event::Close) => wrong("办结"),
        (_, Event::Extend { .. }) => wrong("延期"),
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
mod tests {
    use super::*;

    #[test]
    fn the_happy_path_and_its_refusals() {
        let mut s = State::Registered;
        s = transition(s, &Event::Accept, false).unwrap();
        s = transition(s, &Event::Assign, false).unwrap();
        assert_eq!(transition(s, &Event::Close, false), Err(Refusal::NotServed));
        assert_eq!(
            transition(s, &Event::Extend { days: 31, approved: true }, false),
            Err(Refusal::ExtensionTooLong(31))
        );
        assert_eq!(
            transition(s, &Event::Extend { days: 30, approved: false }, false),
            Err(Refusal::ExtensionNotApproved)
        );
        assert_eq!(transition(s, &Event::Extend { days: 30, approved: true }, false), Ok(State::Handling));
        assert_eq!(transition(s, &Event::Extend { days: 10, approved: true }, true), Err(Refusal::AlreadyExtended));
        let reply = Event::Reply { outcome: Outcome::Explain, legal_basis: String::new() };
        assert_eq!(transition(s, &reply, false), Err(Refusal::MissingBasis));
        let reply =
            Event::Reply { outcome: Outcome::Support, legal_basis: "《物业管理条例》第三十五条".into() };
        s = transition(s, &reply, false).unwrap();
        s = transition(s, &Event::Serve, false).unwrap();
        assert_eq!(transition(s, &Event::Close, false), Ok(State::Closed));
        let e = transition(State::Closed, &Event::Accept, false).unwrap_err();
        assert!(e.to_string().contains("已办结"), "{e}");
        assert_eq!(
            transition(State::Registered, &Event::NotAccept { reason: " ".into() }, false),
            Err(Refusal::MissingReason)
        );
    }

    #[test]
    fn tracking_codes() {
        let c = TrackingCode::from_random([7, 200, 13, 99, 1, 0, 255, 31, 64, 128, 5]);
        assert_eq!(c.as_str().len(), 12);
        let shown = c.display();
        assert_eq!(TrackingCode::parse(&shown), Some(c.clone()));
        assert_eq!(TrackingCode::parse(&shown.to_lowercase().replace('-', " ")), Some(c.clone()));
        // One changed character is caught by the check character.
        let mut bad = c.as_str().as_bytes().to_vec();
        bad[3] = if bad[3] == b'A' { b'B' } else { b'A' };
        assert_eq!(TrackingCode::parse(std::str::from_utf8(&bad).unwrap()), None);
        assert_eq!(TrackingCode::parse("短"), None);
        assert_eq!(TrackingCode::parse(""), None);
    }

    #[test]
    fn similar_requests() {
        let a = ["小区", "消防通道", "电动自行车", "占用"];
        let b = ["小区", "消防通道", "电动自行车", "堵塞"];
        let c = ["劳资", "工资", "拖欠"];
        assert!(similarity(&a, &b) >= DUPLICATE_SIMILARITY);
        assert_eq!(similarity(&a, &c), 0.0);
        assert_eq!(similarity::<&str>(&[], &[]), 0.0);
    }

    #[test]
    fn requests_are_validated() {
        let e = validate_request(Channel::Online, "", "太短", 0).unwrap_err();
        for f in ["title", "content", "headcount"] {
            assert!(e.get(f).is_some(), "{f}");
        }
        assert!(e.get("content").unwrap().contains("第十九条"));
        let r = validate_request(Channel::Visit, "集体反映拖欠工资", "某工地拖欠工人工资三个月未发放", 8).unwrap();
        assert!(r.too_many_representatives, "more than 5 walk-in representatives is flagged (第二十条)");
        let r = validate_request(Channel::Letter, "集体来信", "某小区业主联名反映物业问题", 80).unwrap();
        assert!(!r.too_many_representatives, "the limit is for walk-in visits");
        assert_eq!(Channel::parse("hotline12345"), Some(Channel::Hotline12345));
        assert!(Channel::Platform.needs_external_number());
    }
}
