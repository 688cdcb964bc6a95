//! `/api/v1/petitions`: list, get, register, bulk import (all or nothing) and handling steps
//! (the step answers with its own result).

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use fazhi_app::AppError;
use utoipa::{OpenApi, ToSchema};

use super::{ApiError, ApiErrorBody, ApiJson, ApiPath, Caller, by};
use crate::AppState;
use crate::session::ClientAddr;
use fazhi_app::petitions::{IntakeDraft, PetitionerDraft, StepInput};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/petitions", get(list_petitions).post(create_petition))
        .route(
            "/petitions/import",
            axum::routing::post(import_petitions).layer(axum::extract::DefaultBodyLimit::max(IMPORT_BODY_LIMIT)),
        )
        .route("/petitions/{id}", get(get_petition))
        .route("/petitions/{id}/steps", axum::routing::post(petition_step))
}

/// The largest import body (bytes): the documented [`fazhi_app::petitions::MAX_IMPORT_ROWS`]
/// rows at up to 40 KiB each (a 5,000-character letter is 15 KB of UTF-8, 30 KB when a
/// client escapes it as `\uXXXX`), whatever the general `body_limit_kib`.
pub const IMPORT_BODY_LIMIT: usize = fazhi_app::petitions::MAX_IMPORT_ROWS * 40 * 1024;

/// The OpenAPI part of this router.
#[derive(OpenApi)]
#[openapi(
    paths(list_petitions, get_petition, create_petition, import_petitions, petition_step),
    components(schemas(IntakeDraft, PetitionerDraft, PetitionCreated, PetitionOut, StepInput))
)]
pub struct Doc;

/// A registered item.
#[derive(Debug, serde::Serialize, ToSchema)]
pub struct PetitionCreated {
    pub id: i64,
    pub tracking_code: String,
    pub warnings: Vec<String>,
    /// Earlier similar items of the same petitioner: ids.
    pub possible_duplicates: Vec<i64>,
    /// Import only: the row's source record (channel + external number) was registered
    /// before, and this is that item; nothing new was registered.
    pub existing: bool,
}

impl From<fazhi_app::petitions::Intake> for PetitionCreated {
    fn from(i: fazhi_app::petitions::Intake) -> Self {
        PetitionCreated {
            id: i.id,
            tracking_code: i.tracking_code,
            warnings: i.warnings,
            possible_duplicates: i.possible_duplicates.into_iter().map(|(id, _)| id).collect(),
            existing: i.existing,
        }
    }
}

/// An item as the API shows it.
#[derive(Debug, serde::Serialize, ToSchema)]
pub struct PetitionOut {
    pub id: i64,
    pub org_id: i64,
    pub tracking_code: String,
    /// Channel code (online, letter, phone, visit, hotline12345, platform).
    pub channel: String,
    /// Category code (suggestion, accusation, claim).
    pub category: String,
    pub title: String,
    /// State code (registered, accepted, not_accepted, handling, replied, served, closed, merged).
    pub state: String,
    pub received_on: String,
    pub headcount: i64,
    /// Due dates of the item's statutory clocks: rule id -> YYYY-MM-DD.
    pub due: std::collections::BTreeMap<String, Option<String>>,
}

fn petition_out(p: fazhi_app::petitions::PetitionRow, clocks: &[fazhi_app::clocks::ClockView]) -> PetitionOut {
    PetitionOut {
        id: p.id,
        org_id: p.org_id,
        tracking_code: p.tracking_code,
        channel: p.channel.code().to_owned(),
        category: p.category.code().to_owned(),
        title: p.title,
        state: p.state.code().to_owned(),
        received_on: p.received_on,
        headcount: p.headcount,
        due: clocks.iter().map(|c| (c.clock.rule.id.clone(), c.row.due_date.clone())).collect(),
    }
}

#[utoipa::path(get, path = "/api/v1/petitions", tag = "petitions",
    responses((status = 200, body = [PetitionOut]), (status = 401, body = ApiErrorBody), (status = 403, body = ApiErrorBody)))]
async fn list_petitions(State(state): State<AppState>, c: Caller) -> Result<Json<Vec<PetitionOut>>, ApiError> {
    let q = fazhi_app::petitions::PetitionQuery { limit: 500, ..Default::default() };
    let rows = state.app.petitions(&c.principal, &q).await?;
    Ok(Json(rows.into_iter().map(|p| petition_out(p, &[])).collect()))
}

#[utoipa::path(get, path = "/api/v1/petitions/{id}", tag = "petitions", params(("id" = i64, Path, description = "petition id")),
    responses((status = 200, body = PetitionOut), (status = 403, body = ApiErrorBody), (status = 404, body = ApiErrorBody)))]
async fn get_petition(
    State(state): State<AppState>,
    c: Caller,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<PetitionOut>, ApiError> {
    let (row, clocks) = state.app.petition(&c.principal, id).await?;
    Ok(Json(petition_out(row, &clocks)))
}

#[utoipa::path(post, path = "/api/v1/petitions", tag = "petitions", request_body = IntakeDraft,
    responses((status = 201, body = PetitionCreated), (status = 400, body = ApiErrorBody), (status = 422, body = ApiErrorBody)))]
async fn create_petition(
    State(state): State<AppState>,
    c: Caller,
    ClientAddr(addr): ClientAddr,
    ApiJson(body): ApiJson<IntakeDraft>,
) -> Result<(StatusCode, Json<PetitionCreated>), ApiError> {
    let i = state.app.intake(&by(&c, &addr), &body).await?;
    Ok((StatusCode::CREATED, Json(i.into())))
}

#[utoipa::path(post, path = "/api/v1/petitions/import", tag = "petitions", request_body = [IntakeDraft],
    responses((status = 201, body = [PetitionCreated]), (status = 422, body = ApiErrorBody, description = "nothing imported; every bad row listed")))]
async fn import_petitions(
    State(state): State<AppState>,
    c: Caller,
    ClientAddr(addr): ClientAddr,
    ApiJson(body): ApiJson<Vec<IntakeDraft>>,
) -> Result<(StatusCode, Json<Vec<PetitionCreated>>), ApiError> {
    let done = state.app.import_petitions(&by(&c, &addr), &body).await?;
    Ok((StatusCode::CREATED, Json(done.into_iter().map(Into::into).collect())))
}

#[utoipa::path(post, path = "/api/v1/petitions/{id}/steps", tag = "petitions", params(("id" = i64, Path, description = "petition id")),
    request_body = StepInput,
    responses((status = 200, body = PetitionOut), (status = 422, body = ApiErrorBody)))]
async fn petition_step(
    State(state): State<AppState>,
    c: Caller,
    ClientAddr(addr): ClientAddr,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<StepInput>,
) -> Result<Json<PetitionOut>, ApiError> {
    let event = body.event().map_err(AppError::Invalid)?;
    // The step's own result: after a transfer the caller may no longer read the item, and
    // must still learn that the step was done.
    let (row, clocks) = state.app.petition_step(&by(&c, &addr), id, event).await?;
    Ok(Json(petition_out(row, &clocks)))
}
