//! The public side: status by tracking code, 网上信访.

use super::intake::IntakeForm;
use super::*;

#[derive(Template)]
#[template(path = "pages/track.html")]
pub(super) struct TrackPage {
    csrf: String,
    code: String,
    result: Option<fazhi_app::petitions::PublicStatus>,
    error: Option<String>,
}

pub(super) async fn track_page(
    State(state): State<AppState>,
    jar: axum_extra::extract::cookie::CookieJar,
) -> PageResult {
    let csrf = fazhi_app::secrets::random_hex(16);
    let jar =
        jar.add(crate::session::cookie(crate::session::LOGIN_CSRF_COOKIE, csrf.clone(), state.settings.secure_cookies));
    Ok((jar, render(&TrackPage { csrf, code: String::new(), result: None, error: None })?).into_response())
}

#[derive(Debug, serde::Deserialize)]
pub(super) struct TrackForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    code: String,
}

pub(super) async fn track(State(state): State<AppState>, LoginForm(f): LoginForm<TrackForm>) -> PageResult {
    let (result, error) = match state.app.track(&f.code).await {
        Ok(r) => (Some(r), None),
        Err(AppError::NotFound(_)) => (None, Some("没有找到该查询码对应的信访件，请核对后重试。".to_owned())),
        Err(e) => return Err(e.into()),
    };
    let status = if result.is_some() { StatusCode::OK } else { StatusCode::NOT_FOUND };
    render_status(status, &TrackPage { csrf: f.csrf, code: f.code, result, error })
}

#[derive(Template)]
#[template(path = "pages/petition_portal.html")]
pub(super) struct PortalPage {
    csrf: String,
    streets: Vec<(i64, String)>,
    form: IntakeForm,
    errors: FieldErrors,
    refusal: Option<String>,
    code: Option<String>,
}

pub(super) async fn portal_page(
    State(state): State<AppState>,
    jar: axum_extra::extract::cookie::CookieJar,
) -> PageResult {
    fresh_portal(&state, jar, None).await
}

/// The portal with a fresh form (its own CSRF cookie and submission nonce), and the tracking
/// code of the submission just made, if any.
async fn fresh_portal(
    state: &AppState,
    jar: axum_extra::extract::cookie::CookieJar,
    code: Option<String>,
) -> PageResult {
    let csrf = fazhi_app::secrets::random_hex(16);
    let jar =
        jar.add(crate::session::cookie(crate::session::LOGIN_CSRF_COOKIE, csrf.clone(), state.settings.secure_cookies));
    let page = PortalPage {
        csrf,
        streets: state.app.portal_streets().await?,
        form: IntakeForm {
            category: "claim".into(),
            submission: fazhi_app::secrets::random_hex(16),
            ..Default::default()
        },
        errors: FieldErrors::new(),
        refusal: None,
        code,
    };
    Ok((jar, render(&page)?).into_response())
}

/// The cookie that carries a submission's tracking code from the POST to the page it
/// redirects to (only there, for ten minutes: the code is the key to the item's status).
const PORTAL_CODE_COOKIE: &str = "fazhi_portal_code";

/// The page after a submission: the tracking code (from the cookie the POST set) beside a
/// fresh form; a refresh shows the code again and registers nothing.
pub(super) async fn portal_submitted(
    State(state): State<AppState>,
    jar: axum_extra::extract::cookie::CookieJar,
) -> PageResult {
    let Some(code) = jar.get(PORTAL_CODE_COOKIE).map(|c| c.value().to_owned()) else {
        return Ok(Redirect::to("/petition").into_response());
    };
    fresh_portal(&state, jar, Some(code)).await
}

#[derive(Debug, serde::Deserialize)]
pub(super) struct PortalForm {
    #[serde(default)]
    csrf: String,
    #[serde(flatten)]
    form: IntakeForm,
}

pub(super) async fn portal_submit(
    State(state): State<AppState>,
    ClientAddr(addr): ClientAddr,
    LoginForm(f): LoginForm<PortalForm>,
) -> PageResult {
    let streets = state.app.portal_streets().await?;
    let mut page = PortalPage {
        csrf: f.csrf,
        streets,
        form: f.form.clone(),
        errors: FieldErrors::new(),
        refusal: None,
        code: None,
    };
    let status = match state.app.portal_submit(&f.form.draft(), &addr).await {
        Ok(i) => {
            let mut c = crate::session::cookie(PORTAL_CODE_COOKIE, i.tracking_code, state.settings.secure_cookies);
            c.set_path("/petition/submitted");
            c.set_max_age(time::Duration::minutes(10));
            let jar = axum_extra::extract::cookie::CookieJar::new().add(c);
            return Ok((jar, Redirect::to("/petition/submitted")).into_response());
        }
        Err(AppError::Invalid(e)) => {
            page.errors = e;
            StatusCode::UNPROCESSABLE_ENTITY
        }
        Err(AppError::Refused(m)) => {
            page.refusal = Some(m);
            StatusCode::TOO_MANY_REQUESTS
        }
        Err(e) => return Err(e.into()),
    };
    render_status(status, &page)
}
