//! Leader receptions (领导接访, 信访工作条例 第十八条第二款): the schedule of reception days,
//! published on the portal, and the record of each reception, linked to a petition item
//! (a new one is registered from the reception when the matter is not yet on file).

use chrono::NaiveDate;
use fazhi_domain::FieldErrors;
use fazhi_domain::access::{PETITION_HANDLE, PETITION_READ, Principal, ScopeFilter};
use fazhi_domain::validation::bounded_text;
use fazhi_store::receptions::{self as store};
pub use fazhi_store::receptions::{DayRow, ReceptionRow};

use fazhi_domain::OrgId;
use fazhi_domain::record::{PETITION, RECEPTION, RECEPTION_DAY, RecordKey};

use crate::org::By;
use crate::petitions::{IntakeDraft, PetitionerDraft};
use crate::{App, AppError, AppResult, require};

/// A reception day as typed.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct DayDraft {
    pub leader_user_id: Option<i64>,
    #[serde(default)]
    pub leader_title: String,
    #[serde(default)]
    pub day: String,
    #[serde(default)]
    pub hours: String,
    #[serde(default)]
    pub place: String,
    #[serde(default)]
    pub topic: String,
}

/// A reception as typed.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct ReceptionDraft {
    pub day_id: Option<i64>,
    pub leader_user_id: Option<i64>,
    #[serde(default)]
    pub received_on: String,
    /// Who came (names as given).
    #[serde(default)]
    pub visitors: String,
    #[serde(default)]
    pub phone: String,
    pub headcount: Option<u32>,
    #[serde(default)]
    pub matter: String,
    #[serde(default)]
    pub instruction: String,
    /// An existing item the matter belongs to.
    pub petition_id: Option<i64>,
    /// Register a new petition item (channel 来访) from this reception.
    #[serde(default)]
    pub register: bool,
}

/// A public line of the schedule: no phone numbers, no internal ids.
#[derive(Debug, Clone)]
pub struct PublicDay {
    pub street: String,
    pub leader: String,
    pub title: String,
    pub day: String,
    pub hours: String,
    pub place: String,
    pub topic: String,
}

fn day(raw: &str, field: &'static str, label: &str) -> Result<NaiveDate, FieldErrors> {
    fazhi_domain::Day::parse(field, label, raw).map(fazhi_domain::Day::date).map_err(|e| FieldErrors(vec![e]))
}

impl App {
    /// Leaders a reception can be scheduled for: users of the principal's street holding
    /// the supervise permission.
    ///
    /// # Errors
    /// [`AppError::Forbidden`] when the policy refuses; [`AppError::Internal`] for database failures.
    pub async fn reception_leaders(&self, who: &Principal) -> AppResult<Vec<(i64, String)>> {
        require(who, PETITION_READ)?;
        let (node, _) = self.government_node(who.org_id).await?;
        let now = self.now();
        // Cached like the org tree: every change to users or roles drops it.
        if let Some(hit) = self.lookups.leaders(node.id, now) {
            return Ok(hit.as_ref().clone());
        }
        let (lo, hi) = node.org_path().subtree_range();
        let supervise = fazhi_domain::access::PETITION_SUPERVISE.code();
        let leaders = fazhi_store::users::holders_of(&self.store.read, &lo, &hi, supervise).await?;
        self.lookups.put_leaders(node.id, now, std::sync::Arc::new(leaders.clone()));
        Ok(leaders)
    }

    /// Schedules a reception day at the principal's street.
    ///
    /// # Errors
    /// [`AppError::Forbidden`] when the policy refuses; [`AppError::Invalid`] naming the fields at fault; [`AppError::Internal`] for database failures.
    pub async fn schedule_reception(&self, by: &By<'_>, d: &DayDraft) -> AppResult<i64> {
        require(by.who, PETITION_HANDLE)?;
        let leaders = self.reception_leaders(by.who).await?;
        let mut e = FieldErrors::new();
        let leader = d.leader_user_id.and_then(|id| leaders.iter().find(|(l, _)| *l == id));
        if leader.is_none() {
            e.add("leader_user_id", "请选择接访领导（本街道有督办权限的负责人）");
        }
        let on = day(&d.day, "day", "接访日期").map_err(|x| e.0.extend(x.0)).ok();
        let title = e.take(bounded_text("leader_title", "职务", &d.leader_title, 0, 30));
        let hours = e.take(bounded_text("hours", "接访时间", &d.hours, 2, 30));
        let place = e.take(bounded_text("place", "接访地点", &d.place, 2, 100));
        let topic = e.take(bounded_text("topic", "接访主题", &d.topic, 0, 100));
        e.into_result()?;
        let (Some((leader_id, leader_name)), Some(on)) = (leader, on) else {
            return Err(AppError::internal("reception", "validated input incomplete"));
        };
        let (gov, _) = self.government_of(by.who.org_id).await?;
        let mut ctx = self.begin(by).await?;
        ctx.authorize_create(&RECEPTION_DAY, PETITION_HANDLE, gov).await?;
        let row = DayRow {
            id: 0,
            org_id: gov.0,
            leader_user_id: Some(*leader_id),
            leader_name: leader_name.clone(),
            leader_title: title.unwrap_or_default(),
            day: on.to_string(),
            hours: hours.unwrap_or_default(),
            place: place.unwrap_or_default(),
            topic: topic.unwrap_or_default(),
            created_by: by.who.user().map(|u| u.0),
            created_at: ctx.now,
        };
        let id = store::insert_day(ctx.tx(), &row).await?;
        let fields = fazhi_ledger::diff::diff(
            None,
            &serde_json::to_value(DayRow { id, ..row }).map_err(|e| AppError::internal("day", e))?,
        );
        ctx.record(
            RecordKey::new(&RECEPTION_DAY, id),
            gov,
            "reception.schedule",
            fazhi_ledger::diff::change(fields, serde_json::Value::Null),
        )
        .await?;
        ctx.commit().await?;
        Ok(id)
    }

    /// Reception days of the principal's street within `[from, to]`.
    ///
    /// # Errors
    /// [`AppError::Forbidden`] when the policy refuses; [`AppError::Internal`] for database failures.
    pub async fn reception_days(&self, who: &Principal, from: &str, to: &str) -> AppResult<Vec<DayRow>> {
        require(who, PETITION_READ)?;
        let filter = who.filter_for(&RECEPTION_DAY, PETITION_READ);
        Ok(store::days(&self.store.read, filter.as_ref(), from, to).await?)
    }

    /// The public schedule from today on (every street's; the portal needs no login).
    ///
    /// # Errors
    /// [`AppError::Internal`] for database failures.
    pub async fn public_reception_days(&self) -> AppResult<Vec<PublicDay>> {
        let today = fazhi_domain::clock::beijing_date(self.now());
        let to = today + chrono::Duration::days(120);
        let rows = store::days(&self.store.read, Some(&ScopeFilter::All), &today.to_string(), &to.to_string()).await?;
        let tree = self.org_snapshot().await?;
        Ok(rows
            .into_iter()
            .map(|r| PublicDay {
                street: tree.get(r.org_id).map(|n| n.name.clone()).unwrap_or_default(),
                leader: r.leader_name,
                title: r.leader_title,
                day: r.day,
                hours: r.hours,
                place: r.place,
                topic: r.topic,
            })
            .collect())
    }

    /// Records a reception; with `register`, a petition item (来访) is registered from it in
    /// the same transaction and linked.
    #[expect(
        clippy::too_many_lines,
        reason = "field checks, the optional intake and two ledger entries of one use case"
    )]
    /// Records reception.
    ///
    /// # Errors
    /// [`AppError::Forbidden`] when the policy refuses; [`AppError::NotFound`] for a missing record; [`AppError::Invalid`] naming the fields at fault; [`AppError::Internal`] for database failures.
    pub async fn record_reception(&self, by: &By<'_>, d: &ReceptionDraft) -> AppResult<i64> {
        require(by.who, PETITION_HANDLE)?;
        let leaders = self.reception_leaders(by.who).await?;
        let mut e = FieldErrors::new();
        let mut leader = d.leader_user_id.and_then(|id| leaders.iter().find(|(l, _)| *l == id)).cloned();
        if let Some(day_id) = d.day_id {
            match store::day(&self.store.read, day_id).await? {
                Some(day) if leader.is_none() => {
                    leader = day.leader_user_id.map(|id| (id, day.leader_name.clone()));
                }
                Some(_) => {}
                None => e.add("day_id", "所选接访日不存在"),
            }
        }
        if leader.is_none() {
            e.add("leader_user_id", "请选择接访领导");
        }
        let on = day(&d.received_on, "received_on", "接访日期").map_err(|x| e.0.extend(x.0)).ok();
        if on.is_some_and(|o| o > fazhi_domain::clock::beijing_date(self.now())) {
            e.add("received_on", "接访日期不能晚于今天");
        }
        let visitors = e.take(bounded_text("visitors", "来访人", &d.visitors, 1, 200));
        let matter = e.take(bounded_text("matter", "反映事项", &d.matter, 5, 4000));
        let instruction = e.take(bounded_text("instruction", "领导批示", &d.instruction, 2, 2000));
        let headcount = d.headcount.unwrap_or(1);
        if headcount == 0 || headcount > 10_000 {
            e.add("headcount", "人数应在 1 到 10000 之间");
        }
        if d.register && d.petition_id.is_some() {
            e.add("petition_id", "已关联信访件时不需要再登记新件");
        }
        // The reception is recorded on the item's timeline: a change, so the handle permission.
        if let Some(p) = d.petition_id
            && self.visible_petition(by.who, p, PETITION_HANDLE).await.is_err()
        {
            e.add("petition_id", format!("没有编号为 {p} 的信访件，或不在您的办理范围内"));
        }
        e.into_result()?;
        let (Some((leader_id, leader_name)), Some(on), Some(visitors), Some(matter), Some(instruction)) =
            (leader, on, visitors, matter, instruction)
        else {
            return Err(AppError::internal("reception", "validated input incomplete"));
        };
        let valid = if d.register {
            let draft = IntakeDraft {
                channel: "visit".into(),
                category: "claim".into(),
                subject: String::new(),
                title: matter.chars().take(40).collect(),
                content: matter.clone(),
                headcount: Some(headcount),
                received_on: on.to_string(),
                petitioners: vec![PetitionerDraft {
                    name: visitors.chars().take(50).collect(),
                    phone: d.phone.clone(),
                    ..Default::default()
                }],
                collective: headcount > 1,
                ..Default::default()
            };
            Some(draft)
        } else {
            None
        };
        let (gov, _) = self.government_of(by.who.org_id).await?;
        let mut ctx = self.begin(by).await?;
        ctx.authorize_create(&RECEPTION, PETITION_HANDLE, gov).await?;
        let petition_id = match valid {
            Some(draft) => {
                let v = self.validate_intake(&mut ctx, &draft).await?;
                Some(self.intake_in(&mut ctx, v, None).await?.id)
            }
            None => d.petition_id,
        };
        let row = ReceptionRow {
            id: 0,
            org_id: gov.0,
            day_id: d.day_id,
            leader_user_id: Some(leader_id),
            leader_name,
            received_on: on.to_string(),
            visitors,
            headcount: i64::from(headcount),
            matter,
            instruction,
            petition_id,
            created_by: by.who.user().map(|u| u.0),
            created_at: ctx.now,
        };
        let id = store::insert_reception(ctx.tx(), &row).await?;
        let view =
            serde_json::to_value(ReceptionRow { id, ..row.clone() }).map_err(|e| AppError::internal("reception", e))?;
        let change = fazhi_ledger::diff::change(fazhi_ledger::diff::diff(None, &view), serde_json::Value::Null);
        ctx.record(RecordKey::new(&RECEPTION, id), gov, "reception.record", change).await?;
        if let Some(p) = petition_id {
            let owner = fazhi_store::petitions::get(ctx.tx(), p).await?.map_or(gov, |r| OrgId(r.org_id));
            let change = serde_json::json!({"payload": {"reception_id": id, "leader": row.leader_name,
                "instruction": row.instruction}});
            ctx.record(RecordKey::new(&PETITION, p), owner, "petition.leader_reception", change).await?;
        }
        ctx.commit().await?;
        Ok(id)
    }

    /// Receptions of the principal's street within `[from, to]`, optionally of one item.
    ///
    /// # Errors
    /// [`AppError::Forbidden`] when the policy refuses; [`AppError::Internal`] for database failures.
    pub async fn receptions(
        &self,
        who: &Principal,
        from: &str,
        to: &str,
        petition_id: Option<i64>,
    ) -> AppResult<Vec<ReceptionRow>> {
        require(who, PETITION_READ)?;
        let filter = who.filter_for(&RECEPTION, PETITION_READ);
        Ok(store::receptions(&self.store.read, filter.as_ref(), from, to, petition_id).await?)
    }
}
