//! `/metrics` seen from a live server: the hub's deliveries and the live sessions move with traffic.

use reqwest::Method;
use tidings_api::RealtimeSettings;
use tidings_store::backend_tests;
use tidings_store::test_db::TestDb;

use crate::live::Live;

backend_tests!(hub_metrics_move_as_events_are_delivered);

/// The value of an unlabelled sample of `metric` on the scraped page (0 when absent).
async fn sample(live: &Live, metric: &str) -> f64 {
    let text = reqwest::get(format!("{}/metrics", live.base)).await.unwrap().text().await.unwrap();
    text.lines()
        .find_map(|line| line.strip_prefix(metric)?.strip_prefix(' ')?.trim().parse().ok())
        .unwrap_or(0.0)
}

async fn hub_metrics_move_as_events_are_delivered(db: &TestDb) {
    let live = Live::start(db, RealtimeSettings::default()).await;
    let (owner, _) = live.register("Acme", "owner@acme.test").await;
    let app = live.sdk_app(&owner).await;
    let conv = live.conversation(&app, "dev-1").await;
    let mut agent = live.ws(&[("authorization", &format!("Bearer {owner}"))]).await;
    agent.until("connected").await;
    let (events, deliveries) = (
        sample(&live, "tidings_hub_events_total").await,
        sample(&live, "tidings_hub_deliveries_total").await,
    );
    assert!(sample(&live, "tidings_live_sessions").await >= 1.0);
    assert!(sample(&live, "tidings_live_connections{door=\"native\"}").await >= 1.0, "counted by door");
    live.device_says(&app, "dev-1", &conv, "Hello?").await;
    agent.until("message.new").await;
    assert!(sample(&live, "tidings_hub_events_total").await > events);
    assert!(sample(&live, "tidings_hub_deliveries_total").await > deliveries);
    let (status, _) = live.call(Method::GET, "/health", &[], None).await;
    assert_eq!(status, 200);
    live.stop().await;
}
