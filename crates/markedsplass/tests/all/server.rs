use std::net::SocketAddr;

use sandkasse_markedsplass::{Config, Server};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

/// One HTTP/1.1 GET over a raw socket: (status, body as JSON, `null` if empty).
async fn get(addr: SocketAddr, path: &str) -> (u16, serde_json::Value) {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.unwrap();
    let text = String::from_utf8(response).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    let json = if body.is_empty() {
        serde_json::Value::Null
    } else {
        serde_json::from_str(body).unwrap()
    };
    (status, json)
}

#[tokio::test]
async fn health_and_ready_then_graceful_shutdown() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("nested/data");
    let config = Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: data_dir.clone(),
        ..Config::default()
    };
    let server = Server::bind(config).await.unwrap();
    assert!(
        data_dir.join("sandkasse.db").is_file(),
        "data dir and database created"
    );
    let addr = server.local_addr();
    assert_ne!(addr.port(), 0);
    let health = server.state().stores.health.clone();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(server.run(async move {
        let _ = stopped.await;
    }));

    assert_eq!(
        get(addr, "/health").await,
        (200, serde_json::json!({ "status": "ok" }))
    );
    assert_eq!(
        get(addr, "/ready").await,
        (200, serde_json::json!({ "status": "ready" }))
    );
    let (status, body) = get(addr, "/api/v1/nope").await;
    assert_eq!(status, 404);
    assert_eq!(
        body["error"]["code"], "not_found",
        "unknown routes use the JSON error shape: {body}"
    );

    stop.send(()).unwrap();
    running.await.unwrap().unwrap();
    assert!(
        tokio::net::TcpStream::connect(addr).await.is_err(),
        "no longer listening"
    );
    assert!(health.ping().await.is_err(), "database closed");
}

#[tokio::test]
async fn ready_is_503_when_the_database_is_gone() {
    let dir = tempfile::tempdir().unwrap();
    let config = Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: dir.path().into(),
        ..Config::default()
    };
    let server = Server::bind(config).await.unwrap();
    let addr = server.local_addr();
    server.state().stores.health.close().await;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(server.run(async move {
        let _ = stopped.await;
    }));
    assert_eq!(get(addr, "/health").await.0, 200);
    let (status, body) = get(addr, "/ready").await;
    assert_eq!(status, 503);
    assert_eq!(body["error"]["code"], "not_ready");
    stop.send(()).unwrap();
    running.await.unwrap().unwrap();
}
