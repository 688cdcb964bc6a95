//! Attachments: upload (streamed, hashed, type sniffed from the bytes, size-limited),
//! listing and download, all under the data scope of the record they belong to. The
//! file's hash, name, size and type go into the ledger entry of that record.

use bytes::Bytes;
use fazhi_domain::access::{Permission, Principal, RecordRef};
use fazhi_domain::{FieldErrors, OrgId};
use fazhi_ledger::{AttachmentRef, HashAlg, StreamHasher};
pub use fazhi_store::attachments::AttachmentRow;
use fazhi_store::attachments::{self as store, BlobRow, NewAttachment};
use fazhi_store::blobs::PendingBlob;

use crate::ledger::Change;
use crate::org::By;
use crate::{App, AppError, AppResult, check};

/// Default upload limit: 50 MiB (configurable).
pub const DEFAULT_MAX_BYTES: u64 = 50 * 1024 * 1024;
/// Bytes kept from the start of a file to recognise its type.
const SNIFF_BYTES: usize = 64 * 1024;

/// Record types that can carry attachments: every kind with a record table, with its read
/// and handle permissions (from the kind registry): (read permission, add permission).
fn policy(record_type: &str) -> Option<(Permission, Permission)> {
    let kind = fazhi_domain::record::kind(record_type)?;
    fazhi_store::record::table(kind).map(|_| (kind.read, kind.handle))
}

/// Is this sniffed type accepted? Images, PDF, Office documents, audio and video (执法记录).
pub fn accepted(kind: &infer::Type) -> bool {
    use infer::MatcherType::{Audio, Doc, Image, Video};
    matches!(kind.matcher_type(), Image | Audio | Video | Doc) || kind.mime_type() == "application/pdf"
}

fn internal(e: impl std::fmt::Display) -> AppError {
    AppError::internal("internal", e)
}

/// A file name fit to keep: no directories, no control characters, at most 200 characters.
fn clean_name(raw: &str) -> String {
    let base = raw.rsplit(['/', '\\']).next().unwrap_or("").trim();
    let cleaned: String = base.chars().filter(|c| !c.is_control()).take(200).collect();
    if cleaned.is_empty() { "未命名附件".into() } else { cleaned }
}

/// An upload in progress.
#[derive(Debug)]
pub struct Upload {
    pending: PendingBlob,
    hasher: StreamHasher,
    alg: HashAlg,
    size: u64,
    head: Vec<u8>,
    limit: u64,
    record_type: String,
    record_id: String,
    org: OrgId,
}

impl Upload {
    /// Adds a chunk. Over the limit it refuses; the caller then calls [`Upload::discard`].
    ///
    /// # Errors
    /// [`AppError::Invalid`] naming the fields at fault; [`AppError::Internal`] for database failures.
    pub async fn write(&mut self, chunk: &[u8]) -> AppResult<()> {
        self.size += chunk.len() as u64;
        if self.size > self.limit {
            return Err(AppError::Invalid(FieldErrors::single(
                "file",
                format!("附件超过大小上限 {} MB，未保存", self.limit / (1024 * 1024)),
            )));
        }
        if self.head.len() < SNIFF_BYTES {
            let take = (SNIFF_BYTES - self.head.len()).min(chunk.len());
            self.head.extend_from_slice(&chunk[..take]);
        }
        self.hasher.update(chunk);
        self.pending.write(chunk);
        self.pending.wait().await.map_err(internal)
    }

    /// Abandons the upload and removes what was written.
    pub async fn discard(self) {
        self.pending.discard().await;
    }
}

/// A damaged or missing blob.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BlobProblem {
    #[error("附件文件 {hash} 缺失")]
    Missing { hash: String },
    #[error("附件文件 {hash} 的内容与登记的哈希不符：文件被改动或损坏")]
    Mismatch { hash: String },
}

impl App {
    /// The record an attachment belongs to, as the policy sees it.
    async fn attach_target(&self, record_type: &str, record_id: &str) -> AppResult<(RecordRef, OrgId)> {
        let key = fazhi_domain::record::RecordKey::parse(record_type, record_id).ok_or(AppError::NotFound("记录"))?;
        let rec = self.record_ref(key).await?;
        // The entry goes to the log of the record's first holder (its owning node).
        let org = rec.holders.first().map(|h| h.org_id).ok_or(AppError::NotFound("记录"))?;
        Ok((rec, org))
    }

    /// Checks the right to attach to the record, then opens a temporary blob.
    ///
    /// # Errors
    /// [`AppError::Forbidden`] when the policy refuses; [`AppError::NotFound`] for a missing record; [`AppError::Internal`] for database failures.
    pub async fn begin_upload(&self, by: &By<'_>, record_type: &str, record_id: &str) -> AppResult<Upload> {
        let (_, write) = policy(record_type).ok_or(AppError::NotFound("记录"))?;
        let (rec, org) = self.attach_target(record_type, record_id).await?;
        check(by.who, write, &rec)?;
        let pending = self.blobs.begin(&crate::secrets::random_hex(16)).await.map_err(internal)?;
        Ok(Upload {
            pending,
            hasher: StreamHasher::new(self.ledger.alg),
            alg: self.ledger.alg,
            size: 0,
            head: Vec::new(),
            limit: self.attachment_max_bytes,
            record_type: record_type.to_owned(),
            record_id: record_id.to_owned(),
            org,
        })
    }

    /// Accepts (or refuses) a completed upload: type by content, then the blob is stored
    /// once by hash and the attachment recorded with a ledger entry, in one transaction.
    ///
    /// # Errors
    /// [`AppError::Invalid`] naming the fields at fault; [`AppError::Internal`] for database failures.
    pub async fn finish_upload(&self, by: &By<'_>, up: Upload, file_name: &str) -> AppResult<AttachmentRow> {
        if up.size == 0 {
            up.discard().await;
            return Err(AppError::Invalid(FieldErrors::single("file", "请选择要上传的文件（文件为空）")));
        }
        let mime = match infer::get(&up.head) {
            Some(kind) if accepted(&kind) => kind.mime_type().to_owned(),
            other => {
                let what = other.map_or_else(|| "无法识别的类型".to_owned(), |k| format!("类型 {}", k.mime_type()));
                up.discard().await;
                return Err(AppError::Invalid(FieldErrors::single(
                    "file",
                    format!("不接受该文件（按内容识别为{what}）：只接受图片、PDF、Office 文档和音视频文件"),
                )));
            }
        };
        let Upload { pending, hasher, alg, size, record_type, record_id, org, .. } = up;
        let hash = hex::encode(hasher.finish());
        let name = clean_name(file_name);
        let created = pending.commit(&hash).await.map_err(internal)?;
        let result = self.record_attachment(by, &record_type, &record_id, org, &hash, alg, size, &mime, &name).await;
        if result.is_err() && created {
            // The row that would point at the new blob was not written: remove the blob.
            let _ = self.blobs.delete(&hash).await;
        }
        result
    }

    #[allow(clippy::too_many_arguments)]
    async fn record_attachment(
        &self,
        by: &By<'_>,
        record_type: &str,
        record_id: &str,
        org: OrgId,
        hash: &str,
        alg: HashAlg,
        size: u64,
        mime: &str,
        name: &str,
    ) -> AppResult<AttachmentRow> {
        let now = self.now();
        let size_i = i64::try_from(size).map_err(internal)?;
        let mut tx = self.store.begin().await?;
        let blob = BlobRow {
            hash: hash.to_owned(),
            hash_alg: alg.code().to_owned(),
            size: size_i,
            mime: mime.to_owned(),
            created_at: now,
        };
        store::ensure_blob(&mut tx, &blob).await?;
        let row = NewAttachment {
            org_id: org.0,
            record_type,
            record_id,
            blob_hash: hash,
            name,
            size: size_i,
            mime,
            uploaded_by: Some(by.who.user_id.0),
            at: now,
        };
        let id = store::insert_attachment(&mut tx, &row).await?;
        let att = AttachmentRef { hash: hash.to_owned(), name: name.to_owned(), size, mime: mime.to_owned() };
        let change = Change {
            org,
            record_type,
            record_id: record_id.to_owned(),
            action: "attachment.add",
            // The row's own columns beside the file's (hash, name, size, type): `ledger
            // verify` compares every attachment row with them.
            change: serde_json::json!({"attachment_id": id, "org_id": org.0, "uploaded_by": row.uploaded_by,
                "uploaded_at": now}),
            attachments: vec![att],
        };
        self.record(&mut tx, &by.actor(), change).await?;
        tx.commit().await?;
        store::get(&self.store.read, id).await?.ok_or(AppError::NotFound("附件"))
    }

    /// Attachments of a record the principal may read.
    ///
    /// # Errors
    /// [`AppError::Forbidden`] when the policy refuses; [`AppError::NotFound`] for a missing record; [`AppError::Internal`] for database failures.
    pub async fn attachments_of(
        &self,
        who: &Principal,
        record_type: &str,
        record_id: &str,
    ) -> AppResult<Vec<AttachmentRow>> {
        let (read, _) = policy(record_type).ok_or(AppError::NotFound("记录"))?;
        let (rec, _) = self.attach_target(record_type, record_id).await?;
        check(who, read, &rec)?;
        Ok(store::of_record(&self.store.read, record_type, record_id).await?)
    }

    /// An attachment's bytes, after the record's read permission and a hash check: a
    /// blob that no longer matches its hash is never served.
    ///
    /// # Errors
    /// [`AppError::Forbidden`] when the policy refuses; [`AppError::NotFound`] for a missing record; [`AppError::Refused`] when a rule refuses the change; [`AppError::Internal`] for database failures.
    pub async fn open_attachment(&self, who: &Principal, id: i64) -> AppResult<(AttachmentRow, Bytes)> {
        let row = store::get(&self.store.read, id).await?.ok_or(AppError::NotFound("附件"))?;
        // Authorised like the record it belongs to NOW (any current holder, the kind's
        // anchor), not the node it was uploaded at: after 转送 the sender no longer reads it,
        // the receiver and an assigned community do.
        let (read, _) = policy(&row.record_type).ok_or(AppError::NotFound("附件"))?;
        let (rec, _) = self.attach_target(&row.record_type, &row.record_id).await?;
        check(who, read, &rec)?;
        let blob = store::blob(&self.store.read, &row.blob_hash).await?.ok_or(AppError::NotFound("附件"))?;
        let alg = HashAlg::parse(&blob.hash_alg).unwrap_or(HashAlg::Sha256);
        let bytes = self.blobs.get(&row.blob_hash).await.map_err(internal)?;
        match bytes {
            Some(b) if hex::encode(alg.digest(&b)) == row.blob_hash => Ok((row, b)),
            other => {
                tracing::error!(hash = %row.blob_hash, missing = other.is_none(), "attachment blob damaged");
                Err(AppError::Refused(
                    "附件文件已损坏或缺失（与登记的哈希不符），系统已记录。请联系管理员运行 fazhi ledger verify。"
                        .into(),
                ))
            }
        }
    }

    /// Rechecks every stored blob against its hash.
    ///
    /// # Errors
    /// [`AppError::Internal`] for database failures.
    pub async fn verify_blobs(&self, mut progress: impl FnMut(u64)) -> AppResult<(u64, Vec<BlobProblem>)> {
        let mut after = String::new();
        let mut seen = 0u64;
        let mut problems = Vec::new();
        loop {
            let batch = store::blobs_batch(&self.store.read, &after, 500).await?;
            let Some(last) = batch.last().map(|b| b.hash.clone()) else { break };
            for b in batch {
                let alg = HashAlg::parse(&b.hash_alg).unwrap_or(HashAlg::Sha256);
                match self.blobs.get(&b.hash).await.map_err(internal)? {
                    None => problems.push(BlobProblem::Missing { hash: b.hash }),
                    Some(bytes) if hex::encode(alg.digest(&bytes)) != b.hash => {
                        problems.push(BlobProblem::Mismatch { hash: b.hash })
                    }
                    Some(_) => {}
                }
                seen += 1;
                progress(seen);
            }
            after = last;
        }
        Ok((seen, problems))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_lose_their_directories() {
        assert_eq!(clean_name("C:\\Users\\a\\现场照片.jpg"), "现场照片.jpg");
        assert_eq!(clean_name("../../etc/passwd"), "passwd");
        assert_eq!(clean_name("  "), "未命名附件");
        assert_eq!(clean_name(&"长".repeat(300)).chars().count(), 200);
    }

    #[test]
    fn types_are_judged_by_content() {
        let pdf = infer::get(b"%PDF-1.7\n%\xe2\xe3").unwrap();
        assert!(accepted(&pdf));
        let png = infer::get(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 0]).unwrap();
        assert!(accepted(&png));
        let exe = infer::get(b"MZ\x90\x00\x03\x00\x00\x00").unwrap();
        assert!(!accepted(&exe));
        assert!(infer::get(b"just text").is_none());
    }
}
