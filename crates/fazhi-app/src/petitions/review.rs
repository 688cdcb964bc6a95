//! 复查 and 复核 requests (信访工作条例 第三十五、三十六条): a new item linked to the one
//! answered, held by the body above the one that answered, accepted on receipt with its
//! 30-day clock; the parent's request window is completed.

use fazhi_domain::access::PETITION_HANDLE;
use fazhi_domain::petition as rules;
use fazhi_domain::record::RecordKey;
use fazhi_domain::workflow::ClockPlan;
use fazhi_domain::{Day, FieldErrors, OrgId};
use fazhi_store::petitions as store;
use serde_json::json;

use super::{Intake, IntakeDraft, PetitionerDraft, government_in, petition_ref, stage_of, state_of};
use crate::org::By;
use crate::{App, AppError, AppResult};

/// A 复查/复核 request as typed.
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct ReviewDraft {
    /// `YYYY-MM-DD` the request was received.
    pub received_on: String,
    /// What the petitioner asks and why.
    pub content: String,
}

impl App {
    /// Registers a 复查 (or, after a 复查, 复核) request against item `parent_id`, whose
    /// written reply was served. After a 复核 the same facts are not accepted again.
    ///
    /// # Errors
    /// [`AppError::Invalid`] on `received_on` with the rule (no reply yet, too late, final);
    /// [`AppError::Forbidden`], [`AppError::NotFound`]; database errors.
    pub async fn request_review(&self, by: &By<'_>, parent_id: i64, d: &ReviewDraft) -> AppResult<Intake> {
        let mut ctx = self.begin(by).await?;
        let parent = store::get_for_update(ctx.tx(), parent_id).await?.ok_or(AppError::NotFound("信访件"))?;
        let tree = ctx.tree().await?;
        fazhi_domain::access::authorize(by.who, PETITION_HANDLE, &petition_ref(&tree, &parent)).into_result()?;
        let requested = Day::parse("received_on", "请求日期", &d.received_on).map_err(|e| FieldErrors(vec![e]))?;
        if requested > ctx.today {
            return Err(AppError::Invalid(FieldErrors::single("received_on", "请求日期不能晚于今天")));
        }
        let served = parent.served_on.as_deref().and_then(|s| Day::from_text(s).ok()).map(Day::date);
        let stage = rules::review_request(stage_of(&parent)?, state_of(&parent)?, served, requested.date())
            .map_err(|r| AppError::Invalid(FieldErrors::single("received_on", r.to_string())))?;
        let (_, above) = government_in(&tree, OrgId(parent.org_id))?;
        let people: Vec<PetitionerDraft> = serde_json::from_str::<Vec<serde_json::Value>>(&parent.petitioners_json)
            .map_err(|e| AppError::internal("petitioners of the parent item", e))?
            .iter()
            .map(|v| PetitionerDraft {
                name: v["name"].as_str().unwrap_or("").to_owned(),
                phone: v["phone"].as_str().unwrap_or("").to_owned(),
                id_number: v["id_number"].as_str().unwrap_or("").to_owned(),
                address: v["address"].as_str().unwrap_or("").to_owned(),
            })
            .collect();
        let draft = IntakeDraft {
            channel: parent.channel.code().to_owned(),
            external_no: parent.external_no.clone(),
            category: parent.category.code().to_owned(),
            subject: parent.subject.clone(),
            title: format!("{}：{}", stage.label(), parent.title).chars().take(100).collect(),
            content: d.content.clone(),
            headcount: u32::try_from(parent.headcount).ok(),
            received_on: d.received_on.clone(),
            org_id: None,
            petitioners: people,
            collective: parent.collective != 0,
            accepted_elsewhere: String::new(),
            submission: String::new(),
        };
        // The request is registered by whoever received it; it belongs to the body above.
        let mut valid = self.validate_intake(&mut ctx, &draft).await?;
        valid.org = above;
        let intake = self.intake_in(&mut ctx, valid, Some((parent_id, stage))).await?;
        if let Some(window) = stage_of(&parent)?.next_request_rule() {
            let key = RecordKey::new(&fazhi_domain::record::PETITION, parent_id);
            let plan = ClockPlan { complete: vec![window], ..ClockPlan::on(requested) };
            let clocks = ctx.apply_clocks(key, OrgId(parent.org_id), &plan, |_| None).await?;
            if !clocks.is_empty() {
                let change = json!({"request": intake.id, "clocks": clocks});
                ctx.record(key, OrgId(parent.org_id), "clock.complete", change).await?;
            }
        }
        ctx.commit().await?;
        Ok(intake)
    }

    /// What the clerk who registered a 复查/复核 request is told on the item it answers: the
    /// round's stage, the body above that handles it and its tracking code (for the
    /// petitioner). Readable by whoever may read the answered item: the round itself sits at
    /// the body above, often outside the clerk's scope.
    ///
    /// # Errors
    /// [`AppError::NotFound`] when `round_id` is not a round of `parent_id`;
    /// [`AppError::Forbidden`] when `who` may not read the answered item; database errors.
    pub async fn review_receipt(
        &self,
        who: &fazhi_domain::access::Principal,
        parent_id: i64,
        round_id: i64,
    ) -> AppResult<ReviewReceipt> {
        self.visible_petition(who, parent_id, fazhi_domain::record::PETITION.read).await?;
        let round = store::get(&self.store.read, round_id)
            .await?
            .filter(|r| r.parent_id == Some(parent_id))
            .ok_or(AppError::NotFound("复查（复核）请求"))?;
        let tree = self.org_snapshot().await?;
        let body = tree.get(round.org_id).map_or_else(|| format!("机构 {}", round.org_id), |n| n.name.clone());
        let code = rules::TrackingCode::parse(&round.tracking_code)
            .map_or_else(|| round.tracking_code.clone(), |c| c.display());
        Ok(ReviewReceipt { stage: stage_of(&round)?.label(), body, tracking_code: code })
    }
}

/// A registered 复查/复核 request as told to the clerk (see [`App::review_receipt`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewReceipt {
    /// 复查 or 复核.
    pub stage: &'static str,
    /// The body that handles it (the one above the body that answered).
    pub body: String,
    /// The round's tracking code, dashed, for the petitioner.
    pub tracking_code: String,
}
