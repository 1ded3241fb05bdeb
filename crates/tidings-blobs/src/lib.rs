//! Tidings blobs: the blob store of uploads over `object_store`, in a directory (the default, so a
//! development server needs nothing) or in an S3-compatible bucket. Nothing else in Tidings touches
//! files or buckets.

use std::ops::Range;
use std::sync::Arc;

use async_trait::async_trait;
use futures_util::StreamExt;
use object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey};
use object_store::local::LocalFileSystem;
use object_store::path::Path;
use object_store::prefix::PrefixStore;
use object_store::{GetOptions, GetRange, ObjectStore, ObjectStoreExt, WriteMultipart};
use tidings_domain::{BlobError, BlobStore, BlobWriter, ByteStream};

#[cfg(feature = "test-util")]
pub mod test_s3;

/// Parts of a multipart write that may be in flight at once.
const PARTS_IN_FLIGHT: usize = 4;

/// A blob store over any `object_store` backend.
#[derive(Clone, Debug)]
pub struct Blobs {
    store: Arc<dyn ObjectStore>,
}

impl Blobs {
    /// Blobs in the directory `dir` (created when missing).
    pub fn local(dir: &std::path::Path) -> Result<Blobs, BlobError> {
        std::fs::create_dir_all(dir).map_err(|e| BlobError::Failed(format!("{}: {e}", dir.display())))?;
        let store = LocalFileSystem::new_with_prefix(dir).map_err(failed)?.with_automatic_cleanup(true);
        Ok(Blobs { store: Arc::new(store) })
    }

    /// Blobs in an S3-compatible bucket, `s3://bucket` or `s3://bucket/prefix`, with the credentials,
    /// region and endpoint of the usual `AWS_*` variables (`AWS_ENDPOINT` for a store other than AWS,
    /// `AWS_ALLOW_HTTP=true` for one without TLS), then `overrides` (`aws_endpoint`, `aws_region`, ...).
    pub fn s3(url: &str, overrides: &[(&str, &str)]) -> Result<Blobs, BlobError> {
        let rest = url.strip_prefix("s3://").ok_or_else(|| BlobError::Failed("not an s3:// URL".into()))?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Err(BlobError::Failed("the URL names no bucket".into()));
        }
        let mut builder = AmazonS3Builder::from_env().with_bucket_name(bucket);
        for (key, value) in overrides {
            let key: AmazonS3ConfigKey =
                key.parse().map_err(|_| BlobError::Failed(format!("unknown S3 setting {key}")))?;
            builder = builder.with_config(key, *value);
        }
        let s3 = builder.build().map_err(failed)?;
        let prefix = prefix.trim_matches('/');
        let store: Arc<dyn ObjectStore> =
            if prefix.is_empty() { Arc::new(s3) } else { Arc::new(PrefixStore::new(s3, prefix)) };
        Ok(Blobs { store })
    }

    /// What it stores into, for the start-up log (no credentials).
    pub fn describe(&self) -> String {
        self.store.to_string()
    }
}

fn failed(error: object_store::Error) -> BlobError {
    match error {
        object_store::Error::NotFound { .. } => BlobError::NotFound,
        other => BlobError::Failed(other.to_string()),
    }
}

fn path(key: &str) -> Result<Path, BlobError> {
    Path::parse(key).map_err(|e| BlobError::Failed(format!("bad blob key: {e}")))
}

/// A multipart write in progress.
struct Writer(WriteMultipart);

#[async_trait]
impl BlobWriter for Writer {
    async fn write(&mut self, chunk: bytes::Bytes) -> Result<(), BlobError> {
        self.0.wait_for_capacity(PARTS_IN_FLIGHT).await.map_err(failed)?;
        self.0.put(chunk);
        Ok(())
    }

    async fn finish(self: Box<Self>) -> Result<(), BlobError> {
        self.0.finish().await.map(|_| ()).map_err(failed)
    }

    async fn abort(self: Box<Self>) {
        // Nothing was made visible; what staging remains is the store's to clean.
        let _ = self.0.abort().await;
    }
}

#[async_trait]
impl BlobStore for Blobs {
    async fn writer(&self, key: &str) -> Result<Box<dyn BlobWriter>, BlobError> {
        let upload = self.store.put_multipart(&path(key)?).await.map_err(failed)?;
        Ok(Box::new(Writer(WriteMultipart::new(upload))))
    }

    async fn put(&self, key: &str, bytes: bytes::Bytes) -> Result<(), BlobError> {
        self.store.put(&path(key)?, bytes.into()).await.map(|_| ()).map_err(failed)
    }

    async fn read(&self, key: &str, range: Option<Range<u64>>) -> Result<ByteStream, BlobError> {
        let options = GetOptions { range: range.map(GetRange::Bounded), ..GetOptions::default() };
        let result = self.store.get_opts(&path(key)?, options).await.map_err(failed)?;
        Ok(Box::pin(result.into_stream().map(|chunk| chunk.map_err(failed))))
    }

    async fn delete(&self, key: &str) -> Result<(), BlobError> {
        match self.store.delete(&path(key)?).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(other) => Err(failed(other)),
        }
    }
}
