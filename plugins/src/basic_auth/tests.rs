//! Unit tests of the basicAuth middleware's checks (the proxy path is tested end to end).

use super::*;

/// Where the checks in these tests come from.
const CLIENT: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 1));

fn basic(user: &str, password: &str) -> Vec<u8> {
    let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    format!("Basic {token}").into_bytes()
}

fn auth(lines: &[&str]) -> BasicAuth {
    let users = lines.iter().map(|l| parse_user(l).unwrap()).collect();
    BasicAuth::new("t", users, BasicAuthOptions::default()).unwrap()
}

#[test]
fn parses_htpasswd_lines_like_traefik() {
    let (user, hash) = parse_user("test:$apr1$H6uskkkW$IgXLP6ewTrSuBkTrqE8wj/").unwrap();
    assert_eq!(user, "test");
    assert_eq!(hash.work(), Work::Md5Crypt);
    assert!(parse_user("nocolon").is_err());
    assert!(parse_user("a:b:c").is_err());
    assert!(parse_user(":{SHA}qUqP5cyxm6YcTAhz05Hph5gvu9M=").is_err());
    assert!(parse_user("a\tb:{SHA}qUqP5cyxm6YcTAhz05Hph5gvu9M=").is_err());
    let e = parse_user("bob:plaintextsecret").unwrap_err();
    assert!(e.contains("bob") && !e.contains("plaintextsecret"), "{e}");
}

#[test]
fn file_lines_skip_blanks_and_comments_and_keep_line_numbers() {
    let text = "# users\n\n  a:{SHA}x  \n#b:y\nc:z\n";
    let got: Vec<_> = file_lines(text).collect();
    assert_eq!(got, vec![(3, "a:{SHA}x"), (5, "c:z")]);
}

#[test]
fn parse_basic_reads_like_go() {
    assert_eq!(
        parse_basic(&basic("u", "p:w")),
        Some(("u".to_string(), b"p:w".to_vec()))
    );
    assert_eq!(
        parse_basic(b"bAsIc dTpw"),
        Some(("u".to_string(), b"p".to_vec()))
    );
    assert_eq!(parse_basic(b"Bearer abc"), None);
    assert_eq!(parse_basic(b"Basic !!!"), None);
    assert_eq!(parse_basic(b"Basic dXNlcg=="), None, "no colon");
}

#[tokio::test]
async fn accepts_each_hash_kind_and_refuses_wrong_or_unknown() {
    let b = bcrypt::hash("bpass", 4).unwrap();
    let a = auth(&[
        "sha:{SHA}qUqP5cyxm6YcTAhz05Hph5gvu9M=",
        "apr:$apr1$H6uskkkW$IgXLP6ewTrSuBkTrqE8wj/",
        &format!("bc:{b}"),
    ]);
    for (u, p) in [("sha", "test"), ("apr", "test"), ("bc", "bpass")] {
        assert!(
            matches!(a.check(&basic(u, p), CLIENT).await, Verdict::Accepted(ref x) if x.name == u),
            "{u}"
        );
        assert!(
            matches!(a.check(&basic(u, "nope"), CLIENT).await, Verdict::Refused(ref n) if n == u)
        );
    }
    assert!(matches!(
        a.check(&basic("ghost", "test"), CLIENT).await,
        Verdict::Refused(_)
    ));
    assert!(matches!(
        a.check(b"Basic %%%", CLIENT).await,
        Verdict::Missing
    ));
}

#[tokio::test]
async fn later_entries_replace_earlier_ones() {
    let a = auth(&[
        "u:{SHA}qUqP5cyxm6YcTAhz05Hph5gvu9M=",
        "u:$apr1$saltsalt$yAAkm4libquA.ZWLHbSBq/",
    ]);
    assert!(matches!(
        a.check(&basic("u", "password"), CLIENT).await,
        Verdict::Accepted(_)
    ));
    assert!(matches!(
        a.check(&basic("u", "test"), CLIENT).await,
        Verdict::Refused(_)
    ));
}

#[tokio::test]
async fn successes_are_remembered_under_a_keyed_digest_only() {
    let b = bcrypt::hash("pw", 4).unwrap();
    let a = auth(&[&format!("u:{b}")]);
    let value = basic("u", "pw");
    assert!(matches!(
        a.check(&value, CLIENT).await,
        Verdict::Accepted(_)
    ));
    let key = a.cache_key(&value);
    assert!(a.lock_cache().contains(&key));
    assert_ne!(
        &key[..],
        &openssl::sha::sha256(&value)[..],
        "keyed, not a bare hash"
    );
    // failures are never cached
    assert!(matches!(
        a.check(&basic("u", "bad"), CLIENT).await,
        Verdict::Refused(_)
    ));
    assert_eq!(a.lock_cache().len(), 1);
}

#[test]
fn the_dummy_does_the_work_most_users_do() {
    let b4 = bcrypt::hash("x", 4).unwrap();
    let b5 = bcrypt::hash("x", 5).unwrap();
    let a = auth(&[
        &format!("a:{b4}"),
        &format!("b:{b4}"),
        &format!("c:{b5}"),
        "d:{SHA}qUqP5cyxm6YcTAhz05Hph5gvu9M=",
    ]);
    assert_eq!(a.dummy_work(), Work::Bcrypt(4));
    let tie = auth(&[&format!("a:{b4}"), &format!("c:{b5}")]);
    assert_eq!(tie.dummy_work(), Work::Bcrypt(5), "ties pick the costlier");
}

#[test]
fn challenge_quotes_the_realm_and_rejects_control_characters() {
    let r = challenge("my \"realm\"").unwrap();
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.headers[0].1, "Basic realm=\"my \\\"realm\\\"\"");
    assert_eq!(&r.body[..], b"401 Unauthorized\n");
    assert!(challenge("bad\nrealm").is_err());
    let d = BasicAuth::new("t", vec![], BasicAuthOptions::default()).unwrap();
    assert_eq!(d.challenge.headers[0].1, "Basic realm=\"traefik\"");
}
