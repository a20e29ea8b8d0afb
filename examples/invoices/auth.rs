//! What authgate leaves to the app: checking passwords (argon2id).
//!
//! authgate verifies credentials and issues the app's tokens (`Gate::issue`, with the key
//! and claim rules of the Gate's own issuer); it does not check passwords. This module is the
//! small, careful part an app writes itself.
//!
//! Password checks (argon2id: 19 MiB of memory each) run on a fixed pool of one thread per
//! core, each thread reusing one argon2 memory buffer for every check, so a server holds one
//! buffer per core however many logins arrive at once (a fresh buffer per check leaves the
//! allocator holding several per thread: BENCHMARKS.md, "Memory"). A login waits at most a
//! second for a turn, then gets 503 (`ApiError::Busy`).

use std::sync::Arc;
use std::time::Duration;

use std::cell::RefCell;

use argon2::password_hash::PasswordHasher;
use argon2::password_hash::phc::{Output, PasswordHash};
use argon2::{Algorithm as Argon2Algorithm, Argon2, Block, Params, Version};
use tokio::sync::{Semaphore, oneshot};

use crate::db::{Db, User};
use crate::error::ApiError;

/// `iss` of the tokens this server issues (and the only one its Gate accepts).
pub const ISSUER: &str = "authgate-invoices";
/// `aud` of the tokens (the only one the Gate accepts).
pub const AUDIENCE: &str = "invoices-api";
/// How long a bearer token lives.
pub const TOKEN_LIFETIME_SECS: u64 = 15 * 60;

/// Password checking; cheap to clone.
#[derive(Clone)]
pub struct Auth {
    inner: Arc<Inner>,
}

struct Inner {
    hasher: Hasher,
    /// A hash of a random password, verified against when the email is unknown, so that an
    /// unknown email costs the same argon2 work as a wrong password (no timing oracle).
    dummy_hash: String,
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Auth { .. }")
    }
}

impl Auth {
    /// The hashing pool, and the dummy hash of unknown emails.
    pub async fn new() -> Result<Auth, ApiError> {
        let hasher = Hasher::new()?;
        let mut random = [0u8; 32];
        getrandom::fill(&mut random).map_err(|_| ApiError::Internal("no OS randomness"))?;
        let dummy_hash = hasher.hash(hex(&random)).await?;
        Ok(Auth {
            inner: Arc::new(Inner { hasher, dummy_hash }),
        })
    }

    /// An argon2id PHC string for `password`, on the hashing pool.
    pub async fn hash_password(&self, password: String) -> Result<String, ApiError> {
        self.inner.hasher.hash(password).await
    }

    /// The user with this email and password, or `None` for a wrong password or an unknown
    /// email alike, after the same amount of work.
    pub async fn check_password(
        &self,
        db: &Db,
        email: &str,
        password: &str,
    ) -> Result<Option<User>, ApiError> {
        let (user, hash) = match db.user_by_email(email).await? {
            Some((user, hash)) => (Some(user), hash),
            None => (None, self.inner.dummy_hash.clone()),
        };
        let ok = self.inner.hasher.verify(password.to_owned(), hash).await?;
        Ok(user.filter(|_| ok))
    }
}

/// The hashing pool: one thread per core, and at most one queued login per thread.
struct Hasher {
    pool: rayon::ThreadPool,
    turns: Semaphore,
}

impl Hasher {
    fn new() -> Result<Hasher, ApiError> {
        let threads = std::thread::available_parallelism().map_or(1, usize::from);
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .thread_name(|i| format!("password-hash-{i}"))
            .build()
            .map_err(|_| ApiError::Internal("starting the hashing threads failed"))?;
        Ok(Hasher {
            pool,
            turns: Semaphore::new(threads),
        })
    }

    /// Runs `job` on the pool once a turn is free (within a second, else `Busy`).
    async fn run<T: Send + 'static>(
        &self,
        job: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, ApiError> {
        let _turn = tokio::time::timeout(Duration::from_secs(1), self.turns.acquire())
            .await
            .map_err(|_| ApiError::Busy)?
            .map_err(|_| ApiError::Busy)?;
        let (done, result) = oneshot::channel();
        self.pool.spawn(move || {
            let _ = done.send(job());
        });
        result
            .await
            .map_err(|_| ApiError::Internal("a hashing thread failed"))
    }

    /// An argon2id PHC string (default parameters: 19 MiB, 2 passes) with a random salt.
    async fn hash(&self, password: String) -> Result<String, ApiError> {
        self.run(move || {
            Argon2::default()
                .hash_password(password.as_bytes())
                .map(|hash| hash.to_string())
                .map_err(|_| ApiError::Internal("hashing a password failed"))
        })
        .await?
    }

    /// Whether `password` matches the PHC string `hash` (with the parameters the hash names).
    async fn verify(&self, password: String, hash: String) -> Result<bool, ApiError> {
        self.run(move || verify_with_thread_memory(password.as_bytes(), &hash))
            .await?
    }
}

thread_local! {
    /// The argon2 memory of this hashing thread, reused by every check it runs.
    static BLOCKS: RefCell<Vec<Block>> = const { RefCell::new(Vec::new()) };
}

/// What argon2's `verify_password` does (the hash's own algorithm, version and parameters,
/// the output compared in constant time), in this thread's reused memory.
fn verify_with_thread_memory(password: &[u8], phc: &str) -> Result<bool, ApiError> {
    let stored = || ApiError::Internal("a stored password hash");
    let hash = PasswordHash::new(phc).map_err(|_| stored())?;
    let (Some(salt), Some(expected)) = (&hash.salt, &hash.hash) else {
        return Err(stored());
    };
    let algorithm = Argon2Algorithm::try_from(hash.algorithm.as_str()).map_err(|_| stored())?;
    let version = match hash.version {
        Some(version) => Version::try_from(version).map_err(|_| stored())?,
        None => Version::default(),
    };
    let params = Params::try_from(&hash).map_err(|_| stored())?;
    let argon2 = Argon2::new(algorithm, version, params.clone());
    let mut buffer = [0u8; Output::MAX_LENGTH];
    let out = buffer.get_mut(..expected.len()).ok_or_else(stored)?;
    BLOCKS
        .with_borrow_mut(|blocks| {
            blocks.resize(params.block_count(), Block::default());
            argon2.hash_password_into_with_memory(password, salt, &mut *out, &mut blocks[..])
        })
        .map_err(|_| stored())?;
    let computed = Output::new(out).map_err(|_| stored())?;
    Ok(computed == *expected)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
