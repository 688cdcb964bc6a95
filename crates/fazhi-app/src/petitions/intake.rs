//! Registering an item (信访工作条例 第十九、二十一条): the desk's one-screen form, the API
//! body and pushed rows share [`IntakeDraft`]; [`App::validate_intake`] checks every field
//! and the creator's right to register at the chosen node; [`App::intake_in`] writes the item
//! through the save path with its 15-day notice clock (第二十三条第二款).

use fazhi_domain::access::PETITION_HANDLE;
use fazhi_domain::identity::{CitizenId, Phone};
use fazhi_domain::petition::{self as rules, Category, Channel, Stage, TrackingCode};
use fazhi_domain::record::PETITION;
use fazhi_domain::validation::bounded_text;
use fazhi_domain::workflow::{ClockPlan, Responsible};
use fazhi_domain::{Day, FieldErrors, OrgId};
use fazhi_store::petitions::{self as store, NewPetition};
use serde_json::json;

use crate::ctx::{Ctx, Record};
use crate::org::By;
use crate::{App, AppError, AppResult};

/// One petitioner as typed.
#[derive(Debug, Clone, Default, serde::Deserialize, serde::Serialize, utoipa::ToSchema)]
#[serde(default)]
pub struct PetitionerDraft {
    /// Name, or the organisation's name (required).
    pub name: String,
    /// Mobile or fixed-line number.
    pub phone: String,
    /// 居民身份证号码 (GB 11643, check character verified); shown masked.
    pub id_number: String,
    pub address: String,
}

/// An item as typed at the desk (or by the API).
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct IntakeDraft {
    /// online, letter, phone, visit, hotline12345, platform (信访工作条例 第十七条).
    pub channel: String,
    /// Number in the pushing system (required for hotline12345 and platform).
    pub external_no: String,
    /// suggestion, accusation, claim (第二十九至三十一条).
    pub category: String,
    /// 事项类型 (物业, 劳资 …), at most 20 characters.
    pub subject: String,
    /// 诉求摘要, 1–100 characters.
    pub title: String,
    /// The request with its facts and reasons (第十九条), 5–5,000 characters.
    pub content: String,
    /// Headcount of a collective item; 1 when absent.
    pub headcount: Option<u32>,
    /// `YYYY-MM-DD`; today when empty.
    pub received_on: String,
    /// The community (or other node) the matter belongs to; the desk's own node otherwise.
    pub org_id: Option<i64>,
    pub petitioners: Vec<PetitionerDraft>,
    /// 集体访 / 联名信: several people on one matter.
    pub collective: bool,
    /// The item is already accepted by another body (第十九条第三款): who and when, as told.
    pub accepted_elsewhere: String,
    /// The key of this submission (the form's hidden nonce, or an API client's retry key):
    /// 8–64 ASCII letters, digits, `-` or `_`. The same key from the same account registers
    /// one item; a repeat answers with that item (`existing`). Empty: no such check.
    pub submission: String,
}

/// An item that passed every check, ready to be written.
#[derive(Debug, Clone)]
pub struct ValidIntake {
    channel: Channel,
    category: Category,
    request: rules::Request,
    received: Day,
    petitioners: Vec<serde_json::Value>,
    key: String,
    /// The node that will hold the item (the creator may create there: checked).
    pub(crate) org: OrgId,
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
    /// An import row whose source record (channel + external number) was registered
    /// before: this is that item, and nothing new was registered.
    pub existing: bool,
}

impl ValidIntake {
    /// The source record's identity (channel code, external number), when it has one.
    pub(crate) fn source(&self) -> Option<(&'static str, &str)> {
        (!self.external_no.is_empty()).then(|| (self.channel.code(), self.external_no.as_str()))
    }

    /// The fields in which `row` (an item registered from the same source record) differs
    /// from this one: a retry carries the same; anything else is a conflict.
    pub(crate) fn differs_from(&self, row: &fazhi_store::petitions::PetitionRow) -> Vec<&'static str> {
        let mut out = Vec::new();
        if row.title != self.request.title {
            out.push("title");
        }
        if row.content != self.request.content {
            out.push("content");
        }
        if row.category != self.category {
            out.push("category");
        }
        if row.received_on != self.received.to_string() {
            out.push("received_on");
        }
        out
    }
}

/// Most petitioners named on one item (a larger collective visit gives its headcount and its
/// representatives).
pub const MAX_PETITIONERS: usize = 100;

/// The petitioners as stored (JSON objects) and the key that finds the same petitioner's
/// earlier items (ID number, else phone); errors are added to `e`.
fn petitioners_of(drafts: &[PetitionerDraft], today: Day, e: &mut FieldErrors) -> (Vec<serde_json::Value>, String) {
    let mut petitioners = Vec::new();
    let mut key = String::new();
    if drafts.iter().all(|p| p.name.trim().is_empty()) {
        e.add("petitioners", "请填写信访人姓名或单位名称（信访工作条例第十九条）");
    }
    for p in drafts.iter().filter(|p| !p.name.trim().is_empty()) {
        let name = e.take(bounded_text("petitioners", "信访人姓名", &p.name, 1, 50));
        let phone = if p.phone.trim().is_empty() { None } else { e.take(Phone::parse("phone", &p.phone)) };
        let id = if p.id_number.trim().is_empty() {
            None
        } else {
            e.take(CitizenId::parse_on("id_number", &p.id_number, today.date()))
        };
        let address = e.take(bounded_text("address", "住址", &p.address, 0, 200));
        if key.is_empty() {
            key = id
                .as_ref()
                .map(|i| i.as_str().to_owned())
                .or(phone.as_ref().map(|p| p.as_str().to_owned()))
                .unwrap_or_default();
        }
        petitioners.push(json!({
            "name": name, "phone": phone.map(|p| p.as_str().to_owned()),
            "id_number": id.map(|i| i.as_str().to_owned()), "address": address,
        }));
    }
    (petitioners, key)
}

impl App {
    /// Registers an item (信访工作条例 第二十一条) and starts the 15-day notice clock
    /// (第二十三条第二款), in one transaction.
    ///
    /// # Errors
    /// [`AppError::Invalid`] naming every field that broke a rule (nothing written);
    /// [`AppError::Forbidden`] without the permission; database errors.
    pub async fn intake(&self, by: &By<'_>, d: &IntakeDraft) -> AppResult<Intake> {
        let mut ctx = self.begin(by).await?;
        let key = submission_key(by, &d.submission)?;
        if let Some(done) = self.submitted_before(&mut ctx, key.as_deref()).await? {
            return Ok(done);
        }
        let valid = self.validate_intake(&mut ctx, d).await?;
        let intake = self.intake_in(&mut ctx, valid, None).await?;
        self.record_submission(&mut ctx, key.as_deref(), intake.id).await?;
        ctx.commit().await?;
        Ok(intake)
    }

    /// The item a repeated submission registered (`existing`), when `key` was submitted
    /// before; on PostgreSQL the key stays locked until `ctx` ends (see
    /// [`fazhi_store::submissions::find`]).
    ///
    /// # Errors
    /// Database errors.
    pub(crate) async fn submitted_before(&self, ctx: &mut Ctx<'_>, key: Option<&str>) -> AppResult<Option<Intake>> {
        let Some(key) = key else { return Ok(None) };
        let Some((kind, id)) = fazhi_store::submissions::find(ctx.tx(), key).await? else { return Ok(None) };
        let id: i64 = id.parse().map_err(|e| AppError::internal("form_submission.record_id", e))?;
        if kind != PETITION.code {
            return Err(AppError::internal("form_submission.record_type", kind));
        }
        let row = store::get(ctx.tx(), id).await?.ok_or(AppError::NotFound("信访件"))?;
        Ok(Some(Intake {
            id,
            tracking_code: TrackingCode::parse(&row.tracking_code)
                .map_or_else(|| row.tracking_code.clone(), |c| c.display()),
            warnings: vec![format!("此表单已提交过，信访件 {id} 已登记，本次未重复登记")],
            possible_duplicates: Vec::new(),
            existing: true,
        }))
    }

    /// Records that submission `key` registered item `id` (nothing without a key).
    ///
    /// # Errors
    /// Database errors.
    pub(crate) async fn record_submission(&self, ctx: &mut Ctx<'_>, key: Option<&str>, id: i64) -> AppResult<()> {
        if let Some(key) = key {
            let now = ctx.now;
            fazhi_store::submissions::record(ctx.tx(), key, PETITION.code, &id.to_string(), now).await?;
        }
        Ok(())
    }

    /// What the desk is told after registering item `id` (the page the registering form
    /// redirects to): its tracking code, the warnings of its intake and the earlier items of
    /// the same petitioner that look alike, among those `who` may read.
    ///
    /// # Errors
    /// [`AppError::NotFound`] / [`AppError::Forbidden`] as reading the item; database errors.
    pub async fn registered(&self, who: &fazhi_domain::access::Principal, id: i64) -> AppResult<Intake> {
        let row = self.visible_petition(who, id, PETITION.read).await?;
        let tree = self.org_snapshot().await?;
        let possible_duplicates = self
            .possible_duplicates(
                &self.store.read,
                who,
                &tree,
                &row.petitioner_key,
                &row.title,
                &row.content,
                row.created_at,
                Some(id),
            )
            .await?;
        Ok(Intake {
            id,
            tracking_code: TrackingCode::parse(&row.tracking_code)
                .map_or_else(|| row.tracking_code.clone(), |c| c.display()),
            warnings: intake_warnings(
                row.channel,
                u32::try_from(row.headcount).unwrap_or(u32::MAX),
                &row.accepted_elsewhere,
            ),
            possible_duplicates,
            existing: false,
        })
    }

    /// Earlier items (within 90 days before `at`) of the petitioner `key` whose request looks
    /// like this one, among the items `who` may read (never a title from outside their scope).
    #[allow(clippy::too_many_arguments)]
    async fn possible_duplicates<'e>(
        &self,
        ex: impl Into<fazhi_store::db::Exec<'e>>,
        who: &fazhi_domain::access::Principal,
        tree: &crate::lookup_cache::OrgTree,
        key: &str,
        title: &str,
        content: &str,
        at: i64,
        exclude: Option<i64>,
    ) -> AppResult<Vec<(i64, String)>> {
        let mut out = Vec::new();
        if key.is_empty() {
            return Ok(out);
        }
        let mine = self.search.cut(&format!("{title} {content}"));
        for old in store::recent_of_petitioner(ex, key, at - 90 * 86_400_000).await? {
            if Some(old.id) == exclude || old.created_at > at {
                continue;
            }
            let rec = super::petition_ref(tree, &old);
            if fazhi_domain::access::authorize(who, PETITION.read, &rec) != fazhi_domain::access::Decision::Allow {
                continue;
            }
            let theirs = self.search.cut(&format!("{} {}", old.title, old.content));
            if rules::similarity(&mine, &theirs) >= rules::DUPLICATE_SIMILARITY {
                out.push((old.id, old.title));
            }
        }
        Ok(out)
    }

    /// [`App::intake`] inside the caller's use case (the benchmark's bulk generator registers
    /// many items in one transaction through here).
    ///
    /// # Errors
    /// As [`App::intake`].
    pub async fn intake_within(&self, ctx: &mut Ctx<'_>, d: &IntakeDraft) -> AppResult<Intake> {
        let valid = self.validate_intake(ctx, d).await?;
        self.intake_in(ctx, valid, None).await
    }

    /// Checks an item without writing anything (the bulk import checks every row first).
    ///
    /// # Errors
    /// [`AppError::Invalid`] naming every broken field rule; [`AppError::Forbidden`].
    pub async fn validate_intake(&self, ctx: &mut Ctx<'_>, d: &IntakeDraft) -> AppResult<ValidIntake> {
        crate::require(ctx.by.who, PETITION_HANDLE)?;
        let mut e = FieldErrors::new();
        let channel = Channel::parse(&d.channel);
        if channel.is_none() {
            e.add("channel", "请选择信访渠道");
        }
        let category = Category::parse(&d.category);
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
        let today = ctx.today;
        // Before the first year of holiday data no statutory clock can be computed.
        let first_year = self.calendar_status().0.first().copied().unwrap_or(2020);
        let received = if d.received_on.trim().is_empty() {
            Some(today)
        } else {
            match Day::parse("received_on", "收到日期", &d.received_on) {
                Ok(day) if day > today => {
                    e.add("received_on", "收到日期不能晚于今天");
                    None
                }
                Ok(day) if chrono::Datelike::year(&day.date()) < first_year => {
                    e.add(
                        "received_on",
                        format!("收到日期不能早于 {first_year} 年（此前没有节假日数据，无法计算法定期限）"),
                    );
                    None
                }
                Ok(day) => Some(day),
                Err(x) => {
                    e.push(x);
                    None
                }
            }
        };
        if d.petitioners.len() > MAX_PETITIONERS {
            e.add("petitioners", format!("一件最多登记 {MAX_PETITIONERS} 名信访人；人数更多的集体访请填写人数和代表"));
        }
        let (petitioners, key) = petitioners_of(&d.petitioners, today, &mut e);
        if d.collective
            && d.headcount.unwrap_or(1) < 2
            && d.petitioners.iter().filter(|p| !p.name.trim().is_empty()).count() < 2
        {
            e.add("headcount", "集体访（联名）须填写人数（至少 2 人）");
        }
        let accepted_elsewhere =
            e.take(bounded_text("accepted_elsewhere", "已由其他机关受理的情况", &d.accepted_elsewhere, 0, 200));
        // One stored form, so a retried push typed another way finds its item (issue 13).
        let external_no = e
            .take(bounded_text("external_no", "外部编号", &d.external_no, 0, 64))
            .map(|n| fazhi_domain::text::identifier(&n));
        let org = OrgId(d.org_id.unwrap_or(ctx.by.who.org_id.0));
        match ctx.authorize_create(&PETITION, PETITION_HANDLE, org).await {
            Ok(_) => {}
            Err(AppError::Forbidden(_) | AppError::NotFound(_)) => {
                e.add("org_id", "所选社区或机构不存在，或不在您的办理范围内");
            }
            Err(other) => return Err(other),
        }
        e.into_result()?;
        let (Some(channel), Some(category), Some(request), Some(received)) = (channel, category, request, received)
        else {
            return Err(AppError::internal("intake", "validated input incomplete"));
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

    /// Writes a validated item in the use case's transaction through the save path: the row,
    /// ONE ledger entry (every field, the warnings, the clock it starts), the search document
    /// and the clock. `round` is set for a 复查/复核 request: (parent item, stage), accepted
    /// on receipt with that round's handling clock.
    ///
    /// # Errors
    /// Database errors.
    pub(crate) async fn intake_in(
        &self,
        ctx: &mut Ctx<'_>,
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
        let warnings = intake_warnings(channel, request.headcount, &accepted_elsewhere);
        // Duplicates: the same petitioner with a similar request within 90 days.
        let possible_duplicates = if round.is_none() {
            let (tree, who, now) = (ctx.tree().await?, ctx.by.who, ctx.now);
            self.possible_duplicates(ctx.tx(), who, &tree, &key, &request.title, &request.content, now, None).await?
        } else {
            Vec::new()
        };
        let mut random = [0u8; 11];
        getrandom::fill(&mut random).map_err(|e| AppError::internal("random", e))?;
        let code = TrackingCode::from_random(random);
        let petitioners_json = serde_json::to_string(&petitioners).map_err(|e| AppError::internal("json", e))?;
        let received_text = received.to_string();
        let (stage, parent_id) = match round {
            Some((parent, stage)) => (stage, Some(parent)),
            None => (Stage::First, None),
        };
        let creator = ctx.by.who.user();
        let new = NewPetition {
            org_id: org.0,
            tracking_code: code.as_str(),
            channel: channel.code(),
            external_no: &external_no,
            category: category.code(),
            subject: &subject,
            title: &request.title,
            content: &request.content,
            headcount: i64::from(request.headcount),
            petitioners_json: &petitioners_json,
            petitioner_key: &key,
            community_id: Some(org.0),
            received_on: &received_text,
            duplicate_of: None,
            created_by: creator.map(|u| u.0),
            state: if round.is_some() { "accepted" } else { "registered" },
            accepted_on: round.is_some().then_some(received_text.as_str()),
            parent_id,
            stage: stage.code(),
            accepted_elsewhere: &accepted_elsewhere,
            collective,
        };
        let now = ctx.now;
        let id = store::insert(ctx.tx(), &new, now).await?;
        let row = store::get(ctx.tx(), id).await?.ok_or(AppError::NotFound("信访件"))?;
        let rule = if round.is_some() { stage.handling_rule() } else { "petition.notify_direct" };
        let plan = ClockPlan { start: vec![(rule, Responsible::Actor)], ..ClockPlan::on(received) };
        let clocks = ctx.apply_clocks(row.key(), org, &plan, |_| creator).await?;
        let action = if round.is_some() { "petition.review_request" } else { "petition.register" };
        ctx.save(None, &row, action, json!({"warnings": warnings, "clocks": clocks})).await?;
        Ok(Intake { id, tracking_code: code.display(), warnings, possible_duplicates, existing: false })
    }
}

/// What the desk is told about an item it registers: recorded as typed, but worth a second
/// look.
fn intake_warnings(channel: Channel, headcount: u32, accepted_elsewhere: &str) -> Vec<String> {
    let mut warnings = Vec::new();
    // 信访工作条例 第二十条: walk-in visits by more than five people send representatives.
    if channel == Channel::Visit && headcount > rules::MAX_VISIT_REPRESENTATIVES {
        warnings.push(format!("走访代表 {headcount} 人，超过信访工作条例第二十条规定的 5 人，已如实登记"));
    }
    if !accepted_elsewhere.is_empty() {
        warnings.push(format!(
            "该事项已由其他机关受理（{accepted_elsewhere}）：同一事项已受理的，不再重复受理（信访工作条例第十九条第三款）"
        ));
    }
    warnings
}

/// The stored key of a submission: the submitting account (or the portal's street) and the
/// form's nonce, so one account's key never finds another's item.
///
/// # Errors
/// [`AppError::Invalid`] on `submission` when the nonce is not 8–64 of `[A-Za-z0-9_-]`.
pub(crate) fn submission_key(by: &By<'_>, nonce: &str) -> AppResult<Option<String>> {
    let nonce = nonce.trim();
    if nonce.is_empty() {
        return Ok(None);
    }
    if !(8..=64).contains(&nonce.len()) || !nonce.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
        return Err(AppError::Invalid(FieldErrors::single(
            "submission",
            "表单提交标识应为 8–64 位英文字母、数字、- 或 _；请刷新页面后重新填写",
        )));
    }
    let who = match by.who.user() {
        Some(u) => format!("u{}", u.0),
        None => format!("{}@{}", by.username, by.who.org_id.0),
    };
    Ok(Some(format!("{who}:{nonce}")))
}
