//! A resource server for the access tokens of an OpenID Provider:
//!
//! ```text
//! cargo run --example resource_server -- --issuer URL --audience AUD [--addr HOST:PORT]
//! ```
//!
//! The issuer's keys are found by OpenID Connect Discovery and fetched in the background: the
//! server starts even when the provider is down, and guarded routes answer 503 until its keys
//! are known. The README walks through it against a provider started locally.

mod app;

use std::process::ExitCode;
use std::time::Duration;

#[tokio::main]
async fn main() -> ExitCode {
    // Logs go to stderr: authgate's decisions (route, policy, outcome, reason; never a token)
    // and the key fetches. RUST_LOG is not read: this subscriber has no env filter.
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_max_level(tracing::Level::INFO)
        .init();
    let options = match app::Options::parse(std::env::args().skip(1)) {
        Ok(options) => options,
        Err(problem) => {
            if !problem.is_empty() {
                eprintln!("{problem}\n");
            }
            eprintln!("{}", app::USAGE);
            return ExitCode::from(2);
        }
    };
    let gate = match app::gate(&options) {
        Ok(gate) => gate,
        Err(e) => {
            eprintln!("configuration refused: {e}");
            return ExitCode::from(2);
        }
    };
    let router = app::router(gate.clone());
    println!("{}", router.audit());

    // Wait a little for the keys, to say where things stand; serve either way.
    let state = match gate.ready(Duration::from_secs(3)).await {
        true => "keys known".to_owned(),
        false => "provider unreachable (or its discovery document or keys refused): guarded \
                  routes answer 503 until its keys are fetched; retrying in the background"
            .to_owned(),
    };
    println!("issuer {}: {state}", options.issuer);

    let listener = match tokio::net::TcpListener::bind(options.addr).await {
        Ok(listener) => listener,
        Err(e) => {
            eprintln!("cannot listen on {}: {e}", options.addr);
            return ExitCode::FAILURE;
        }
    };
    println!("listening on http://{}", options.addr);
    let shutdown = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    match axum::serve(listener, router.into_axum())
        .with_graceful_shutdown(shutdown)
        .await
    {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("server error: {e}");
            ExitCode::FAILURE
        }
    }
}
