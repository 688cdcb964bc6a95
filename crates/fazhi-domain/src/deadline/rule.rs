//! A statutory deadline as data: what the period is, which article sets it, how it is
//! counted, how it may be extended or paused, and how sure we are of it.
//!
//! Rules are values, not code, so an installation can correct a value the research could
//! not verify (DOMAIN.md "UNVERIFIED") or follow a local regulation where the statute
//! allows one ("法律、法规、规章另有规定的，从其规定", 行政处罚法 第六十条) through
//! [`RuleOverrides`], and every override carries its legal basis into the explanation.

use std::collections::BTreeMap;
use std::fmt;

use crate::calendar::DayUnit;

/// Where the article is: a law (or regulation / normative document) and an article.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Citation {
    /// Short name with its edition, e.g. `行政处罚法（2021年修订）`.
    pub law: String,
    /// Article, paragraph and item as written in Chinese, e.g. `第六十四条第一款第（一）项`.
    pub article: String,
}

impl Citation {
    pub fn new(law: &str, article: &str) -> Self {
        Self { law: law.to_owned(), article: article.to_owned() }
    }
}

impl fmt::Display for Citation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "《{}》{}", self.law, self.article)
    }
}

/// The module a rule belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Area {
    /// 行政执法 (行政处罚, 行政强制).
    Enforcement,
    /// 信访.
    Petition,
    /// 政府信息公开.
    Disclosure,
    /// 重大行政决策.
    Decision,
    /// 行政诉讼.
    Litigation,
    /// 行政复议.
    Reconsideration,
    /// 人民调解.
    Mediation,
}

/// What the computed date means.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleKind {
    /// Act on or before the date ("九十日内作出决定").
    Deadline,
    /// Do not end before the date ("公开征求意见的期限一般不少于30日").
    MinimumPeriod,
    /// Act on or before the date, counted backwards from a later event ("在举行听证的七日前
    /// 通知"); the clock's event date is that later event.
    AdvanceNotice,
}

/// Who must act within the period; the UI words reminders differently for each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Duty {
    /// The agency using fazhi (街道 or the body it answers to).
    Agency,
    /// The citizen or organisation concerned (当事人, 信访人, 申请人).
    Party,
    /// A third party or another agency asked for its opinion.
    ThirdParty,
}

/// Which day is day one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StartRule {
    /// The event's day is not counted (民事诉讼法 第八十五条第二款); the default for every
    /// built-in rule.
    NextDay,
    /// The event's day is day one, for a law that says so expressly.
    SameDay,
}

/// How sure the research is of a rule's values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verification {
    /// Checked against the statute text in `shared/laws/`.
    Statute,
    /// Taken from secondary reproductions of a document whose text was not read.
    Secondary,
    /// Marked UNVERIFIED in DOMAIN.md (sectoral practice, memory); review it per installation.
    Unverified,
}

/// Why a clock may stop running for a while.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PauseReason {
    /// 补正: waiting for the applicant to complete the application.
    Correction,
    /// 征求意见: waiting for a third party or another agency.
    Consultation,
    /// 听证.
    Hearing,
    /// 检测、检验、检疫、鉴定.
    Appraisal,
    /// 公告.
    Announcement,
    /// 中止: proceedings suspended by law (e.g. 行政复议法 第三十九条).
    Suspension,
}

impl PauseReason {
    pub fn label_zh(self) -> &'static str {
        match self {
            Self::Correction => "补正",
            Self::Consultation => "征求第三方或其他机关意见",
            Self::Hearing => "听证",
            Self::Appraisal => "检测、检验、检疫、鉴定",
            Self::Announcement => "公告",
            Self::Suspension => "中止",
        }
    }
}

/// What a pause does to the period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PauseEffect {
    /// The paused days are not counted; counting resumes where it stopped.
    Suspend,
    /// The whole period starts again after the pause ends ("答复期限自行政机关收到补正的申请
    /// 之日起计算", 政府信息公开条例 第三十条).
    Restart,
}

/// A pause the rule allows.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PauseRule {
    pub reason: PauseReason,
    pub effect: PauseEffect,
    pub citation: Citation,
    pub verification: Verification,
}

/// An extension the rule allows (one use per entry).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ExtensionRule {
    /// Longest extension, in the rule's own unit: an extension lengthens the period, so
    /// 60 days extended by 30 is counted as a 90-day period from the same event.
    pub max_length: u32,
    /// Who must approve, in Chinese (行政复议机构的负责人 ...).
    pub approver: String,
    /// Whether the party must be told (and why), as most extension clauses require.
    pub notify_party: bool,
    pub citation: Citation,
}

/// One statutory (or configured) period.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DeadlineRule {
    /// Stable id, `area.name` (`enforcement.decision`); clocks and overrides refer to it.
    pub id: String,
    /// Chinese name shown to users.
    pub name: String,
    pub area: Area,
    pub kind: RuleKind,
    pub duty: Duty,
    /// The triggering event in Chinese (立案, 收到申请 ...).
    pub trigger: String,
    pub length: u32,
    pub unit: DayUnit,
    pub start: StartRule,
    /// Whether a calendar-day period ending on a non-working day moves to the next working
    /// day (民事诉讼法 第八十五条第三款). Meaningless for working-day periods.
    pub roll_if_non_working: bool,
    /// The article that sets the period.
    pub citation: Citation,
    /// The article that makes "N日" mean working days, when the period says only "日".
    pub unit_basis: Option<Citation>,
    pub extensions: Vec<ExtensionRule>,
    pub pauses: Vec<PauseRule>,
    pub verification: Verification,
    /// Why a value was chosen where the law is silent (roll, sectoral practice ...).
    pub note: String,
    /// The installation's stated basis, when an override changed this rule.
    pub overridden: Option<String>,
}

impl DeadlineRule {
    /// The pause rule for `reason`, if this rule allows it.
    pub fn pause_rule(&self, reason: PauseReason) -> Option<&PauseRule> {
        self.pauses.iter().find(|p| p.reason == reason)
    }

    /// "90 日" / "20 个工作日".
    pub fn period_zh(&self) -> String {
        format!("{} {}", self.length, self.unit.label_zh())
    }
}

/// The rules an installation uses: the built-in set with its overrides applied.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RuleSet {
    rules: Vec<DeadlineRule>,
}

impl RuleSet {
    /// The rules DOMAIN.md names, with their citations (see `builtin.rs`).
    pub fn builtin() -> Self {
        Self { rules: super::builtin::rules() }
    }

    pub fn get(&self, id: &str) -> Option<&DeadlineRule> {
        self.rules.iter().find(|r| r.id == id)
    }

    pub fn rules(&self) -> &[DeadlineRule] {
        &self.rules
    }

    /// The rules after applying `overrides`; every problem is reported, and nothing is
    /// applied unless all overrides are valid.
    ///
    /// # Errors
    /// [`AppError::Forbidden`] when the policy refuses; [`AppError::Internal`] for database failures.
    pub fn with_overrides(mut self, overrides: &RuleOverrides) -> Result<Self, OverrideErrors> {
        let mut errors = Vec::new();
        for (id, o) in &overrides.0 {
            let Some(rule) = self.rules.iter_mut().find(|r| &r.id == id) else {
                errors.push(OverrideError::UnknownRule { id: id.clone() });
                continue;
            };
            match o.check(id) {
                Ok(()) => o.apply_to(rule),
                Err(e) => errors.extend(e),
            }
        }
        if errors.is_empty() { Ok(self) } else { Err(OverrideErrors(errors)) }
    }
}

/// The longest period a rule or extension may have: ten years of days is beyond any
/// statute here and stops a typo (9000 for 90) from passing.
pub const MAX_LENGTH: u32 = 3650;

/// An installation's change to one rule. Unset fields keep the built-in value; `basis`
/// (the local regulation or decision relied on) is required and shown in explanations.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RuleOverride {
    pub length: Option<u32>,
    pub unit: Option<DayUnit>,
    pub roll_if_non_working: Option<bool>,
    /// Replaces the allowed extensions.
    pub extensions: Option<Vec<ExtensionRule>>,
    /// Replaces the allowed pauses.
    pub pauses: Option<Vec<PauseRule>>,
    pub basis: String,
}

impl RuleOverride {
    fn check(&self, id: &str) -> Result<(), Vec<OverrideError>> {
        let mut errors = Vec::new();
        if self.basis.trim().is_empty() {
            errors.push(OverrideError::MissingBasis { id: id.to_owned() });
        }
        let bad = |n: u32| n == 0 || n > MAX_LENGTH;
        if let Some(n) = self.length.filter(|n| bad(*n)) {
            errors.push(OverrideError::BadLength { id: id.to_owned(), length: n });
        }
        for e in self.extensions.iter().flatten() {
            if bad(e.max_length) {
                errors.push(OverrideError::BadLength { id: id.to_owned(), length: e.max_length });
            }
        }
        if errors.is_empty() { Ok(()) } else { Err(errors) }
    }

    fn apply_to(&self, rule: &mut DeadlineRule) {
        if let Some(n) = self.length {
            rule.length = n;
        }
        if let Some(u) = self.unit {
            rule.unit = u;
        }
        if let Some(r) = self.roll_if_non_working {
            rule.roll_if_non_working = r;
        }
        if let Some(e) = &self.extensions {
            rule.extensions = e.clone();
        }
        if let Some(p) = &self.pauses {
            rule.pauses = p.clone();
        }
        rule.overridden = Some(self.basis.trim().to_owned());
    }
}

/// Overrides by rule id, as read from the installation's configuration.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct RuleOverrides(pub BTreeMap<String, RuleOverride>);

/// Why an override was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OverrideError {
    #[error("没有编号为“{id}”的期限规则")]
    UnknownRule { id: String },
    #[error("期限规则“{id}”的调整必须写明依据（如地方性法规、规章名称和条款）")]
    MissingBasis { id: String },
    #[error("期限规则“{id}”的期限 {length} 不合理（应为 1 至 3650）")]
    BadLength { id: String, length: u32 },
}

/// All refused overrides.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct OverrideErrors(pub Vec<OverrideError>);

impl fmt::Display for OverrideErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let msgs: Vec<String> = self.0.iter().map(ToString::to_string).collect();
        f.write_str(&msgs.join("；"))
    }
}
