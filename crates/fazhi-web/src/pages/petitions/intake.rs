//! The desk's one-screen intake form.

use super::*;

#[derive(Debug, Default, Clone, serde::Deserialize)]
pub(super) struct IntakeForm {
    #[serde(default)]
    pub(super) channel: String,
    #[serde(default)]
    pub(super) external_no: String,
    #[serde(default)]
    pub(super) category: String,
    #[serde(default)]
    pub(super) subject: String,
    #[serde(default)]
    pub(super) title: String,
    #[serde(default)]
    pub(super) content: String,
    #[serde(default)]
    pub(super) headcount: String,
    #[serde(default)]
    pub(super) received_on: String,
    #[serde(default)]
    pub(super) org_id: String,
    #[serde(default)]
    pub(super) name: String,
    #[serde(default)]
    pub(super) phone: String,
    #[serde(default)]
    pub(super) id_number: String,
    #[serde(default)]
    pub(super) address: String,
    #[serde(default)]
    pub(super) collective: String,
    #[serde(default)]
    pub(super) accepted_elsewhere: String,
    /// The form's nonce: one submission registers one item, however often it is sent.
    #[serde(default)]
    pub(super) submission: String,
}

impl IntakeForm {
    pub(super) fn draft(&self) -> IntakeDraft {
        IntakeDraft {
            channel: self.channel.clone(),
            external_no: self.external_no.clone(),
            category: self.category.clone(),
            subject: self.subject.clone(),
            title: self.title.clone(),
            content: self.content.clone(),
            headcount: if self.headcount.trim().is_empty() {
                Some(1)
            } else {
                self.headcount.trim().parse().ok().or(Some(0))
            },
            received_on: self.received_on.clone(),
            org_id: form_id(&self.org_id),
            petitioners: vec![PetitionerDraft {
                name: self.name.clone(),
                phone: self.phone.clone(),
                id_number: self.id_number.clone(),
                address: self.address.clone(),
            }],
            collective: self.collective == "yes",
            accepted_elsewhere: self.accepted_elsewhere.clone(),
            submission: self.submission.clone(),
        }
    }

    pub(super) fn channel_is(&self, c: impl AsRef<str>) -> bool {
        self.channel == c.as_ref()
    }

    pub(super) fn category_is(&self, c: impl AsRef<str>) -> bool {
        self.category == c.as_ref()
    }

    pub(super) fn org_is<T: std::borrow::Borrow<i64>>(&self, id: T) -> bool {
        form_id(&self.org_id) == Some(*id.borrow())
    }

    pub(super) fn street_is(&self, id: &i64) -> bool {
        form_id(&self.org_id) == Some(*id)
    }
}

#[derive(Template)]
#[template(path = "pages/petition_form.html")]
pub(super) struct FormPage {
    chrome: Chrome,
    form: IntakeForm,
    errors: FieldErrors,
    channels: Vec<Choice>,
    categories: Vec<Choice>,
    orgs: Vec<NodeOption>,
}

pub(super) async fn form_page(
    state: &AppState,
    s: &SessionInfo,
    form: IntakeForm,
    errors: FieldErrors,
) -> Result<FormPage, AppError> {
    let kinds = state.app.org_kinds().await?;
    let orgs = options(&state.app.org_tree(&s.principal).await?, &kinds);
    Ok(FormPage {
        chrome: Chrome::new(s, "登记信访件", "/petitions"),
        form,
        errors,
        channels: Channel::ALL.iter().map(|c| Choice { code: c.code(), label: c.label() }).collect(),
        categories: vec![
            Choice { code: "claim", label: "申诉求决类" },
            Choice { code: "suggestion", label: "建议意见类" },
            Choice { code: "accusation", label: "检举控告类（转纪检监察）" },
        ],
        orgs,
    })
}

pub(super) async fn new_page(State(state): State<AppState>, Staff(s): Staff) -> PageResult {
    let form = IntakeForm {
        channel: "visit".into(),
        category: "claim".into(),
        submission: fazhi_app::secrets::random_hex(16),
        ..Default::default()
    };
    render(&form_page(&state, &s, form, FieldErrors::new()).await?)
}

#[derive(Template)]
#[template(path = "pages/petition_done.html")]
pub(super) struct DonePage {
    chrome: Chrome,
    id: i64,
    code: String,
    warnings: Vec<String>,
    duplicates: Vec<(i64, String)>,
    /// The form had been submitted before: nothing new was registered.
    again: bool,
}

/// Registers the item and redirects to its "registered" page (POST, redirect, GET: a
/// refreshed result page registers nothing; the form's nonce makes a re-sent POST find the
/// item it registered).
pub(super) async fn create(
    State(state): State<AppState>,
    Staff(s): Staff,
    ClientAddr(addr): ClientAddr,
    CsrfForm(f): CsrfForm<IntakeForm>,
) -> PageResult {
    let by = By { who: &s.principal, username: &s.username, source_addr: &addr };
    match state.app.intake(&by, &f.draft()).await {
        Ok(i) => {
            let again = if i.existing { "?again=1" } else { "" };
            Ok(Redirect::to(&format!("/petitions/{}/registered{again}", i.id)).into_response())
        }
        Err(AppError::Invalid(errors)) => {
            render_status(StatusCode::UNPROCESSABLE_ENTITY, &form_page(&state, &s, f, errors).await?)
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Debug, Default, serde::Deserialize)]
pub(super) struct DoneQuery {
    #[serde(default)]
    again: String,
}

/// What the desk is told after registering an item: its tracking code, warnings and
/// possible duplicates.
pub(super) async fn registered(
    State(state): State<AppState>,
    Staff(s): Staff,
    PagePath(id): PagePath<i64>,
    Query(q): Query<DoneQuery>,
) -> PageResult {
    let i = state.app.registered(&s.principal, id).await?;
    render(&DonePage {
        chrome: Chrome::new(&s, "信访件已登记", "/petitions"),
        id: i.id,
        code: i.tracking_code,
        warnings: i.warnings,
        duplicates: i.possible_duplicates,
        again: q.again == "1",
    })
}
