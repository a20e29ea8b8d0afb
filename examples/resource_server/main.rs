//! A resource server for the access tokens of an OpenID Provider:
//!
//! ```text
//! cargo run --example resource_server -- --issuer URL --audience AUD [--addr HOST:PORT]
//! ```
//!
//! The issuer's keys are found by OpenID Connect Discovery (`http://127.0.0.1:..` and
//! `http://localhost:..` are allowed besides HTTPS) and fetched in the background: the server
//! starts even when the provider is down, and guarded routes answer 503 until its keys are
//! known. It listens on 127.0.0.1:3001 by default and prints its route audit and whether the
//! keys are known; its logs (authgate's decisions and key fetches, never a token) go to stderr.
//!
//! Routes: `GET /health` (public), `GET /api/me` (`require_auth`: JSON `{"sub", "scopes",
//! "roles", "client_id"}`), `GET /api/invoices` (`require_scope("invoices:read")`),
//! `POST /api/invoices` (`require_scope("invoices:write")`), `GET /api/admin`
//! (`require_role("admin")`, roles from the top-level `roles` claim unless `--provider` or
//! `--roles-*` say otherwise; the identity providers guide, `authgate::guide`, has each
//! provider's settings).
//!
//! Against the OpenID Provider of the interop tests (panva's oidc-provider, pinned in
//! `tests/oidc_provider`, Node.js 18 or later; its client `interop-client` gets
//! client-credentials tokens for the resource `urn:authgate:interop-api`):
//!
//! ```sh
//! npm ci --ignore-scripts --prefix tests/oidc_provider
//! mkdir -p /tmp/op-keys
//! sleep infinity | node tests/oidc_provider/provider.mjs --port 9400 --keys /tmp/op-keys --kids k1 &
//! cargo run --example resource_server -- --issuer http://127.0.0.1:9400 \
//!   --audience urn:authgate:interop-api
//! ```
//!
//! Then, in another shell:
//!
//! ```sh
//! token() { curl -s -u interop-client:interop-client-secret-for-tests-only \
//!   -d grant_type=client_credentials -d resource=urn:authgate:interop-api -d scope="$1" \
//!   http://127.0.0.1:9400/token | jq -r .access_token; }
//! R=$(token invoices:read); W=$(token "invoices:read invoices:write")
//! curl -i localhost:3001/health                                  # 200 ok
//! curl -i localhost:3001/api/me                                  # 401, WWW-Authenticate: Bearer realm="resource-server"
//! curl -s localhost:3001/api/me -H "authorization: Bearer $R"    # {"client_id":"interop-client","roles":[],"scopes":["invoices:read"],"sub":"interop-client"}
//! curl -i localhost:3001/api/invoices -H "authorization: Bearer $R"   # 200
//! curl -i -X POST localhost:3001/api/invoices -H "authorization: Bearer $R" \
//!   -H 'content-type: application/json' -d '{"amount_cents":100,"description":"x"}'
//!                                                                # 403, error="insufficient_scope", scope="invoices:write"
//! curl -s -X POST localhost:3001/api/invoices -H "authorization: Bearer $W" \
//!   -H 'content-type: application/json' -d '{"amount_cents":100,"description":"x"}'   # 201
//! curl -i localhost:3001/api/admin -H "authorization: Bearer $R"      # 403: its tokens carry no roles
//! ```
//!
//! `tests/resource_server.rs` runs this example's router against the test provider of
//! `tests/support/provider.rs`: down at start (503), then each route with its refusals.

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
