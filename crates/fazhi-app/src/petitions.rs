//! Petitions (信访) use cases: intake at the desk or from the portal, the handling steps
//! with their statutory clocks (信访工作条例 第二十三、三十四条), and the public status lookup
//! by tracking code. Issue 5 builds mediation, receptions, documents and indicators on this.

use chrono::NaiveDate;
use fazhi_domain::access::{PETITION_HANDLE, PETITION_READ, PETITION_SUPERVISE, Principal, RecordRef};
use fazhi_domain::identity::{CitizenId, Phone};
use fazhi_domain::petition::{
    self as rules, Category, Channel, Event, Outcome, Satisfaction, Stage, State, TrackingCode,
};
use fazhi_domain::validation::bounded_text;
use fazhi_domain::{FieldErrors, OrgId, UserId};
use fazhi_store::org as org_store;
use fazhi_store::petitions::{self as store, NewPetition, PetitionQuery, PetitionRow, TransferRow};

use crate::clocks::{ClockTarget, ClockView};
use crate::ledger::Change;
use crate::org::By;
use crate::{App, AppError, AppResult, check, require};

/// Search module of petitions.
pub const MODULE: &str = "petitions";

/// Default 积案 threshold: open longer than the longest handling period, 60 + 30 days
/// (信访工作条例 第三十四条). A local practice; `petition_backlog_days` in the config.
pub const DEFAULT_BACKLOG_DAYS: u32 = 90;

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
    /// 集体访 / 联名信: several people on one matter.
    #[serde(default)]
    pub collective: bool,
    /// The item is already accepted by another body (第十九条第三款): who and when, as told.
    #[serde(default)]
    pub accepted_elsewhere: String,
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
    external_no: String,
    collective: bool,
    accepted_elsewhere: String,
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
    Accept {
        on: NaiveDate,
    },
    NotAccept {
        reason: String,
    },
    /// 交办 to a department or community of the street.
    Assign {
        to: i64,
        note: String,
    },
    /// 转送 to another competent body (第二十二、二十三条).
    Transfer {
        to: i64,
        reason: String,
    },
    /// The receiver objects to a transfer outside its competence (第二十三条第三款).
    Objection {
        reason: String,
    },
    /// 督办 by a leader.
    Supervise {
        instruction: String,
    },
    /// 包案: a leader owns the item (第十八条第二款).
    Lead {
        user: i64,
    },
    /// Merge into an earlier item of the same petitioner.
    Merge {
        into: i64,
    },
    Reply {
        outcome: Outcome,
        legal_basis: String,
        text: String,
    },
    Serve {
        on: NaiveDate,
    },
    Close,
    Extend {
        days: u32,
        approved: bool,
        reason: String,
    },
    /// 回访 with the petitioner's satisfaction.
    Visit {
        on: NaiveDate,
        satisfaction: Satisfaction,
        note: String,
    },
}

impl Action {
    fn code(&self) -> &'static str {
        match self {
            Action::Accept { .. } => "petition.accept",
            Action::NotAccept { .. } => "petition.not_accept",
            Action::Assign { .. } => "petition.assign",
            Action::Transfer { .. } => "petition.transfer",
            Action::Objection { .. } => "petition.objection",
            Action::Supervise { .. } => "petition.supervise",
            Action::Lead { .. } => "petition.lead",
            Action::Merge { .. } => "petition.merge",
            Action::Reply { .. } => "petition.reply",
            Action::Serve { .. } => "petition.serve",
            Action::Close => "petition.close",
            Action::Extend { .. } => "petition.extend",
            Action::Visit { .. } => "petition.visit",
        }
    }
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
    State::parse(code).unwrap_or(State::Registered)
}

fn stage_of(code: &str) -> Stage {
    Stage::parse(code).unwrap_or(Stage::First)
}

pub fn stage_label(code: &str) -> &'static str {
    stage_of(code).label()
}

pub fn satisfaction_label(code: &str) -> &'static str {
    Satisfaction::parse(code).map_or("", Satisfaction::label)
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
        if d.collective
            && d.headcount.unwrap_or(1) < 2
            && d.petitioners.iter().filter(|p| !p.name.trim().is_empty()).count() < 2
        {
            e.add("headcount", "集体访（联名）须填写人数（至少 2 人）");
        }
        let accepted_elsewhere =
            e.take(bounded_text("accepted_elsewhere", "已由其他机关受理的情况", &d.accepted_elsewhere, 0, 200));
        let external_no = e.take(bounded_text("external_no", "外部编号", &d.external_no, 0, 64));
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
            external_no: external_no.unwrap_or_default(),
            collective: d.collective,
            accepted_elsewhere: accepted_elsewhere.unwrap_or_default(),
        })
    }

    /// Registers an item (信访工作条例 第二十一条) and starts the 15-day notice clock
    /// (第二十三条第二款) in the same transaction.
    pub async fn intake(&self, by: &By<'_>, d: &IntakeDraft) -> AppResult<Intake> {
        let valid = self.validate_intake(by, d).await?;
        let mut tx = self.store.begin().await?;
        let intake = self.intake_in(&mut tx, by, valid, None).await?;
        tx.commit().await?;
        Ok(intake)
    }

    /// [`Self::intake`] inside the caller's transaction: validation, the item, its ledger
    /// entry, index row and clock, committed (or not) with whatever else the caller writes.
    /// The benchmark's bulk generator registers many items per transaction through here.
    pub async fn intake_within(&self, tx: &mut fazhi_store::Tx, by: &By<'_>, d: &IntakeDraft) -> AppResult<Intake> {
        let valid = self.validate_intake(by, d).await?;
        self.intake_in(tx, by, valid, None).await
    }

    /// Writes a validated item inside the caller's transaction. `round` is set for a
    /// 复查/复核 request: (parent item, stage), accepted on receipt.
    pub(crate) async fn intake_in(
        &self,
        tx: &mut fazhi_store::Tx,
        by: &By<'_>,
        valid: ValidIntake,
        round: Option<(i64, Stage)>,
    ) -> AppResult<Intake> {
        let ValidIntake {
            channel,
            category,
            request,
            received,
            petitioners,
            key,
            org,
            subject,
            external_no,
            collective,
            accepted_elsewhere,
        } = valid;
        let mut warnings = Vec::new();
        if request.too_many_representatives {
            warnings
                .push(format!("走访代表 {} 人，超过信访工作条例第二十条规定的 5 人，已如实登记", request.headcount));
        }
        if !accepted_elsewhere.is_empty() {
            warnings.push(format!(
                "该事项已由其他机关受理（{accepted_elsewhere}）：同一事项已受理的，不再重复受理（信访工作条例第十九条第三款）"
            ));
        }
        // Duplicates: the same petitioner with a similar request within 90 days.
        let mut possible_duplicates = Vec::new();
        if !key.is_empty() && round.is_none() {
            let mine = self.search.cut(&format!("{} {}", request.title, request.content));
            for old in store::recent_of_petitioner(&mut *tx, &key, self.now() - 90 * 86_400_000).await? {
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
        let cat_code = category_code(category);
        let now = self.now();
        let (stage, parent_id) = match round {
            Some((parent, stage)) => (stage, Some(parent)),
            None => (Stage::First, None),
        };
        let new = NewPetition {
            org_id: org.0,
            tracking_code: code.as_str(),
            channel: channel.code(),
            external_no: &external_no,
            category: cat_code,
            subject: &subject,
            title: &request.title,
            content: &request.content,
            headcount: i64::from(request.headcount),
            petitioners_json: &petitioners_json,
            petitioner_key: &key,
            community_id: Some(org.0),
            received_on: &received_text,
            duplicate_of: None,
            created_by: real_user(by.who),
            state: if round.is_some() { "accepted" } else { "registered" },
            accepted_on: round.is_some().then_some(received_text.as_str()),
            parent_id,
            stage: stage.code(),
            accepted_elsewhere: &accepted_elsewhere,
            collective,
        };
        let id = store::insert(tx, &new, now).await?;
        let change = serde_json::json!({
            "channel": channel.code(), "category": cat_code, "title": request.title, "headcount": request.headcount,
            "received_on": received_text, "petitioners": petitioners.len(), "warnings": warnings,
            "collective": collective, "stage": stage.code(), "parent_id": parent_id,
        });
        let c = Change {
            org,
            record_type: "petition",
            record_id: id.to_string(),
            action: if round.is_some() { "petition.review_request" } else { "petition.register" },
            change,
            attachments: vec![],
        };
        self.record(tx, &by.actor(), c).await?;
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
        fazhi_store::search::upsert_doc(tx, &self.search, &doc).await?;
        let t = ClockTarget {
            record_type: "petition",
            record_id: id.to_string(),
            org,
            owner: real_user(by.who).map(UserId),
        };
        let rule = if round.is_some() { stage.handling_rule() } else { "petition.notify_direct" };
        self.start_clock_in(tx, by, t, rule, received).await?;
        Ok(Intake { id, tracking_code: code.display(), warnings, possible_duplicates })
    }

    /// Items within the principal's scope.
    pub async fn petitions(&self, who: &Principal, q: &PetitionQuery) -> AppResult<Vec<PetitionRow>> {
        require(who, PETITION_READ)?;
        Ok(store::list(&self.store.read, who.filter(PETITION_READ).as_ref(), q).await?)
    }

    /// How many items within scope match.
    pub async fn count_petitions(&self, who: &Principal, q: &PetitionQuery) -> AppResult<i64> {
        require(who, PETITION_READ)?;
        Ok(store::count(&self.store.read, who.filter(PETITION_READ).as_ref(), q).await?)
    }

    /// The day on or before which an open item counts as 积案 (open longer than the
    /// configured number of days).
    pub fn backlog_cutoff(&self) -> NaiveDate {
        fazhi_domain::clock::beijing_date(self.now()) - chrono::Duration::days(i64::from(self.petition_backlog_days))
    }

    /// An item the principal may act on with `perm`: through the owning node or, while
    /// assigned, the assignee's node.
    async fn visible_petition(
        &self,
        who: &Principal,
        id: i64,
        perm: fazhi_domain::access::Permission,
    ) -> AppResult<PetitionRow> {
        let row = store::get(&self.store.read, id).await?.ok_or(AppError::NotFound("信访件"))?;
        self.petition_visible(who, row, perm).await
    }

    /// The policy check of [`Self::visible_petition`] on a row already read (inside a
    /// transaction, say).
    async fn petition_visible(
        &self,
        who: &Principal,
        row: PetitionRow,
        perm: fazhi_domain::access::Permission,
    ) -> AppResult<PetitionRow> {
        let tree = self.org_snapshot().await?;
        let node = tree.get(row.org_id).ok_or(AppError::NotFound("信访件"))?;
        let owner_check = check(who, perm, &petition_ref(&row, node.org_path()));
        if owner_check.is_ok() {
            return Ok(row);
        }
        if let Some(h) = row.handler_org_id
            && let Some(hn) = tree.get(h)
        {
            let rec = RecordRef { org_id: OrgId(h), org_path: hn.org_path(), owner: row.lead_user_id.map(UserId) };
            if check(who, perm, &rec).is_ok() {
                return Ok(row);
            }
        }
        owner_check.map(|()| row)
    }

    /// One item with its clocks.
    pub async fn petition(&self, who: &Principal, id: i64) -> AppResult<(PetitionRow, Vec<ClockView>)> {
        let row = self.visible_petition(who, id, PETITION_READ).await?;
        let clocks = self.clocks_of("petition", &id.to_string()).await?;
        Ok((row, clocks))
    }

    /// The filter for the street-level records of this module (mediation committees and
    /// cases, reception days and receptions): the principal's petitions scope, except that
    /// staff whose scope is their own office or their own records work for their whole
    /// street or township, where these records are kept. Same policy, widened on purpose.
    pub async fn street_filter(&self, who: &Principal) -> AppResult<Option<fazhi_domain::access::ScopeFilter>> {
        use fazhi_domain::access::ScopeFilter;
        require(who, PETITION_READ)?;
        Ok(match who.filter(PETITION_READ) {
            Some(ScopeFilter::Org(_) | ScopeFilter::Owner(_)) => {
                let (gov, _) = self.government_of(who.org_id).await?;
                Some(ScopeFilter::Org(gov))
            }
            Some(ScopeFilter::Subtree(path)) => {
                // A community worker sees the street's records of the module.
                let (node, _) = self.government_node(who.org_id).await?;
                if path.is_within(&node.org_path()) {
                    Some(ScopeFilter::Subtree(node.org_path()))
                } else {
                    Some(ScopeFilter::Subtree(path))
                }
            }
            other => other,
        })
    }

    /// What surrounds an item: its transfers, its 复查/复核 rounds and the round it answers.
    pub async fn petition_links(
        &self,
        who: &Principal,
        row: &PetitionRow,
    ) -> AppResult<(Vec<TransferRow>, Vec<PetitionRow>, Option<PetitionRow>)> {
        require(who, PETITION_READ)?;
        let transfers = store::transfers(&self.store.read, row.id).await?;
        let children = store::children(&self.store.read, row.id).await?;
        let parent = match row.parent_id {
            Some(p) => store::get(&self.store.read, p).await?,
            None => None,
        };
        Ok((transfers, children, parent))
    }

    /// The nearest street/township (or district) above or at `org`, and the body above it
    /// (who answers a 复查 or 复核 request, 第三十五、三十六条).
    pub(crate) async fn government_of(&self, org: OrgId) -> AppResult<(OrgId, OrgId)> {
        let (gov, above) = self.government_node(org).await?;
        Ok((OrgId(gov.id), above))
    }

    /// The government body (street, township or district) a node belongs to, as a row, and
    /// the one above it (from the org tree snapshot; no query while it is fresh).
    pub(crate) async fn government_node(&self, org: OrgId) -> AppResult<(fazhi_store::org::OrgRow, OrgId)> {
        let tree = self.org_snapshot().await?;
        let node = tree.get(org.0).ok_or(AppError::NotFound("机构"))?;
        let is_gov = |n: &&fazhi_store::org::OrgRow| matches!(n.kind.as_str(), "street" | "township" | "district");
        // Walk from the node upwards.
        let mut govs = node.org_path().ids().into_iter().rev().filter_map(|id| tree.get(id.0)).filter(is_gov);
        let gov = govs.next().cloned();
        let above = govs.next().map(|n| OrgId(n.id));
        match gov {
            Some(g) => {
                let above = above.unwrap_or(OrgId(g.id));
                Ok((g, above))
            }
            None => Ok((node.clone(), org)),
        }
    }

    /// A handling step: the domain decides whether it may happen; the row, the ledger entry,
    /// the transfer record and the clocks change in one transaction.
    pub async fn petition_step(&self, by: &By<'_>, id: i64, action: Action) -> AppResult<()> {
        let mut tx = self.store.begin().await?;
        self.petition_step_in(&mut tx, by, id, action).await?;
        tx.commit().await?;
        Ok(())
    }

    /// [`Self::petition_step`] inside the caller's transaction: the item and its clocks are
    /// read in it too, so what is checked is what is changed. (The bulk generator of the
    /// benchmark suite runs many steps in one transaction through here.)
    pub async fn petition_step_in(
        &self,
        tx: &mut fazhi_store::Tx,
        by: &By<'_>,
        id: i64,
        action: Action,
    ) -> AppResult<()> {
        let perm = match action {
            Action::Supervise { .. } | Action::Lead { .. } => PETITION_SUPERVISE,
            _ => PETITION_HANDLE,
        };
        let row = store::get(&mut *tx, id).await?.ok_or(AppError::NotFound("信访件"))?;
        let mut row = self.petition_visible(by.who, row, perm).await?;
        let state = state_of(&row.state);
        let stage = stage_of(&row.stage);
        let event = match &action {
            Action::Accept { .. } => Some(Event::Accept),
            Action::NotAccept { reason } => Some(Event::NotAccept { reason: reason.clone() }),
            Action::Assign { note, .. } => Some(Event::Assign { note: note.clone() }),
            Action::Transfer { reason, .. } => Some(Event::Transfer { reason: reason.clone() }),
            Action::Objection { reason } => Some(Event::Objection { reason: reason.clone() }),
            Action::Supervise { instruction } => Some(Event::Supervise { instruction: instruction.clone() }),
            Action::Lead { .. } => None,
            Action::Merge { .. } => Some(Event::Merge),
            Action::Reply { outcome, legal_basis, .. } => {
                Some(Event::Reply { outcome: *outcome, legal_basis: legal_basis.clone() })
            }
            Action::Serve { .. } => Some(Event::Serve),
            Action::Close => Some(Event::Close),
            Action::Extend { days, approved, .. } => Some(Event::Extend { days: *days, approved: *approved }),
            Action::Visit { .. } => Some(Event::Visit),
        };
        let refuse = |field: &'static str, m: String| AppError::Invalid(FieldErrors::single(field, m));
        let next = match &event {
            Some(ev) => rules::transition_in(stage, state, ev, row.extended_days > 0)
                .map_err(|r| refuse("action", r.to_string()))?,
            None if state.is_open() => state,
            None => return Err(refuse("action", format!("「{}」状态下不能指定包案领导", state.label()))),
        };
        let today = fazhi_domain::clock::beijing_date(self.now());
        let date_ok = |on: NaiveDate, field: &'static str| -> AppResult<()> {
            let received = NaiveDate::parse_from_str(&row.received_on, "%Y-%m-%d").unwrap_or(on);
            if on > today {
                Err(refuse(field, "日期不能晚于今天".into()))
            } else if on < received {
                Err(refuse(field, format!("日期不能早于收到日期 {}", row.received_on)))
            } else {
                Ok(())
            }
        };
        let clocks = self.clocks_of_in(&mut *tx, "petition", &id.to_string()).await?;
        let open_clock =
            |rule: &str| clocks.iter().find(|c| c.clock.rule.id == rule && !c.row.closed).map(|c| c.row.clone());
        let mut transfer: Option<TransferRow> = None;
        let mut notify_users: Vec<i64> = Vec::new();
        let change = match &action {
            Action::Accept { on } => {
                date_ok(*on, "date")?;
                row.accepted_on = Some(on.to_string());
                serde_json::json!({"accepted_on": on.to_string()})
            }
            Action::NotAccept { reason } => serde_json::json!({"reason": reason}),
            Action::Assign { to, note } => {
                let target = org_store::get_node(&self.store.read, OrgId(*to))
                    .await?
                    .ok_or_else(|| refuse("to", "请选择承办单位".into()))?;
                let (gov, _) = self.government_of(OrgId(row.org_id)).await?;
                let gov_node = org_store::get_node(&self.store.read, gov).await?.ok_or(AppError::NotFound("机构"))?;
                if !target.org_path().is_within(&gov_node.org_path()) {
                    return Err(refuse("to", format!("只能交办给{}的科室、社区", gov_node.name)));
                }
                transfer = Some(self.transfer_row(by, &row, "assign", *to, note));
                row.handler_org_id = Some(*to);
                serde_json::json!({"to": to, "to_name": target.name, "note": note})
            }
            Action::Transfer { to, reason } => {
                let target = org_store::get_node(&self.store.read, OrgId(*to))
                    .await?
                    .ok_or_else(|| refuse("to", "请选择转送的机关".into()))?;
                if *to == row.org_id {
                    return Err(refuse("to", "不能转送给本单位".into()));
                }
                transfer = Some(self.transfer_row(by, &row, "transfer", *to, reason));
                row.org_id = *to;
                row.handler_org_id = None;
                serde_json::json!({"to": to, "to_name": target.name, "reason": reason})
            }
            Action::Objection { reason } => {
                if open_clock("petition.objection").is_none() {
                    return Err(refuse(
                        "action",
                        "只有转送、交办来的信访事项，才能在收到之日起 5 个工作日内提出异议（信访工作条例第二十三条第三款）".into(),
                    ));
                }
                let back = store::transfers(&mut *tx, id)
                    .await?
                    .into_iter()
                    .rev()
                    .find(|t| t.kind == "transfer" && t.to_org_id == row.org_id)
                    .ok_or_else(|| refuse("action", "找不到转送记录".into()))?;
                transfer = Some(self.transfer_row(by, &row, "objection", back.from_org_id, reason));
                row.org_id = back.from_org_id;
                serde_json::json!({"back_to": back.from_org_id, "reason": reason})
            }
            Action::Supervise { instruction } => {
                row.supervised_count += 1;
                notify_users.extend(row.created_by);
                notify_users.extend(row.lead_user_id);
                serde_json::json!({"instruction": instruction, "count": row.supervised_count})
            }
            Action::Lead { user } => {
                let u = fazhi_store::users::get_user(&self.store.read, UserId(*user))
                    .await?
                    .filter(|u| !u.disabled)
                    .ok_or_else(|| refuse("user", "请选择包案领导".into()))?;
                row.lead_user_id = Some(*user);
                notify_users.push(*user);
                serde_json::json!({"lead": user, "lead_name": u.display_name})
            }
            Action::Merge { into } => {
                if *into == id {
                    return Err(refuse("into", "不能并入自己".into()));
                }
                let target = self
                    .visible_petition(by.who, *into, PETITION_READ)
                    .await
                    .map_err(|_| refuse("into", format!("没有编号为 {into} 的信访件，或不在您的查看范围内")))?;
                if target.state == "merged" {
                    return Err(refuse("into", "不能并入已合并的件".into()));
                }
                row.duplicate_of = Some(*into);
                serde_json::json!({"into": into, "into_title": target.title})
            }
            Action::Reply { outcome, legal_basis, text } => {
                row.outcome = outcome.label().to_owned();
                row.legal_basis = legal_basis.clone();
                row.reply_text = text.clone();
                serde_json::json!({"outcome": outcome.label(), "legal_basis": legal_basis})
            }
            Action::Serve { on } => {
                date_ok(*on, "date")?;
                row.served_on = Some(on.to_string());
                serde_json::json!({"served_on": on.to_string()})
            }
            Action::Close => {
                // Closing follows service; an item closed when its reply was served counts
                // as closed that day.
                row.closed_on = Some(row.served_on.clone().unwrap_or(today.to_string()));
                serde_json::json!({})
            }
            Action::Extend { days, reason, .. } => {
                if reason.trim().is_empty() {
                    return Err(refuse("reason", "请写明延期理由，并告知信访人（信访工作条例第三十四条）".into()));
                }
                row.extended_days = i64::from(*days);
                serde_json::json!({"days": days, "reason": reason})
            }
            Action::Visit { on, satisfaction, note } => {
                date_ok(*on, "date")?;
                row.visited_on = Some(on.to_string());
                row.satisfaction = satisfaction.code().to_owned();
                serde_json::json!({"visited_on": on.to_string(), "satisfaction": satisfaction.label(), "note": note})
            }
        };
        row.state = next.code().to_owned();
        store::save_state(&mut *tx, &row, self.now()).await?;
        if let Some(t) = &transfer {
            store::add_transfer(&mut *tx, t).await?;
        }
        // Recorded in the log of the node that owns the item after the step (a transfer is
        // recorded where it arrives; the transfer row keeps where it came from).
        let c = Change {
            org: OrgId(row.org_id),
            record_type: "petition",
            record_id: id.to_string(),
            action: action.code(),
            change,
            attachments: vec![],
        };
        self.record(&mut *tx, &by.actor(), c).await?;
        let target = |owner: Option<UserId>| ClockTarget {
            record_type: "petition",
            record_id: id.to_string(),
            org: OrgId(row.org_id),
            owner,
        };
        let notice_clocks = ["petition.notify_direct", "petition.notify_assigned"];
        match &action {
            Action::Accept { on } => {
                for rule in notice_clocks.iter().chain(&["petition.objection"]) {
                    if let Some(c) = open_clock(rule) {
                        self.complete_clock_in(&mut *tx, by, &c, *on).await?;
                    }
                }
                self.start_clock_in(&mut *tx, by, target(Some(by.who.user_id)), stage.handling_rule(), *on).await?;
            }
            Action::NotAccept { .. } | Action::Merge { .. } | Action::Transfer { .. } => {
                for rule in notice_clocks.iter().chain(&["petition.objection"]) {
                    if let Some(c) = open_clock(rule) {
                        self.complete_clock_in(&mut *tx, by, &c, today).await?;
                    }
                }
                if matches!(action, Action::Transfer { .. }) {
                    // The receiving body: 15 days to tell the petitioner, 5 working days to
                    // object if it is not competent (第二十三条第三款).
                    self.start_clock_in(&mut *tx, by, target(None), "petition.notify_assigned", today).await?;
                    self.start_clock_in(&mut *tx, by, target(None), "petition.objection", today).await?;
                }
            }
            Action::Objection { .. } => {
                for rule in ["petition.notify_assigned", "petition.objection"] {
                    if let Some(c) = open_clock(rule) {
                        self.complete_clock_in(&mut *tx, by, &c, today).await?;
                    }
                }
                self.start_clock_in(&mut *tx, by, target(row.created_by.map(UserId)), "petition.notify_direct", today)
                    .await?;
            }
            Action::Extend { days, reason, .. } => {
                if let Some(c) = open_clock("petition.handle") {
                    self.extend_clock_in(&mut *tx, by, &c, *days, reason).await?;
                }
            }
            Action::Serve { on } => {
                if let Some(c) = open_clock(stage.handling_rule()) {
                    self.complete_clock_in(&mut *tx, by, &c, *on).await?;
                }
                if let Some(rule) = stage.next_request_rule() {
                    self.start_clock_in(&mut *tx, by, target(None), rule, *on).await?;
                }
            }
            _ => {}
        }
        let title = match &action {
            Action::Supervise { .. } => format!("信访件被督办：{}", row.title),
            _ => format!("您被指定为信访件包案领导：{}", row.title),
        };
        for user in notify_users {
            let n = fazhi_store::clocks::NewNotification {
                user_id: user,
                clock_id: None,
                kind: action.code(),
                title: &title,
                body: "",
                link: &format!("/petitions/{id}"),
                urgency: 1,
            };
            fazhi_store::clocks::notify(&mut *tx, &n, self.now()).await?;
        }
        Ok(())
    }

    fn transfer_row(&self, by: &By<'_>, row: &PetitionRow, kind: &str, to: i64, reason: &str) -> TransferRow {
        TransferRow {
            id: 0,
            petition_id: row.id,
            kind: kind.to_owned(),
            from_org_id: row.org_id,
            to_org_id: to,
            reason: reason.to_owned(),
            created_by: real_user(by.who),
            created_at: self.now(),
        }
    }

    /// A 复查 (or, after a 复查, 复核) request against an item whose written reply was served
    /// (第三十五、三十六条): a new item linked to it, at the body above the one that
    /// answered, accepted on receipt with its 30-day clock; the window clock of the parent is
    /// completed. After a 复核 the same facts are not accepted again.
    pub async fn request_review(&self, by: &By<'_>, parent_id: i64, d: &ReviewDraft) -> AppResult<Intake> {
        let parent = self.visible_petition(by.who, parent_id, PETITION_HANDLE).await?;
        let requested = NaiveDate::parse_from_str(d.received_on.trim(), "%Y-%m-%d")
            .map_err(|_| AppError::Invalid(FieldErrors::single("received_on", "请求日期应为 YYYY-MM-DD")))?;
        if requested > fazhi_domain::clock::beijing_date(self.now()) {
            return Err(AppError::Invalid(FieldErrors::single("received_on", "请求日期不能晚于今天")));
        }
        let served = parent.served_on.as_deref().and_then(|s| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok());
        let stage = rules::review_request(stage_of(&parent.stage), state_of(&parent.state), served, requested)
            .map_err(|r| AppError::Invalid(FieldErrors::single("received_on", r.to_string())))?;
        let (_, above) = self.government_of(OrgId(parent.org_id)).await?;
        let people: Vec<PetitionerDraft> = serde_json::from_str::<Vec<serde_json::Value>>(&parent.petitioners_json)
            .unwrap_or_default()
            .iter()
            .map(|v| PetitionerDraft {
                name: v["name"].as_str().unwrap_or("").to_owned(),
                phone: v["phone"].as_str().unwrap_or("").to_owned(),
                id_number: v["id_number"].as_str().unwrap_or("").to_owned(),
                address: v["address"].as_str().unwrap_or("").to_owned(),
            })
            .collect();
        let draft = IntakeDraft {
            channel: parent.channel.clone(),
            external_no: parent.external_no.clone(),
            category: parent.category.clone(),
            subject: parent.subject.clone(),
            title: format!("{}：{}", stage.label(), parent.title).chars().take(100).collect(),
            content: d.content.clone(),
            headcount: u32::try_from(parent.headcount).ok(),
            received_on: d.received_on.clone(),
            org_id: None,
            petitioners: people,
            collective: parent.collective != 0,
            accepted_elsewhere: String::new(),
        };
        // The request is registered by whoever received it; it belongs to the body above.
        let mut valid = self.validate_intake(by, &draft).await?;
        valid.org = above;
        let clocks = self.clocks_of("petition", &parent_id.to_string()).await?;
        let window = stage_of(&parent.stage).next_request_rule();
        let mut tx = self.store.begin().await?;
        let intake = self.intake_in(&mut tx, by, valid, Some((parent_id, stage))).await?;
        if let Some(c) = clocks.iter().find(|c| Some(c.clock.rule.id.as_str()) == window && !c.row.closed) {
            self.complete_clock_in(&mut tx, by, &c.row, requested).await?;
        }
        tx.commit().await?;
        Ok(intake)
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

/// A 复查/复核 request as typed.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct ReviewDraft {
    /// `YYYY-MM-DD` the request was received.
    #[serde(default)]
    pub received_on: String,
    /// What the petitioner asks and why.
    #[serde(default)]
    pub content: String,
}

fn category_code(c: Category) -> &'static str {
    match c {
        Category::Suggestion => "suggestion",
        Category::Accusation => "accusation",
        Category::Claim => "claim",
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
        // One transaction: a failure on any row (even a database one) imports nothing.
        let mut valid = Vec::with_capacity(drafts.len());
        for d in drafts {
            valid.push(self.validate_intake(by, d).await?);
        }
        let mut tx = self.store.begin().await?;
        let mut out = Vec::with_capacity(drafts.len());
        for v in valid {
            out.push(self.intake_in(&mut tx, by, v, None).await?);
        }
        tx.commit().await?;
        Ok(out)
    }
}

/// A handling step as a form or an API body states it, before parsing. Both faces convert
/// through [`StepInput::action`], so the rules of what a step needs live in one place.
#[derive(Debug, Clone, Default)]
pub struct StepInput {
    /// accept, not_accept, assign, transfer, objection, supervise, lead, merge, reply, serve,
    /// close, extend, visit
    pub action: String,
    /// `YYYY-MM-DD` for accept, serve and visit.
    pub date: String,
    /// Reason (not_accept, transfer, objection, extend), note (assign, visit) or instruction
    /// (supervise).
    pub reason: String,
    /// support, explain, reject (for reply).
    pub outcome: String,
    pub legal_basis: String,
    pub text: String,
    /// Days of an extension; `None` when missing or not a number.
    pub days: Option<u32>,
    pub approved: bool,
    /// Target node (assign, transfer), leader (lead) or item (merge); `None` when missing.
    pub target: Option<i64>,
    /// satisfied, basic, unsatisfied (for visit).
    pub satisfaction: String,
}

impl StepInput {
    pub fn action(&self) -> Result<Action, FieldErrors> {
        let date = || {
            NaiveDate::parse_from_str(self.date.trim(), "%Y-%m-%d")
                .map_err(|_| FieldErrors::single("date", "日期应为 YYYY-MM-DD"))
        };
        let target = |field: &'static str, what: &str| {
            self.target.ok_or_else(|| FieldErrors::single(field, format!("请选择{what}")))
        };
        let reason = self.reason.trim().to_owned();
        Ok(match self.action.as_str() {
            "accept" => Action::Accept { on: date()? },
            "not_accept" => Action::NotAccept { reason },
            "assign" => Action::Assign { to: target("to", "承办单位")?, note: reason },
            "transfer" => Action::Transfer { to: target("to", "转送的机关")?, reason },
            "objection" => Action::Objection { reason },
            "supervise" => Action::Supervise { instruction: reason },
            "lead" => Action::Lead { user: target("user", "包案领导")? },
            "merge" => Action::Merge { into: target("into", "要并入的信访件编号")? },
            "reply" => Action::Reply {
                outcome: match self.outcome.as_str() {
                    "support" => Outcome::Support,
                    "explain" => Outcome::Explain,
                    "reject" => Outcome::Reject,
                    _ => return Err(FieldErrors::single("outcome", "请选择处理意见（支持、解释说明、不予支持）")),
                },
                legal_basis: self.legal_basis.trim().to_owned(),
                text: self.text.trim().to_owned(),
            },
            "serve" => Action::Serve { on: date()? },
            "close" => Action::Close,
            "extend" => Action::Extend {
                days: self.days.ok_or_else(|| FieldErrors::single("days", "延长天数应为 1 到 30 的整数"))?,
                approved: self.approved,
                reason,
            },
            "visit" => Action::Visit {
                on: date()?,
                satisfaction: Satisfaction::parse(&self.satisfaction).ok_or_else(|| {
                    FieldErrors::single("satisfaction", "请选择信访人的评价（满意、基本满意、不满意）")
                })?,
                note: reason,
            },
            _ => return Err(FieldErrors::single("action", "未知的办理步骤")),
        })
    }
}

impl App {
    /// The 信访处理意见书 of an item (信访工作条例 第三十二条: the request, the facts and
    /// reasons, the opinion with its legal basis; and the right to ask for a 复查 or 复核
    /// within 30 days, 第三十五、三十六条), with the ledger reference of the reply.
    pub async fn petition_opinion(&self, who: &Principal, id: i64) -> AppResult<fazhi_docs::OfficialDoc> {
        use fazhi_docs::{Block, OfficialDoc};
        let row = self.visible_petition(who, id, PETITION_READ).await?;
        if row.outcome.is_empty() {
            return Err(AppError::Refused("该件尚未出具处理意见，不能生成信访处理意见书".into()));
        }
        let timeline = self.timeline("petition", &id.to_string()).await?;
        let reply = timeline.iter().rev().find(|e| e.action == "petition.reply");
        let reference = reply.map(|e| format!("{}-{}", e.log_id, e.seq)).unwrap_or_default();
        let day = reply
            .map_or_else(|| fazhi_domain::clock::beijing_date(self.now()), |e| fazhi_domain::clock::beijing_date(e.at));
        let (gov, above) = self.government_of(OrgId(row.org_id)).await?;
        let name = |org: OrgId| async move {
            org_store::get_node(&self.store.read, org).await.map(|n| n.map(|n| n.name).unwrap_or_default())
        };
        let signer = name(gov).await?;
        let higher = name(above).await?;
        let people: Vec<serde_json::Value> = serde_json::from_str(&row.petitioners_json).unwrap_or_default();
        let names: Vec<&str> = people.iter().filter_map(|p| p["name"].as_str()).collect();
        let stage = stage_of(&row.stage);
        let next = match stage {
            Stage::First => format!(
                "如对本处理意见不服，可以自收到本意见书之日起 30 日内向{higher}请求复查（《信访工作条例》第三十五条）。"
            ),
            Stage::Review => format!(
                "如对本复查意见不服，可以自收到本意见书之日起 30 日内向{higher}的上一级机关请求复核（《信访工作条例》第三十六条）。"
            ),
            Stage::Recheck => {
                "本复核意见为最终意见。信访人以同一事实和理由再提出信访事项的，不再受理（《信访工作条例》第三十六条）。"
                    .into()
            }
        };
        use chrono::Datelike;
        let title = match stage {
            Stage::First => "信访处理意见书",
            Stage::Review => "信访事项复查意见书",
            Stage::Recheck => "信访事项复核意见书",
        };
        Ok(OfficialDoc {
            title: title.into(),
            number: format!("信复〔{}〕{}号", day.year(), row.id),
            body: vec![
                Block::Plain(format!("{}：", names.join("、"))),
                Block::Para(format!(
                    "您（们）于{}通过{}反映的“{}”一事，本机关已于{}依法受理。现将处理意见告知如下：",
                    NaiveDate::parse_from_str(&row.received_on, "%Y-%m-%d")
                        .map_or(row.received_on.clone(), |d| fazhi_docs::chinese_date((d.year(), d.month(), d.day()))),
                    channel_label(&row.channel),
                    row.title,
                    row.accepted_on.as_deref().unwrap_or(&row.received_on),
                )),
                Block::Heading1("一、信访人的请求".into()),
                Block::Para(row.content.clone()),
                Block::Heading1("二、调查核实的事实和理由".into()),
                Block::Para(if row.reply_text.is_empty() {
                    "（见处理意见）".into()
                } else {
                    row.reply_text.clone()
                }),
                Block::Heading1("三、处理意见".into()),
                Block::Para(format!("{}。依据：{}。", row.outcome, row.legal_basis)),
                Block::Para(next),
            ],
            signer,
            date: (day.year(), day.month(), day.day()),
            reference,
        })
    }
}

impl App {
    /// Where an item of the principal's street can be assigned (交办): the street and its
    /// offices, departments and communities.
    pub async fn assign_targets(&self, who: &Principal) -> AppResult<Vec<fazhi_store::org::OrgRow>> {
        require(who, PETITION_READ)?;
        let (node, _) = self.government_node(who.org_id).await?;
        let within = node.org_path();
        let tree = self.org_snapshot().await?;
        Ok(tree.nodes.iter().filter(|n| n.id != node.id && n.org_path().is_within(&within)).cloned().collect())
    }

    /// Where an item can be transferred (转送): the other streets and townships of the
    /// district, the district and the departments within it — any government body outside
    /// the principal's own street (a city of 250 streets would otherwise offer every one).
    pub async fn transfer_targets(&self, who: &Principal) -> AppResult<Vec<fazhi_store::org::OrgRow>> {
        require(who, PETITION_READ)?;
        let (gov, above) = self.government_node(who.org_id).await?;
        let own = gov.org_path();
        let tree = self.org_snapshot().await?;
        let within = tree.get(above.0).filter(|d| d.id != gov.id).map(|d| d.org_path());
        let kinds = ["street", "township", "district", "department"];
        Ok(tree
            .nodes
            .iter()
            .filter(|n| kinds.contains(&n.kind.as_str()))
            .filter(|n| within.as_ref().is_none_or(|w| n.org_path().is_within(w)))
            .filter(|n| !n.org_path().is_within(&own))
            .cloned()
            .collect())
    }
}
