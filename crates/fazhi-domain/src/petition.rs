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
    /// 并入另一件 (a duplicate merged into an earlier item).
    Merged,
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
            State::Merged => "已合并",
        }
    }

    pub const ALL: [State; 8] = [
        State::Registered,
        State::Accepted,
        State::NotAccepted,
        State::Handling,
        State::Replied,
        State::Served,
        State::Closed,
        State::Merged,
    ];

    pub fn code(self) -> &'static str {
        match self {
            State::Registered => "registered",
            State::Accepted => "accepted",
            State::NotAccepted => "not_accepted",
            State::Handling => "handling",
            State::Replied => "replied",
            State::Served => "served",
            State::Closed => "closed",
            State::Merged => "merged",
        }
    }

    pub fn parse(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.code() == code)
    }

    /// Still being worked on (counts in the backlog).
    pub fn is_open(self) -> bool {
        !matches!(self, State::Served | State::Closed | State::NotAccepted | State::Merged)
    }
}

/// Which round of handling an item is (信访工作条例 第三十五、三十六条).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// 初次办理.
    First,
    /// 复查 (第三十五条).
    Review,
    /// 复核 (第三十六条): the last round; the same facts are not accepted again.
    Recheck,
}

impl Stage {
    pub fn code(self) -> &'static str {
        match self {
            Stage::First => "first",
            Stage::Review => "review",
            Stage::Recheck => "recheck",
        }
    }

    pub fn parse(code: &str) -> Option<Self> {
        [Stage::First, Stage::Review, Stage::Recheck].into_iter().find(|s| s.code() == code)
    }

    pub fn label(self) -> &'static str {
        match self {
            Stage::First => "初次办理",
            Stage::Review => "复查",
            Stage::Recheck => "复核",
        }
    }

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

/// 回访 satisfaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Satisfaction {
    Satisfied,
    Basic,
    Unsatisfied,
}

impl Satisfaction {
    pub fn code(self) -> &'static str {
        match self {
            Satisfaction::Satisfied => "satisfied",
            Satisfaction::Basic => "basic",
            Satisfaction::Unsatisfied => "unsatisfied",
        }
    }

    pub fn parse(code: &str) -> Option<Self> {
        [Satisfaction::Satisfied, Satisfaction::Basic, Satisfaction::Unsatisfied].into_iter().find(|s| s.code() == code)
    }

    pub fn label(self) -> &'static str {
        match self {
            Satisfaction::Satisfied => "满意",
            Satisfaction::Basic => "基本满意",
            Satisfaction::Unsatisfied => "不满意",
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
    /// 交办 to a department or community of the street, with the instruction.
    Assign {
        note: String,
    },
    /// 转送 to another competent agency (第二十二、二十三条), with the reason.
    Transfer {
        reason: String,
    },
    /// The receiver's objection to a transfer outside its competence (第二十三条第三款).
    Objection {
        reason: String,
    },
    /// 督办 by a leader, with the instruction.
    Supervise {
        instruction: String,
    },
    /// Merged into an earlier item of the same petitioner.
    Merge,
    /// 回访 after the reply was served.
    Visit,
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
    #[error("复查、复核期限不能延长（信访工作条例第三十五、三十六条只规定 30 日）")]
    NoExtensionInReview,
    #[error("交办须写明交办意见")]
    MissingNote,
    #[error("督办须写明督办意见")]
    MissingInstruction,
    #[error("复核意见为最终意见，信访人以同一事实和理由再提出的，不再受理（信访工作条例第三十六条）")]
    RecheckFinal,
    #[error("书面答复送达后才能请求复查或复核（信访工作条例第三十五条）")]
    NoReplyYet,
    #[error("请求日期不能早于书面答复送达日期")]
    RequestBeforeReply,
    #[error("已超过收到书面答复之日起 30 日，不能请求{stage}（信访工作条例第三十五、三十六条）")]
    RequestTooLate { stage: &'static str },
}

/// The state machine: the next state after `event`, or why not. `extended` says whether
/// the handling period was already extended.
pub fn transition(state: State, event: &Event, extended: bool) -> Result<State, Refusal> {
    transition_in(Stage::First, state, event, extended)
}

/// [`transition`] for an item of a given round (复查 and 复核 cannot be extended, and are not
/// transferred: they are answered by the body asked).
pub fn transition_in(stage: Stage, state: State, event: &Event, extended: bool) -> Result<State, Refusal> {
    use State::*;
    let wrong = |action| Err(Refusal::WrongState { state: state.label(), action });
    let need = |text: &str, refusal: Refusal| if text.trim().is_empty() { Err(refusal) } else { Ok(()) };
    match (state, event) {
        (Accepted | Handling, Event::Assign { note }) => need(note, Refusal::MissingNote).map(|()| Handling),
        (Registered, Event::Transfer { reason }) if stage == Stage::First => {
            need(reason, Refusal::MissingReason).map(|()| Registered)
        }
        (Registered, Event::Objection { reason }) => need(reason, Refusal::MissingReason).map(|()| Registered),
        (Registered | Accepted | Handling | Replied, Event::Supervise { instruction }) => {
            need(instruction, Refusal::MissingInstruction).map(|()| state)
        }
        (Registered, Event::Merge) => Ok(Merged),
        (Served | Closed, Event::Visit) => Ok(state),
        (Accepted | Handling, Event::Extend { .. }) if stage != Stage::First => Err(Refusal::NoExtensionInReview),
        (Registered, Event::Accept) => Ok(Accepted),
        (Registered, Event::NotAccept { reason }) => {
            if reason.trim().is_empty() {
                Err(Refusal::MissingReason)
            } else {
                Ok(NotAccepted)
            }
        }
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
        (_, Event::Assign { .. }) => wrong("交办"),
        (_, Event::Transfer { .. }) => wrong("转送"),
        (_, Event::Objection { .. }) => wrong("提出异议"),
        (_, Event::Supervise { .. }) => wrong("督办"),
        (_, Event::Merge) => wrong("合并"),
        (_, Event::Visit) => wrong("回访"),
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
        assert_eq!(transition(s, &Event::Assign { note: " ".into() }, false), Err(Refusal::MissingNote));
        s = transition(s, &Event::Assign { note: "请兴南社区核实".into() }, false).unwrap();
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
    fn transfers_supervision_merge_and_visits() {
        use State::*;
        let t = |s, e: Event| transition(s, &e, false);
        assert_eq!(t(Registered, Event::Transfer { reason: "属区住建委职责".into() }), Ok(Registered));
        assert_eq!(t(Registered, Event::Transfer { reason: "".into() }), Err(Refusal::MissingReason));
        assert!(t(Handling, Event::Transfer { reason: "x".into() }).is_err(), "transfer happens before acceptance");
        let review = transition_in(Stage::Review, Registered, &Event::Transfer { reason: "x".into() }, false);
        assert!(review.is_err(), "a 复查 is answered by the body asked");
        assert_eq!(t(Registered, Event::Objection { reason: "不属本街道职权".into() }), Ok(Registered));
        assert_eq!(t(Handling, Event::Supervise { instruction: "本周内答复".into() }), Ok(Handling));
        assert_eq!(t(Handling, Event::Supervise { instruction: " ".into() }), Err(Refusal::MissingInstruction));
        assert!(t(Closed, Event::Supervise { instruction: "x".into() }).is_err());
        assert_eq!(t(Registered, Event::Merge), Ok(Merged));
        assert!(t(Accepted, Event::Merge).is_err());
        assert_eq!(t(Served, Event::Visit), Ok(Served));
        assert_eq!(t(Closed, Event::Visit), Ok(Closed));
        assert!(t(Handling, Event::Visit).is_err());
        let ext = Event::Extend { days: 10, approved: true };
        assert_eq!(transition_in(Stage::Review, Accepted, &ext, false), Err(Refusal::NoExtensionInReview));
        assert!(!Merged.is_open() && !Served.is_open() && Handling.is_open());
        for s in State::ALL {
            assert_eq!(State::parse(s.code()), Some(s));
        }
    }

    #[test]
    fn review_and_recheck_windows() {
        let d = |s: &str| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        let served = Some(d("2026-03-02"));
        assert_eq!(review_request(Stage::First, State::Served, served, d("2026-04-01")), Ok(Stage::Review));
        assert_eq!(
            review_request(Stage::First, State::Closed, served, d("2026-04-02")),
            Err(Refusal::RequestTooLate { stage: "复查" }),
            "30 days after 2026-03-02 is 2026-04-01 (第三十五条)"
        );
        assert_eq!(review_request(Stage::Review, State::Closed, served, d("2026-03-10")), Ok(Stage::Recheck));
        assert_eq!(review_request(Stage::Recheck, State::Closed, served, d("2026-03-10")), Err(Refusal::RecheckFinal));
        assert_eq!(review_request(Stage::First, State::Handling, None, d("2026-03-10")), Err(Refusal::NoReplyYet));
        assert_eq!(
            review_request(Stage::First, State::Served, served, d("2026-03-01")),
            Err(Refusal::RequestBeforeReply)
        );
        assert_eq!(Stage::Review.handling_rule(), "petition.review");
        assert_eq!(Stage::Recheck.next_request_rule(), None);
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
