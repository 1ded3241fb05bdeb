//! The lockout against a burst of guesses sent at once. Every guess reads the account before any is
//! judged (bcrypt sits in between), so the lock must be judged when the guess is, in the store.

use futures_util::future::join_all;
use tidings_auth::{AuthSettings, LockoutPolicy};
use tidings_domain::FailedLogin;
use tidings_store::backend_tests;
use tidings_store::test_db::TestDb;

use crate::ordered::{Schedule, ordered_state};
use crate::support::{login, register, settings};

backend_tests!(a_burst_of_guesses_is_judged_five_failures_at_most_and_lets_no_password_through);

/// Wrong and right guesses of the burst, as in the attack that found the hole.
const WRONG: usize = 30;
const RIGHT: usize = 10;

/// Every guess of the burst reads the account unlocked, then the wrong ones are judged, then the
/// right ones (the worst order, imposed by the store): exactly five failures are counted, the fifth
/// locks, and the right password, judged after the lock, is refused every time.
async fn a_burst_of_guesses_is_judged_five_failures_at_most_and_lets_no_password_through(db: &TestDb) {
    let auth = AuthSettings {
        lockout: LockoutPolicy { max_failures: 5, lock_for: chrono::Duration::minutes(10) },
        ..settings()
    };
    let schedule = Schedule::Logins { reads: WRONG + RIGHT, failures: WRONG };
    let (app_state, store) = ordered_state(db, auth, schedule);
    let svc = actix_web::test::init_service(tidings_api::app(app_state)).await;
    register(&svc, "Acme", "ada@acme.test").await;

    let guesses = (0..WRONG + RIGHT).map(|i| if i % 4 == 3 { "password123" } else { "wrong-password" });
    let replies = join_all(guesses.map(|password| login(&svc, "ada@acme.test", password))).await;
    let let_through = replies.iter().filter(|r| r.status.is_success()).count();
    assert_eq!(let_through, 0, "right guesses judged after the lock were let through");
    for reply in &replies {
        reply.assert_error(401, "UNAUTHENTICATED");
    }

    let mut outcomes = store.failures.lock().unwrap().clone();
    outcomes.sort_by_key(|o| match o {
        FailedLogin::Counted(n) => *n,
        FailedLogin::Locked => 5,
        FailedLogin::AlreadyLocked => 6,
    });
    let mut expected: Vec<FailedLogin> = (1..5).map(FailedLogin::Counted).collect();
    expected.push(FailedLogin::Locked);
    expected.extend([FailedLogin::AlreadyLocked; WRONG - 5]);
    assert_eq!(outcomes, expected, "exactly five failures are counted, and the fifth locks");

    login(&svc, "ada@acme.test", "password123").await.assert_error(401, "UNAUTHENTICATED");
}
