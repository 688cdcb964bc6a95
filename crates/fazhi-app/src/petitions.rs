//! Petitions (信访) use cases: intake at the desk or from the portal, the handling steps
//! with their statutory clocks (信访工作条例 第二十三、三十四条), and the public status lookup
//! by tracking code. Issue 5 builds mediation, receptions, documents and indicators on this.

use chrono::NaiveDate;
use fazhi_domain::access::{PETITION_HANDLE, PETITION_READ, Principal, RecordRef};
use fazhi_domain::identity::{CitizenId, Phone};
use fazhi_domain::petition::{self as rules, Category, Channel, Event, Outcome, State, TrackingCode};
use fazhi_domain::validation::bounded_text;
use fazhi_domain::{FieldErrors, OrgId, UserId};
use fazhi_store::org as org_store;
use fazhi_store::petitions::{self as store, NewPetition, PetitionQuery, PetitionRow};

use crate::clocks::{ClockTarget, ClockView};
use crate::ledger::Change;
use crate::org::By;
use crate::{App, AppError, AppResult, check, require};

/// Search module of petitions.
pub const MODULE: &str = "petitions";

/// One petitioner as typed.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct PetitionerDraft {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub phone: String,
    #[serde(default)]
    pub id_number: String,
    #[serde(default)]
    pub address: String,
}

/// An item as typed at the desk (or by the API).
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct IntakeDraft {
    #[serde(default)]
    pub channel: String,
    #[serde(default)]
    pub external_no: String,
    #[serde(default)]
    pub category: String,
    #[serde(default)]
    pub subject: String,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub content: String,
    pub headcount: Option<u32>,
    /// `YYYY-MM-DD`; today when empty.
    #[serde(default)]
    pub received_on: String,
    /// The community (or other node) the matter belongs to; the desk's own node otherwise.
    pub org_id: Option<i64>,
    #[serde(default)]
    pub petitioners: Vec<PetitionerDraft>,
}

/// An item that passed every check, ready to be written.
#[derive(Debug, Clone)]
pub struct ValidIntake {
    channel: Channel,
    category: Category,
    request: rules::Request,
    received: NaiveDate,
    petitioners: Vec<serde_json::Value>,
    key: String,
    org: OrgId,
    subject: String,
}

/// The result of an intake.
#[derive(Debug, Clone)]
pub struct Intake {
    pub id: i64,
    pub tracking_code: String,
    /// Recorded but worth telling the desk (e.g. too many walk-in representatives).
    pub warnings: Vec<String>,
    /// Earlier items of the same petitioner that look alike: offered for merging.
    pub possible_duplicates: Vec<(i64, String)>,
}

/// A handling step.
#[derive(Debug, Clone)]
pub enum Action {
    Accept { on: NaiveDate },
    NotAccept { reason: String },
    Assign,
    Reply { outcome: Outcome, legal_basis: String, text: String },
    Serve { on: NaiveDate },
    Close,
    Extend { days: u32, approved: bool, reason: String },
}

/// What the public sees for a tracking code: no names, no contact, no content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicStatus {
    pub title: String,
    pub state: &'static str,
    pub received_on: String,
    pub reply: Option<String>,
}

fn state_of(code: &str) -> State {
    match code {
        "accepted" => State::Accepted,
        "not_accepted" => State::NotAccepted,
        "handling" => State::Handling,
        "replied" => State::Replied,
        "served" => State::Served,
        "closed" => State::Closed,
        _ => State::Registered,
    }
}

fn state_code(s: State) -> &'static str {
    match s {
        State::Registered => "registered",
        State::Accepted => "accepted",
        State::NotAccepted => "not_accepted",
        State::Handling => "handling",
        State::Replied => "replied",
        State::Served => "served",
        State::Closed => "closed",
    }
}

pub fn state_label(code: &str) -> &'static str {
    state_of(code).label()
}

pub fn channel_label(code: &str) -> &'static str {
    Channel::parse(code).map_or("未知", Channel::label)
}

fn parse_category(code: &str) -> Option<Category> {
    match code {
        "suggestion" => Some(Category::Suggestion),
        "accusation" => Some(Category::Accusation),
        "claim" => Some(Category::Claim),
        _ => None,
    }
}

pub fn category_label(code: &str) -> &'static str {
    parse_category(code).map_or("未分类", Category::label)
}

/// The acting user's id, unless the actor is the portal or another system actor (id 0).
fn real_user(who: &Principal) -> Option<i64> {
    (who.user_id.0 > 0).then_some(who.user_id.0)
}

fn petition_ref(row: &PetitionRow, path: fazhi_domain::org::OrgPath) -> RecordRef {
    RecordRef { org_id: OrgId(row.org_id), org_path: path, owner: row.created_by.map(UserId) }
}

impl App {
    async fn petition_org(&self, who: &Principal, org: OrgId, perm: fazhi_domain::access::Permission) -> AppResult<()> {
        let node = org_store::get_node(&self.store.read, org).await?.ok_or(AppError::NotFound("机构"))?;
        check(who, perm, &RecordRef { org_id: org, org_path: node.org_path(), owner: Some(who.user_id) })
    }

    /// Registers an item (信访工作条例 第二十一条) and starts the 15-day notice clock
    /// (第二十三条第二款).
    /// Checks an item without writing anything (the bulk import checks every row first).
    pub async fn validate_intake(&self, by: &By<'_>, d: &IntakeDraft) -> AppResult<ValidIntake> {
        require(by.who, PETITION_HANDLE)?;
        let mut e = FieldErrors::new();
        let channel = Channel::parse(&d.channel);
        if channel.is_none() {
            e.add("channel", "请选择信访渠道");
        }
        let category = parse_category(&d.category);
        if category.is_none() {
            e.add("category", "请选择信访类别（建议意见类、检举控告类、申诉求决类）");
        }
        if channel.is_some_and(Channel::needs_external_number) && d.external_no.trim().is_empty() {
            e.add("external_no", "12345 或信访平台推送的件须填写外部编号");
        }
        let subject = e.take(bounded_text("subject", "事项类型", &d.subject, 0, 20));
        let request = match rules::validate_request(
            channel.unwrap_or(Channel::Online),
            &d.title,
            &d.content,
            d.headcount.unwrap_or(1),
        ) {
            Ok(r) => Some(r),
            Err(errs) => {
                e.0.extend(errs.0);
                None
            }
        };
        let today = fazhi_domain::clock::beijing_date(self.now());
        let received = if d.received_on.trim().is_empty() {
            Some(today)
        } else {
            match NaiveDate::parse_from_str(d.received_on.trim(), "%Y-%m-%d") {
                Ok(day) if day <= today => Some(day),
                Ok(_) => {
                    e.add("received_on", "收到日期不能晚于今天");
                    None
                }
                Err(_) => {
                    e.add("received_on", "收到日期应为 YYYY-MM-DD");
                    None
                }
            }
        };
        let mut petitioners = Vec::new();
        let mut key = String::new();
        if d.petitioners.iter().all(|p| p.name.trim().is_empty()) {
            e.add("petitioners", "请填写信访人姓名或单位名称（信访工作条例第十九条）");
        }
        for p in d.petitioners.iter().filter(|p| !p.name.trim().is_empty()) {
            let name = e.take(bounded_text("petitioners", "信访人姓名", &p.name, 1, 50));
            let phone = if p.phone.trim().is_empty() { None } else { e.take(Phone::parse("phone", &p.phone)) };
            let id =
                if p.id_number.trim().is_empty() { None } else { e.take(CitizenId::parse("id_number", &p.id_number)) };
            let address = e.take(bounded_text("address", "住址", &p.address, 0, 200));
            if key.is_empty() {
                key = id
                    .as_ref()
                    .map(|i| i.as_str().to_owned())
                    .or(phone.as_ref().map(|p| p.as_str().to_owned()))
                    .unwrap_or_default();
            }
            petitioners.push(serde_json::json!({
                "name": name, "phone": phone.map(|p| p.as_str().to_owned()),
                "id_number": id.map(|i| i.as_str().to_owned()), "address": address,
            }));
        }
        let org = OrgId(d.org_id.unwrap_or(by.who.org_id.0));
        match self.petition_org(by.who, org, PETITION_HANDLE).await {
            Ok(()) => {}
            Err(AppError::Forbidden(_) | AppError::NotFound(_)) => {
                e.add("org_id", "所选社区或机构不存在，或不在您的办理范围内");
            }
            Err(other) => return Err(other),
        }
        e.into_result()?;
        let (Some(channel), Some(category), Some(request), Some(received)) = (channel, category, request, received)
        else {
            return Err(AppError::Internal("validated input incomplete".into()));
        };
        Ok(ValidIntake {
            channel,
            category,
            request,
            received,
            petitioners,
            key,
            org,
            subject: subject.unwrap_or_default(),
        })
    }

    pub async fn intake(&self, by: &By<'_>, d: &IntakeDraft) -> AppResult<Intake> {
        let ValidIntake { channel, category, request, received, petitioners, key, org, subject } =
            self.validate_intake(by, d).await?;
        let subject = Some(subject);
        let mut warnings = Vec::new();
        if request.too_many_representatives {
            warnings
                .push(format!("走访代表 {} 人，超过信访工作条例第二十条规定的 5 人，已如实登记", request.headcount));
        }
        // Duplicates: the same petitioner with a similar request within 90 days.
        let mut possible_duplicates = Vec::new();
        if !key.is_empty() {
            let mine = self.search.cut(&format!("{} {}", request.title, request.content));
            for old in store::recent_of_petitioner(&self.store.read, &key, self.now() - 90 * 86_400_000).await? {
                let theirs = self.search.cut(&format!("{} {}", old.title, old.content));
                if rules::similarity(&mine, &theirs) >= rules::DUPLICATE_SIMILARITY {
                    possible_duplicates.push((old.id, old.title));
                }
            }
        }
        let mut random = [0u8; 11];
        getrandom::fill(&mut random).map_err(|e| AppError::Internal(e.to_string()))?;
        let code = TrackingCode::from_random(random);
        let petitioners_json = serde_json::to_string(&petitioners).map_err(|e| AppError::Internal(e.to_string()))?;
        let received_text = received.to_string();
        let cat_code = match category {
            Category::Suggestion => "suggestion",
            Category::Accusation => "accusation",
            Category::Claim => "claim",
        };
        let now = self.now();
        let mut tx = self.store.begin().await?;
        let new = NewPetition {
            org_id: org.0,
            tracking_code: code.as_str(),
            channel: channel.code(),
            external_no: d.external_no.trim(),
            category: cat_code,
            subject: subject.as_deref().unwrap_or(""),
            title: &request.title,
            content: &request.content,
            headcount: i64::from(request.headcount),
            petitioners_json: &petitioners_json,
            petitioner_key: &key,
            community_id: d.org_id,
            received_on: &received_text,
            duplicate_of: None,
            created_by: real_user(by.who),
        };
        let id = store::insert(&mut tx, &new, now).await?;
        let change = serde_json::json!({
            "channel": channel.code(), "category": cat_code, "title": request.title, "headcount": request.headcount,
            "received_on": received_text, "petitioners": petitioners.len(), "warnings": warnings,
        });
        let c = Change {
            org,
            record_type: "petition",
            record_id: id.to_string(),
            action: "petition.register",
            change,
            attachments: vec![],
        };
        self.record(&mut tx, &by.actor(), c).await?;
        let doc = fazhi_store::search::SearchDoc {
            module: MODULE,
            record_type: "petition",
            record_id: id.to_string(),
            org_id: org,
            owner_id: real_user(by.who).map(UserId),
            title: request.title.clone(),
            body: request.content.clone(),
            updated_at: now,
        };
        fazhi_store::search::upsert_doc(&mut tx, &self.search, &doc).await?;
        tx.commit().await?;
        let t = ClockTarget {
            record_type: "petition",
            record_id: id.to_string(),
            org,
            owner: real_user(by.who).map(UserId),
        };
        self.start_clock(by, t, "petition.notify_direct", received).await?;
        Ok(Intake { id, tracking_code: code.display(), warnings, possible_duplicates })
    }

    /// Items within the principal's scope.
    pub async fn petitions(&self, who: &Principal, q: &PetitionQuery) -> AppResult<Vec<PetitionRow>> {
        require(who, PETITION_READ)?;
        Ok(store::list(&self.store.read, who.filter(PETITION_READ).as_ref(), q).await?)
    }

    async fn visible_petition(
        &self,
        who: &Principal,
        id: i64,
        perm: fazhi_domain::access::Permission,
    ) -> AppResult<PetitionRow> {
        let row = store::get(&self.store.read, id).await?.ok_or(AppError::NotFound("信访件"))?;
        let node =
            org_store::get_node(&self.store.read, OrgId(row.org_id)).await?.ok_or(AppError::NotFound("信访件"))?;
        check(who, perm, &petition_ref(&row, node.org_path()))?;
        Ok(row)
    }

    /// One item with its clocks.
    pub async fn petition(&self, who: &Principal, id: i64) -> AppResult<(PetitionRow, Vec<ClockView>)> {
        let row = self.visible_petition(who, id, PETITION_READ).await?;
        let clocks = self.clocks_of("petition", &id.to_string()).await?;
        Ok((row, clocks))
    }

    /// A handling step: the domain decides whether it may happen; clocks follow.
    pub async fn petition_step(&self, by: &By<'_>, id: i64, action: Action) -> AppResult<()> {
        let mut row = self.visible_petition(by.who, id, PETITION_HANDLE).await?;
        let state = state_of(&row.state);
        let event = match &action {
            Action::Accept { .. } => Event::Accept,
            Action::NotAccept { reason } => Event::NotAccept { reason: reason.clone() },
            Action::Assign => Event::Assign,
            Action::Reply { outcome, legal_basis, .. } => {
                Event::Reply { outcome: *outcome, legal_basis: legal_basis.clone() }
            }
            Action::Serve { .. } => Event::Serve,
            Action::Close => Event::Close,
            Action::Extend { days, approved, .. } => Event::Extend { days: *days, approved: *approved },
        };
        let next = rules::transition(state, &event, row.extended_days > 0)
            .map_err(|r| AppError::Invalid(FieldErrors::single("action", r.to_string())))?;
        let clocks = self.clocks_of("petition", &id.to_string()).await?;
        let clock_of = |rule: &str| clocks.iter().find(|c| c.clock.rule.id == rule && !c.row.closed).map(|c| c.row.id);
        let (action_code, change) = match &action {
            Action::Accept { on } => {
                row.accepted_on = Some(on.to_string());
                ("petition.accept", serde_json::json!({"accepted_on": on.to_string()}))
            }
            Action::NotAccept { reason } => ("petition.not_accept", serde_json::json!({"reason": reason})),
            Action::Assign => ("petition.assign", serde_json::json!({})),
            Action::Reply { outcome, legal_basis, text } => {
                row.outcome = outcome.label().to_owned();
                row.legal_basis = legal_basis.clone();
                row.reply_text = text.clone();
                ("petition.reply", serde_json::json!({"outcome": outcome.label(), "legal_basis": legal_basis}))
            }
            Action::Serve { on } => {
                row.served_on = Some(on.to_string());
                ("petition.serve", serde_json::json!({"served_on": on.to_string()}))
            }
            Action::Close => {
                // Closing follows service; an item closed when its reply was served counts
                // as closed that day.
                let today = fazhi_domain::clock::beijing_date(self.now()).to_string();
                row.closed_on = Some(row.served_on.clone().unwrap_or(today));
                ("petition.close", serde_json::json!({}))
            }
            Action::Extend { days, reason, .. } => {
                row.extended_days = i64::from(*days);
                ("petition.extend", serde_json::json!({"days": days, "reason": reason}))
            }
        };
        row.state = state_code(next).to_owned();
        let mut tx = self.store.begin().await?;
        store::save_state(&mut tx, &row, self.now()).await?;
        let c = Change {
            org: OrgId(row.org_id),
            record_type: "petition",
            record_id: id.to_string(),
            action: action_code,
            change,
            attachments: vec![],
        };
        self.record(&mut tx, &by.actor(), c).await?;
        tx.commit().await?;
        let today = fazhi_domain::clock::beijing_date(self.now());
        match action {
            Action::Accept { on } => {
                if let Some(c) = clock_of("petition.notify_direct") {
                    self.complete_clock(by, c, on).await?;
                }
                let t = ClockTarget {
                    record_type: "petition",
                    record_id: id.to_string(),
                    org: OrgId(row.org_id),
                    owner: Some(by.who.user_id),
                };
                self.start_clock(by, t, "petition.handle", on).await?;
            }
            Action::NotAccept { .. } => {
                if let Some(c) = clock_of("petition.notify_direct") {
                    self.complete_clock(by, c, today).await?;
                }
            }
            Action::Extend { days, reason, .. } => {
                if let Some(c) = clock_of("petition.handle") {
                    self.extend_clock(by, c, days, &reason).await?;
                }
            }
            Action::Serve { on } => {
                if let Some(c) = clock_of("petition.handle") {
                    self.complete_clock(by, c, on).await?;
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// The public status of a tracking code. A malformed code and an unknown one get the
    /// same answer, after the same database work, so the code reveals nothing.
    pub async fn track(&self, code: &str) -> AppResult<PublicStatus> {
        let parsed = TrackingCode::parse(code);
        let lookup = parsed.as_ref().map_or("-", |c| c.as_str()).to_owned();
        let row = store::by_code(&self.store.read, &lookup).await?;
        let Some(row) = row.filter(|_| parsed.is_some()) else {
            return Err(AppError::NotFound("该查询码对应的信访件"));
        };
        let done = matches!(state_of(&row.state), State::Served | State::Closed);
        Ok(PublicStatus {
            title: row.title,
            state: state_label(&row.state),
            received_on: row.received_on,
            reply: done.then(|| format!("{}：{}", row.outcome, row.reply_text)),
        })
    }
}

/// Submissions from one address the portal accepts per hour (anti-abuse, no CAPTCHA).
pub const PORTAL_SUBMISSIONS_PER_HOUR: i64 = 5;

impl App {
    /// The streets (and townships) a member of the public can address an item to.
    pub async fn portal_streets(&self) -> AppResult<Vec<(i64, String)>> {
        let all = org_store::list_nodes(&self.store.read, Some(&fazhi_domain::access::ScopeFilter::All)).await?;
        Ok(all.into_iter().filter(|n| n.kind == "street" || n.kind == "township").map(|n| (n.id, n.name)).collect())
    }

    /// An item submitted on the portal (channel 网上), addressed to a street; at most
    /// [`PORTAL_SUBMISSIONS_PER_HOUR`] per address per hour.
    pub async fn portal_submit(&self, d: &IntakeDraft, source_addr: &str) -> AppResult<Intake> {
        let key = format!("portal:{source_addr}");
        let (n, _) = fazhi_store::auth::failures_since(&self.store.read, &key, self.now() - 3_600_000).await?;
        if n >= PORTAL_SUBMISSIONS_PER_HOUR {
            return Err(AppError::Refused("提交过于频繁，请一小时后再试，或拨打信访电话、到信访接待场所反映".into()));
        }
        let street = d
            .org_id
            .ok_or_else(|| AppError::Invalid(FieldErrors::single("org_id", "请选择反映事项所在的街道（乡镇）")))?;
        if !self.portal_streets().await?.iter().any(|(id, _)| *id == street) {
            return Err(AppError::Invalid(FieldErrors::single("org_id", "请选择反映事项所在的街道（乡镇）")));
        }
        let grant = fazhi_domain::access::RoleGrant {
            permissions: [PETITION_HANDLE, PETITION_READ].into_iter().collect(),
            scope: fazhi_domain::access::DataScope::All,
        };
        let portal =
            Principal::new(UserId(0), OrgId(street), fazhi_domain::org::OrgPath::root(OrgId(street)), [&grant]);
        let by = By { who: &portal, username: "portal", source_addr };
        let draft = IntakeDraft { channel: Channel::Online.code().into(), received_on: String::new(), ..d.clone() };
        let intake = self.intake(&by, &draft).await?;
        fazhi_store::auth::record_failure(&self.store.write, &key, self.now()).await?;
        Ok(intake)
    }
}

/// Largest bulk import of pushed items.
pub const MAX_IMPORT_ROWS: usize = 1000;

impl App {
    /// Imports items pushed by the 12345 hotline or the 信访信息系统: every row is checked
    /// first; one bad row means nothing is imported and every bad row is listed.
    pub async fn import_petitions(&self, by: &By<'_>, drafts: &[IntakeDraft]) -> AppResult<Vec<Intake>> {
        require(by.who, PETITION_HANDLE)?;
        if drafts.is_empty() || drafts.len() > MAX_IMPORT_ROWS {
            return Err(AppError::Invalid(FieldErrors::single("rows", format!("每次导入 1 到 {MAX_IMPORT_ROWS} 件"))));
        }
        let mut errors = FieldErrors::new();
        for (i, d) in drafts.iter().enumerate() {
            match self.validate_intake(by, d).await {
                Ok(_) => {}
                Err(AppError::Invalid(e)) => {
                    for fe in e.0 {
                        errors.add("rows", format!("第 {} 行 {}：{}", i + 1, fe.field, fe.message));
                    }
                }
                Err(other) => return Err(other),
            }
        }
        errors.into_result()?;
        let mut out = Vec::with_capacity(drafts.len());
        for d in drafts {
            out.push(self.intake(by, d).await?);
        }
        Ok(out)
    }
}

/// A handling step as a form or an API body states it, before parsing. Both faces convert
/// through [`StepInput::action`], so the rules of what a step needs live in one place.
#[derive(Debug, Clone, Default)]
pub struct StepInput {
    /// accept, not_accept, assign, reply, serve, close, extend
    pub action: String,
    /// `YYYY-MM-DD` for accept and serve.
    pub date: String,
    pub reason: String,
    /// support, explain, reject (for reply).
    pub outcome: String,
    pub legal_basis: String,
    pub text: String,
    /// Days of an extension; `None` when missing or not a number.
    pub days: Option<u32>,
    pub approved: bool,
}

impl StepInput {
    pub fn action(&self) -> Result<Action, FieldErrors> {
        let date = || {
            NaiveDate::parse_from_str(self.date.trim(), "%Y-%m-%d")
                .map_err(|_| FieldErrors::single("date", "日期应为 YYYY-MM-DD"))
        };
        Ok(match self.action.as_str() {
            "accept" => Action::Accept { on: date()? },
            "not_accept" => Action::NotAccept { reason: self.reason.clone() },
            "assign" => Action::Assign,
            "reply" => Action::Reply {
                outcome: match self.outcome.as_str() {
                    "support" => Outcome::Support,
                    "explain" => Outcome::Explain,
                    "reject" => Outcome::Reject,
                    _ => return Err(FieldErrors::single("outcome", "请选择处理意见（支持、解释说明、不予支持）")),
                },
                legal_basis: self.legal_basis.clone(),
                text: self.text.clone(),
            },
            "serve" => Action::Serve { on: date()? },
            "close" => Action::Close,
            "extend" => Action::Extend {
                days: self.days.ok_or_else(|| FieldErrors::single("days", "延长天数应为整数"))?,
                approved: self.approved,
                reason: self.reason.clone(),
            },
            _ => return Err(FieldErrors::single("action", "未知的办理步骤")),
        })
    }
}
