//! The blob store: where file bytes live (a directory, an S3 bucket). Services hand it bytes and keys;
//! only its implementation touches files or buckets.

use std::ops::Range;
use std::pin::Pin;

use async_trait::async_trait;
use thiserror::Error;

/// A stream of chunks of a blob.
pub type ByteStream = Pin<Box<dyn futures_core::Stream<Item = Result<bytes::Bytes, BlobError>> + Send>>;

/// What went wrong in the blob store.
#[derive(Debug, Error)]
pub enum BlobError {
    /// No blob under that key.
    #[error("no such blob")]
    NotFound,
    /// The store failed (unreachable, refused, a disk error); the text is for the log.
    #[error("blob store: {0}")]
    Failed(String),
}

/// A blob being written, a chunk at a time; dropped without [`BlobWriter::finish`], it leaves nothing.
#[async_trait]
pub trait BlobWriter: Send {
    /// Appends a chunk.
    async fn write(&mut self, chunk: bytes::Bytes) -> Result<(), BlobError>;
    /// Makes the blob whole and visible under its key.
    async fn finish(self: Box<Self>) -> Result<(), BlobError>;
    /// Gives up: nothing stays under the key.
    async fn abort(self: Box<Self>);
}

/// Reads and writes blobs by key.
#[async_trait]
pub trait BlobStore: Send + Sync {
    /// Starts writing a blob under `key`, replacing any blob there once finished.
    async fn writer(&self, key: &str) -> Result<Box<dyn BlobWriter>, BlobError>;
    /// Writes a small blob at once.
    async fn put(&self, key: &str, bytes: bytes::Bytes) -> Result<(), BlobError>;
    /// The blob's bytes in `range` (all of it when `None`), as a stream.
    async fn read(&self, key: &str, range: Option<Range<u64>>) -> Result<ByteStream, BlobError>;
    /// Removes a blob; removing one that is not there is fine.
    async fn delete(&self, key: &str) -> Result<(), BlobError>;
}
