//! Rate limits counted in Redis: two nodes draw on one budget, keys are apart, and a Redis that does
//! not answer is reported (the node then counts on its own).

use std::num::NonZeroU32;
use std::time::Duration;

use tidings_domain::SharedLimiter;
use tidings_redis::RedisLimiter;

use crate::redis_url;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_draw_on_one_budget() {
    let Some(url) = redis_url() else { return };
    let (a, b) = (RedisLimiter::new(&url).unwrap(), RedisLimiter::new(&url).unwrap());
    let key = format!("test:{}", tidings_domain::CompanyId::new());
    let (three, minute) = (NonZeroU32::new(3).unwrap(), Duration::from_secs(60));
    let mut outcomes = Vec::new();
    for node in [&a, &b, &a, &b, &a] {
        outcomes.push(node.check(&key, three, minute).await.unwrap());
    }
    assert_eq!(&outcomes[..3], &[None, None, None], "a burst of the whole limit");
    for wait in &outcomes[3..] {
        let wait = wait.expect("over the limit, whichever node asks");
        assert!(wait > Duration::ZERO && wait <= Duration::from_secs(20), "one event per 20 s: {wait:?}");
    }
    let other = format!("test:{}", tidings_domain::CompanyId::new());
    assert_eq!(b.check(&other, three, minute).await.unwrap(), None, "another key has its own budget");
    // A short period refills: one event per 100 ms.
    let fast = format!("test:{}", tidings_domain::CompanyId::new());
    let one = NonZeroU32::new(1).unwrap();
    assert_eq!(a.check(&fast, one, Duration::from_millis(100)).await.unwrap(), None);
    assert!(b.check(&fast, one, Duration::from_millis(100)).await.unwrap().is_some());
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert_eq!(b.check(&fast, one, Duration::from_millis(100)).await.unwrap(), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_that_does_not_answer_is_reported() {
    let down = RedisLimiter::new("redis://127.0.0.1:1").unwrap();
    let outcome = down.check("test:down", NonZeroU32::new(1).unwrap(), Duration::from_secs(1)).await;
    assert!(outcome.is_err(), "{outcome:?}");
    // Then it is not asked again for a while: the next check fails at once, without a connection.
    let again = down.check("test:down", NonZeroU32::new(1).unwrap(), Duration::from_secs(1)).await;
    assert_eq!(again, Err("Redis failed a moment ago".to_owned()));
}
