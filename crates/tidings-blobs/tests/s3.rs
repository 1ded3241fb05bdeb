//! The blob store in an S3 bucket: a `moto` server (PyPI) stands in for S3, started by the test.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests: a panic is how a test fails")]

use bytes::Bytes;
use futures_util::TryStreamExt;
use tidings_blobs::Blobs;
use tidings_blobs::test_s3::Moto;
use tidings_domain::{BlobError, BlobStore};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blobs_in_an_s3_bucket_are_written_in_parts_read_in_ranges_and_deleted() {
    let Some(moto) = Moto::start() else { return };
    moto.bucket("tidings");
    let settings = moto.settings();
    let settings: Vec<(&str, &str)> = settings.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let blobs = Blobs::s3("s3://tidings/prod", &settings).unwrap();
    let data: Vec<u8> = (0..11 * 1024 * 1024).map(|i: u32| (i % 253) as u8).collect();
    let mut writer = blobs.writer("companies/c1/uploads/u1").await.unwrap();
    for chunk in data.chunks(1024 * 1024) {
        writer.write(Bytes::copy_from_slice(chunk)).await.unwrap();
    }
    writer.finish().await.unwrap();
    let read = |range| {
        let blobs = blobs.clone();
        async move {
            let chunks: Vec<Bytes> =
                blobs.read("companies/c1/uploads/u1", range).await?.try_collect().await?;
            Ok::<_, BlobError>(chunks.concat())
        }
    };
    assert_eq!(read(None).await.unwrap(), data);
    assert_eq!(read(Some(10..20)).await.unwrap(), &data[10..20]);
    // Under the prefix in the bucket, where an operator finds it.
    let unprefixed = Blobs::s3("s3://tidings", &settings).unwrap();
    let found: Vec<Bytes> = unprefixed
        .read("prod/companies/c1/uploads/u1", Some(0..4))
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(found.concat(), &data[..4]);

    let mut aborted = blobs.writer("companies/c1/uploads/u2").await.unwrap();
    aborted.write(Bytes::from_static(b"never whole")).await.unwrap();
    aborted.abort().await;
    assert!(matches!(blobs.read("companies/c1/uploads/u2", None).await, Err(BlobError::NotFound)));
    blobs.delete("companies/c1/uploads/u1").await.unwrap();
    assert!(matches!(read(None).await, Err(BlobError::NotFound)));
    blobs.delete("companies/c1/uploads/u1").await.expect("deleting twice is fine");
}
