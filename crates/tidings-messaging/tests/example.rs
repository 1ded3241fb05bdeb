//! The embedding example runs, and shows the conversation it builds.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests: a panic is how a test fails")]

use std::process::Command;

#[test]
fn the_embedding_example_runs_a_conversation() {
    // `cargo test` builds the examples next to the test binaries: target/<profile>/examples/.
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().and_then(|deps| deps.parent()).expect("target/<profile>");
    let example = profile_dir.join("examples").join(format!("embedded{}", std::env::consts::EXE_SUFFIX));
    assert!(example.exists(), "{} was not built; run `cargo test -p tidings-messaging`", example.display());
    let out = Command::new(example).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "stdout:\n{stdout}\nstderr:\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("#1 Contact Sent: Hello, is anyone there?"), "{stdout}");
    assert!(stdout.contains("#2 Agent Read: Hi! How can I help?"), "{stdout}");
}
