//! The public side of petitions — 网上信访 submission and the status lookup by tracking code —
//! and the bulk import of items pushed by the 12345 hotline or the 信访信息系统.

use fazhi_domain::FieldErrors;
use fazhi_domain::access::{PETITION_HANDLE, Principal, SystemActor};
use fazhi_domain::petition::{Channel, Outcome, State, TrackingCode};
use fazhi_domain::{OrgId, OrgId as Org};
use fazhi_store::petitions as store;

use super::{Intake, IntakeDraft};
use crate::org::By;
use crate::{App, AppError, AppResult, require};

/// What the public sees for a tracking code: no names, no contact, no content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicStatus {
    pub title: String,
    pub state: &'static str,
    /// `YYYY-MM-DD`.
    pub received_on: String,
    /// "意见：事实和理由" once the reply was served, and only when the ledger vouches for it.
    pub reply: Option<String>,
}

/// Submissions from one address the portal accepts per hour (anti-abuse, no CAPTCHA).
pub const PORTAL_SUBMISSIONS_PER_HOUR: i64 = 5;

/// Largest bulk import of pushed items.
pub const MAX_IMPORT_ROWS: usize = 1000;

impl App {
    /// The public status of a tracking code. A malformed code and an unknown one get the
    /// same answer, after the same database work, so the code reveals nothing.
    ///
    /// # Errors
    /// [`AppError::NotFound`] for any code that names no item; database errors.
    pub async fn track(&self, code: &str) -> AppResult<PublicStatus> {
        let parsed = TrackingCode::parse(code);
        let lookup = parsed.as_ref().map_or("-", |c| c.as_str()).to_owned();
        let row = store::by_code(&self.store.read, &lookup).await?;
        let Some(row) = row.filter(|_| parsed.is_some()) else {
            return Err(AppError::NotFound("该查询码对应的信访件"));
        };
        let mut done = matches!(row.state, State::Served | State::Closed);
        if done {
            // The public is shown a reply only when the ledger vouches for it, as a printed
            // opinion is; an altered one is withheld (and `fazhi ledger verify` names it).
            let code = fazhi_domain::record::PETITION.code;
            let entries = fazhi_store::ledger::entries_of_record(&self.store.read, code, &row.id.to_string()).await?;
            if let Err(e) = super::opinion::vouched(&row, &entries) {
                tracing::warn!(id = row.id, error = %e, "tracking lookup: reply withheld");
                done = false;
            }
        }
        let outcome = Outcome::parse(&row.outcome).map_or("", Outcome::label);
        Ok(PublicStatus {
            title: row.title,
            state: row.state.label(),
            received_on: row.received_on,
            reply: done.then(|| format!("{outcome}：{}", row.reply_text)),
        })
    }

    /// The streets (and townships) a member of the public can address an item to: the
    /// government bodies that have one above them (not the district itself).
    ///
    /// # Errors
    /// Database errors.
    pub async fn portal_streets(&self) -> AppResult<Vec<(i64, String)>> {
        let tree = self.org_snapshot().await?;
        Ok(tree
            .nodes
            .iter()
            .filter(|n| tree.is_government(n) && tree.governments_above(n.id).len() > 1)
            .map(|n| (n.id, n.name.clone()))
            .collect())
    }

    /// An item submitted on the portal (channel 网上), addressed to a street; at most
    /// [`PORTAL_SUBMISSIONS_PER_HOUR`] per address per hour. The portal acts as the system
    /// actor [`SystemActor::Portal`] sitting on that street (the policy's table says what it
    /// may do: register there, nothing else).
    ///
    /// # Errors
    /// [`AppError::Refused`] over the hourly limit; [`AppError::Invalid`] naming the fields.
    pub async fn portal_submit(&self, d: &IntakeDraft, source_addr: &str) -> AppResult<Intake> {
        let pick = || AppError::Invalid(FieldErrors::single("org_id", "请选择反映事项所在的街道（乡镇）"));
        let street = d.org_id.ok_or_else(pick)?;
        if !self.portal_streets().await?.iter().any(|(id, _)| *id == street) {
            return Err(pick());
        }
        let tree = self.org_snapshot().await?;
        let node = tree.get(street).ok_or_else(pick)?;
        let portal = Principal::system(SystemActor::Portal, Org(street), node.org_path());
        let by = By { who: &portal, username: SystemActor::Portal.name(), source_addr };
        let draft = IntakeDraft {
            channel: Channel::Online.code().into(),
            received_on: String::new(),
            org_id: Some(OrgId(street).0),
            ..d.clone()
        };
        // The limit is taken in the submission's own transaction: concurrent submissions from
        // one address are serialised on the address (count, then record), and a submission
        // that fails validation rolls its attempt back with everything else.
        let mut ctx = self.begin(&by).await?;
        // A repeated submission (a refresh, a double click) answers with its item and does
        // not count against the limit.
        let once = super::intake::submission_key(&by, &d.submission)?;
        if let Some(done) = self.submitted_before(&mut ctx, once.as_deref()).await? {
            return Ok(done);
        }
        let key = format!("portal:{source_addr}");
        let now = self.now();
        let admitted =
            fazhi_store::auth::admit_attempt(ctx.tx(), &key, now - 3_600_000, PORTAL_SUBMISSIONS_PER_HOUR, now).await?;
        if !admitted {
            return Err(AppError::Refused("提交过于频繁，请一小时后再试，或拨打信访电话、到信访接待场所反映".into()));
        }
        let valid = self.validate_intake(&mut ctx, &draft).await?;
        let intake = self.intake_in(&mut ctx, valid, None).await?;
        self.record_submission(&mut ctx, once.as_deref(), intake.id).await?;
        ctx.commit().await?;
        Ok(intake)
    }

    /// Imports items pushed by the 12345 hotline or the 信访信息系统 in one transaction:
    /// every row is checked first; one bad row means nothing is imported and every bad row is
    /// listed. Idempotent on the source's identity (channel + external number): a row whose
    /// source record was registered before (by an earlier import, or earlier in the batch)
    /// answers with that item (`existing`), never a second one with its own clocks; the same
    /// identity with other contents is a conflict, reported on the row.
    ///
    /// # Errors
    /// [`AppError::Invalid`] on `rows`, one message per broken rule and row (naming the
    /// field); a database failure while saving row N is [`AppError::Refused`] naming the row
    /// (nothing imported).
    pub async fn import_petitions(&self, by: &By<'_>, drafts: &[IntakeDraft]) -> AppResult<Vec<Intake>> {
        require(by.who, PETITION_HANDLE)?;
        if drafts.is_empty() || drafts.len() > MAX_IMPORT_ROWS {
            return Err(AppError::Invalid(FieldErrors::single("rows", format!("每次导入 1 到 {MAX_IMPORT_ROWS} 件"))));
        }
        let mut ctx = self.begin(by).await?;
        let mut errors = FieldErrors::new();
        let mut valid = Vec::with_capacity(drafts.len());
        for (i, d) in drafts.iter().enumerate() {
            match self.validate_intake(&mut ctx, d).await {
                Ok(v) => valid.push(v),
                Err(AppError::Invalid(e)) => {
                    for fe in e.0 {
                        errors.add("rows", format!("第 {} 行 {}：{}", i + 1, fe.field, fe.message));
                    }
                }
                Err(other) => return Err(other),
            }
        }
        if !errors.is_empty() {
            return Err(AppError::Invalid(errors));
        }
        // Saved in order in this one transaction: a row repeating an earlier row's source
        // finds it like an earlier import's.
        let mut out = Vec::with_capacity(valid.len());
        for (i, v) in valid.into_iter().enumerate() {
            let row = i + 1;
            if let Some((channel, no)) = v.source() {
                let earlier = fazhi_store::petitions::by_source(ctx.tx(), channel, no).await?;
                if let Some(p) = earlier {
                    let differ = v.differs_from(&p);
                    if differ.is_empty() {
                        out.push(Intake {
                            id: p.id,
                            tracking_code: fazhi_domain::petition::TrackingCode::parse(&p.tracking_code)
                                .map_or_else(|| p.tracking_code.clone(), |c| c.display()),
                            warnings: vec![format!("来源编号 {no} 已登记为信访件 {}，本次未重复登记", p.id)],
                            possible_duplicates: Vec::new(),
                            existing: true,
                        });
                    } else {
                        errors.add(
                            "rows",
                            format!(
                                "第 {row} 行 external_no：来源编号 {no} 已登记为信访件 {}，但 {} 不同：请核对来源，未重复登记",
                                p.id,
                                differ.join("、")
                            ),
                        );
                    }
                    continue;
                }
            }
            match self.intake_in(&mut ctx, v, None).await {
                Ok(intake) => out.push(intake),
                Err(AppError::Invalid(e)) => {
                    for fe in e.0 {
                        errors.add("rows", format!("第 {row} 行 {}：{}", fe.field, fe.message));
                    }
                }
                Err(AppError::Refused(m)) => errors.add("rows", format!("第 {row} 行：{m}")),
                Err(e) => {
                    tracing::error!(row, error = %e, "import row failed");
                    return Err(AppError::Refused(format!(
                        "第 {row} 行未能保存（数据库错误，已记入日志），本批全部未导入，请稍后重试"
                    )));
                }
            }
        }
        errors.into_result()?;
        ctx.commit().await?;
        Ok(out)
    }
}
