//! The app: its state, its Gate, and its routes with their policies.

use std::sync::Arc;
use std::time::Duration;

use authgate::issuers::Issuer;
use authgate::revocation::Revocations;
use authgate::sessions::Sessions;
use authgate::store::{LoginStore, MemoryStore, RevocationStore};
use authgate::tokens::RefreshTokens;
use authgate::{Gate, Router, routing::delete, routing::get, routing::post};
use authgate_redis::RedisStore;
use authgate_sqlx::{PostgresStore, SqliteStore};
use axum::extract::FromRef;

use crate::auth::{AUDIENCE, Auth, ISSUER, TOKEN_LIFETIME_SECS};
use crate::db::{DEMO_USERS, Database, Db, Pool, ServerUrl};
use crate::feed::Feed;
use crate::limits::{LoginLimits, Rates};
use crate::openapi::{self, OpenApiJson};
use crate::{feed, handlers, pages};

/// The realm of `WWW-Authenticate` challenges.
pub const REALM: &str = "invoices";
/// The session cookie over plain HTTP (local development).
pub const LOCAL_COOKIE: &str = "invoices_session";
/// The session cookie over HTTPS: the `__Host-` prefix pins it to this host, `Secure`, `Path=/`.
pub const SECURE_COOKIE: &str = "__Host-invoices";
/// The longest bearer-token lifetime the Gate accepts (tokens are issued for 15 minutes).
pub const MAX_TOKEN_LIFETIME: Duration = Duration::from_secs(3600);

/// Everything the handlers read from state, each part reachable through `FromRef`.
#[derive(Clone, Debug)]
pub struct AppState {
    pub gate: Gate,
    pub db: Db,
    pub auth: Auth,
    pub feed: Feed,
    pub limits: LoginLimits,
    /// The OpenAPI document served at `/openapi.json`, with the policies applied.
    pub openapi: OpenApiJson,
}

impl FromRef<AppState> for Gate {
    fn from_ref(state: &AppState) -> Gate {
        state.gate.clone()
    }
}

impl FromRef<AppState> for Db {
    fn from_ref(state: &AppState) -> Db {
        state.db.clone()
    }
}

impl FromRef<AppState> for Feed {
    fn from_ref(state: &AppState) -> Feed {
        state.feed.clone()
    }
}

impl FromRef<AppState> for Auth {
    fn from_ref(state: &AppState) -> Auth {
        state.auth.clone()
    }
}

/// How to start: where the state lives, the token secret, and the cookie mode.
#[derive(Clone)]
pub struct Settings {
    /// Users and invoices, and the sessions unless `redis` is set: SQLite (a file or
    /// `:memory:`) or PostgreSQL.
    pub database: Database,
    /// Redis for the sessions (`INVOICES_REDIS_URL`).
    pub redis: Option<RedisSettings>,
    /// The HS256 secret (at least 32 bytes).
    pub jwt_secret: Vec<u8>,
    /// `__Host-invoices` with `Secure` (behind HTTPS) instead of `invoices_session` without.
    pub secure_cookies: bool,
    /// Whether a new database gets the demo accounts (whose passwords are public).
    pub seed_demo: bool,
    /// Login attempts a minute per client address and per account.
    pub login_rates: Rates,
}

/// Where the sessions of several instances live in Redis.
#[derive(Clone, Debug)]
pub struct RedisSettings {
    pub url: ServerUrl,
    /// The start of every key this app writes (`{prefix}:session:..`), so that several apps,
    /// or test runs, can share one Redis (`INVOICES_REDIS_PREFIX`, default `invoices`).
    pub prefix: String,
}

/// Where the app's state lives, opened once at start: the database (SQLite or PostgreSQL)
/// and Redis when set. The stores the Gate keeps shared state in are built from these
/// ([`Backends::stores`]), so that all instances on the same backends see the same state:
/// the sessions, the refresh token families and the revocations of bearer tokens, in Redis
/// when set, else in the database.
pub struct Backends {
    pub db: Db,
    pub redis: Option<RedisSettings>,
    /// A throw-away `:memory:` database, which lives and dies with this process.
    pub in_memory: bool,
}

/// What the Gate keeps in the shared stores: server-side sessions, refresh token families and
/// the revocations of bearer tokens.
pub struct Stores {
    pub sessions: Sessions,
    pub refresh_tokens: RefreshTokens,
    pub revocations: Revocations,
}

impl Backends {
    /// The Gate's stores, one store for all three: in Redis when set (revocations announced
    /// with pub/sub), else in the database's pool (PostgreSQL's `NOTIFY`, or a log in the
    /// SQLite file), so that every instance sees every session and refuses every revoked
    /// token.
    async fn stores(&self, secure_cookies: bool) -> Result<Stores, Box<dyn std::error::Error>> {
        if let Some(redis) = &self.redis {
            let store = RedisStore::connect(redis.url.as_str())
                .await?
                .with_prefix(redis.prefix.clone());
            return Ok(stores(store.clone(), store, secure_cookies));
        }
        // The tables are created now, not at the first request: a start fails at once on a
        // database it cannot write.
        Ok(match self.db.pool() {
            // Nothing of a `:memory:` database outlives the process, so neither need its
            // revocations; and its one connection is better left to requests than to a poller.
            Pool::Sqlite(pool) if self.in_memory => {
                let store = SqliteStore::new(pool.clone());
                store.create_tables().await?;
                stores(store, MemoryStore::new(), secure_cookies)
            }
            Pool::Sqlite(pool) => {
                let store = SqliteStore::new(pool.clone());
                store.create_tables().await?;
                stores(store.clone(), store, secure_cookies)
            }
            Pool::Postgres(pool) => {
                let store = PostgresStore::new(pool.clone());
                store.create_tables().await?;
                stores(store.clone(), store, secure_cookies)
            }
        })
    }
}

/// Server-side sessions in `logins`, with the cookie of the cookie mode, refresh tokens (30
/// days, 7 idle: the defaults) in the same store, and the revocations in `revocations`.
fn stores<L, R>(logins: L, revocations: R, secure_cookies: bool) -> Stores
where
    L: LoginStore + Clone,
    R: RevocationStore,
{
    let sessions = if secure_cookies {
        Sessions::server_side(SECURE_COOKIE, logins.clone())
    } else {
        Sessions::server_side(LOCAL_COOKIE, logins.clone()).insecure_for_local_development()
    };
    Stores {
        sessions,
        refresh_tokens: RefreshTokens::new(logins),
        revocations: Revocations::new(revocations),
    }
}

/// A built app: the routes with their state, and what the start banner reports.
pub struct App {
    pub router: Router,
    pub db: Db,
    /// Whether this start seeded the demo users (a new database, and `seed_demo`).
    pub seeded: bool,
    pub cookie: &'static str,
}

/// Every route and its policy; `main` prints `audit()` of this as the route audit.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/health", get(handlers::health))
        .route("/openapi.json", get(openapi::openapi_json))
        .route("/login", get(pages::login_form).post(handlers::login))
        .route("/token/refresh", post(handlers::refresh_token))
        .route("/logout", post(handlers::logout))
        .route("/api/me", get(handlers::me))
        .route(
            "/api/invoices",
            get(handlers::list_invoices).post(handlers::create_invoice),
        )
        .route("/api/invoices/feed", get(feed::invoice_feed))
        .route(
            "/api/invoices/{id}",
            get(handlers::show_invoice).delete(handlers::delete_invoice),
        )
        .route("/api/admin/users", get(handlers::list_users))
        .route("/api/admin/users/{id}", delete(handlers::delete_user))
        .route("/dashboard", get(pages::dashboard))
        .route("/dashboard/invoices", post(pages::create_invoice))
        .route("/static/feed.js", get(feed::script))
        .fallback(handlers::not_found)
}

/// Opens and migrates the database, builds the Gate (bearer and refresh tokens it issues, and
/// server-side sessions and revocations in Redis or the database), and seeds the demo users
/// on the database's first start (when `seed_demo`).
pub async fn build(settings: &Settings) -> Result<App, Box<dyn std::error::Error>> {
    let backends = Backends {
        db: Db::open(&settings.database).await?,
        redis: settings.redis.clone(),
        in_memory: matches!(&settings.database, Database::Sqlite(path) if path == ":memory:"),
    };
    // Every shared store comes from `backends`.
    let stores = backends.stores(settings.secure_cookies).await?;
    // The one issuer: its secret verifies the tokens and signs the ones `issue` hands out,
    // with the claims (iss, aud, roles) where this Gate reads them.
    let issuer = Issuer::new(ISSUER)
        .secret(&settings.jwt_secret)
        .audience(AUDIENCE);
    let gate = Gate::builder()
        .realm(REALM)
        .issuer(issuer)
        .max_lifetime(MAX_TOKEN_LIFETIME)
        .token_lifetime(Duration::from_secs(TOKEN_LIFETIME_SECS))
        .sessions(stores.sessions)
        .refresh_tokens(stores.refresh_tokens)
        .revocations(stores.revocations)
        .build()?;
    // Serve with the revocations loaded; a store that is down delays nothing: bearer requests
    // answer 503 until the Gate reaches it.
    if !gate.ready(Duration::from_secs(5)).await {
        tracing::warn!("revocation store unreachable: bearer requests answer 503 until it is");
    }
    let auth = Auth::new().await?;
    let db = backends.db.clone();
    let mut seeded = false;
    if settings.seed_demo && !db.demo_users_seeded().await? {
        let mut hashes = Vec::new();
        for (_, password, _) in DEMO_USERS {
            hashes.push(auth.hash_password((*password).to_owned()).await?);
        }
        // `false` when another instance, starting at the same time, seeded them first.
        seeded = db.seed_demo_users(&hashes).await?;
    }
    let routes = routes();
    let (document, drift) = openapi::document(&routes.audit(), &gate);
    if !drift.is_empty() {
        tracing::warn!(%drift, "the OpenAPI document and the routes differ");
    }
    let state = AppState {
        gate,
        db: db.clone(),
        auth,
        feed: Feed::new(),
        limits: LoginLimits::new(settings.login_rates),
        openapi: OpenApiJson(Arc::from(document)),
    };
    Ok(App {
        router: routes.with_state(state),
        db,
        seeded,
        cookie: if settings.secure_cookies {
            SECURE_COOKIE
        } else {
            LOCAL_COOKIE
        },
    })
}
