//! The built-in deadline rules: the periods DOMAIN.md names for enforcement, petitions,
//! disclosure, decisions, litigation, reconsideration and mediation, each with the article
//! that sets it (checked against the texts in `shared/laws/`).
//!
//! Two choices where the law is silent, recorded in each rule's `note`:
//! - Rolling a calendar-day period off a holiday is the rule of 民事诉讼法 第八十五条第三款,
//!   which binds litigation (行政诉讼法 第一百零一条), reconsideration (行政复议法 第八十八条)
//!   and 司法确认 (a court procedure). Elsewhere, an agency's own deadline does not roll (the
//!   earlier date is the safe one for the agency), while a period the citizen must keep does
//!   (the later date is the safe one for the citizen: fazhi must not reject a filing the
//!   law may accept).
//! - Values DOMAIN.md marks UNVERIFIED are `Verification::Unverified`; correct them per
//!   installation with `RuleOverrides`.

use super::rule::{
    Area, Citation, DeadlineRule, Duty, ExtensionRule, PauseEffect, PauseReason, PauseRule, RuleKind, StartRule,
    Verification,
};
use crate::calendar::DayUnit::{self, Calendar, Working};

const CHUFA: &str = "行政处罚法（2021年修订）";
const QIANGZHI: &str = "行政强制法";
const XINFANG: &str = "信访工作条例";
const GONGKAI: &str = "政府信息公开条例（2019年修订）";
const JUECE: &str = "重大行政决策程序暂行条例";
const SUSONG: &str = "行政诉讼法（2017年修正）";
const FUYI: &str = "行政复议法（2023年修订）";
const TIAOJIE: &str = "人民调解法";

const NOTE_AGENCY_NO_ROLL: &str = "法律未规定期满日遇节假日顺延；机关自身的期限按不顺延计算，以较早日期提醒。";
const NOTE_PARTY_ROLL: &str =
    "法律未规定期满日遇节假日是否顺延；当事人一方的期限按民事诉讼法第八十五条顺延，以免拒收依法可以受理的材料。";

/// A rule with no extensions, no pauses and no note; the table below fills the rest.
#[allow(clippy::too_many_arguments)] // one row of the table, read positionally
fn rule(
    id: &str,
    name: &str,
    area: Area,
    kind: RuleKind,
    duty: Duty,
    trigger: &str,
    length: u32,
    unit: DayUnit,
    roll: bool,
    citation: (&str, &str),
) -> DeadlineRule {
    DeadlineRule {
        id: id.to_owned(),
        name: name.to_owned(),
        area,
        kind,
        duty,
        trigger: trigger.to_owned(),
        length,
        unit,
        start: StartRule::NextDay,
        roll_if_non_working: roll,
        citation: Citation::new(citation.0, citation.1),
        unit_basis: None,
        extensions: Vec::new(),
        pauses: Vec::new(),
        verification: Verification::Statute,
        note: String::new(),
        overridden: None,
    }
}

fn basis(law: &str, article: &str) -> Option<Citation> {
    Some(Citation::new(law, article))
}

fn pause(reason: PauseReason, effect: PauseEffect, law: &str, article: &str, verification: Verification) -> PauseRule {
    PauseRule { reason, effect, citation: Citation::new(law, article), verification }
}

fn extension(max_length: u32, approver: &str, law: &str, article: &str) -> ExtensionRule {
    ExtensionRule {
        max_length,
        approver: approver.to_owned(),
        notify_party: true,
        citation: Citation::new(law, article),
    }
}

/// Every built-in rule, grouped by area.
pub(super) fn rules() -> Vec<DeadlineRule> {
    let mut v = enforcement();
    v.extend(petition());
    v.extend(disclosure());
    v.extend(decision());
    v.extend(litigation_and_reconsideration());
    v.extend(mediation());
    v
}

#[rustfmt::skip] // a table: one rule per entry reads better than rustfmt's one argument per line
fn enforcement() -> Vec<DeadlineRule> {
    use Area::Enforcement as A;
    use Duty::{Agency, Party};
    use RuleKind::{AdvanceNotice, Deadline, MinimumPeriod};
    // 行政处罚法 第八十五条: only 二日、三日、五日、七日 are working days.
    let art85 = || basis(CHUFA, "第八十五条");
    // 行政强制法 第六十九条: periods of ten days or less are working days.
    let art69 = || basis(QIANGZHI, "第六十九条");
    vec![
        DeadlineRule {
            note: "本法无延长和扣除规定，但“法律、法规、规章另有规定的，从其规定”。部门规章（如市场监督管理行政处罚程序规定：经负责人批准可延长30日，中止、听证、公告、检测检验检疫鉴定期间不计入）或地方规定适用时，请通过规则调整配置延长和暂停事由（未核实，DOMAIN.md §1）。".to_owned()
                + NOTE_AGENCY_NO_ROLL,
            ..rule("enforcement.decision", "作出行政处罚决定", A, Deadline, Agency, "立案", 90, Calendar, false, (CHUFA, "第六十条"))
        },
        DeadlineRule {
            verification: Verification::Unverified,
            note: "法律未规定陈述申辩期限（第四十四条、第四十五条）；5 个工作日为部门规章常见做法，未核实，请按本地规定调整。".into(),
            ..rule("enforcement.statement", "当事人陈述、申辩", A, Deadline, Party, "送达行政处罚事先告知书", 5, Working, false, (CHUFA, "第四十五条"))
        },
        DeadlineRule {
            unit_basis: art85(),
            ..rule("enforcement.hearing_request", "当事人要求听证", A, Deadline, Party, "告知听证权利", 5, Working, false, (CHUFA, "第六十四条第（一）项"))
        },
        DeadlineRule {
            unit_basis: art85(),
            ..rule("enforcement.hearing_notice", "通知听证时间、地点", A, AdvanceNotice, Agency, "举行听证", 7, Working, false, (CHUFA, "第六十四条第（二）项"))
        },
        DeadlineRule {
            unit_basis: art85(),
            ..rule("enforcement.evidence_preservation", "先行登记保存后作出处理决定", A, Deadline, Agency, "先行登记保存", 7, Working, false, (CHUFA, "第五十六条"))
        },
        DeadlineRule {
            verification: Verification::Secondary,
            note: "国办发〔2018〕118号：行政许可、行政处罚等执法决定信息在执法决定作出之日起7个工作日内公开；原文未读，期限据二手转载核对（DOMAIN.md §2）。".into(),
            ..rule("enforcement.publication", "公示行政处罚决定", A, Deadline, Agency, "作出行政处罚决定", 7, Working, false, ("国务院办公厅关于全面推行行政执法公示制度执法全过程记录制度重大执法决定法制审核制度的指导意见（国办发〔2018〕118号）", "事后公开"))
        },
        DeadlineRule {
            unit_basis: art85(),
            ..rule("enforcement.withdrawal", "撤回已公开的行政处罚决定信息", A, Deadline, Agency, "公开的处罚决定被变更、撤销、确认违法或者确认无效", 3, Working, false, (CHUFA, "第四十八条第二款"))
        },
        DeadlineRule {
            unit_basis: art85(),
            ..rule("enforcement.service", "送达行政处罚决定书（当事人不在场）", A, Deadline, Agency, "宣告行政处罚决定", 7, Working, false, (CHUFA, "第六十一条第一款"))
        },
        DeadlineRule {
            note: NOTE_PARTY_ROLL.into(),
            ..rule("enforcement.fine_payment", "缴纳罚款", A, Deadline, Party, "收到行政处罚决定书", 15, Calendar, true, (CHUFA, "第六十七条第三款"))
        },
        DeadlineRule {
            extensions: vec![extension(30, "行政机关负责人", QIANGZHI, "第二十五条第一款、第二款")],
            pauses: vec![pause(PauseReason::Appraisal, PauseEffect::Suspend, QIANGZHI, "第二十五条第三款", Verification::Statute)],
            note: NOTE_AGENCY_NO_ROLL.into(),
            ..rule("enforcement.seizure", "查封、扣押期限", A, Deadline, Agency, "实施查封、扣押", 30, Calendar, false, (QIANGZHI, "第二十五条第一款"))
        },
        DeadlineRule {
            unit_basis: art69(),
            note: "催告书送达满 10 个工作日后，当事人仍未履行的，方可申请人民法院强制执行。".into(),
            ..rule("enforcement.demand_before_court", "催告后申请法院强制执行", A, MinimumPeriod, Agency, "催告书送达", 10, Working, false, (QIANGZHI, "第五十四条"))
        },
        DeadlineRule {
            verification: Verification::Unverified,
            note: "法律和国办发〔2018〕118号均未规定法制审核时限；10 个工作日取自市场监管系统做法（二手资料），未核实，请按本地规定调整（DOMAIN.md §2）。".into(),
            ..rule("enforcement.legal_review", "重大执法决定法制审核", A, Deadline, Agency, "送交法制审核", 10, Working, false, (CHUFA, "第五十八条"))
        },
    ]
}

#[rustfmt::skip] // a table: one rule per entry reads better than rustfmt's one argument per line
fn petition() -> Vec<DeadlineRule> {
    use Area::Petition as A;
    use Duty::{Agency, Party};
    use RuleKind::Deadline;
    let agency = |r: DeadlineRule| DeadlineRule {
        note: NOTE_AGENCY_NO_ROLL.into(),
        ..r
    };
    let party = |r: DeadlineRule| DeadlineRule {
        note: NOTE_PARTY_ROLL.into(),
        ..r
    };
    vec![
        agency(rule("petition.register", "信访部门登记并转送、交办", A, Deadline, Agency, "收到信访事项", 15, Calendar, false, (XINFANG, "第二十二条"))),
        agency(rule("petition.notify_direct", "书面告知信访人（直接提出）", A, Deadline, Agency, "收到信访事项", 15, Calendar, false, (XINFANG, "第二十三条第二款"))),
        agency(rule("petition.notify_assigned", "书面告知信访人（转送、交办）", A, Deadline, Agency, "收到转送、交办的信访事项", 15, Calendar, false, (XINFANG, "第二十三条第三款"))),
        rule("petition.objection", "对不属于职权范围的转送、交办提出异议", A, Deadline, Agency, "收到转送、交办的信访事项", 5, Working, false, (XINFANG, "第二十三条第三款")),
        DeadlineRule {
            extensions: vec![extension(30, "本机关、单位负责人", XINFANG, "第三十四条")],
            ..agency(rule("petition.handle", "办结信访事项", A, Deadline, Agency, "受理", 60, Calendar, false, (XINFANG, "第三十四条")))
        },
        party(rule("petition.review_request", "请求复查", A, Deadline, Party, "收到信访处理意见书面答复", 30, Calendar, true, (XINFANG, "第三十五条"))),
        agency(rule("petition.review", "提出复查意见", A, Deadline, Agency, "收到复查请求", 30, Calendar, false, (XINFANG, "第三十五条"))),
        party(rule("petition.recheck_request", "请求复核", A, Deadline, Party, "收到复查意见书面答复", 30, Calendar, true, (XINFANG, "第三十六条第一款"))),
        DeadlineRule {
            pauses: vec![pause(PauseReason::Hearing, PauseEffect::Suspend, XINFANG, "第三十六条第二款", Verification::Statute)],
            ..agency(rule("petition.recheck", "提出复核意见", A, Deadline, Agency, "收到复核请求", 30, Calendar, false, (XINFANG, "第三十六条第一款")))
        },
    ]
}

#[rustfmt::skip] // a table: one rule per entry reads better than rustfmt's one argument per line
fn disclosure() -> Vec<DeadlineRule> {
    use Area::Disclosure as A;
    use Duty::{Agency, ThirdParty};
    use RuleKind::Deadline;
    vec![
        rule("disclosure.proactive", "主动公开政府信息", A, Deadline, Agency, "政府信息形成或者变更", 20, Working, false, (GONGKAI, "第二十六条")),
        rule("disclosure.correction_notice", "一次性告知申请人补正", A, Deadline, Agency, "收到政府信息公开申请", 7, Working, false, (GONGKAI, "第三十条")),
        DeadlineRule {
            extensions: vec![extension(20, "政府信息公开工作机构负责人", GONGKAI, "第三十三条第二款")],
            pauses: vec![
                pause(PauseReason::Consultation, PauseEffect::Suspend, GONGKAI, "第三十三条第三款", Verification::Statute),
                pause(PauseReason::Correction, PauseEffect::Restart, GONGKAI, "第三十条", Verification::Statute),
            ],
            note: "补正：答复期限自收到补正的申请之日起重新计算（第三十条）。".into(),
            ..rule("disclosure.reply", "答复政府信息公开申请", A, Deadline, Agency, "收到政府信息公开申请", 20, Working, false, (GONGKAI, "第三十三条第二款"))
        },
        rule("disclosure.third_party_opinion", "第三方提出意见", A, Deadline, ThirdParty, "第三方收到征求意见书", 15, Working, false, (GONGKAI, "第三十二条")),
        DeadlineRule {
            note: "逾期未提出意见的视为同意公开。".into(),
            ..rule("disclosure.agency_opinion", "被征求意见机关提出意见", A, Deadline, ThirdParty, "被征求意见机关收到征求意见书", 15, Working, false, (GONGKAI, "第三十四条"))
        },
    ]
}

#[rustfmt::skip] // a table: one rule per entry reads better than rustfmt's one argument per line
fn decision() -> Vec<DeadlineRule> {
    use Area::Decision as A;
    use Duty::Agency;
    use RuleKind::{AdvanceNotice, MinimumPeriod};
    vec![
        DeadlineRule {
            note: "“一般不少于30日”；因情况紧急等原因缩短的，应在征求意见时说明。".into(),
            ..rule("decision.public_comment", "公开征求意见期限", A, MinimumPeriod, Agency, "公布决策草案", 30, Calendar, false, (JUECE, "第十五条第一款"))
        },
        rule("decision.hearing_materials", "听证会材料送达听证参加人", A, AdvanceNotice, Agency, "召开听证会", 7, Calendar, false, (JUECE, "第十六条第三款")),
        DeadlineRule {
            note: "“一般不少于7个工作日”：送审后满 7 个工作日方可提交集体讨论。".into(),
            ..rule("decision.legality_review", "合法性审查时间", A, MinimumPeriod, Agency, "送请合法性审查", 7, Working, false, (JUECE, "第二十六条第二款"))
        },
    ]
}

#[rustfmt::skip] // a table: one rule per entry reads better than rustfmt's one argument per line
fn litigation_and_reconsideration() -> Vec<DeadlineRule> {
    use Area::{Litigation, Reconsideration};
    use Duty::{Agency, Party};
    use RuleKind::Deadline;
    // 行政复议法 第八十八条第二款: 三日、五日、七日、十日 are working days; other periods follow
    // the 民事诉讼法 period rules (第八十八条第一款), hence the roll.
    let art88 = || basis(FUYI, "第八十八条第二款");
    vec![
        DeadlineRule {
            note: "期间按民事诉讼法第八十五条计算（行政诉讼法第一百零一条），期满日为法定休假日的顺延。".into(),
            ..rule("litigation.defence", "提交答辩状及证据、依据", Litigation, Deadline, Agency, "收到起诉状副本", 15, Calendar, true, (SUSONG, "第六十七条第一款"))
        },
        DeadlineRule {
            note: "期间按民事诉讼法第八十五条计算（行政诉讼法第一百零一条）。".into(),
            ..rule("litigation.sue_after_reconsideration", "不服复议决定提起诉讼", Litigation, Deadline, Party, "收到复议决定书", 15, Calendar, true, (SUSONG, "第四十五条"))
        },
        DeadlineRule {
            unit_basis: art88(),
            ..rule("reconsideration.answer", "被申请人提出书面答复", Reconsideration, Deadline, Agency, "收到行政复议申请书副本", 10, Working, false, (FUYI, "第四十八条"))
        },
        DeadlineRule {
            unit_basis: art88(),
            ..rule("reconsideration.answer_simple", "被申请人提出书面答复（简易程序）", Reconsideration, Deadline, Agency, "收到行政复议申请书副本", 5, Working, false, (FUYI, "第五十四条第一款"))
        },
        DeadlineRule {
            extensions: vec![extension(30, "行政复议机构的负责人", FUYI, "第六十二条第一款")],
            pauses: vec![pause(PauseReason::Suspension, PauseEffect::Suspend, FUYI, "第三十九条", Verification::Unverified)],
            note: "期间按民事诉讼法第八十五条计算（第八十八条第一款）。中止期间不计入审理期限为推定（第三十九条只规定中止和恢复审理），未核实。".into(),
            ..rule("reconsideration.decision", "作出行政复议决定", Reconsideration, Deadline, Agency, "受理行政复议申请", 60, Calendar, true, (FUYI, "第六十二条第一款"))
        },
        DeadlineRule {
            pauses: vec![pause(PauseReason::Suspension, PauseEffect::Suspend, FUYI, "第三十九条", Verification::Unverified)],
            note: "期间按民事诉讼法第八十五条计算（第八十八条第一款）。".into(),
            ..rule("reconsideration.decision_simple", "作出行政复议决定（简易程序）", Reconsideration, Deadline, Agency, "受理行政复议申请", 30, Calendar, true, (FUYI, "第六十二条第二款"))
        },
    ]
}

#[rustfmt::skip] // a table: one rule per entry reads better than rustfmt's one argument per line
fn mediation() -> Vec<DeadlineRule> {
    vec![DeadlineRule {
        note: "同见民事诉讼法（2023年修正）第二百零五条；期间按第八十五条计算。".into(),
        ..rule(
            "mediation.judicial_confirmation",
            "共同申请司法确认",
            Area::Mediation,
            RuleKind::Deadline,
            Duty::Party,
            "调解协议生效",
            30,
            Calendar,
            true,
            (TIAOJIE, "第三十三条"),
        )
    }]
}
