//! argon2id hashing, off the async threads, on one thread of its own that
//! keeps its working memory from one hash to the next.
//!
//! Run on the blocking pool, a burst of sign-ins hashed on several threads at
//! once, and each 19 MiB working area, allocated afresh per hash, was left
//! fragmented in that thread's allocator arena: the server's resident memory
//! grew by tens of MiB per thread (to 290 MiB under the load benchmark, whose
//! live heap never passed 22 MiB). Now one thread hashes, one hash at a time
//! (leaving the other cores to requests), in one buffer it keeps.
//!
//! New hashes use OWASP's argon2id setting of 7 MiB and 5 passes, which its
//! Password Storage Cheat Sheet lists as equal in defence to argon2's default of
//! 19 MiB and 2 passes; a hash made with other parameters (an older account's)
//! is verified with its own.

use std::cell::RefCell;
use std::panic::AssertUnwindSafe;
use std::sync::LazyLock;
use std::sync::mpsc::{Sender, channel};

use anyhow::{Context, anyhow};
use argon2::password_hash::{Output, ParamsString, PasswordHash, SaltString, rand_core::OsRng};
use argon2::{Algorithm, Argon2, Block, Params, Version};

use crate::error::AppError;

/// OWASP's 7 MiB, 5 passes, one lane.
const M_COST_KIB: u32 = 7 * 1024;
const T_COST: u32 = 5;
const OUTPUT_LEN: usize = 32;

fn params() -> anyhow::Result<Params> {
    Params::new(M_COST_KIB, T_COST, 1, Some(OUTPUT_LEN))
        .map_err(|e| anyhow!("argon2 parameters: {e}"))
}

thread_local! {
    /// The hashing thread's working memory, kept between hashes.
    static MEMORY: RefCell<Vec<Block>> = const { RefCell::new(Vec::new()) };
}

/// Hashes into `out` in the kept buffer; a hash needing more memory than new
/// hashes do (an older, costlier one) gets a buffer of its own for the once.
fn hash_into(argon2: &Argon2, password: &[u8], salt: &[u8], out: &mut [u8]) -> anyhow::Result<()> {
    let blocks = argon2.params().block_count();
    let mut hash = |memory: &mut [Block]| {
        argon2
            .hash_password_into_with_memory(password, salt, out, memory)
            .map_err(|e| anyhow!("hashing a password: {e}"))
    };
    if blocks > M_COST_KIB as usize {
        return hash(&mut vec![Block::default(); blocks]);
    }
    MEMORY.with_borrow_mut(|memory| {
        if memory.len() < blocks {
            memory.resize(blocks, Block::default());
        }
        hash(&mut memory[..blocks])
    })
}

fn hash_now(password: &[u8]) -> anyhow::Result<String> {
    let params = params()?;
    let salt = SaltString::generate(&mut OsRng);
    let mut salt_bytes = [0u8; 64];
    let salt_bytes = salt
        .as_salt()
        .decode_b64(&mut salt_bytes)
        .map_err(|e| anyhow!("decoding a salt: {e}"))?;
    let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    let mut out = [0u8; OUTPUT_LEN];
    hash_into(&argon2, password, salt_bytes, &mut out)?;
    let hash = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params).map_err(|e| anyhow!("argon2 parameters: {e}"))?,
        salt: Some(salt.as_salt()),
        hash: Some(Output::new(&out).map_err(|e| anyhow!("argon2 output: {e}"))?),
    };
    Ok(hash.to_string())
}

/// Whether `password` gives `hash` (a PHC string); false for anything malformed.
fn verify_now(password: &[u8], hash: &str) -> bool {
    let check = || -> Option<bool> {
        let parsed = PasswordHash::new(hash).ok()?;
        let algorithm = Algorithm::try_from(parsed.algorithm).ok()?;
        let version = match parsed.version {
            Some(v) => Version::try_from(v).ok()?,
            None => Version::default(),
        };
        let expected = parsed.hash?;
        let params = Params::try_from(&parsed).ok()?;
        let mut salt = [0u8; 64];
        let salt = parsed.salt?.decode_b64(&mut salt).ok()?;
        let argon2 = Argon2::new(algorithm, version, params);
        let mut out = vec![0u8; expected.len()];
        hash_into(&argon2, password, salt, &mut out).ok()?;
        // Output's equality is constant-time.
        Some(Output::new(&out).ok()? == expected)
    };
    check().unwrap_or(false)
}

/// Verified when an account does not exist, so the answer takes as long either way.
static DUMMY_HASH: LazyLock<String> =
    LazyLock::new(|| hash_now(b"no account has this password").unwrap_or_default());

type Job = Box<dyn FnOnce() + Send>;

/// The hashing thread's queue; started on first use (None if it could not start).
static HASHER: LazyLock<Option<Sender<Job>>> = LazyLock::new(|| {
    let (sender, receiver) = channel::<Job>();
    std::thread::Builder::new()
        .name("password-hashing".into())
        .spawn(move || {
            for job in receiver {
                // A panicking job drops its answer (its caller gets an error);
                // the thread goes on with the next.
                let _ = std::panic::catch_unwind(AssertUnwindSafe(job));
            }
        })
        .map_err(|error| tracing::error!(%error, "starting the password hashing thread"))
        .ok()
        .map(|_| sender)
});

/// Runs `work` on the hashing thread and waits for its answer.
async fn on_hashing_thread<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, AppError> {
    let (answer, answered) = tokio::sync::oneshot::channel();
    let job: Job = Box::new(move || {
        // The caller may have gone (its request was dropped): nothing to answer.
        let _ = answer.send(work());
    });
    HASHER
        .as_ref()
        .and_then(|hasher| hasher.send(job).ok())
        .ok_or_else(|| AppError::Internal(anyhow!("the password hashing thread has stopped")))?;
    answered
        .await
        .context("the password hashing thread dropped a job")
        .map_err(AppError::Internal)
}

pub async fn hash_password(password: String) -> Result<String, AppError> {
    on_hashing_thread(move || hash_now(password.as_bytes()))
        .await?
        .map_err(AppError::Internal)
}

/// True when `password` matches `hash`. With no hash, a dummy is verified and
/// the answer is false.
pub async fn verify_password(password: String, hash: Option<String>) -> Result<bool, AppError> {
    on_hashing_thread(move || {
        let known = hash.is_some();
        let hash = hash.unwrap_or_else(|| DUMMY_HASH.clone());
        verify_now(password.as_bytes(), &hash) && known
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_verify_only_their_password() {
        let hash = hash_password("correct horse battery".into()).await.unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(
            verify_password("correct horse battery".into(), Some(hash.clone()))
                .await
                .unwrap()
        );
        assert!(
            !verify_password("wrong horse battery".into(), Some(hash))
                .await
                .unwrap()
        );
        assert!(!verify_password("anything".into(), None).await.unwrap());
        assert!(
            !verify_password("anything".into(), Some("not a hash".into()))
                .await
                .unwrap()
        );
    }

    #[tokio::test]
    async fn new_hashes_use_owasps_seven_mib_and_older_default_hashes_still_verify() {
        let hash = hash_password("correct horse battery".into()).await.unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=7168,t=5,p=1$"), "{hash}");
        // Made with argon2's defaults (19 MiB, 2 passes), as accounts were before.
        use argon2::password_hash::PasswordHasher;
        let salt = SaltString::generate(&mut OsRng);
        let older = Argon2::default()
            .hash_password(b"older account", &salt)
            .unwrap()
            .to_string();
        assert!(
            older.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{older}"
        );
        assert!(
            verify_password("older account".into(), Some(older.clone()))
                .await
                .unwrap()
        );
        assert!(
            !verify_password("older accounts".into(), Some(older))
                .await
                .unwrap()
        );
        // A costlier hash than the kept buffer holds, and a tampered one.
        let costly = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(32 * 1024, 1, 1, None).unwrap(),
        )
        .hash_password(b"costly", &salt)
        .unwrap()
        .to_string();
        assert!(
            verify_password("costly".into(), Some(costly.clone()))
                .await
                .unwrap()
        );
        let tampered = costly.replace("m=32768", "m=32769");
        assert!(
            !verify_password("costly".into(), Some(tampered))
                .await
                .unwrap()
        );
    }
}
