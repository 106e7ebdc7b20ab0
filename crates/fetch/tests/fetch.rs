//! `Fetcher` against a scripted loopback server: digests, refusals, retries, dedupe.

mod support;

use std::time::Duration;

use support::{
    Server, Step, body, head, ok, ok_with, policy, redirect, sha256_hex, status, truncated,
};
use valkey_bot_fetch::{FetchError, FetchPolicy, Fetcher, Origin, ProgressMode, Url};

fn fetcher(policy: FetchPolicy) -> Fetcher {
    Fetcher::builder(policy)
        .progress(ProgressMode::Log)
        .build()
        .expect("client builds")
}

#[tokio::test]
async fn digest_is_sha256_of_the_served_bytes() {
    let data = body(300_000, 7);
    let served = data.clone();
    let server = Server::start(move |_, _| ok(&served)).await;
    let f = fetcher(policy());
    let d = f
        .digest(&server.url("/valkey-9.1.1.tar.gz"))
        .await
        .expect("digest");
    assert_eq!(d.sha256.to_string(), sha256_hex(&data));
    assert_eq!(d.bytes, 300_000);
    assert_eq!(d.origin, Origin::Downloaded);
    assert_eq!(d.final_url, server.url("/valkey-9.1.1.tar.gz"));
    assert_eq!(f.stats().downloads_started, 1);
    assert_eq!(f.stats().bytes_downloaded, 300_000);
    let seen = server.requests();
    assert_eq!(
        seen[0].headers.get("accept-encoding").map(String::as_str),
        Some("identity")
    );
}

#[tokio::test]
async fn digest_of_abc_is_the_known_vector() {
    let server = Server::start(|_, _| ok(b"abc")).await;
    let d = fetcher(policy())
        .digest(&server.url("/abc"))
        .await
        .expect("digest");
    assert_eq!(
        d.sha256.to_string(),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
}

#[tokio::test]
async fn body_shorter_than_content_length_is_truncated_not_a_digest() {
    let data = body(1000, 1);
    let server = Server::start(move |_, _| truncated(&data, 400)).await;
    let mut p = policy();
    p.retries = 0;
    let err = fetcher(p)
        .digest(&server.url("/t"))
        .await
        .expect_err("truncated");
    assert_eq!(
        err,
        FetchError::Truncated {
            url: format!("http://127.0.0.1:{}/t", server.port),
            expected: 1000,
            got: 400
        }
    );
}

#[tokio::test]
async fn stalled_body_times_out() {
    let server = Server::start(|_, _| {
        vec![
            Step::Write(head("200 OK", &[("Content-Length", "100".into())])),
            Step::Write(vec![b'x'; 10]),
            Step::Sleep(Duration::from_secs(5)),
        ]
    })
    .await;
    let mut p = policy();
    p.retries = 0;
    p.read_timeout = Duration::from_millis(300);
    let err = fetcher(p)
        .digest(&server.url("/stall"))
        .await
        .expect_err("stall");
    assert_eq!(
        err,
        FetchError::Timeout {
            url: format!("http://127.0.0.1:{}/stall", server.port)
        }
    );
}

#[tokio::test]
async fn stalled_headers_time_out() {
    let server = Server::start(|_, _| vec![Step::Sleep(Duration::from_secs(5))]).await;
    let mut p = policy();
    p.retries = 0;
    p.read_timeout = Duration::from_millis(300);
    let err = fetcher(p)
        .digest(&server.url("/silent"))
        .await
        .expect_err("stall");
    assert!(matches!(err, FetchError::Timeout { .. }), "{err:?}");
}

#[tokio::test]
async fn redirect_to_an_allowed_host_is_followed_and_rechecked() {
    let data = body(5000, 3);
    let served = data.clone();
    let server = Server::start(move |req, _| match req.path.as_str() {
        "/r" => redirect(&format!(
            "http://localhost:{}/file",
            req.headers["host"].rsplit(':').next().unwrap_or("")
        )),
        _ => ok(&served),
    })
    .await;
    let d = fetcher(policy())
        .digest(&server.url("/r"))
        .await
        .expect("digest");
    assert_eq!(d.sha256.to_string(), sha256_hex(&data));
    assert_eq!(d.url, server.url("/r"));
    assert_eq!(
        d.final_url.as_str(),
        format!("http://localhost:{}/file", server.port)
    );
    assert_eq!(server.hits("/file"), 1);
}

#[tokio::test]
async fn redirect_to_a_host_not_allowed_is_refused_before_contact() {
    let server = Server::start(|req, _| match req.path.as_str() {
        "/to-other" => redirect("http://127.0.0.2:9/file"),
        "/to-https-other" => redirect("https://downloads.example.org/file"),
        _ => redirect("http://example.com/file"),
    })
    .await;
    let f = fetcher(policy());
    assert_eq!(
        f.digest(&server.url("/to-other")).await,
        Err(FetchError::NotAllowed {
            url: "http://127.0.0.2:9/file".into(),
            host: "127.0.0.2".into()
        })
    );
    assert_eq!(
        f.digest(&server.url("/to-https-other")).await,
        Err(FetchError::NotAllowed {
            url: "https://downloads.example.org/file".into(),
            host: "downloads.example.org".into()
        })
    );
    // example.com is allowed, but not over plain http.
    assert_eq!(
        f.digest(&server.url("/to-plain-http")).await,
        Err(FetchError::InsecureScheme {
            url: "http://example.com/file".into(),
            scheme: "http".into()
        })
    );
    // Refusals are not retried.
    assert_eq!(server.requests().len(), 3);
}

#[tokio::test]
async fn redirect_loop_stops_at_max_redirects() {
    let server = Server::start(|req, _| match req.path.as_str() {
        "/a" => redirect("/b"),
        _ => redirect("/a"),
    })
    .await;
    let err = fetcher(policy())
        .digest(&server.url("/a"))
        .await
        .expect_err("loop");
    assert_eq!(
        err,
        FetchError::TooManyRedirects {
            url: format!("http://127.0.0.1:{}/a", server.port),
            limit: 3
        }
    );
    assert_eq!(server.requests().len(), 4);
}

#[tokio::test]
async fn declared_oversize_is_refused_without_reading() {
    let server = Server::start(|_, _| {
        vec![Step::Write(head(
            "200 OK",
            &[("Content-Length", (2u64 << 20).to_string())],
        ))]
    })
    .await;
    let f = fetcher(policy());
    let err = f.digest(&server.url("/big")).await.expect_err("too large");
    assert_eq!(
        err,
        FetchError::TooLarge {
            url: format!("http://127.0.0.1:{}/big", server.port),
            limit: 1 << 20
        }
    );
    assert_eq!(f.stats().bytes_downloaded, 0);
    assert_eq!(server.hits("/big"), 1);
}

#[tokio::test]
async fn undeclared_oversize_stops_streaming_past_the_limit() {
    let server = Server::start(|_, _| {
        let mut steps = vec![Step::Write(head("200 OK", &[]))];
        steps.extend((0..64).map(|i| Step::Write(body(64 * 1024, i + 1))));
        steps
    })
    .await;
    let f = fetcher(policy());
    let err = f
        .digest(&server.url("/endless"))
        .await
        .expect_err("too large");
    assert!(
        matches!(err, FetchError::TooLarge { limit, .. } if limit == 1 << 20),
        "{err:?}"
    );
    assert!(
        f.stats().bytes_downloaded < 4 << 20,
        "read {} bytes",
        f.stats().bytes_downloaded
    );
    assert_eq!(server.hits("/endless"), 1);
}

#[tokio::test]
async fn server_errors_are_retried_then_succeed() {
    let data = body(10_000, 9);
    let served = data.clone();
    let server = Server::start(move |_, nth| {
        if nth < 2 {
            status("500 Internal Server Error")
        } else {
            ok(&served)
        }
    })
    .await;
    let d = fetcher(policy())
        .digest(&server.url("/flaky"))
        .await
        .expect("third attempt succeeds");
    assert_eq!(d.sha256.to_string(), sha256_hex(&data));
    assert_eq!(server.hits("/flaky"), 3);
}

#[tokio::test]
async fn retries_are_bounded() {
    let server = Server::start(|_, _| status("503 Service Unavailable")).await;
    let mut p = policy();
    p.retries = 1;
    let err = fetcher(p)
        .digest(&server.url("/down"))
        .await
        .expect_err("always 503");
    assert_eq!(
        err,
        FetchError::Status {
            url: format!("http://127.0.0.1:{}/down", server.port),
            code: 503
        }
    );
    assert_eq!(server.hits("/down"), 2);
}

#[tokio::test]
async fn client_errors_are_not_retried_and_name_url_and_status() {
    let server = Server::start(|_, _| status("404 Not Found")).await;
    let f = fetcher(policy());
    let err = f.digest(&server.url("/missing")).await.expect_err("404");
    assert_eq!(
        err.to_string(),
        format!("http://127.0.0.1:{}/missing: HTTP status 404", server.port)
    );
    assert_eq!(server.hits("/missing"), 1);
}

#[tokio::test]
async fn errors_never_show_credentials_or_query() {
    let server = Server::start(|_, _| status("403 Forbidden")).await;
    let with_credentials = Url::parse(&format!(
        "http://bot:hunter2@127.0.0.1:{}/x?token=s3cret",
        server.port
    ))
    .expect("url");
    let err = fetcher(policy())
        .digest(&with_credentials)
        .await
        .expect_err("credentials in a URL are refused");
    assert_eq!(
        err.to_string(),
        format!(
            "http://127.0.0.1:{}/x?<redacted>: invalid URL: a user name or password in a download URL is refused",
            server.port
        )
    );
    let with_query =
        Url::parse(&format!("http://127.0.0.1:{}/x?token=s3cret", server.port)).expect("url");
    let err = fetcher(policy())
        .digest(&with_query)
        .await
        .expect_err("403");
    assert_eq!(
        err.to_string(),
        format!(
            "http://127.0.0.1:{}/x?<redacted>: HTTP status 403",
            server.port
        )
    );
}

#[tokio::test]
async fn mid_body_failure_restarts_from_byte_zero() {
    let data = body(200_000, 11);
    let served = data.clone();
    let server = Server::start(move |_, nth| {
        if nth == 0 {
            truncated(&served, 123_457)
        } else {
            ok(&served)
        }
    })
    .await;
    let f = fetcher(policy());
    let d = f.digest(&server.url("/cut")).await.expect("retry succeeds");
    assert_eq!(d.sha256.to_string(), sha256_hex(&data));
    assert_eq!(d.bytes, 200_000);
    assert_eq!(server.hits("/cut"), 2);
    assert_eq!(f.stats().downloads_started, 2);
    assert_eq!(f.stats().bytes_downloaded, 123_457 + 200_000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_and_later_calls_share_one_download() {
    let data = body(100_000, 5);
    let served = data.clone();
    let server = Server::start(move |_, _| {
        let mut steps = vec![Step::Sleep(Duration::from_millis(50))];
        steps.extend(ok(&served));
        steps
    })
    .await;
    let f = fetcher(policy());
    let url = server.url("/shared");
    let calls = (0..16).map(|_| {
        let f = f.clone();
        let url = url.clone();
        tokio::spawn(async move { f.digest(&url).await })
    });
    let results = futures::future::join_all(calls).await;
    for r in results {
        let d = r.expect("task").expect("digest");
        assert_eq!(d.sha256.to_string(), sha256_hex(&data));
    }
    assert_eq!(server.hits("/shared"), 1);
    let again = f.digest(&url).await.expect("memoized");
    assert_eq!(again.sha256.to_string(), sha256_hex(&data));
    assert_eq!(server.hits("/shared"), 1);
    let stats = f.stats();
    assert_eq!(stats.downloads_started, 1);
    assert_eq!(stats.shared_hits, 16);
}

#[tokio::test]
async fn a_failure_is_shared_too() {
    let server = Server::start(|_, _| status("410 Gone")).await;
    let f = fetcher(policy());
    let first = f.digest(&server.url("/gone")).await;
    let second = f.digest(&server.url("/gone")).await;
    assert_eq!(first, second);
    assert!(matches!(first, Err(FetchError::Status { code: 410, .. })));
    assert_eq!(server.hits("/gone"), 1);
}

#[tokio::test]
async fn text_returns_a_small_file_exactly() {
    let line = "7d7232acd1b8a49b4e05d07a00b3ca8c801ae06ab633ca6a3423bc5f385ab7ee  valkey-9.1.1-noble-x86_64.tar.gz\n";
    let server = Server::start(move |_, _| ok(line.as_bytes())).await;
    let f = fetcher(policy());
    let url = server.url("/valkey-9.1.1-noble-x86_64.tar.gz.sha256");
    assert_eq!(f.text(&url, 4096).await.expect("text"), line);
    assert_eq!(f.text(&url, 4096).await.expect("text"), line);
    assert_eq!(server.requests().len(), 1);
    assert!(matches!(
        f.text(&url, 10).await,
        Err(FetchError::TooLarge { limit: 10, .. })
    ));
}

#[tokio::test]
async fn text_refuses_non_utf8() {
    let server = Server::start(|_, _| ok(&[0xff, 0xfe, b'\n'])).await;
    let err = fetcher(policy())
        .text(&server.url("/bin"), 100)
        .await
        .expect_err("not text");
    assert!(matches!(err, FetchError::NotUtf8 { .. }));
}

#[tokio::test]
async fn unexpected_304_without_a_cache_is_an_error() {
    // Without a cache, an unexpected 304 is an error, never an empty digest.
    let server = Server::start(|_, _| status("304 Not Modified")).await;
    let err = fetcher(policy())
        .digest(&server.url("/nm"))
        .await
        .expect_err("304 without cache");
    assert!(
        matches!(err, FetchError::Status { code: 304, .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn ok_with_headers_reports_validators() {
    let server = Server::start(|_, _| {
        ok_with(
            b"x",
            &[
                ("ETag", "\"abc\"".into()),
                ("Last-Modified", "Tue, 15 Nov 1994 12:45:26 GMT".into()),
            ],
        )
    })
    .await;
    let d = fetcher(policy())
        .digest(&server.url("/v"))
        .await
        .expect("digest");
    assert_eq!(d.etag.as_deref(), Some("\"abc\""));
    assert_eq!(
        d.last_modified.as_deref(),
        Some("Tue, 15 Nov 1994 12:45:26 GMT")
    );
}
