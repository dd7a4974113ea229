//! digestAuth's checks on plain requests: what is accepted, what is challenged (and how), and
//! the failure guard.

use super::*;

const HA1: &str = "a2688e031edb4be6a3797f3882655c05"; // test:traefik:test

fn auth() -> DigestAuth {
    DigestAuth::new(
        "t",
        vec![("test".into(), "traefik".into(), HA1.into())],
        DigestOptions {
            realm: "traefik".into(),
            header_field: None,
            remove_header: false,
        },
    )
    .unwrap()
}

/// The nonce of a fresh challenge.
fn nonce(a: &DigestAuth) -> String {
    let reply = a.challenge(false);
    let (_, v) = reply
        .headers
        .iter()
        .find(|(k, _)| *k == WWW_AUTHENTICATE)
        .unwrap();
    let p = params::parse(v.as_bytes()).unwrap();
    p["nonce"].clone()
}

/// A request for `uri` with a digest computed for `password`.
fn request(
    a: &DigestAuth,
    nonce: &str,
    nc: &str,
    uri: &str,
    user: &str,
    password: &str,
) -> RequestHeader {
    let ha1 = md5_hex(&[user, "traefik", password]);
    let ha2 = md5_hex(&["GET", uri]);
    let response = md5_hex(&[&ha1, nonce, nc, "c0ffee", "auth", &ha2]);
    let mut req = RequestHeader::build("GET", uri.as_bytes(), None).unwrap();
    let value = format!(
        "Digest username=\"{user}\", realm=\"traefik\", nonce=\"{nonce}\", uri=\"{uri}\", \
         algorithm=MD5, qop=auth, nc={nc}, cnonce=\"c0ffee\", response=\"{response}\", opaque=\"{}\"",
        a.opaque
    );
    req.insert_header(AUTHORIZATION, value).unwrap();
    req
}

fn ip() -> IpAddr {
    "192.0.2.7".parse().unwrap()
}

#[test]
fn the_challenge_is_traefiks() {
    let a = auth();
    let r = a.challenge(true);
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(&r.body[..], b"401 Unauthorized\n");
    let (_, v) = r
        .headers
        .iter()
        .find(|(k, _)| *k == WWW_AUTHENTICATE)
        .unwrap();
    let v = v.to_str().unwrap();
    assert!(v.starts_with("Digest realm=\"traefik\", nonce=\""), "{v}");
    assert!(
        v.ends_with(", algorithm=MD5, qop=\"auth\", stale=true"),
        "{v}"
    );
}

#[test]
fn a_right_response_is_accepted_once_per_count() {
    let a = auth();
    let n = nonce(&a);
    let now = Instant::now();
    let req = request(&a, &n, "00000001", "/private?x=1", "test", "test");
    assert!(matches!(a.check(&req, ip(), now), Verdict::Accepted(u) if u == "test"));
    assert!(
        matches!(a.check(&req, ip(), now), Verdict::Refused(_)),
        "a replay"
    );
    let next = request(&a, &n, "00000002", "/private?x=1", "test", "test");
    assert!(matches!(a.check(&next, ip(), now), Verdict::Accepted(_)));
}

#[test]
fn wrong_passwords_unknown_users_and_foreign_nonces_are_not_accepted() {
    let a = auth();
    let n = nonce(&a);
    let now = Instant::now();
    let wrong = request(&a, &n, "00000001", "/", "test", "nope");
    assert!(matches!(a.check(&wrong, ip(), now), Verdict::Refused(_)));
    let unknown = request(&a, &n, "00000001", "/", "mallory", "test");
    assert!(matches!(a.check(&unknown, ip(), now), Verdict::Refused(_)));
    let made_up = request(&a, "0123456789abcdef", "00000001", "/", "test", "test");
    assert!(matches!(a.check(&made_up, ip(), now), Verdict::Stale));
    // another middleware's opaque: not ours to judge
    let other = auth();
    let foreign = request(&other, &n, "00000001", "/", "test", "test");
    assert!(matches!(a.check(&foreign, ip(), now), Verdict::Missing));
}

#[test]
fn the_uri_must_be_the_requests() {
    let a = auth();
    let n = nonce(&a);
    let now = Instant::now();
    let mut req = request(&a, &n, "00000001", "/a", "test", "test");
    req.set_uri("/b".parse().unwrap());
    assert!(matches!(a.check(&req, ip(), now), Verdict::Missing));
    // go-http-auth lets a path prefix stand for the target
    let mut req = request(&a, &n, "00000001", "/a", "test", "test");
    req.set_uri("/a/deeper".parse().unwrap());
    assert!(matches!(a.check(&req, ip(), now), Verdict::Accepted(_)));
}

#[test]
fn repeated_failures_are_throttled() {
    let a = auth();
    let n = nonce(&a);
    let now = Instant::now();
    for i in 0..MAX_FAILURES {
        let wrong = request(&a, &n, &format!("{:08x}", i + 1), "/", "test", "nope");
        assert!(
            matches!(a.check(&wrong, ip(), now), Verdict::Refused(_)),
            "{i}"
        );
    }
    let right = request(&a, &n, "000000ff", "/", "test", "test");
    assert!(matches!(a.check(&right, ip(), now), Verdict::Throttled(_)));
    assert!(a.guard.blocked(ip(), now).is_some());
}
