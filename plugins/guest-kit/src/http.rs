//! A small blocking HTTP client over the generated `wasi:http` bindings.
//!
//! [`send`] takes a [`Request`] (method, absolute URL, headers, body) and returns a [`Response`]
//! with the whole body read. The steps follow `wasi:http` 0.2:
//!
//! 1. an `outgoing-request` with method, scheme, authority and path-with-query, headers from
//!    `fields.from-list`;
//! 2. `outgoing-handler.handle` is called *before* the body is written, so the host can consume
//!    the body while it is streamed (the host's body channel holds only a couple of chunks);
//! 3. the body is written in chunks of at most 4096 bytes with `blocking-write-and-flush`, then
//!    `outgoing-body.finish`;
//! 4. the `future-incoming-response` is awaited with `subscribe().block()`;
//! 5. status and headers are read, and the body with `blocking-read` until `closed`.
//!
//! ```text
//! let url = Url::parse("https://plattform.sandkasse.test/4601/fhir/metadata")?;
//! let response = send(&Request::get(url).header("accept", "application/fhir+json"))?;
//! assert_eq!(response.status, 200);
//! ```

use std::fmt;

use crate::bindings::wasi::http::outgoing_handler;
use crate::bindings::wasi::http::types::{
    ErrorCode, Fields, IncomingBody, Method, OutgoingBody, OutgoingRequest, Scheme,
};
use crate::bindings::wasi::io::streams::StreamError;

/// Largest chunk written to an output stream in one `blocking-write-and-flush` (the WASI limit).
const WRITE_CHUNK: usize = 4096;
/// Largest read asked of an input stream at once.
const READ_CHUNK: u64 = 64 * 1024;

/// An absolute `http`/`https` URL, split the way `wasi:http` wants it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Url {
    /// `true` for `https`.
    pub https: bool,
    /// Host and optional port, e.g. `plattform.sandkasse.test` or `127.0.0.1:8080`.
    pub authority: String,
    /// Path and query, starting with `/`, e.g. `/4601/fhir/Patient/p1`.
    pub path_and_query: String,
}

/// Why a URL cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UrlError(pub &'static str);

impl fmt::Display for UrlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl std::error::Error for UrlError {}

impl Url {
    /// Parses `scheme://authority/path?query` (`http` or `https`; a fragment is dropped).
    pub fn parse(text: &str) -> Result<Url, UrlError> {
        let (https, rest) = if let Some(rest) = strip_prefix_ignore_case(text, "https://") {
            (true, rest)
        } else if let Some(rest) = strip_prefix_ignore_case(text, "http://") {
            (false, rest)
        } else {
            return Err(UrlError("the URL must start with http:// or https://"));
        };
        let rest = rest.split('#').next().unwrap_or(rest);
        let split = rest.find(['/', '?']).unwrap_or(rest.len());
        let (authority, path) = rest.split_at(split);
        if authority.is_empty()
            || authority.contains('@')
            || authority.contains(char::is_whitespace)
        {
            return Err(UrlError("the URL has no usable host"));
        }
        let path_and_query = match path {
            "" => "/".to_owned(),
            p if p.starts_with('?') => format!("/{p}"),
            p => p.to_owned(),
        };
        Ok(Url {
            https,
            authority: authority.to_owned(),
            path_and_query,
        })
    }

    /// This URL with `suffix` appended to its path (`suffix` starts with `/` or `?`).
    pub fn join(&self, suffix: &str) -> Url {
        let base = self.path_and_query.trim_end_matches('/');
        Url {
            https: self.https,
            authority: self.authority.clone(),
            path_and_query: format!("{base}{suffix}"),
        }
    }

    /// Whether `other` is on the same origin (scheme and authority).
    pub fn same_origin(&self, other: &Url) -> bool {
        self.https == other.https && self.authority.eq_ignore_ascii_case(&other.authority)
    }
}

impl fmt::Display for Url {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = if self.https { "https" } else { "http" };
        write!(f, "{scheme}://{}{}", self.authority, self.path_and_query)
    }
}

fn strip_prefix_ignore_case<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    (text.len() >= prefix.len()
        && text.is_char_boundary(prefix.len())
        && text[..prefix.len()].eq_ignore_ascii_case(prefix))
    .then(|| &text[prefix.len()..])
}

/// An HTTP request to send.
#[derive(Debug, Clone)]
pub struct Request {
    /// `GET`, `POST`, `PUT`, … (upper case).
    pub method: String,
    pub url: Url,
    /// Header names and values; names in lower case by convention.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Request {
    /// A `GET` of `url` without headers.
    pub fn get(url: Url) -> Request {
        Request {
            method: "GET".into(),
            url,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    /// A `POST` of `body` to `url`.
    pub fn post(url: Url, body: Vec<u8>) -> Request {
        Request {
            method: "POST".into(),
            url,
            headers: Vec::new(),
            body,
        }
    }

    /// Adds a header.
    pub fn header(mut self, name: &str, value: &str) -> Request {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }
}

/// A response, with its whole body.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    /// Header names (lower case, as `wasi:http` gives them) and values (lossy UTF-8).
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Why a request produced no response.
#[derive(Debug, Clone)]
pub enum HttpError {
    /// The request could not be built (e.g. a header the host refuses).
    Request(String),
    /// The host or the network refused or failed the request (`wasi:http` `error-code`).
    Transport(ErrorCode),
    /// A stream failed while writing the request or reading the response.
    Stream(String),
}

impl fmt::Display for HttpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HttpError::Request(m) => write!(f, "request refused before sending: {m}"),
            HttpError::Transport(code) => write!(f, "transport error: {code:?}"),
            HttpError::Stream(m) => write!(f, "stream error: {m}"),
        }
    }
}

impl std::error::Error for HttpError {}

fn method(name: &str) -> Method {
    match name {
        "GET" => Method::Get,
        "HEAD" => Method::Head,
        "POST" => Method::Post,
        "PUT" => Method::Put,
        "DELETE" => Method::Delete,
        "PATCH" => Method::Patch,
        "OPTIONS" => Method::Options,
        other => Method::Other(other.to_owned()),
    }
}

/// Sends `request` and waits for the whole response.
pub fn send(request: &Request) -> Result<Response, HttpError> {
    let entries: Vec<(String, Vec<u8>)> = request
        .headers
        .iter()
        .map(|(n, v)| (n.clone(), v.as_bytes().to_vec()))
        .collect();
    let headers = Fields::from_list(&entries)
        .map_err(|e| HttpError::Request(format!("header rejected: {e:?}")))?;
    let outgoing = OutgoingRequest::new(headers);
    let refused = |what: &str| HttpError::Request(format!("{what} rejected by the host"));
    outgoing
        .set_method(&method(&request.method))
        .map_err(|()| refused("method"))?;
    outgoing
        .set_scheme(Some(&if request.url.https {
            Scheme::Https
        } else {
            Scheme::Http
        }))
        .map_err(|()| refused("scheme"))?;
    outgoing
        .set_authority(Some(&request.url.authority))
        .map_err(|()| refused("authority"))?;
    outgoing
        .set_path_with_query(Some(&request.url.path_and_query))
        .map_err(|()| refused("path"))?;
    let body = outgoing.body().map_err(|()| refused("body"))?;

    let future = outgoing_handler::handle(outgoing, None).map_err(HttpError::Transport)?;

    {
        let stream = body.write().map_err(|()| refused("body stream"))?;
        for chunk in request.body.chunks(WRITE_CHUNK) {
            stream
                .blocking_write_and_flush(chunk)
                .map_err(|e| HttpError::Stream(stream_error(e)))?;
        }
    }
    OutgoingBody::finish(body, None).map_err(HttpError::Transport)?;

    let incoming = loop {
        match future.get() {
            Some(Ok(Ok(response))) => break response,
            Some(Ok(Err(code))) => return Err(HttpError::Transport(code)),
            Some(Err(())) => return Err(HttpError::Stream("response already taken".into())),
            None => future.subscribe().block(),
        }
    };
    let status = incoming.status();
    let headers = incoming
        .headers()
        .entries()
        .into_iter()
        .map(|(n, v)| (n, String::from_utf8_lossy(&v).into_owned()))
        .collect();
    let body = incoming
        .consume()
        .map_err(|()| HttpError::Stream("response body already taken".into()))?;
    let bytes = read_all(&body)?;
    let _trailers = IncomingBody::finish(body);
    Ok(Response {
        status,
        headers,
        body: bytes,
    })
}

fn read_all(body: &IncomingBody) -> Result<Vec<u8>, HttpError> {
    let stream = body
        .stream()
        .map_err(|()| HttpError::Stream("response body stream already taken".into()))?;
    let mut out = Vec::new();
    loop {
        match stream.blocking_read(READ_CHUNK) {
            Ok(chunk) => out.extend_from_slice(&chunk),
            Err(StreamError::Closed) => break,
            Err(e) => return Err(HttpError::Stream(stream_error(e))),
        }
    }
    Ok(out)
}

fn stream_error(e: StreamError) -> String {
    match e {
        StreamError::Closed => "closed".into(),
        StreamError::LastOperationFailed(err) => err.to_debug_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let u = Url::parse("https://plattform.sandkasse.test/4601/fhir").unwrap();
        assert!(u.https);
        assert_eq!(u.authority, "plattform.sandkasse.test");
        assert_eq!(u.path_and_query, "/4601/fhir");
        assert_eq!(
            u.join("/Patient/p1").to_string(),
            "https://plattform.sandkasse.test/4601/fhir/Patient/p1"
        );
        assert_eq!(
            Url::parse("http://127.0.0.1:8080?x=1")
                .unwrap()
                .path_and_query,
            "/?x=1"
        );
        assert!(Url::parse("ftp://x/").is_err());
        assert!(Url::parse("https:///x").is_err());
        assert!(Url::parse("https://user@evil/x").is_err());
    }
}
