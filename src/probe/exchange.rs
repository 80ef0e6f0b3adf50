//! One HTTP/1.1 request and response over an open connection: the head, then the body.

use std::error::Error as _;
use std::future::{Future, poll_fn};
use std::pin::{Pin, pin};
use std::time::Instant;

use bytes::Bytes;
use http::header::{ACCEPT, CONNECTION, CONTENT_LENGTH, HOST, HeaderName, HeaderValue, USER_AGENT};
use http::{Request, Response};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite};
use url::{Position, Url};

use super::add;
use crate::check::{Failure, FailureKind, Phases};

/// How much of a body is read: enough for any keyword, bounded so a huge page costs little.
pub(super) const BODY_LIMIT: usize = 1024 * 1024;

const USER_AGENT_VALUE: &str = concat!("tocsin/", env!("CARGO_PKG_VERSION"));

/// What to send on one hop.
pub(super) struct Outgoing<'a> {
    /// The request method.
    pub method: http::Method,
    /// The absolute URL; its path and query go on the request line, its host in `Host`.
    pub url: &'a Url,
    /// The monitor's extra headers, lower-case names, already filtered for this hop.
    pub headers: Vec<(&'a str, &'a str)>,
    /// The request body, if any.
    pub body: Option<&'a str>,
}

/// A response head, with the connection that still has to deliver its body.
pub(super) struct Exchange {
    /// The response; its body is still to be read.
    pub response: Response<Incoming>,
    connection: Driver,
}

/// hyper's connection future, polled inside the check's own task rather than spawned: a
/// task per check costs a spawn and a cross-task wake for every read. `None` once it has
/// finished, which closes the socket. Dropping it (the check is over, or timed out) closes
/// the socket too, so no connection outlives the check that opened it.
type Driver = Option<Pin<Box<dyn Future<Output = ()> + Send>>>;

/// Sends `outgoing` over `io` and waits for the response head; `ttfb` covers sending and
/// waiting.
pub(super) async fn send<T>(
    io: T,
    outgoing: &Outgoing<'_>,
    phases: &mut Phases,
) -> Result<Exchange, Failure>
where
    T: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let host = outgoing.url.host_str().unwrap_or_default();
    let request = build(outgoing)?;
    let (mut sender, mut connection) = hyper::client::conn::http1::handshake(TokioIo::new(io))
        .await
        .map_err(|e| connect_failure(host, &e))?;
    // Without shutdown: the request says `Connection: close`, so closing the socket when
    // the driver is dropped sends the same FIN and saves a `shutdown` call per check. The
    // outcome reaches the caller through the response or its body.
    let mut driver: Driver = Some(Box::pin(async move {
        let _ = poll_fn(|cx| connection.poll_without_shutdown(cx)).await;
    }));
    let started = Instant::now();
    let response = driving(&mut driver, sender.send_request(request)).await;
    let response = response.map_err(|e| connect_failure(host, &e))?;
    add(&mut phases.ttfb, started.elapsed());
    Ok(Exchange {
        response,
        connection: driver,
    })
}

/// Awaits `work` while polling the connection, which must make progress for `work` to.
/// Once the connection has finished it has handed everything over, so `work` ends alone.
async fn driving<F: Future>(connection: &mut Driver, work: F) -> F::Output {
    let mut work = pin!(work);
    if let Some(driver) = connection {
        tokio::select! {
            biased;
            output = &mut work => return output,
            () = driver.as_mut() => {}
        }
        *connection = None;
    }
    work.await
}

fn build(outgoing: &Outgoing<'_>) -> Result<Request<Full<Bytes>>, Failure> {
    let url = outgoing.url;
    let invalid = |what: &str| {
        Failure::new(
            FailureKind::Connect,
            format!("Could not build the request to {url}: invalid {what}."),
        )
    };
    let body = outgoing.body.unwrap_or_default();
    let mut request = Request::new(Full::new(Bytes::copy_from_slice(body.as_bytes())));
    *request.method_mut() = outgoing.method.clone();
    *request.uri_mut() = url[Position::BeforePath..Position::AfterQuery]
        .parse()
        .map_err(|_| invalid("path"))?;
    let headers = request.headers_mut();
    let host = &url[Position::BeforeHost..Position::AfterPort];
    headers.insert(
        HOST,
        HeaderValue::from_str(host).map_err(|_| invalid("host"))?,
    );
    headers.insert(USER_AGENT, HeaderValue::from_static(USER_AGENT_VALUE));
    headers.insert(ACCEPT, HeaderValue::from_static("*/*"));
    headers.insert(CONNECTION, HeaderValue::from_static("close"));
    if outgoing.body.is_some() {
        headers.insert(CONTENT_LENGTH, HeaderValue::from(body.len()));
    }
    for &(name, value) in &outgoing.headers {
        let name = HeaderName::from_bytes(name.as_bytes()).map_err(|_| invalid("header name"))?;
        let value = HeaderValue::from_str(value).map_err(|_| invalid("header value"))?;
        headers.insert(name, value);
    }
    Ok(request)
}

/// Reads up to [`BODY_LIMIT`] bytes of `response`'s body; a cut or malformed body fails.
pub(super) async fn read_body(exchange: &mut Exchange) -> Result<Vec<u8>, Failure> {
    let body = exchange.response.body_mut();
    let mut read = Vec::new();
    while read.len() < BODY_LIMIT {
        match driving(&mut exchange.connection, body.frame()).await {
            None => break,
            Some(Ok(frame)) => {
                if let Ok(data) = frame.into_data() {
                    let room = BODY_LIMIT - read.len();
                    read.extend_from_slice(&data[..data.len().min(room)]);
                }
            }
            Some(Err(error)) => {
                return Err(Failure::new(
                    FailureKind::Body,
                    format!(
                        "Reading the response body failed after {} bytes: {}.",
                        read.len(),
                        describe(&error)
                    ),
                ));
            }
        }
    }
    Ok(read)
}

fn connect_failure(host: &str, error: &hyper::Error) -> Failure {
    let what = if error.is_parse() {
        "sent an invalid response head"
    } else {
        "closed the connection before a response head"
    };
    Failure::new(
        FailureKind::Connect,
        format!("{host} {what}: {}.", describe(error)),
    )
}

/// The error and its causes on one line, since hyper's own text is often just the outer layer.
fn describe(error: &hyper::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
