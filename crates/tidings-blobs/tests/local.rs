//! The blob store in a directory: streamed writes, ranged reads, aborts that leave nothing, deletes.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests: a panic is how a test fails")]

use bytes::Bytes;
use futures_util::TryStreamExt;
use tidings_blobs::Blobs;
use tidings_domain::{BlobError, BlobStore};

async fn read_all(
    blobs: &Blobs,
    key: &str,
    range: Option<std::ops::Range<u64>>,
) -> Result<Vec<u8>, BlobError> {
    let chunks: Vec<Bytes> = blobs.read(key, range).await?.try_collect().await?;
    Ok(chunks.concat())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blobs_in_a_directory_are_written_in_chunks_read_in_ranges_and_deleted() {
    let dir = std::env::temp_dir().join(format!(
        "tidings-blobs-{}-{:?}",
        std::process::id(),
        std::time::SystemTime::now()
    ));
    let blobs = Blobs::local(&dir).unwrap();
    // 12 MiB in 1 MiB chunks: several parts of a multipart write.
    let data: Vec<u8> = (0..12 * 1024 * 1024).map(|i: u32| (i % 251) as u8).collect();
    let mut writer = blobs.writer("companies/c1/uploads/u1").await.unwrap();
    for chunk in data.chunks(1024 * 1024) {
        writer.write(Bytes::copy_from_slice(chunk)).await.unwrap();
    }
    assert!(
        matches!(read_all(&blobs, "companies/c1/uploads/u1", None).await, Err(BlobError::NotFound)),
        "invisible until finished"
    );
    writer.finish().await.unwrap();
    assert_eq!(read_all(&blobs, "companies/c1/uploads/u1", None).await.unwrap(), data);
    let part = read_all(&blobs, "companies/c1/uploads/u1", Some(5_000_000..5_000_100)).await.unwrap();
    assert_eq!(part, &data[5_000_000..5_000_100]);

    let mut aborted = blobs.writer("companies/c1/uploads/u2").await.unwrap();
    aborted.write(Bytes::from_static(b"half of it")).await.unwrap();
    aborted.abort().await;
    assert!(matches!(read_all(&blobs, "companies/c1/uploads/u2", None).await, Err(BlobError::NotFound)));

    blobs.put("companies/c1/thumbnails/u1", Bytes::from_static(b"small")).await.unwrap();
    assert_eq!(read_all(&blobs, "companies/c1/thumbnails/u1", None).await.unwrap(), b"small");
    blobs.delete("companies/c1/uploads/u1").await.unwrap();
    blobs.delete("companies/c1/uploads/u1").await.expect("deleting twice is fine");
    assert!(matches!(read_all(&blobs, "companies/c1/uploads/u1", None).await, Err(BlobError::NotFound)));
    let left: Vec<_> = walk(&dir);
    assert_eq!(left.len(), 1, "only the thumbnail stays, no staging files: {left:?}");
    std::fs::remove_dir_all(&dir).unwrap();
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() { files.extend(walk(&path)) } else { files.push(path) }
    }
    files
}
