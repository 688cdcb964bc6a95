//! A year of demo work for 万兴街道: petitions in every state (most closed on time, some
//! transferred, extended, supervised, owned by a leader, asked to be reviewed, a few overdue),
//! people's mediation and leader receptions — so every page and indicator has something
//! true to show. Everything goes through the use cases, so the ledger, clocks and search
//! index are as real as the records.

use chrono::{Datelike, Duration, NaiveDate};
use fazhi_domain::Day;
use fazhi_domain::access::ScopeFilter;
use fazhi_domain::mediation::MediationEvent;
use fazhi_domain::mediation::{Agreement, AgreementForm, DISPUTE_TYPES};
use fazhi_domain::petition::{Event, Outcome, Satisfaction};
use fazhi_store::org as org_store;
use fazhi_store::users as user_store;

use crate::mediation::{CaseDraft, PartyDraft};
use crate::org::By;
use crate::petitions::{IntakeDraft, PetitionerDraft, ReviewDraft};
use crate::receptions::{DayDraft, ReceptionDraft};
use crate::{App, AppResult};

/// Requests the demo's petitions are made of (typical street matters).
const DEMO_REQUESTS: &[(&str, &str, &str)] = &[
    ("物业", "小区电梯长期停运", "小区 5 号楼电梯停运两个月，物业以维修资金不足为由拒不维修，老人出行困难"),
    ("消防", "消防通道被电动自行车占用", "楼道和消防通道堆放电动自行车并飞线充电，存在火灾隐患，请求清理"),
    ("噪声", "夜间施工噪声扰民", "附近工地夜间十一点后仍在施工，噪声严重影响休息"),
    ("劳资", "拖欠农民工工资", "某装修公司拖欠工人工资三个月，多次讨要未果"),
    ("邻里", "楼上漏水纠纷", "楼上住户卫生间漏水导致我家天花板损坏，协商不成"),
    ("拆违", "楼顶私搭乱建", "顶层住户在楼顶搭建彩钢房，影响楼体安全和邻居采光"),
    ("市容", "占道经营影响通行", "菜市场周边商户占道经营，早晚高峰道路拥堵"),
    ("环境卫生", "垃圾清运不及时", "小区垃圾桶满溢，清运不及时，气味难闻"),
    ("物业", "物业费收支不公开", "业主多次要求物业公开公共收益和物业费收支情况，物业拒绝"),
    ("供热", "冬季供暖温度不达标", "室内温度长期低于十八度，供热单位以管网老化为由推诿"),
];

const SURNAMES: &[char] = &['王', '李', '张', '刘', '陈', '杨', '赵', '黄', '周', '吴', '徐', '孙', '马', '朱', '胡'];
const GIVEN: &[&str] =
    &["建国", "秀兰", "志强", "桂英", "海燕", "德明", "丽华", "文博", "春梅", "国庆", "淑珍", "立新"];

fn person(i: usize) -> String {
    format!("{}{}", SURNAMES[i % SURNAMES.len()], GIVEN[(i / SURNAMES.len() + i) % GIVEN.len()])
}

impl App {
    /// Seeds the demo year; returns the number of petition items. Called once for a fresh
    /// demo installation (after [`App::seed_demo`]).
    ///
    /// # Errors
    /// [`AppError::Internal`] for database failures.
    #[expect(clippy::too_many_lines, reason = "a linear seeding script: a year of items in every state, in order")]
    pub async fn seed_demo_petitions(&self, count: usize) -> AppResult<usize> {
        let Some(xinfang) = user_store::get_by_username(&self.store.read, "xinfang").await? else { return Ok(0) };
        let who = self.principal(xinfang.user_id()).await?;
        let by = By { who: &who, username: "xinfang", source_addr: "demo" };
        let leader = |name: &'static str| async move {
            let u = user_store::get_by_username(&self.store.read, name).await?;
            match u {
                Some(u) => Ok::<_, crate::AppError>(Some((u.id, self.principal(u.user_id()).await?))),
                None => Ok(None),
            }
        };
        let (Some((zhuren_id, zhuren)), Some((fenguan_id, fenguan))) =
            (leader("zhuren").await?, leader("fenguan").await?)
        else {
            return Ok(0);
        };
        let by_zhuren = By { who: &zhuren, username: "zhuren", source_addr: "demo" };
        let by_fenguan = By { who: &fenguan, username: "fenguan", source_addr: "demo" };
        let nodes = org_store::list_nodes(&self.store.read, Some(&ScopeFilter::All)).await?;
        let node = |name: &str| nodes.iter().find(|n| n.name == name).map(|n| n.id);
        let communities: Vec<i64> = ["万兴里社区", "兴南社区"].iter().filter_map(|n| node(n)).collect();
        let other_street = node("学府街道");
        let today = fazhi_domain::clock::beijing_date(self.now());
        let channels = ["visit", "phone", "letter", "online", "hotline12345", "platform", "platform", "hotline12345"];
        let mut made = 0;
        let mut ids = Vec::new();
        for i in 0..count {
            // Spread over the past year; deterministic so every demo is the same.
            let age = 365 - (i * 360 / count.max(1)) as i64;
            let received = today - Duration::days(age);
            let (subject, title, content) = DEMO_REQUESTS[i % DEMO_REQUESTS.len()];
            let channel = channels[i % channels.len()];
            let collective = i % 17 == 0;
            let d = IntakeDraft {
                channel: channel.into(),
                external_no: if matches!(channel, "hotline12345" | "platform") {
                    format!("{}-{:05}", if channel == "platform" { "XF" } else { "12345" }, 10_000 + i)
                } else {
                    String::new()
                },
                category: if i % 9 == 0 { "suggestion".into() } else { "claim".into() },
                subject: subject.into(),
                title: format!("{title}（{}）", i + 1),
                content: format!("{content}。反映人称该问题已持续一段时间，希望街道尽快协调解决并答复。"),
                headcount: Some(if collective { 6 + (i % 4) as u32 } else { 1 }),
                received_on: received.to_string(),
                org_id: None,
                petitioners: vec![PetitionerDraft {
                    name: person(i),
                    phone: format!("139{:08}", 10_000_000 + i),
                    ..Default::default()
                }],
                collective,
                accepted_elsewhere: String::new(),
                submission: String::new(),
            };
            let intake = self.intake(&by, &d).await?;
            made += 1;
            let id = intake.id;
            ids.push(id);
            // Items received in the last fortnight stay open.
            if age < 14 {
                if i % 2 == 0 {
                    self.petition_step(&by, id, Event::Accept { on: Day(received + Duration::days(1)) }).await?;
                }
                continue;
            }
            if i % 29 == 5
                && let Some(street) = other_street
            {
                let reason = "反映事项发生在学府街道辖区，依职权转送学府街道办理".to_owned();
                self.petition_step(&by, id, Event::Transfer { to: fazhi_domain::OrgId(street), reason }).await?;
                continue;
            }
            if i % 37 == 3 {
                let reason = "该事项已进入民事诉讼程序，依法告知信访人通过诉讼途径解决（信访工作条例第三十一条）";
                self.petition_step(&by, id, Event::NotAccept { reason: reason.into() }).await?;
                continue;
            }
            self.petition_step(&by, id, Event::Accept { on: Day(received + Duration::days(2)) }).await?;
            if let Some(&to) = communities.get(i % communities.len().max(1)) {
                let note = "请社区核实情况，十日内反馈处理意见".to_owned();
                self.petition_step(&by, id, Event::Assign { to: fazhi_domain::OrgId(to), note }).await?;
            }
            if i % 13 == 0 {
                self.petition_step(&by_zhuren, id, Event::Lead { user: fazhi_domain::UserId(zhuren_id) }).await?;
            }
            if i % 23 == 0 {
                // Accepted long ago and never answered: overdue (红牌), supervised.
                let instruction = "请承办社区本周内拿出处理意见，逾期说明原因".to_owned();
                self.petition_step(&by_fenguan, id, Event::Supervise { instruction }).await?;
                continue;
            }
            let mut answer_after = 20 + (i as i64 % 30);
            if i % 11 == 0 {
                let ext =
                    Event::Extend {
                        days: 30, approved: true, reason: "涉及多部门会商，经分管领导批准延期".into()
                    };
                self.petition_step(&by, id, ext).await?;
                answer_after += 30;
            }
            if i % 19 == 0 {
                // A leader supervises, and the item is also owned by a leader (包案).
                let instruction = "该件群众反映强烈，请按期办结并做好解释工作".to_owned();
                self.petition_step(&by_fenguan, id, Event::Supervise { instruction }).await?;
                self.petition_step(&by_fenguan, id, Event::Lead { user: fazhi_domain::UserId(fenguan_id) }).await?;
            }
            let served = received + Duration::days(answer_after);
            if served > today {
                continue; // still being handled within its period
            }
            let outcome = [Outcome::Support, Outcome::Explain, Outcome::Support, Outcome::Reject][i % 4];
            let reply = Event::Reply {
                outcome,
                legal_basis: "《信访工作条例》第三十一条、第三十二条；《物业管理条例》第三十五条".into(),
                text: "经调查核实，已责成相关单位限期整改，并向信访人说明情况。".into(),
            };
            self.petition_step(&by, id, reply).await?;
            self.petition_step(&by, id, Event::Serve { on: Day(served) }).await?;
            self.petition_step(&by, id, Event::Close).await?;
            let visit = served + Duration::days(7);
            if visit <= today && i % 3 != 2 {
                let satisfaction = match i % 10 {
                    0 => Satisfaction::Unsatisfied,
                    3 | 6 => Satisfaction::Basic,
                    _ => Satisfaction::Satisfied,
                };
                let note = "电话回访，信访人对处理结果作出评价".to_owned();
                self.petition_step(&by, id, Event::Visit { on: Day(visit), satisfaction, note }).await?;
            }
            if i % 31 == 7 && served + Duration::days(10) <= today {
                let d = ReviewDraft {
                    received_on: (served + Duration::days(10)).to_string(),
                    content: "信访人对处理意见不服，认为物业维修责任认定有误，请求复查".into(),
                };
                self.request_review(&by, id, &d).await?;
            }
        }
        // A duplicate merged into an earlier item of the same petitioner.
        if let Some(&first) = ids.first() {
            let d = IntakeDraft {
                channel: "phone".into(),
                category: "claim".into(),
                subject: "物业".into(),
                title: "再次反映小区电梯停运".into(),
                content: "小区 5 号楼电梯停运两个月，物业拒不维修，老人出行困难，再次来电催办".into(),
                received_on: today.to_string(),
                petitioners: vec![PetitionerDraft {
                    name: person(0),
                    phone: "13910000000".into(),
                    ..Default::default()
                }],
                ..Default::default()
            };
            let dup = self.intake(&by, &d).await?;
            self.petition_step(&by, dup.id, Event::Merge { into: first }).await?;
            made += 1;
        }
        self.seed_street_mediation(&by, "万兴街道", &ids, today).await?;
        self.seed_street_receptions(&by, "万兴街道", &ids, today, zhuren_id, fenguan_id).await?;
        self.scan_clocks(&fazhi_domain::access::Principal::system(
            fazhi_domain::access::SystemActor::Operator,
            fazhi_domain::OrgId(0),
            fazhi_domain::org::OrgPath::root(fazhi_domain::OrgId(0)),
        ))
        .await?;
        Ok(made)
    }

    /// A street's people's mediation committee, three mediators and a year of 64 cases in
    /// every state, through the use cases (the demo, and the benchmark generator per street).
    ///
    /// # Errors
    /// [`AppError::Forbidden`] when the policy refuses; [`AppError::Internal`] for database failures.
    #[expect(clippy::too_many_lines, reason = "a linear seeding script: a year of cases in every state, in order")]
    pub async fn seed_street_mediation(
        &self,
        by: &By<'_>,
        street_name: &str,
        petitions: &[i64],
        today: NaiveDate,
    ) -> AppResult<()> {
        let Some(street) = self.government_of(by.who.org_id).await.ok().map(|(g, _)| g) else { return Ok(()) };
        let committee = self.create_committee(by, street, &format!("{street_name}人民调解委员会")).await?;
        let mut mediators = Vec::new();
        for (name, phone) in [("陈调解", "13820000001"), ("林和平", "13820000002"), ("高文静", "13820000003")]
        {
            mediators.push(self.add_mediator(by, committee, name, phone).await?);
        }
        for i in 0..64usize {
            let received = today - Duration::days(360 - (i as i64 * 5));
            let d = CaseDraft {
                committee_id: Some(committee),
                mediator_id: Some(mediators[i % mediators.len()]),
                petition_id: (i % 4 == 0).then(|| petitions.get(i * 3).copied()).flatten(),
                dispute_type: DISPUTE_TYPES[i % DISPUTE_TYPES.len()].into(),
                summary: format!(
                    "{}与{}因{}发生纠纷，双方多次协商未果，申请人民调解。",
                    person(i + 3),
                    person(i + 40),
                    DISPUTE_TYPES[i % DISPUTE_TYPES.len()]
                ),
                received_on: received.to_string(),
                parties: vec![
                    PartyDraft {
                        name: person(i + 3),
                        phone: format!("137{:08}", 20_000_000 + i),
                        side: "applicant".into(),
                    },
                    PartyDraft { name: person(i + 40), phone: String::new(), side: "respondent".into() },
                ],
            };
            let id = self.register_mediation(by, &d).await?;
            if i % 16 == 15 {
                continue; // waiting for consent
            }
            if i % 21 == 4 {
                let reason = "被申请人明确表示拒绝调解".to_owned();
                self.mediation_step(by, id, MediationEvent::Decline { on: Day(received + Duration::days(1)), reason })
                    .await?;
                continue;
            }
            self.mediation_step(by, id, MediationEvent::Consent { on: Day(received + Duration::days(1)) }).await?;
            let held = received + Duration::days(5);
            if held > today {
                continue;
            }
            let session = MediationEvent::Session {
                held_on: Day(held),
                place: format!("{street_name}矛盾纠纷调处化解中心"),
                record: "调解员分别听取双方陈述，释明相关法律规定，引导双方互谅互让。".into(),
                mediator_id: Some(mediators[i % mediators.len()]),
            };
            self.mediation_step(by, id, session).await?;
            let ended = received + Duration::days(12);
            if ended > today || i % 9 == 8 {
                continue; // still mediating
            }
            if i % 7 == 3 {
                let routes = "调解不成，已告知双方可向人民法院提起诉讼或申请仲裁（人民调解法第二十六条）".to_owned();
                self.mediation_step(by, id, MediationEvent::Fail { on: Day(ended), routes_told: routes }).await?;
                continue;
            }
            let written = i % 5 != 0;
            let agreement = Agreement {
                form: if written { AgreementForm::Written } else { AgreementForm::Oral },
                facts: "双方因相邻关系产生争议，经调解查明事实，双方各负相应责任。".into(),
                terms: "被申请人于履行期限内赔偿申请人损失人民币三千元，并停止侵害；双方今后友好相处。".into(),
                manner: "现金一次性支付，调解员见证".into(),
                perform_by: ended + Duration::days(15),
                signed_on: ended,
                parties_signed: true,
                mediator_signed: true,
                sealed: true,
            };
            self.mediation_step(by, id, MediationEvent::Agree(agreement)).await?;
            if written && i % 3 == 0 && ended + Duration::days(10) <= today {
                self.mediation_step(
                    by,
                    id,
                    MediationEvent::ConfirmationApplied { on: Day(ended + Duration::days(10)) },
                )
                .await?;
            }
            let check = ended + Duration::days(20);
            if check <= today {
                let performed = i % 11 != 6;
                let note = if performed {
                    "回访核实，协议已按期履行"
                } else {
                    "被申请人未按期履行，已告知申请人可向人民法院起诉"
                };
                self.mediation_step(
                    by,
                    id,
                    MediationEvent::Performance { on: Day(check), performed, note: note.into() },
                )
                .await?;
            }
        }
        Ok(())
    }

    /// A year of leaders' reception days (every second Wednesday, and two months ahead) with
    /// their records, through the use cases.
    ///
    /// # Errors
    /// [`AppError::Internal`] for database failures.
    pub async fn seed_street_receptions(
        &self,
        by: &By<'_>,
        street_name: &str,
        petitions: &[i64],
        today: NaiveDate,
        zhuren: i64,
        fenguan: i64,
    ) -> AppResult<()> {
        // Every second Wednesday over the past year and the next two months.
        let mut day = today - Duration::days(364);
        while day.weekday() != chrono::Weekday::Wed {
            day += Duration::days(1);
        }
        let mut n = 0usize;
        while day <= today + Duration::days(60) {
            let leader = if n.is_multiple_of(2) { zhuren } else { fenguan };
            let d = DayDraft {
                leader_user_id: Some(leader),
                leader_title: if leader == zhuren {
                    "街道办事处主任".into()
                } else {
                    "街道办事处副主任".into()
                },
                day: day.to_string(),
                hours: "9:00—11:30".into(),
                place: format!("{street_name}群众来访接待室（一楼）"),
                topic: ["物业管理", "拆违整治", "劳资纠纷", "综合"][n % 4].into(),
            };
            let day_id = self.schedule_reception(by, &d).await?;
            if day <= today && n % 3 != 2 {
                let r = ReceptionDraft {
                    day_id: Some(day_id),
                    leader_user_id: Some(leader),
                    received_on: day.to_string(),
                    visitors: person(n + 7),
                    phone: format!("136{:08}", 30_000_000 + n),
                    headcount: Some(if n.is_multiple_of(5) { 4 } else { 1 }),
                    matter: format!("反映{}问题，要求街道协调解决", DEMO_REQUESTS[n % DEMO_REQUESTS.len()].1),
                    instruction: "请信访办会同相关科室和社区调查核实，依法依规处理，按期答复来访群众".into(),
                    petition_id: if n.is_multiple_of(2) { petitions.get(n * 7).copied() } else { None },
                    register: n % 2 == 1,
                };
                self.record_reception(by, &r).await?;
            }
            day += Duration::days(14);
            n += 1;
        }
        Ok(())
    }
}
