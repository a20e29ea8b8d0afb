//! The page example (`examples/pages.rs`) in a real browser: Debian's `chromium`, driven by
//! `tests/browser/scenarios.mjs` with playwright-core (pinned by its package-lock.json, never
//! downloading a browser). The app runs in this test on 127.0.0.1 with a clock the test
//! moves; a second server on another port plays the attacker's site, reached as
//! `http://127.0.0.1:PORT` (same site, another origin) and as `http://localhost:PORT` (another
//! site).
//!
//! `.ci/run` installs the pinned chromium (`tests/browser/debian-packages.txt`) and the
//! script's packages (`npm ci`), and sets `AUTHGATE_TEST_BROWSER` to the script's directory.
//! Without the variable the test prints one `skipped:` line saying how to install and passes;
//! with it, a browser that does not start fails the test.

mod support;

use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::Query;
use axum::response::Html;
use serde_json::Value;

#[allow(dead_code)]
#[path = "../examples/pages.rs"]
mod pages;

use support::{Clock, skipped};

/// The directory of `scenarios.mjs`, with its `node_modules` installed.
const BROWSER_DIR: &str = "AUTHGATE_TEST_BROWSER";
const INSTALL: &str = "apt-get install chromium=<tests/browser/debian-packages.txt> and \
                       npm ci --ignore-scripts --prefix tests/browser";
/// The whole browser run, start to end (it takes a few seconds).
const DEADLINE: Duration = Duration::from_secs(60);

/// What the app saw of one form post: its path and `Sec-Fetch-Site`.
type Posts = Arc<Mutex<Vec<(String, String)>>>;

/// Serves `app` on a free port of 127.0.0.1, on this runtime; the port.
async fn serve(app: axum::Router) -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a free port");
    let port = listener.local_addr().expect("its address").port();
    tokio::spawn(async move { axum::serve(listener, app).await });
    port
}

/// The pages app on `clock`, recording every POST's `Sec-Fetch-Site`.
fn app(clock: &Clock, posts: &Posts) -> axum::Router {
    let builder = authgate::Gate::builder().clock(clock.reader());
    let gate = pages::gate(builder).expect("the pages Gate");
    let posts = posts.clone();
    pages::app(gate)
        .into_axum()
        .layer(tower::util::MapRequestLayer::new(
            move |request: axum::extract::Request| {
                if request.method() == "POST" {
                    let site = request.headers().get("sec-fetch-site");
                    let site = site.and_then(|v| v.to_str().ok()).unwrap_or("none sent");
                    let path = request.uri().path().to_owned();
                    posts.lock().unwrap().push((path, site.to_owned()));
                }
                request
            },
        ))
}

#[derive(serde::Deserialize)]
struct Forge {
    action: String,
}

/// The attacker's site: a page that posts a form to `action` as soon as it loads.
fn attacker() -> axum::Router {
    let forge = |Query(forge): Query<Forge>| async move {
        let action = forge.action.replace('&', "&amp;").replace('"', "&quot;");
        Html(format!(
            r#"<!doctype html><form method="post" action="{action}"><input type="hidden" name="text" value="x"></form>
<script>document.forms[0].submit()</script>"#
        ))
    };
    axum::Router::new().route("/forge", axum::routing::get(forge))
}

/// Runs `scenarios.mjs` against the app until it exits or `DEADLINE` passes; every scenario's
/// `result` line, by name. `control advance N` lines move `clock`.
fn run_browser(dir: &Path, app_port: u16, attacker_port: u16, clock: &Clock) -> Vec<Value> {
    let script = dir.join("scenarios.mjs");
    let mut child = Command::new("node")
        .arg(&script)
        .args(["--app", &format!("http://127.0.0.1:{app_port}")])
        .args(["--attacker-port", &attacker_port.to_string()])
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| {
            panic!(
                "{BROWSER_DIR} is set but `node {}` does not start ({e})",
                script.display()
            )
        });
    let mut stdin = child.stdin.take().expect("piped stdin");
    let stdout = child.stdout.take().expect("piped stdout");
    let mut stderr = child.stderr.take().expect("piped stderr");
    let errors = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    let (lines, received) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if lines.send(line).is_err() {
                break;
            }
        }
    });
    let deadline = Instant::now() + DEADLINE;
    let mut results = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match received.recv_timeout(left) {
            Ok(line) => {
                if let Some(json) = line.strip_prefix("result ") {
                    results.push(serde_json::from_str(json).expect("a JSON result"));
                } else if let Some(secs) = line.strip_prefix("control advance ") {
                    clock.advance(secs.parse().expect("seconds"));
                    writeln!(stdin, "ok").expect("the script's stdin");
                }
            }
            // The script exited (its stdout closed), or the deadline passed.
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("the browser run took more than {DEADLINE:?}; results so far: {results:#?}");
            }
        }
    }
    let status = child.wait().expect("the script's exit");
    let errors = errors.join().unwrap_or_default();
    assert!(
        status.success() && !results.is_empty(),
        "{BROWSER_DIR} is set but the browser run failed ({status}); install with `{INSTALL}`. \
         Its errors:\n{errors}"
    );
    results
}

/// The result of `scenario`, or a panic naming the ones there are.
fn result<'a>(results: &'a [Value], scenario: &str) -> &'a Value {
    results
        .iter()
        .find(|r| r["scenario"] == scenario)
        .unwrap_or_else(|| panic!("no result for {scenario:?} in {results:#?}"))
}

/// Checks one scenario: `Err` says what the browser saw instead.
fn check_scenario(
    failures: &mut Vec<String>,
    results: &[Value],
    scenario: &str,
    check: impl FnOnce(&Value) -> bool,
) {
    let facts = result(results, scenario);
    let passed = facts.get("error").is_none() && check(facts);
    println!("{} {scenario}", if passed { "ok" } else { "FAILED" });
    if !passed {
        failures.push(format!("{scenario}: the browser saw {facts:#}"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_example_in_chromium() {
    let Some(dir) = std::env::var_os(BROWSER_DIR).filter(|d| !d.is_empty()) else {
        skipped(&format!(
            "the page example in a real Chromium: set {BROWSER_DIR}=tests/browser after \
             `{INSTALL}`"
        ));
        return;
    };
    // A relative path is taken from the repository root, where `cargo test` runs.
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    let clock = Clock::new();
    let posts = Posts::default();
    let app_port = serve(app(&clock, &posts)).await;
    let attacker_port = serve(attacker()).await;
    let browser_clock = clock.clone();
    let results = tokio::task::spawn_blocking(move || {
        run_browser(&dir, app_port, attacker_port, &browser_clock)
    })
    .await
    .expect("the browser run");

    let mut failures = Vec::new();
    let mut judge = |scenario: &str, check: &dyn Fn(&Value) -> bool| {
        check_scenario(&mut failures, &results, scenario, check)
    };
    judge("login lands on next", &|r| {
        r["login_page"] == "/login?next=%2Fnotes" && r["landed"] == "/notes"
    });
    // Item 5: the notice of the add is a flash message, shown once.
    judge("add a note", &|r| {
        r["landed"] == "/notes#note-1"
            && r["note"] == "1"
            && r["notice"] == "Note added."
            && r["notice_after"] == 0
    });
    // Item 3: the pages take the session cookie only.
    judge("a bearer header does not replace the page cookie", &|r| {
        r["status"] == 200 && r["landed"] == "/notes"
    });
    // Item 1: the 404 page of someone else's note is the 404 page of a missing one, byte for
    // byte, and an HTML page.
    judge("another user's delete is a missing note's 404", &|r| {
        let (other, missing) = (&r["other"], &r["missing"]);
        other["status"] == 404
            && other == missing
            && other["type"]
                .as_str()
                .is_some_and(|t| t.starts_with("text/html"))
            && r["note_kept"] == true
    });
    // A forged post from another port of 127.0.0.1 carries the cookie (same site) and is
    // refused by the origin check; from localhost (another site) the browser leaves the
    // `SameSite=Lax` cookie out, so the app sees a visitor who is not logged in.
    judge("forged form posts from other origins", &|r| {
        r["127.0.0.1"]["status"] == 403
            && r["localhost"]["status"] == 303
            && r["localhost"]["location"]
                .as_str()
                .is_some_and(|l| l.starts_with("/login"))
            && r["note_kept"] == true
    });
    judge("logout", &|r| {
        r["landed"] == "/"
            && r["who"] == "Not logged in."
            && r["notes_then"] == "/login?next=%2Fnotes"
            && r["cookie_in_jar"] == false
    });
    // Item 2: a dead session on a public page is a visitor who is not logged in, and the
    // response clears the cookie.
    judge("a dead session cookie on the public home page", &|r| {
        r["status"] == 200
            && r["who"] == "Not logged in."
            && r["clears_cookie"] == true
            && r["cookie_in_jar_after"] == false
    });
    // Item 4: after a login, an expired session's form post lands on the page the form was
    // on (its same-origin Referer), not on the POST-only route (405).
    judge("an expired session submitting a POST form", &|r| {
        r["login_page"] == "/login?next=%2Fnotes" && r["landed"] == "/notes" && r["status"] == 200
    });

    // What Chromium sent with the forged posts: the origin check reads `Sec-Fetch-Site`.
    let forged: Vec<String> = posts
        .lock()
        .unwrap()
        .iter()
        .filter(|(path, _)| path == "/notes/1/delete")
        .map(|(_, site)| site.clone())
        .collect();
    assert!(
        forged.windows(2).any(|w| w == ["same-site", "cross-site"]),
        "Sec-Fetch-Site of the posts to /notes/1/delete: {forged:?}"
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
