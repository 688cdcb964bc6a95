//! Indicators and the items behind each figure.

use super::*;

#[derive(Debug, Default, serde::Deserialize)]
pub(super) struct YearQuery {
    #[serde(default)]
    year: String,
}

pub(super) fn year_of(state: &AppState, q: &YearQuery) -> i32 {
    use chrono::Datelike;
    let this = fazhi_domain::clock::beijing_date(state.app.now()).year();
    q.year.trim().parse().ok().filter(|y| (2000..=this).contains(y)).unwrap_or(this)
}

#[derive(Template)]
#[template(path = "pages/petition_indicators.html")]
pub(super) struct IndicatorsPage {
    chrome: Chrome,
    ind: fazhi_app::petition_indicators::Indicators,
    years: Vec<i32>,
}

pub(super) async fn indicators(
    State(state): State<AppState>,
    Staff(s): Staff,
    Query(q): Query<YearQuery>,
) -> PageResult {
    let year = year_of(&state, &q);
    let ind = state.app.petition_indicators(&s.principal, year).await?;
    use chrono::Datelike;
    let this = fazhi_domain::clock::beijing_date(state.app.now()).year();
    render(&IndicatorsPage {
        chrome: Chrome::new(&s, format!("信访调解统计指标（{year}年）"), "/petitions"),
        ind,
        years: (this - 4..=this).rev().collect(),
    })
}

#[derive(Template)]
#[template(path = "pages/petition_indicator.html")]
pub(super) struct IndicatorPage {
    chrome: Chrome,
    year: i32,
    label: &'static str,
    rule: &'static str,
    value: String,
    lines: Vec<Line>,
    others: Vec<Line>,
    cases: Vec<(i64, String, String, &'static str)>,
    receptions: Vec<(String, String, String, String)>,
}

pub(super) async fn indicator_items(
    State(state): State<AppState>,
    Staff(s): Staff,
    PagePath(code): PagePath<String>,
    Query(q): Query<YearQuery>,
) -> PageResult {
    use fazhi_app::petition_indicators::Behind;
    let year = year_of(&state, &q);
    let ind = state.app.petition_indicators(&s.principal, year).await?;
    let Some(i) = ind.items.into_iter().find(|i| i.code == code) else {
        return Err(AppError::NotFound("统计指标").into());
    };
    let mut page = IndicatorPage {
        chrome: Chrome::new(&s, format!("{}（{year}年）", i.label), "/petitions"),
        year,
        label: i.label,
        rule: i.rule,
        value: i.display(),
        lines: Vec::new(),
        others: Vec::new(),
        cases: Vec::new(),
        receptions: Vec::new(),
    };
    match i.behind {
        Behind::Petitions => {
            let fetch = |ids: Vec<i64>| {
                let q = PetitionQuery { ids: Some(ids), limit: 500, ..Default::default() };
                let app = state.app.clone();
                let who = s.principal.clone();
                async move { app.petitions(&who, &q).await }
            };
            page.lines = fetch(i.ids).await?.iter().map(line).collect();
            page.others = fetch(i.others).await?.iter().map(line).collect();
        }
        Behind::Mediations => {
            let all: Vec<i64> = i.ids.iter().chain(i.others.iter()).copied().collect();
            let q = fazhi_app::mediation::CaseQuery { ids: Some(all), limit: 5000, ..Default::default() };
            page.cases = state
                .app
                .mediations(&s.principal, &q)
                .await?
                .into_iter()
                .map(|c| (c.id, c.case_no, c.dispute_type, c.state.label()))
                .collect();
        }
        Behind::Receptions => {
            let (from, to) = (format!("{year}-01-01"), format!("{year}-12-31"));
            page.receptions = state
                .app
                .receptions(&s.principal, &from, &to, None)
                .await?
                .into_iter()
                .map(|r| (r.received_on, r.leader_name, r.visitors, r.matter))
                .collect();
        }
    }
    render(&page)
}
