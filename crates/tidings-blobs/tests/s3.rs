//! The blob store in an S3 bucket: a `moto` server (PyPI) stands in for S3, started by the test.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests: a panic is how a test fails")]

use std::io::{Read, Write};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_util::TryStreamExt;
use tidings_blobs::Blobs;
use tidings_domain::{BlobError, BlobStore};

/// A running `moto_server`, stopped when dropped.
struct Moto {
    child: Child,
    port: u16,
}

impl Moto {
    /// Starts one on a free port; `None` (a notice) when it is not installed, except under CI.
    fn start() -> Option<Moto> {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let spawned = Command::new("moto_server")
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
        let child = match spawned {
            Ok(child) => child,
            Err(e) if std::env::var_os("CI").is_none() => {
                eprintln!("moto_server is not installed ({e}): pip install 'moto[server]'; skipping");
                return None;
            }
            Err(e) => panic!("moto_server: {e} (CI installs it with pip)"),
        };
        let moto = Moto { child, port };
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "moto_server did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        Some(moto)
    }

    /// Creates a bucket (moto takes unsigned requests).
    fn bucket(&self, name: &str) {
        let mut stream = std::net::TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        let request = format!(
            "PUT /{name} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        );
        stream.write_all(request.as_bytes()).unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).unwrap();
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blobs_in_an_s3_bucket_are_written_in_parts_read_in_ranges_and_deleted() {
    let Some(moto) = Moto::start() else { return };
    moto.bucket("tidings");
    let endpoint = format!("http://127.0.0.1:{}", moto.port);
    let settings = [
        ("aws_endpoint", endpoint.as_str()),
        ("aws_allow_http", "true"),
        ("aws_region", "us-east-1"),
        ("aws_access_key_id", "test"),
        ("aws_secret_access_key", "test"),
    ];
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
