//! Password hashes as htpasswd writes them (bcrypt, `{SHA}`, APR1/MD5-crypt) and their checks.
//!
//! The formats Traefik's basicAuth accepts. Plain-text passwords are not accepted (Traefik
//! never matches them either); every comparison of derived bytes is constant-time.

use base64::Engine;
use md5::{Digest, Md5};
use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};
use subtle::ConstantTimeEq;

/// The alphabet of crypt(3)'s base-64 encoding (MD5-crypt salts and digests).
const CRYPT64: &[u8; 64] = b"./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// The highest bcrypt cost accepted: cost 14 takes about a second per login on one core, and
/// each step doubles it (a cost-31 entry would take days, and stall every reload that builds
/// its dummy).
pub const MAX_BCRYPT_COST: u32 = 14;

/// One stored password hash.
#[derive(Clone, PartialEq, Eq)]
pub enum PasswordHash {
    /// `$2y$` / `$2a$` / `$2b$` / `$2x$`: the full encoded hash and its cost.
    Bcrypt { encoded: String, cost: u32 },
    /// `{SHA}` + base64 of the SHA-1 digest (unsalted).
    Sha1([u8; 20]),
    /// `$apr1$` (Apache) or `$1$` (FreeBSD) MD5-crypt: the magic, the salt and the 22-char digest.
    Md5Crypt {
        magic: &'static str,
        salt: String,
        digest: String,
    },
}

impl std::fmt::Debug for PasswordHash {
    // Never prints the hash itself: only its kind (and cost).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PasswordHash::Bcrypt { cost, .. } => write!(f, "bcrypt(cost {cost})"),
            PasswordHash::Sha1(_) => f.write_str("sha1"),
            PasswordHash::Md5Crypt { magic, .. } => write!(f, "md5-crypt({magic})"),
        }
    }
}

/// What an unknown user's password is checked against: the same kind and cost as real entries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Work {
    Sha1,
    Md5Crypt,
    Bcrypt(u32),
}

impl PasswordHash {
    /// Parses the hash part of an htpasswd line. The error never repeats `hash`.
    pub fn parse(hash: &str) -> Result<PasswordHash, String> {
        if ["$2a$", "$2b$", "$2x$", "$2y$"]
            .iter()
            .any(|p| hash.starts_with(p))
        {
            return match hash.parse::<bcrypt::HashParts>() {
                Ok(parts) if parts.get_cost() > MAX_BCRYPT_COST => Err(format!(
                    "has bcrypt cost {}: pylon accepts at most {MAX_BCRYPT_COST} (each step \
                     doubles the work of every login; htpasswd's default is 5, `htpasswd -nbB \
                     -C 10 USER PASSWORD` makes cost 10)",
                    parts.get_cost()
                )),
                Ok(parts) => Ok(PasswordHash::Bcrypt {
                    encoded: hash.to_string(),
                    cost: parts.get_cost(),
                }),
                Err(_) => Err("is not a well-formed bcrypt hash".to_string()),
            };
        }
        if let Some(b64) = hash.strip_prefix("{SHA}") {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(b64)
                .map_err(|_| "is not a well-formed {SHA} hash (base64 expected)".to_string())?;
            let digest: [u8; 20] = bytes
                .try_into()
                .map_err(|_| "is not a well-formed {SHA} hash (20 bytes expected)".to_string())?;
            return Ok(PasswordHash::Sha1(digest));
        }
        for magic in ["$apr1$", "$1$"] {
            if let Some(rest) = hash.strip_prefix(magic) {
                return parse_md5_crypt(magic, rest)
                    .ok_or_else(|| format!("is not a well-formed {magic} MD5 hash"));
            }
        }
        Err(
            "is not a hash pylon (or Traefik) accepts: use bcrypt ($2y$), {SHA} or $apr1$ \
             (e.g. `htpasswd -nbB USER PASSWORD`); plain-text passwords are not allowed"
                .to_string(),
        )
    }

    /// Whether `password` matches. Runs the full hash: call it off the async threads.
    pub fn verify(&self, password: &[u8]) -> bool {
        match self {
            PasswordHash::Bcrypt { encoded, .. } => {
                bcrypt::verify(password, encoded).unwrap_or(false)
            }
            PasswordHash::Sha1(want) => {
                let got = openssl::sha::sha1(password);
                got.ct_eq(want).into()
            }
            PasswordHash::Md5Crypt {
                magic,
                salt,
                digest,
            } => {
                let got = md5_crypt_digest(password, salt.as_bytes(), magic.as_bytes());
                got.as_bytes().ct_eq(digest.as_bytes()).into()
            }
        }
    }

    /// The kind and cost of work `verify` does.
    pub fn work(&self) -> Work {
        match self {
            PasswordHash::Bcrypt { cost, .. } => Work::Bcrypt(*cost),
            PasswordHash::Sha1(_) => Work::Sha1,
            PasswordHash::Md5Crypt { .. } => Work::Md5Crypt,
        }
    }

    /// A hash of a random secret doing `work`, for checking unknown users (never matches in
    /// practice; callers also refuse unknown users whatever it says). Cached per work.
    pub fn dummy(work: Work) -> Result<PasswordHash, String> {
        static CACHE: OnceLock<Mutex<HashMap<Work, PasswordHash>>> = OnceLock::new();
        let cache = CACHE.get_or_init(|| Mutex::new(HashMap::new()));
        if let Some(h) = cache.lock().unwrap_or_else(|p| p.into_inner()).get(&work) {
            return Ok(h.clone());
        }
        let mut secret = [0u8; 24];
        openssl::rand::rand_bytes(&mut secret).map_err(|e| format!("no randomness: {e}"))?;
        let hash = match work {
            Work::Sha1 => PasswordHash::Sha1(openssl::sha::sha1(&secret)),
            Work::Md5Crypt => {
                let salt: String = secret[..8]
                    .iter()
                    .map(|b| CRYPT64[usize::from(b & 0x3f)] as char)
                    .collect();
                let digest = md5_crypt_digest(&secret[8..], salt.as_bytes(), b"$apr1$");
                PasswordHash::Md5Crypt {
                    magic: "$apr1$",
                    salt,
                    digest,
                }
            }
            Work::Bcrypt(cost) => {
                let parts = bcrypt::hash_with_result(&secret[..], cost)
                    .map_err(|e| format!("cannot make a bcrypt hash of cost {cost}: {e}"))?;
                PasswordHash::Bcrypt {
                    encoded: parts.format_for_version(bcrypt::Version::TwoY),
                    cost,
                }
            }
        };
        cache
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(work, hash.clone());
        Ok(hash)
    }
}

/// `salt$digest` after the magic: salt of 1-8 crypt64 chars, digest of 22.
fn parse_md5_crypt(magic: &'static str, rest: &str) -> Option<PasswordHash> {
    let (salt, digest) = rest.split_once('$')?;
    let crypt64 = |s: &str| s.bytes().all(|b| CRYPT64.contains(&b));
    let ok = !salt.is_empty() && salt.len() <= 8 && digest.len() == 22 && crypt64(digest);
    ok.then(|| PasswordHash::Md5Crypt {
        magic,
        salt: salt.to_string(),
        digest: digest.to_string(),
    })
}

/// The 22-character digest of MD5-crypt (Poul-Henning Kamp's algorithm; `$apr1$` is the same
/// with another magic), as in Apache's `apr_md5_encode`.
pub fn md5_crypt_digest(password: &[u8], salt: &[u8], magic: &[u8]) -> String {
    let salt = salt.split(|b| *b == b'$').next().unwrap_or(&[]);
    let salt = &salt[..salt.len().min(8)];

    let mut ctx = Md5::new();
    ctx.update(password);
    ctx.update(magic);
    ctx.update(salt);

    let mut alt = Md5::new();
    alt.update(password);
    alt.update(salt);
    alt.update(password);
    let alt = alt.finalize();
    let mut left = password.len();
    while left > 0 {
        let n = left.min(16);
        ctx.update(&alt[..n]);
        left -= n;
    }
    let mut bits = password.len();
    while bits != 0 {
        if bits & 1 != 0 {
            ctx.update([0u8]);
        } else {
            ctx.update(&password[..1]);
        }
        bits >>= 1;
    }
    let mut fin: [u8; 16] = ctx.finalize().into();

    for i in 0..1000 {
        let mut round = Md5::new();
        if i & 1 != 0 {
            round.update(password);
        } else {
            round.update(fin);
        }
        if i % 3 != 0 {
            round.update(salt);
        }
        if i % 7 != 0 {
            round.update(password);
        }
        if i & 1 != 0 {
            round.update(fin);
        } else {
            round.update(password);
        }
        fin = round.finalize().into();
    }

    let mut out = String::with_capacity(22);
    let mut push = |v: u32, n: usize| {
        let mut v = v;
        for _ in 0..n {
            out.push(CRYPT64[(v & 0x3f) as usize] as char);
            v >>= 6;
        }
    };
    let triple = |a: usize, b: usize, c: usize| {
        (u32::from(fin[a]) << 16) | (u32::from(fin[b]) << 8) | u32::from(fin[c])
    };
    push(triple(0, 6, 12), 4);
    push(triple(1, 7, 13), 4);
    push(triple(2, 8, 14), 4);
    push(triple(3, 9, 15), 4);
    push(triple(4, 10, 5), 4);
    push(u32::from(fin[11]), 2);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(hash: &str, good: &str) {
        let h = PasswordHash::parse(hash).unwrap();
        assert!(h.verify(good.as_bytes()), "{hash} should accept {good}");
        assert!(!h.verify(b"wrong"), "{hash} should refuse `wrong`");
    }

    #[test]
    fn apr1_matches_known_vectors() {
        // `openssl passwd -apr1 -salt saltsalt password` and Apache's documented example.
        assert_eq!(
            md5_crypt_digest(b"password", b"saltsalt", b"$apr1$"),
            "yAAkm4libquA.ZWLHbSBq/"
        );
        check("$apr1$saltsalt$yAAkm4libquA.ZWLHbSBq/", "password");
        check("$apr1$H6uskkkW$IgXLP6ewTrSuBkTrqE8wj/", "test");
    }

    #[test]
    fn md5_crypt_with_the_1_magic() {
        // `openssl passwd -1 -salt saltsalt password`
        check("$1$saltsalt$qjXMvbEw8oaL.CzflDtaK/", "password");
    }

    #[test]
    fn apr1_agrees_with_openssl_passwd_when_available() {
        for (pw, salt) in [
            ("", "a"),
            ("x", "12345678"),
            ("a much longer password!", "s.l/T"),
        ] {
            let Ok(out) = std::process::Command::new("openssl")
                .args(["passwd", "-apr1", "-salt", salt, pw])
                .output()
            else {
                return; // no openssl binary: the constants above still cover the algorithm
            };
            let want = String::from_utf8_lossy(&out.stdout).trim().to_string();
            let got = format!(
                "$apr1${salt}${}",
                md5_crypt_digest(pw.as_bytes(), salt.as_bytes(), b"$apr1$")
            );
            assert_eq!(got, want, "password {pw:?} salt {salt}");
        }
    }

    #[test]
    fn sha1_and_bcrypt() {
        // `htpasswd -nbs test test`
        check("{SHA}qUqP5cyxm6YcTAhz05Hph5gvu9M=", "test");
        let b = bcrypt::hash("s3cret", 4).unwrap();
        check(&b, "s3cret");
        let y = b.replacen("$2b$", "$2y$", 1);
        check(&y, "s3cret");
        assert_eq!(PasswordHash::parse(&y).unwrap().work(), Work::Bcrypt(4));
    }

    #[test]
    fn refuses_plain_text_and_garbage_without_echoing_it() {
        for bad in [
            "hunter2",
            "$2y$10$short",
            "{SHA}notbase64!",
            "$apr1$salt$tooshort",
        ] {
            let e = PasswordHash::parse(bad).unwrap_err();
            assert!(!e.contains(bad), "{e}");
        }
    }

    #[test]
    fn dummies_do_the_same_work_and_are_cached() {
        for w in [Work::Sha1, Work::Md5Crypt, Work::Bcrypt(4)] {
            let d = PasswordHash::dummy(w).unwrap();
            assert_eq!(d.work(), w);
            assert!(!d.verify(b""));
            assert_eq!(PasswordHash::dummy(w).unwrap(), d);
        }
    }
}
