//! The invoices example: a multi-user JSON API and web app on embedded SQLite (or, for
//! several instances, PostgreSQL and Redis), guarded by authgate. Argon2id passwords, bearer
//! and refresh tokens the Gate issues itself, server-side sessions in the same database; every
//! handler is a few lines, and the attributes decide who gets in.
//!
//! ```sh
//! cargo run --example invoices                                    # 127.0.0.1:3000, ./invoices.db
//! cargo run --example invoices -- --addr 127.0.0.1:8080 --db :memory:
//! ```
//!
//! - `main.rs`: options, the start banner (demo accounts and route audit), serving, shutdown
//! - `app.rs`: state, Gate, stores, routes
//! - `handlers.rs`: login, logout and the JSON API; `pages.rs`: the HTML pages; `feed.rs`: the
//!   live feed of new invoices (a WebSocket)
//! - `auth.rs`: passwords (argon2id); `limits.rs`: the login rate limits; `db.rs`: SQLite or
//!   PostgreSQL; `error.rs`: answers
//! - `openapi.rs`: the OpenAPI document (utoipa, with authgate's policies), `/openapi.json`
//!
//! # Options
//!
//! | option | environment | default |
//! |---|---|---|
//! | `--addr HOST:PORT` | `INVOICES_ADDR` | `127.0.0.1:3000` |
//! | `--db PATH` | `INVOICES_DB` | `invoices.db` in the working directory; `:memory:` for a throw-away database |
//! | | `INVOICES_DATABASE_URL=postgres://..` | unset: SQLite. Set: users, invoices and (without Redis) sessions and revocations in PostgreSQL, migrated on start; not together with `--db` |
//! | | `INVOICES_REDIS_URL=redis://..` | unset: sessions and revocations in the database. Set: in Redis, under the key prefix `INVOICES_REDIS_PREFIX` (default `invoices`) |
//! | | `INVOICES_JWT_SECRET` | a random secret per start, with a warning (tokens then die with the process); a set secret has at least 32 bytes, or the server refuses to start. With `INVOICES_DATABASE_URL` or `INVOICES_REDIS_URL` it must be set, the same on every instance |
//! | | `INVOICES_SECURE_COOKIES=1` | off: the cookie `invoices_session` without `Secure`, for plain HTTP on localhost; on (behind HTTPS): `__Host-invoices` with `Secure` |
//! | | `INVOICES_SEED_DEMO=1` or `0` | the three demo accounts go into a new database only for local development (a loopback address without `INVOICES_SECURE_COOKIES`); `1` asks for them anywhere, `0` never |
//! | | `INVOICES_LOGIN_RATES=ADDRESS,ACCOUNT` | `60,10`: login attempts a minute per client address and per account, then 429 with `Retry-After` |
//!
//! The first start of a database migrates it and, for local development, seeds three demo
//! users. Every start prints them, where the state lives and the route audit; nothing else it
//! prints ever contains a token, cookie value, password, the secret or a database or Redis URL.
//!
//! # The API, with curl
//!
//! A JSON login answers an OAuth token response (RFC 6749 section 5.1: `access_token`,
//! `token_type` `Bearer`, `expires_in` 900, `refresh_token`), the same bearer token again as
//! `token` (for the clients that read that field), and `user` (`id`,
//! `email`, `roles`); it starts no browser session. A form login, a browser's, sets the session
//! cookie instead. The Gate issues the tokens (`Gate::issue`): HS256 with `sub` (the user id),
//! `roles`, `iss` `authgate-invoices`, `aud` `invoices-api`, a 15-minute `exp`, a `jti` and
//! `typ: at+jwt`; it accepts at most one hour of lifetime. `POST /token/refresh` with
//! `{"refresh_token": ".."}` answers the same token fields for a new pair (the one sent is used
//! up), or 401 `invalid_token` for an unknown, expired (30 days from the login, 7 days unused)
//! or already used one, or a body without one; a used one also ends its family and every token
//! of the user. Every `/api` route takes the bearer token or the cookie.
//!
//! Every login runs argon2id (19 MiB, tens of milliseconds), also for an unknown email, within
//! the login rates (429 with `Retry-After`; other accounts are not locked out), one check per
//! core (a login that waits over a second for one gets 503 with `Retry-After: 1`).
//!
//! ```sh
//! B=localhost:3000
//! login() { curl -s $B/login -H 'Content-Type: application/json' \
//!   -d "{\"email\":\"$1@example.com\",\"password\":\"$1-password\"}" | sed 's/.*"token":"\([^"]*\)".*/\1/'; }
//! ALICE=$(login alice); BOB=$(login bob); ADMIN=$(login admin)
//! ```
//!
//! ```text
//! $ curl -s $B/login -H 'Content-Type: application/json' -d '{"email":"alice@example.com","password":"alice-password"}'
//!   -> 200 {"access_token":"<T>","token_type":"Bearer","expires_in":900,"refresh_token":"<R1>","token":"<T>","user":{...}}
//! $ curl -s $B/token/refresh -H 'Content-Type: application/json' -d '{"refresh_token":"<R1>"}'
//!   -> 200 {"access_token":"<T2>","token_type":"Bearer","expires_in":900,"refresh_token":"<R2>","token":"<T2>"}
//! $ curl -i $B/token/refresh -H 'Content-Type: application/json' -d '{"refresh_token":"<R1>"}'
//!   -> 401 invalid_token: R1 was used; R2 and alice's tokens are revoked with it (a stolen copy)
//! $ curl -i $B/api/me -H "Authorization: Bearer $ALICE"
//!   -> 200 {"id":1,"email":"alice@example.com","roles":["user"]}
//! $ curl -i $B/login -H 'Content-Type: application/json' -d '{"email":"alice@example.com","password":"nope"}'
//!   -> 401 {"error":"invalid_credentials","message":"wrong email or password"}  (an unknown email: the same bytes)
//! $ curl -i $B/api/invoices -H "Authorization: Bearer $ALICE" -H 'Content-Type: application/json' \
//!     -d '{"amount_cents": 4200, "description": "Consulting", "user_id": 2}'
//!   -> 201, Location: /api/invoices/1, {"id":1,"user_id":1,"amount_cents":4200,"description":"Consulting","created_at":...}
//!      (the owner is the caller; a user_id in the body is ignored)
//! $ curl -i $B/api/invoices -H "Authorization: Bearer $ALICE" -H 'Content-Type: application/json' \
//!     -d '{"amount_cents": 0, "description": ""}'
//!   -> 422 {"error":"invalid_input","message":"some fields are invalid","fields":{"amount_cents":"must be a
//!      positive integer","description":"must be 1 to 200 characters"}}
//! $ curl -i $B/api/invoices -H "Authorization: Bearer $BOB"       -> 200 [] (bob's invoices only)
//! $ curl -i $B/api/invoices/1 -H "Authorization: Bearer $BOB"     -> 404 {"error":"not_found","message":"not found"}
//! $ curl -i -X DELETE $B/api/invoices/1 -H "Authorization: Bearer $BOB"   -> 404, the same bytes; nothing deleted
//! $ curl -i -X DELETE $B/api/invoices/1 -H "Authorization: Bearer $ALICE" -> 204
//! $ curl -i $B/api/admin/users -H "Authorization: Bearer $BOB"    -> 403 forbidden
//! $ curl -i $B/api/admin/users -H "Authorization: Bearer $ADMIN"
//!   -> 200 [{"id":1,"email":"alice@example.com","roles":["user"]},...]  (never password data)
//! $ curl -i -X DELETE $B/api/admin/users/3 -H "Authorization: Bearer $ADMIN"
//!   -> 409 {"error":"conflict","message":"cannot delete your own account"}
//! $ curl -i -X DELETE $B/api/admin/users/2 -H "Authorization: Bearer $ADMIN"
//!   -> 204: bob, his invoices, his sessions and his tokens are gone (his token answers 401 from then on)
//! $ curl -i -X POST $B/logout -H "Authorization: Bearer $ALICE"   -> 204: the login ended on every instance (its refresh token too)
//! $ curl -i $B/nope                                               -> 404
//! ```
//!
//! # The browser side
//!
//! With a cookie jar standing in for the browser:
//!
//! ```text
//! $ curl -i $B/dashboard                                   -> 303, Location: /login?next=%2Fdashboard
//! $ curl -i -c jar -d 'email=alice@example.com&password=alice-password&next=/dashboard' $B/login
//!   -> 303, Location: /dashboard, Set-Cookie: invoices_session=...; HttpOnly; SameSite=Lax
//!      (a next that is not a same-site path, such as //evil.example, goes to /dashboard instead)
//! $ curl -i -b jar $B/dashboard                            -> 200, the HTML list of alice's invoices
//! $ curl -i -b jar -H 'Origin: https://evil.example' -d 'amount_cents=100&description=x' $B/dashboard/invoices
//!   -> 403 forbidden (CSRF: checked by the guard for every cookie-authenticated POST and DELETE)
//! $ curl -i -b jar -H "Origin: http://$B" -d 'amount_cents=100&description=Lunch' $B/dashboard/invoices
//!   -> 303, Location: /dashboard
//! $ curl -i -b jar -X POST $B/logout                       -> 204, the cookie cleared, the session deleted
//! $ curl -i -b jar $B/api/me                               -> 401 invalid_token: the old cookie is dead
//! ```
//!
//! The dashboard opens `GET /api/invoices/feed`, a WebSocket that pushes each new invoice of the
//! caller as it is created (another origin, even another port of the host, may not open it with
//! the cookie: 403); an API client offers its bearer token as the subprotocol
//! `authgate.bearer.<token>`. A refusal of the dashboard's own form renders as a small HTML
//! page, not JSON. `POST /logout` answers 303 to `/login` for a form post (the dashboard's
//! button) and 204 otherwise. A failed form login answers 401 with the form again (the same
//! bytes for a wrong password and an unknown email), and a cross-site form or JSON login is
//! refused with 403 (login CSRF: the handler takes a `LoginAttempt`).
//!
//! `GET /openapi.json` is the API's OpenAPI 3.1 document: utoipa derives it from the handlers,
//! and authgate writes each operation's `security` and refusals into it from the same policies
//! the guards enforce.
//!
//! # Two instances, one state
//!
//! With `INVOICES_DATABASE_URL`, users and invoices live in PostgreSQL, and with
//! `INVOICES_REDIS_URL` the sessions, refresh tokens and revocations live in Redis (without it,
//! in PostgreSQL too). Every instance given the same URLs and the same `INVOICES_JWT_SECRET`
//! accepts what any of them issued: a bearer token, a session cookie, a logout, a revocation.
//! The first start migrates the database (under PostgreSQL's advisory lock, so instances can
//! start at the same moment) and, on loopback, seeds the demo users once.
//!
//! ```sh
//! export INVOICES_DATABASE_URL=postgres://app:app-password@127.0.0.1:5432/invoices
//! export INVOICES_REDIS_URL=redis://127.0.0.1:6379
//! export INVOICES_JWT_SECRET=$(openssl rand -base64 32)      # the same on every instance
//! cargo build --example invoices
//! target/debug/examples/invoices --addr 127.0.0.1:3000 &
//! target/debug/examples/invoices --addr 127.0.0.1:3001 &
//! ```
//!
//! A token or a session cookie of `:3000` works on `:3001`; a logout or an admin's deletion of
//! a user on one ends that user's sessions and tokens on both, within milliseconds. Redis keeps
//! each login under `invoices:login:<hash of its id>`; `INVOICES_REDIS_PREFIX` gives apps that
//! share a Redis prefixes of their own. Per instance: the login limits (each counts the attempts
//! it sees), the password-hashing threads, and the live feed (it shows the invoices created
//! through the same instance). `INVOICES_REDIS_URL` without `INVOICES_DATABASE_URL` puts only
//! the sessions and revocations in Redis; users and invoices stay in each instance's SQLite
//! file.

mod app;
mod auth;
mod db;
mod error;
mod feed;
mod handlers;
mod limits;
mod openapi;
mod pages;

use std::process::ExitCode;

use app::{App, RedisSettings, Settings};
use db::{Database, ServerUrl};

const USAGE: &str = "usage: invoices [--addr HOST:PORT] [--db PATH]
  --addr   where to listen (env INVOICES_ADDR, default 127.0.0.1:3000)
  --db     the SQLite file (env INVOICES_DB, default invoices.db; `:memory:` for none)
env: INVOICES_DATABASE_URL=postgres://.. (PostgreSQL instead of the SQLite file),
     INVOICES_REDIS_URL=redis://.. (sessions and revocations in Redis; key prefix INVOICES_REDIS_PREFIX,
     default invoices),
     INVOICES_JWT_SECRET (at least 32 bytes; unset: random per start; required with
     INVOICES_DATABASE_URL or INVOICES_REDIS_URL),
     INVOICES_SECURE_COOKIES=1 (serve behind HTTPS with the __Host-invoices cookie),
     INVOICES_SEED_DEMO=1|0 (demo accounts in a new database; default: only on loopback
     without INVOICES_SECURE_COOKIES),
     INVOICES_LOGIN_RATES=ADDRESS,ACCOUNT (login attempts a minute, default 60,10)";

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::INFO)
        .with_writer(std::io::stderr)
        .init();
    let (addr, settings) = match options(std::env::args().skip(1)) {
        Ok(options) => options,
        Err(message) => {
            eprintln!("{message}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(&addr, &settings).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn run(addr: &str, settings: &Settings) -> Result<(), Box<dyn std::error::Error>> {
    let App {
        router,
        db,
        seeded,
        cookie,
    } = app::build(settings).await?;
    banner(&router, settings, seeded, cookie);
    let listener = tokio::net::TcpListener::bind(addr).await?;
    println!("listening on http://{}", listener.local_addr()?);
    // Connection info: the login limits count attempts per client address.
    let service = router
        .into_axum()
        .into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, service)
        .with_graceful_shutdown(shutdown_signal())
        .await?;
    db.close().await;
    println!("shut down");
    Ok(())
}

/// The demo accounts (the only passwords this program ever prints), where the state lives,
/// and the route audit.
fn banner(router: &authgate::Router, settings: &Settings, seeded: bool, cookie: &str) {
    if settings.seed_demo {
        let when = if seeded {
            "seeded now"
        } else {
            "seeded on the first start"
        };
        println!("demo accounts ({when}; demo passwords, for local use only):");
        for (email, password, role) in db::DEMO_USERS {
            println!("  {email:<18} {password:<15} roles [\"{role}\"]");
        }
    } else {
        println!(
            "no demo accounts: this configuration is not local development \
             (INVOICES_SEED_DEMO=1 seeds them into a new database)"
        );
    }
    println!("{}", state(settings));
    println!("route audit:");
    for policy in &router.audit() {
        println!("{policy}");
    }
    if cookie == app::LOCAL_COOKIE {
        println!(
            "session cookie {cookie} without Secure, for plain HTTP on localhost \
             (INVOICES_SECURE_COOKIES=1 behind HTTPS)"
        );
    }
}

/// Where the state lives, for the banner: the names of the variables, never a URL (it may
/// carry a password).
fn state(settings: &Settings) -> String {
    let database = match &settings.database {
        Database::Sqlite(path) => format!("SQLite {path}"),
        Database::Postgres(_) => "PostgreSQL (INVOICES_DATABASE_URL)".to_owned(),
    };
    match &settings.redis {
        None => format!("state: users, invoices, sessions and revocations in {database}"),
        Some(redis) => format!(
            "state: users and invoices in {database}; sessions and revocations in Redis \
             (INVOICES_REDIS_URL, keys {}:*)",
            redis.prefix
        ),
    }
}

/// `--addr` and `--db` (or their environment variables), and the rest from the environment.
fn options(args: impl Iterator<Item = String>) -> Result<(String, Settings), String> {
    let mut addr = env("INVOICES_ADDR");
    let mut db = env("INVOICES_DB");
    let mut args = args;
    while let Some(arg) = args.next() {
        let (name, inline) = match arg.split_once('=') {
            Some((name, value)) => (name.to_owned(), Some(value.to_owned())),
            None => (arg, None),
        };
        let target = match name.as_str() {
            "--addr" => &mut addr,
            "--db" => &mut db,
            "-h" | "--help" => return Err("invoices: the authgate example server".to_owned()),
            other => return Err(format!("unknown option {other}")),
        };
        *target = Some(
            inline
                .or_else(|| args.next())
                .ok_or_else(|| format!("{name} needs a value"))?,
        );
    }
    let addr = addr.unwrap_or_else(|| "127.0.0.1:3000".to_owned());
    let secure_cookies = env("INVOICES_SECURE_COOKIES").is_some_and(|v| v == "1");
    let seed_demo = seed_demo(secure_cookies, &addr, env("INVOICES_SEED_DEMO").as_deref())?;
    let login_rates = match env("INVOICES_LOGIN_RATES") {
        Some(rates) => rates
            .parse()
            .map_err(|e| format!("INVOICES_LOGIN_RATES: {e}"))?,
        None => limits::Rates::default(),
    };
    let database = database(db, env("INVOICES_DATABASE_URL"))?;
    let redis = redis(env("INVOICES_REDIS_URL"), env("INVOICES_REDIS_PREFIX"))?;
    // Instances that share a server share users and sessions, so they must share the secret.
    let shared_state = matches!(database, Database::Postgres(_)) || redis.is_some();
    let settings = Settings {
        database,
        redis,
        jwt_secret: jwt_secret(env("INVOICES_JWT_SECRET"), shared_state)?,
        secure_cookies,
        seed_demo,
        login_rates,
    };
    Ok((addr, settings))
}

/// PostgreSQL when `INVOICES_DATABASE_URL` is set, else the SQLite file of `--db` (or
/// `INVOICES_DB`, default `invoices.db`); not both. Errors never repeat the URL.
fn database(path: Option<String>, url: Option<String>) -> Result<Database, String> {
    match (path, url) {
        (Some(_), Some(_)) => Err(
            "--db (or INVOICES_DB) and INVOICES_DATABASE_URL are both set: \
             use one (SQLite or PostgreSQL)"
                .to_owned(),
        ),
        (None, Some(url)) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
            Ok(Database::Postgres(ServerUrl::new(url)))
        }
        (None, Some(_)) => Err("INVOICES_DATABASE_URL must be a postgres:// URL".to_owned()),
        (path, None) => Ok(Database::Sqlite(
            path.unwrap_or_else(|| "invoices.db".to_owned()),
        )),
    }
}

/// Redis for the sessions when `INVOICES_REDIS_URL` is set, with the key prefix
/// `INVOICES_REDIS_PREFIX` (default `invoices`). Errors never repeat the URL.
fn redis(url: Option<String>, prefix: Option<String>) -> Result<Option<RedisSettings>, String> {
    let Some(url) = url else {
        return match prefix {
            Some(_) => Err("INVOICES_REDIS_PREFIX needs INVOICES_REDIS_URL".to_owned()),
            None => Ok(None),
        };
    };
    if !(url.starts_with("redis://") || url.starts_with("rediss://")) {
        return Err("INVOICES_REDIS_URL must be a redis:// (or rediss://) URL".to_owned());
    }
    Ok(Some(RedisSettings {
        url: ServerUrl::new(url),
        prefix: prefix.unwrap_or_else(|| "invoices".to_owned()),
    }))
}

/// Whether to seed the demo accounts (whose passwords are printed at start) into a new database:
/// for local development only. A server configured for production (`INVOICES_SECURE_COOKIES=1`
/// or an address other than loopback) gets none unless `INVOICES_SEED_DEMO=1` asks for them;
/// `INVOICES_SEED_DEMO=0` turns them off anywhere.
fn seed_demo(secure_cookies: bool, addr: &str, asked: Option<&str>) -> Result<bool, String> {
    match asked {
        Some("1") => return Ok(true),
        Some("0") => return Ok(false),
        Some(other) => return Err(format!("INVOICES_SEED_DEMO must be 0 or 1, not {other:?}")),
        None => {}
    }
    let loopback = addr
        .parse::<std::net::SocketAddr>()
        .map(|a| a.ip().is_loopback())
        .unwrap_or_else(|_| addr.starts_with("localhost:"));
    Ok(loopback && !secure_cookies)
}

/// `INVOICES_JWT_SECRET`, or 32 random bytes (tokens then die with the process). Instances
/// that share their state must share the secret too: with a random one each, a token would
/// work only on the instance that issued it, so there an unset secret stops the start. Only
/// the secret's length is ever reported.
fn jwt_secret(secret: Option<String>, shared_state: bool) -> Result<Vec<u8>, String> {
    if let Some(secret) = secret {
        if secret.len() < 32 {
            return Err(format!(
                "INVOICES_JWT_SECRET has {} bytes; use at least 32 (for example `openssl rand -base64 32`)",
                secret.len()
            ));
        }
        return Ok(secret.into_bytes());
    }
    if shared_state {
        return Err(
            "INVOICES_JWT_SECRET is unset: with INVOICES_DATABASE_URL or \
             INVOICES_REDIS_URL, instances share users and sessions, and each would sign tokens \
             with a random secret of its own that no other instance accepts; set the same \
             secret of at least 32 bytes on every instance (for example `openssl rand -base64 32`)"
                .to_owned(),
        );
    }
    eprintln!(
        "warning: INVOICES_JWT_SECRET is unset: tokens are signed with a random secret \
         for this run only"
    );
    let mut secret = vec![0u8; 32];
    getrandom::fill(&mut secret).map_err(|e| format!("no OS randomness: {e}"))?;
    Ok(secret)
}

/// A set, non-empty environment variable.
fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// Ctrl-C or SIGTERM: stop accepting, finish the requests in flight, then return.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut sigterm) => {
                sigterm.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}

#[cfg(test)]
mod tests {
    use super::{Database, database, jwt_secret, redis, seed_demo};

    /// Demo accounts only for local development, unless asked for or turned off.
    #[test]
    fn demo_accounts_only_for_local_development() {
        assert_eq!(seed_demo(false, "127.0.0.1:3000", None), Ok(true));
        assert_eq!(seed_demo(false, "[::1]:3000", None), Ok(true));
        assert_eq!(seed_demo(false, "localhost:3000", None), Ok(true));
        assert_eq!(seed_demo(true, "127.0.0.1:3000", None), Ok(false));
        assert_eq!(seed_demo(false, "0.0.0.0:3000", None), Ok(false));
        assert_eq!(seed_demo(false, "10.1.2.3:80", None), Ok(false));
        assert_eq!(seed_demo(true, "0.0.0.0:3000", Some("1")), Ok(true));
        assert_eq!(seed_demo(false, "127.0.0.1:3000", Some("0")), Ok(false));
        assert!(seed_demo(false, "127.0.0.1:3000", Some("yes")).is_err());
    }

    /// SQLite unless a PostgreSQL URL is given; never both; an error never repeats the URL.
    #[test]
    fn the_database_is_sqlite_or_postgres() {
        let url = "postgres://app:hunter2@db.internal/invoices";
        assert!(matches!(database(None, None), Ok(Database::Sqlite(p)) if p == "invoices.db"));
        assert!(
            matches!(database(Some("x.db".into()), None), Ok(Database::Sqlite(p)) if p == "x.db")
        );
        let postgres = database(None, Some(url.into()));
        assert!(matches!(&postgres, Ok(Database::Postgres(u)) if u.as_str() == url));
        let shown = format!("{postgres:?}");
        assert!(
            !shown.contains("hunter2") && shown.contains("postgres://"),
            "{shown}"
        );
        for refused in [
            database(Some("x.db".into()), Some(url.into())),
            database(None, Some("mysql://app:hunter2@db/invoices".into())),
        ] {
            let message = refused.expect_err("refused");
            assert!(!message.contains("hunter2"), "{message}");
        }
    }

    /// Redis with the default prefix or a chosen one; a prefix alone, or another scheme, is
    /// an error that never repeats the URL.
    #[test]
    fn redis_has_a_url_and_a_key_prefix() {
        assert!(matches!(redis(None, None), Ok(None)));
        let default = redis(Some("redis://127.0.0.1:6379".into()), None).expect("redis");
        assert_eq!(default.map(|r| r.prefix).as_deref(), Some("invoices"));
        let chosen = redis(Some("redis://127.0.0.1".into()), Some("staging".into()));
        assert_eq!(
            chosen.expect("redis").map(|r| r.prefix).as_deref(),
            Some("staging")
        );
        assert!(redis(None, Some("staging".into())).is_err());
        let other = redis(Some("http://:hunter2@cache".into()), None).expect_err("refused");
        assert!(!other.contains("hunter2"), "{other}");
    }

    /// A shared state needs a set secret; a short one is refused without being repeated.
    #[test]
    fn a_shared_state_needs_a_set_secret() {
        assert_eq!(jwt_secret(None, false).map(|s| s.len()), Ok(32));
        let refused = jwt_secret(None, true).expect_err("refused");
        assert!(
            refused.contains("INVOICES_JWT_SECRET is unset"),
            "{refused}"
        );
        let secret = "s".repeat(32);
        assert_eq!(
            jwt_secret(Some(secret.clone()), true),
            Ok(secret.into_bytes())
        );
        let short = jwt_secret(Some("short-secret-xyz".into()), true).expect_err("refused");
        assert!(!short.contains("short-secret-xyz"), "{short}");
    }
}
