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
        ..crate::backend_config()
    };
    let server = Server::bind(config).await.unwrap();
    assert!(data_dir.is_dir(), "data dir created");
    assert_eq!(
        data_dir.join("sandkasse.db").is_file(),
        crate::backend() == crate::Backend::Sqlite,
        "the SQLite database is a file in the data dir, and only SQLite's"
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
        ..crate::backend_config()
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

/// A raw connection from `from` (any 127.0.0.0/8 address: each stands for another client).
async fn connect_from(from: &str, to: SocketAddr) -> tokio::net::TcpStream {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket
        .bind(SocketAddr::new(from.parse().unwrap(), 0))
        .unwrap();
    socket.connect(to).await.unwrap()
}

/// Reads until the server closes the connection; what it sent, or `None` if it is still open
/// after `within`.
async fn closed_within(
    stream: &mut tokio::net::TcpStream,
    within: std::time::Duration,
) -> Option<String> {
    let mut seen = Vec::new();
    let read = tokio::time::timeout(within, async {
        let mut buf = [0u8; 4096];
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => seen.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    read.ok()
        .map(|()| String::from_utf8_lossy(&seen).into_owned())
}

#[tokio::test]
async fn slow_and_idle_clients_are_cut_off_while_a_normal_user_gets_answers() {
    use std::time::Duration;
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: dir.path().into(),
        ..crate::backend_config()
    };
    config.limits.header_read_timeout_seconds = 1;
    config.limits.body_read_timeout_seconds = 1;
    config.limits.min_body_bytes_per_second = 1024;
    config.limits.max_connections_per_address = 40;
    config.limits.max_connections = 100;
    config.limits.shutdown_grace_seconds = 2;
    let server = Server::bind(config).await.unwrap();
    let addr = server.local_addr();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(server.run(async move {
        let _ = stopped.await;
    }));
    // Generous bounds: they prove "closed, not held for ever", not speed, on a loaded machine.
    let soon = Duration::from_secs(8);

    // 60 idle connections from one address: 40 are let in, 20 are refused at once with 503.
    let mut idle = Vec::new();
    for _ in 0..60 {
        idle.push(connect_from("127.0.0.2", addr).await);
    }
    let mut refused = 0;
    for stream in &mut idle[40..] {
        let answer = closed_within(stream, soon)
            .await
            .expect("refused and closed");
        assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
        assert!(answer.contains("retry-after"), "{answer}");
        refused += 1;
    }
    assert_eq!(refused, 20);

    // Meanwhile, a normal user from another address gets answers.
    assert_eq!(get(addr, "/health").await.0, 200);

    // Headers trickled a line at a time, each line inside the timeout: closed after it anyway.
    let mut slow_header = connect_from("127.0.0.3", addr).await;
    let trickle = tokio::spawn(async move {
        let _ = slow_header.write_all(b"GET /health HTTP/1.1\r\n").await;
        for i in 0..40 {
            tokio::time::sleep(Duration::from_millis(300)).await;
            if slow_header
                .write_all(format!("x-{i}: y\r\n").as_bytes())
                .await
                .is_err()
            {
                break;
            }
        }
        closed_within(&mut slow_header, soon).await
    });

    // A body shorter than its Content-Length: the server stops waiting and closes.
    let mut short_body = connect_from("127.0.0.4", addr).await;
    short_body
        .write_all(
            format!(
                "POST /api/v1/session HTTP/1.1\r\nHost: {addr}\r\ncontent-type: application/json\r\n\
                 content-length: 100000\r\n\r\n{{\"username\": \""
            )
            .as_bytes(),
        )
        .await
        .unwrap();
    // A body that keeps coming, but at 20 bytes a second.
    let mut trickled_body = connect_from("127.0.0.5", addr).await;
    trickled_body
        .write_all(
            format!(
                "POST /api/v1/session HTTP/1.1\r\nHost: {addr}\r\ncontent-type: application/json\r\n\
                 content-length: 100000\r\n\r\n"
            )
            .as_bytes(),
        )
        .await
        .unwrap();
    let trickled = tokio::spawn(async move {
        for _ in 0..40 {
            tokio::time::sleep(Duration::from_millis(500)).await;
            if trickled_body.write_all(b"          ").await.is_err() {
                break;
            }
        }
        closed_within(&mut trickled_body, soon).await
    });

    let answer = closed_within(&mut short_body, soon)
        .await
        .expect("a stalled body is not waited for");
    assert!(
        answer.is_empty() || answer.starts_with("HTTP/1.1 4"),
        "a stalled body gets a 4xx or nothing: {answer}"
    );
    let answer = trickled
        .await
        .unwrap()
        .expect("a body under the minimum rate is cut off");
    assert!(
        answer.is_empty() || answer.starts_with("HTTP/1.1 4"),
        "a trickled body gets a 4xx or nothing: {answer}"
    );
    let answer = trickle
        .await
        .unwrap()
        .expect("trickled headers are cut off");
    assert!(
        !answer.contains(" 200 "),
        "trickled headers never reach a handler: {answer}"
    );

    // The 40 idle connections are closed by the header timeout, which frees their places.
    for stream in &mut idle[..40] {
        assert!(
            closed_within(stream, soon).await.is_some(),
            "an idle connection is closed"
        );
    }
    let mut again = connect_from("127.0.0.2", addr).await;
    again
        .write_all(
            format!("GET /health HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").as_bytes(),
        )
        .await
        .unwrap();
    let answer = closed_within(&mut again, soon).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");

    // Shutdown does not wait for a client that holds its connection open.
    let _held = connect_from("127.0.0.6", addr).await;
    stop.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(10), running)
        .await
        .expect("shutdown is bounded")
        .unwrap()
        .unwrap();
    assert!(
        tokio::net::TcpStream::connect(addr).await.is_err(),
        "no longer listening"
    );
}
