//! The invoices example: a multi-user JSON API and web app on embedded SQLite (or, for
//! several instances, PostgreSQL and Redis), guarded by authgate. `cargo run --example invoices`, then see the README's "The invoices example, with
//! curl".
//!
//! - `main.rs`: options, the start banner (demo accounts and route audit), serving, shutdown
//! - `app.rs`: state, Gate, routes
//! - `handlers.rs`: login, logout and the JSON API; `pages.rs`: the HTML pages; `feed.rs`: the
//!   live feed of new invoices (a WebSocket)
//! - `auth.rs`: passwords (argon2id) and bearer tokens; `db.rs`: SQLite or PostgreSQL;
//!   `error.rs`: answers
//! - `openapi.rs`: the OpenAPI document (utoipa, with authgate's policies), `/openapi.json`
//!
//! Options: `--addr HOST:PORT` (or `INVOICES_ADDR`, default `127.0.0.1:3000`), `--db PATH`
//! (or `INVOICES_DB`, default `invoices.db`; `:memory:` for a throw-away database).
//! Environment: `INVOICES_DATABASE_URL=postgres://..` (users, invoices, sessions and
//! revocations in PostgreSQL instead of SQLite), `INVOICES_REDIS_URL=redis://..` (the sessions
//! and revocations in Redis, under
//! the key prefix `INVOICES_REDIS_PREFIX`, default `invoices`), `INVOICES_JWT_SECRET` (at
//! least 32 bytes; unset: a random one per start, refused when the state is shared),
//! `INVOICES_SECURE_COOKIES=1` (behind HTTPS: the `__Host-invoices` cookie with `Secure`),
//! `INVOICES_SEED_DEMO=1|0` (the demo accounts in a new database; by default only on a
//! loopback address without `INVOICES_SECURE_COOKIES`), `INVOICES_LOGIN_RATES=60,10` (login
//! attempts a minute per client address and per account).

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

/// Whether to seed the demo accounts (whose passwords are in the README) into a new database:
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
