//! Real HTTP once: `serve` on 127.0.0.1:0 and a raw HTTP/1.1 client.

use std::sync::Arc;

use sandkasse_platform::clock::SystemClock;
use sandkasse_platform::{Platform, PlatformConfig, serve};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::support::*;

async fn http(addr: std::net::SocketAddr, request: String) -> (u16, String) {
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(request.as_bytes()).await.unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).await.unwrap();
    let text = String::from_utf8(out).unwrap();
    let status = text.split(' ').nth(1).unwrap().parse().unwrap();
    let body = text.split_once("\r\n\r\n").unwrap().1.to_owned();
    (status, body)
}

#[tokio::test]
async fn serves_over_real_http() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let config = PlatformConfig {
        base_url: format!("http://{addr}"),
        ..PlatformConfig::default()
    };
    let platform = Arc::new(Platform::with_config(base(), Arc::new(SystemClock), config));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(serve(listener, platform, async {
        let _ = stopped.await;
    }));

    let (status, body) = http(
        addr,
        format!("GET /{K}/fhir/metadata HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
    )
    .await;
    assert_eq!(status, 200);
    assert!(body.contains("CapabilityStatement"));

    let (nurse, patient) = nurse_and_patient();
    let launch = serde_json::json!({"practitioner": nurse.hpr, "role": "SP", "unit": unit(&nurse.units[0]).orgnr}).to_string();
    let (status, body) = http(
        addr,
        format!("POST /{K}/auth/token HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{launch}", launch.len()),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let token: serde_json::Value = serde_json::from_str(&body).unwrap();
    let token = token["access_token"].as_str().unwrap();
    let (status, body) = http(
        addr,
        format!("GET /{K}/fhir/Observation?patient={}&_count=2 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n", patient.id),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let bundle: serde_json::Value = serde_json::from_str(&body).unwrap();
    let next = bundle["link"][1]["url"].as_str().unwrap();
    assert!(
        next.starts_with(&format!("http://{addr}/{K}/fhir/Observation?_cursor=")),
        "links point back at this server"
    );

    stop.send(()).unwrap();
    server.await.unwrap().unwrap();
}
