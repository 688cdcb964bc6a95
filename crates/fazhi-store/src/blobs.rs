//! Attachment bytes in an object store (`object_store`): a directory under the data
//! directory by default, S3-compatible storage behind the `s3` feature. Blobs are addressed
//! by their hash, so the same file uploaded twice is stored once.
//!
//! An upload is streamed to a temporary object while its hash is computed; only when it is
//! accepted is it renamed to its address. A refused or failed upload is deleted: nothing
//! is left behind.

use std::sync::Arc;

use bytes::Bytes;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, WriteMultipart};

/// Where blobs live.
#[derive(Debug, Clone)]
pub struct BlobStore {
    inner: Arc<dyn ObjectStore>,
    label: String,
}

#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    #[error("附件存储错误：{0}")]
    Store(#[from] object_store::Error),
    #[error("附件存储配置有误：{0}")]
    Config(String),
}

/// The address of a blob: `blobs/ab/abcdef…`.
fn blob_path(hash_hex: &str) -> Path {
    let prefix = hash_hex.get(..2).unwrap_or("00");
    Path::from(format!("blobs/{prefix}/{hash_hex}"))
}

/// A blob being written.
pub struct PendingBlob {
    store: Arc<dyn ObjectStore>,
    tmp: Path,
    writer: WriteMultipart,
}

impl std::fmt::Debug for PendingBlob {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PendingBlob").field("tmp", &self.tmp).finish_non_exhaustive()
    }
}

impl PendingBlob {
    pub fn write(&mut self, chunk: &[u8]) {
        self.writer.write(chunk);
    }

    /// Applies back pressure so a fast client cannot make the server buffer without bound.
    ///
    /// # Errors
    /// [`crate::StoreError`] when the database fails (a unique violation is `StoreError::Duplicate`).
    pub async fn wait(&mut self) -> Result<(), BlobError> {
        self.writer.wait_for_capacity(4).await?;
        Ok(())
    }

    /// Gives up: removes whatever was written.
    pub async fn discard(self) {
        let _ = self.writer.abort().await;
        let _ = self.store.delete(&self.tmp).await;
    }

    /// Completes the upload and moves it to its address; if a blob with that hash already
    /// exists the new copy is dropped. Returns whether a new blob was stored.
    ///
    /// # Errors
    /// [`crate::StoreError`] when the database fails (a unique violation is `StoreError::Duplicate`).
    pub async fn commit(self, hash_hex: &str) -> Result<bool, BlobError> {
        self.writer.finish().await?;
        let to = blob_path(hash_hex);
        match self.store.head(&to).await {
            Ok(_) => {
                let _ = self.store.delete(&self.tmp).await;
                Ok(false)
            }
            Err(object_store::Error::NotFound { .. }) => {
                self.store.rename(&self.tmp, &to).await?;
                Ok(true)
            }
            Err(e) => {
                let _ = self.store.delete(&self.tmp).await;
                Err(e.into())
            }
        }
    }
}

impl BlobStore {
    /// Blobs under `dir` (created if missing).
    ///
    /// # Errors
    /// [`crate::StoreError`] when the database fails (a unique violation is `StoreError::Duplicate`).
    pub fn local(dir: &std::path::Path) -> Result<Self, BlobError> {
        std::fs::create_dir_all(dir).map_err(|e| BlobError::Config(format!("无法创建 {}：{e}", dir.display())))?;
        let fs = object_store::local::LocalFileSystem::new_with_prefix(dir)?;
        Ok(Self { inner: Arc::new(fs), label: dir.display().to_string() })
    }

    /// Blobs in memory (tests).
    pub fn memory() -> Self {
        Self { inner: Arc::new(object_store::memory::InMemory::new()), label: "memory".into() }
    }

    /// Blobs in an S3-compatible bucket; credentials come from the usual `AWS_*` variables.
    #[cfg(feature = "s3")]
    pub fn s3(bucket: &str, endpoint: Option<&str>, region: Option<&str>) -> Result<Self, BlobError> {
        let mut b = object_store::aws::AmazonS3Builder::from_env().with_bucket_name(bucket);
        if let Some(e) = endpoint {
            b = b.with_endpoint(e).with_allow_http(e.starts_with("http://"));
        }
        if let Some(r) = region {
            b = b.with_region(r);
        }
        Ok(Self { inner: Arc::new(b.build()?), label: format!("s3://{bucket}") })
    }

    pub fn label(&self) -> &str {
        &self.label
    }

    /// Starts writing a new blob under a temporary name.
    ///
    /// # Errors
    /// [`crate::StoreError`] when the database fails (a unique violation is `StoreError::Duplicate`).
    pub async fn begin(&self, tmp_name: &str) -> Result<PendingBlob, BlobError> {
        let tmp = Path::from(format!("tmp/{tmp_name}"));
        let upload = self.inner.put_multipart(&tmp).await?;
        Ok(PendingBlob { store: self.inner.clone(), tmp, writer: WriteMultipart::new(upload) })
    }

    /// The bytes of a blob, or `None` when it is missing.
    ///
    /// # Errors
    /// [`crate::StoreError`] when the database fails (a unique violation is `StoreError::Duplicate`).
    pub async fn get(&self, hash_hex: &str) -> Result<Option<Bytes>, BlobError> {
        match self.inner.get(&blob_path(hash_hex)).await {
            Ok(r) => Ok(Some(r.bytes().await?)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Removes a blob (only when the row that would point at it could not be written).
    ///
    /// # Errors
    /// [`crate::StoreError`] when the database fails (a unique violation is `StoreError::Duplicate`).
    pub async fn delete(&self, hash_hex: &str) -> Result<(), BlobError> {
        match self.inner.delete(&blob_path(hash_hex)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Writes bytes directly at a blob's address, bypassing every check. Only for tests
    /// that simulate damage to the blob store.
    ///
    /// # Errors
    /// [`crate::StoreError`] when the database fails (a unique violation is `StoreError::Duplicate`).
    pub async fn overwrite_for_test(&self, hash_hex: &str, bytes: Vec<u8>) -> Result<(), BlobError> {
        self.inner.put(&blob_path(hash_hex), bytes.into()).await?;
        Ok(())
    }

    /// Names of temporary uploads left over (none, unless a process died mid-upload).
    ///
    /// # Errors
    /// [`crate::StoreError`] when the database fails (a unique violation is `StoreError::Duplicate`).
    pub async fn leftover_uploads(&self) -> Result<usize, BlobError> {
        use futures_util::TryStreamExt;
        let items: Vec<_> = self.inner.list(Some(&Path::from("tmp"))).try_collect().await?;
        Ok(items.len())
    }
}
