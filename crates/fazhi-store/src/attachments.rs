//! Attachment rows: which blob is attached to which record, under which name.

use fazhi_domain::clock::Millis;
use sqlx::FromRow;

use crate::Result;
use crate::db::Exec;

#[derive(Debug, Clone, FromRow)]
pub struct AttachmentRow {
    pub id: i64,
    pub org_id: i64,
    pub record_type: String,
    pub record_id: String,
    pub blob_hash: String,
    pub name: String,
    pub size: i64,
    pub mime: String,
    pub uploaded_by: Option<i64>,
    pub uploaded_at: i64,
}

/// A blob's bookkeeping.
#[derive(Debug, Clone, FromRow)]
pub struct BlobRow {
    pub hash: String,
    pub hash_alg: String,
    pub size: i64,
    pub mime: String,
    pub created_at: i64,
}

/// Ensure blob.
///
/// # Errors
/// [`crate::StoreError`] when the database fails (a unique violation is `StoreError::Duplicate`).
pub async fn ensure_blob<'a>(ex: impl Into<Exec<'a>>, b: &BlobRow) -> Result<()> {
    const SQL: &str = "insert into blob (hash, hash_alg, size, mime, created_at) values ($1, $2, $3, $4, $5) \
        on conflict (hash) do nothing";
    run!(ex.into(), |e| sqlx::query(SQL)
        .bind(&b.hash)
        .bind(&b.hash_alg)
        .bind(b.size)
        .bind(&b.mime)
        .bind(b.created_at)
        .execute(e)
        .await
        .map(|_| ()))?;
    Ok(())
}

/// A new attachment row.
#[derive(Debug, Clone)]
pub struct NewAttachment<'a> {
    pub org_id: i64,
    pub record_type: &'a str,
    pub record_id: &'a str,
    pub blob_hash: &'a str,
    pub name: &'a str,
    pub size: i64,
    pub mime: &'a str,
    pub uploaded_by: Option<i64>,
    pub at: Millis,
}

/// Inserts attachment.
///
/// # Errors
/// [`crate::StoreError`] when the database fails (a unique violation is `StoreError::Duplicate`).
pub async fn insert_attachment<'a>(ex: impl Into<Exec<'a>>, a: &NewAttachment<'_>) -> Result<i64> {
    const SQL: &str = "insert into attachment (org_id, record_type, record_id, blob_hash, name, size, mime, \
        uploaded_by, uploaded_at) values ($1, $2, $3, $4, $5, $6, $7, $8, $9) returning id";
    Ok(run!(ex.into(), |e| sqlx::query_scalar(SQL)
        .bind(a.org_id)
        .bind(a.record_type)
        .bind(a.record_id)
        .bind(a.blob_hash)
        .bind(a.name)
        .bind(a.size)
        .bind(a.mime)
        .bind(a.uploaded_by)
        .bind(a.at)
        .fetch_one(e)
        .await)?)
}

/// Reads.
///
/// # Errors
/// [`crate::StoreError`] when the database fails (a unique violation is `StoreError::Duplicate`).
pub async fn get<'a>(ex: impl Into<Exec<'a>>, id: i64) -> Result<Option<AttachmentRow>> {
    const SQL: &str = "select id, org_id, record_type, record_id, blob_hash, name, size, mime, uploaded_by, uploaded_at \
        from attachment where id = $1";
    Ok(run!(ex.into(), |e| sqlx::query_as(SQL).bind(id).fetch_optional(e).await)?)
}

/// Reads of record.
///
/// # Errors
/// [`crate::StoreError`] when the database fails (a unique violation is `StoreError::Duplicate`).
pub async fn of_record<'a>(ex: impl Into<Exec<'a>>, record_type: &str, record_id: &str) -> Result<Vec<AttachmentRow>> {
    const SQL: &str = "select id, org_id, record_type, record_id, blob_hash, name, size, mime, uploaded_by, uploaded_at \
        from attachment where record_type = $1 and record_id = $2 order by id";
    Ok(run!(ex.into(), |e| sqlx::query_as(SQL).bind(record_type).bind(record_id).fetch_all(e).await)?)
}

/// Blob.
///
/// # Errors
/// [`crate::StoreError`] when the database fails (a unique violation is `StoreError::Duplicate`).
pub async fn blob<'a>(ex: impl Into<Exec<'a>>, hash: &str) -> Result<Option<BlobRow>> {
    const SQL: &str = "select hash, hash_alg, size, mime, created_at from blob where hash = $1";
    Ok(run!(ex.into(), |e| sqlx::query_as(SQL).bind(hash).fetch_optional(e).await)?)
}

/// Blobs in hash order after `after`, for verification in batches.
///
/// # Errors
/// [`crate::StoreError`] when the database fails (a unique violation is `StoreError::Duplicate`).
pub async fn blobs_batch<'a>(ex: impl Into<Exec<'a>>, after: &str, limit: i64) -> Result<Vec<BlobRow>> {
    const SQL: &str = "select hash, hash_alg, size, mime, created_at from blob where hash > $1 order by hash limit $2";
    Ok(run!(ex.into(), |e| sqlx::query_as(SQL).bind(after).bind(limit).fetch_all(e).await)?)
}
