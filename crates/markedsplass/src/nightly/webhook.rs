//! The signed webhook: notifications POSTed as JSON with an HMAC-SHA256 signature, over a plain
//! HTTP/1 client connection (hyper), each retried until it is delivered or
//! [`MAX_DELIVERY_ATTEMPTS`](super::MAX_DELIVERY_ATTEMPTS) is reached. A night delivers when it
//! ends; a decision or a listing changed by hand wakes the service's sender ([`Outbox::wake`],
//! [`spawn_sender`]), which delivers at once, off the request that made the change. Either way
//! every pending notification goes, earlier failures included.

use std::sync::Arc;
use std::time::Duration;

use hmac::{Hmac, Mac as _};
use sha2::Sha256;

use crate::market::Market;
use crate::store::Duty;

/// How often the sender looks for notifications nobody woke it for, when other processes share
/// the database. A failing delivery is also tried again then, up to its attempts.
pub const DELIVERY_SWEEP: Duration = Duration::from_secs(60);

/// The service's outgoing notifications: wakes the sender when there is something to deliver and
/// lets one delivery run at a time in this process (so a notification is not POSTed twice at
/// once by the sender and a night).
#[derive(Debug, Default)]
pub struct Outbox {
    wake: tokio::sync::Notify,
    turn: tokio::sync::Mutex<()>,
}

impl Outbox {
    /// Tells the sender a notification was written; without a running sender (`sandkasse
    /// nightly`) it waits for the next delivery.
    pub fn wake(&self) {
        self.wake.notify_one();
    }
}

/// Delivers whenever the [`Outbox`] is woken, until `stop` turns true.
pub fn spawn_sender(
    market: Arc<Market>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    // Notifications written by another process of the database, or left when another process
    // held the deliveries, are swept up every `DELIVERY_SWEEP`; alone on the database, every
    // notification wakes this sender.
    let sweep = if market.stores.shared.subscribe().is_some() {
        DELIVERY_SWEEP
    } else {
        Duration::MAX
    };
    tokio::spawn(async move {
        loop {
            tokio::select! {
                () = market.outbox.wake.notified() => deliver(&market).await,
                () = tokio::time::sleep(sweep) => deliver(&market).await,
                changed = stop.changed() => if changed.is_err() || *stop.borrow() { return },
            }
        }
    })
}

/// Delivers undelivered notifications to the webhook, if one is configured: a POST of the JSON
/// payload with `X-Sandkasse-Timestamp`, `X-Sandkasse-Signature: sha256=HEX` (the HMAC-SHA256
/// of `TIMESTAMP.BODY` with `webhook_secret`) and `X-Sandkasse-Delivery: ID` (to deduplicate).
/// Failures are recorded and retried at the next delivery (the next decision, listing change or
/// night), at most [`MAX_DELIVERY_ATTEMPTS`](super::MAX_DELIVERY_ATTEMPTS) times.
pub async fn deliver(market: &Market) {
    let Some(url) = market.nightly.webhook_url.clone() else {
        return;
    };
    let _turn = market.outbox.turn.lock().await;
    // One process of the database delivers at a time, so none is sent twice; a process that
    // finds the duty held leaves the notifications to the holder (and to its next sweep).
    let _lead = match market.stores.shared.lead(Duty::Deliveries).await {
        Ok(Some(lead)) => lead,
        Ok(None) => return,
        Err(e) => {
            tracing::warn!(error = %e, "asking for the deliveries' duty");
            return;
        }
    };
    let secret = market.nightly.webhook_secret.clone().unwrap_or_default();
    let pending = match market.stores.nightly.undelivered(100).await {
        Ok(p) => p,
        Err(e) => {
            tracing::warn!(error = %e, "reading undelivered notifications");
            return;
        }
    };
    for n in pending {
        let body = n.payload.to_string();
        let timestamp = market.clock.now().as_second().to_string();
        let signature = sign_webhook(&secret, &timestamp, &body);
        let result = post(&url, &body, &timestamp, &signature, n.id).await;
        let error = result.err();
        if let Some(e) = &error {
            tracing::warn!(notification = n.id, error = %e, "webhook delivery failed");
        }
        if let Err(e) = market
            .stores
            .nightly
            .delivery(n.id, market.clock.now(), error.as_deref())
            .await
        {
            tracing::warn!(error = %e, "recording a webhook delivery");
        }
    }
}

/// `sha256=` + hex HMAC-SHA256 of `TIMESTAMP.BODY`: what a receiver recomputes to trust a webhook.
pub fn sign_webhook(secret: &str, timestamp: &str, body: &str) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

async fn post(
    url: &str,
    body: &str,
    timestamp: &str,
    signature: &str,
    id: i64,
) -> Result<(), String> {
    let uri: hyper::Uri = url.parse().map_err(|e| format!("{url}: {e}"))?;
    if uri.scheme_str() != Some("http") {
        return Err("only http:// webhooks are supported".to_owned());
    }
    let authority = uri
        .authority()
        .ok_or_else(|| format!("{url}: no host"))?
        .to_string();
    let path = uri
        .path_and_query()
        .map_or_else(|| "/".to_owned(), |p| p.as_str().to_owned());
    let stream = tokio::time::timeout(
        Duration::from_secs(10),
        tokio::net::TcpStream::connect(authority.as_str()),
    )
    .await
    .map_err(|_| "connect timed out".to_owned())?
    .map_err(|e| e.to_string())?;
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
            .await
            .map_err(|e| e.to_string())?;
    tokio::spawn(connection);
    let request = hyper::Request::post(path)
        .header(hyper::header::HOST, authority.as_str())
        .header(hyper::header::CONTENT_TYPE, "application/json")
        .header("x-sandkasse-timestamp", timestamp)
        .header("x-sandkasse-signature", signature)
        // The same notification may arrive twice (two processes delivering); receivers dedupe on it.
        .header("x-sandkasse-delivery", id.to_string())
        .body(body.to_owned())
        .map_err(|e| e.to_string())?;
    let response = tokio::time::timeout(Duration::from_secs(10), sender.send_request(request))
        .await
        .map_err(|_| "the webhook did not answer within 10 s".to_owned())?
        .map_err(|e| e.to_string())?;
    if response.status().is_success() {
        Ok(())
    } else {
        Err(format!("the webhook answered {}", response.status()))
    }
}
