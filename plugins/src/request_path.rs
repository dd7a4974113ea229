//! Request-path normalization: routing and middlewares decide on the path the upstream gets.
//!
//! Encoded traversal and separator tricks (`/admin/..%2f`, `%2e%2e`, `//admin`, `\`, `%00`) must
//! not reach a protected route without its middlewares (the class of Traefik CVE-2025-32431,
//! CVE-2025-47952, CVE-2025-66490). So, before routing: percent-encoded unreserved characters
//! are decoded, `.`/`..` segments are resolved and `//` merged; encoded `/` and `\`, NUL and
//! other control bytes are refused (400). The normalized path is the one sent upstream.
//!
//! Two more rules keep routing and the upstream agreeing on the path:
//! - a path a middleware writes (stripPrefix, stripPrefixRegex, replacePath(Regex), addPrefix)
//!   passes the same checks as the client's ([`check_written`]): no `..;`, `%2e%2e;`, `%3b`
//!   or dot segment reaches the upstream that routing never saw;
//! - routers match the path without its segment parameters ([`routing_path`]): Tomcat-style
//!   servers read `/admin;x` as `/admin`, so it must not skip a ``Path(`/admin`)`` router and
//!   fall to a catch-all. The upstream still gets the parameters.

use std::borrow::Cow;

/// Encoded characters an entry point lets through (`entryPoints.<n>.http.encodedCharacters`,
/// Traefik v3.7's keys; all refused by default, as in Traefik). One that is allowed stays
/// encoded (upper-cased) in the path routers match and the upstream gets.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct EncodedAllowed {
    pub slash: bool,
    pub back_slash: bool,
    pub null_character: bool,
    pub semicolon: bool,
    pub percent: bool,
    pub question_mark: bool,
    pub hash: bool,
}

impl EncodedAllowed {
    /// Whether the encoded byte `c` may stay in a path.
    fn allows(self, c: u8) -> bool {
        match c {
            b'/' => self.slash,
            b'\\' => self.back_slash,
            0 => self.null_character,
            b';' => self.semicolon,
            b'%' => self.percent,
            b'?' => self.question_mark,
            b'#' => self.hash,
            _ => false,
        }
    }
}

/// Why a path is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BadPath {
    /// `%2F` or `%5C`: a separator hidden from routing.
    EncodedSeparator,
    /// NUL, a control character, a backslash or `#`.
    ForbiddenCharacter,
    /// A `%` not followed by two hex digits.
    BadEscape,
    /// `%3B`, `%25`, `%3F` or `%23`.
    EncodedReserved,
    /// A `.`/`..` segment carrying path parameters (`..;`), read as `..` by some servers.
    DotSegmentParameters,
    /// Not an absolute path.
    NotAbsolute,
    /// A `.` or `..` segment in a path a middleware wrote.
    DotSegment,
    /// An absolute-form target with userinfo (`http://user@host/`), or a host that is not a
    /// header value.
    UserinfoInTarget,
}

impl BadPath {
    pub fn reason(self) -> &'static str {
        match self {
            BadPath::EncodedSeparator => "encoded '/' or '\\' in the path\n",
            BadPath::ForbiddenCharacter => "forbidden character in the path\n",
            BadPath::BadEscape => "malformed percent-encoding in the path\n",
            BadPath::EncodedReserved => "encoded ';', '%', '?' or '#' in the path\n",
            BadPath::DotSegmentParameters => "path parameters on an empty or dot segment\n",
            BadPath::NotAbsolute => "the path must start with '/'\n",
            BadPath::DotSegment => "a rewritten path would contain a dot segment\n",
            BadPath::UserinfoInTarget => "userinfo or a bad host in the request target\n",
        }
    }
}

/// The normalized form of `raw` with no encoded character allowed; borrowed (no allocation)
/// when it is already normal.
pub fn normalize(raw: &str) -> Result<Cow<'_, str>, BadPath> {
    normalize_with(raw, EncodedAllowed::default())
}

/// The normalized form of `raw`, letting the `allowed` encoded characters through.
pub fn normalize_with(raw: &str, allowed: EncodedAllowed) -> Result<Cow<'_, str>, BadPath> {
    let bytes = raw.as_bytes();
    if bytes.first() != Some(&b'/') {
        // `*` (OPTIONS) and absolute-form targets are left to Pingora's parser
        return if raw == "*" {
            Ok(Cow::Borrowed(raw))
        } else {
            Err(BadPath::NotAbsolute)
        };
    }
    let mut needs_work = false;
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            0..=0x1f | 0x7f | b'\\' | b'#' => return Err(BadPath::ForbiddenCharacter),
            b'%' => needs_work = true,
            b';' => needs_work = true,
            b'/' if matches!(bytes.get(i + 1), Some(b'/') | Some(b'.')) => needs_work = true,
            _ => {}
        }
    }
    if !needs_work {
        return Ok(Cow::Borrowed(raw));
    }
    let decoded = decode_unreserved(raw, allowed)?;
    // `..;x`, `.;x` and `;x` segments: Tomcat/Jetty read them as `..`, `.` and an empty segment
    for segment in decoded.split('/') {
        if let Some((before, _)) = segment.split_once(';') {
            if before.is_empty() || before == "." || before == ".." {
                return Err(BadPath::DotSegmentParameters);
            }
        }
    }
    Ok(Cow::Owned(remove_dot_segments(&decoded)))
}

/// Checks a path pylon itself wrote (after a middleware): the client-path checks of
/// [`normalize`], and no `.`/`..` segment in any spelling (routing decided on a path without
/// them). Merged `//` are not required: a rewrite may leave one, as Traefik's do.
pub fn check_written(path: &str, allowed: EncodedAllowed) -> Result<(), BadPath> {
    normalize_with(path, allowed)?;
    match path.split('/').any(is_dot_segment) {
        true => Err(BadPath::DotSegment),
        false => Ok(()),
    }
}

/// `.` or `..`, any of them written `%2e` (any case); no allocation.
fn is_dot_segment(segment: &str) -> bool {
    let s = segment.as_bytes();
    let is = |spelling: &[u8]| s.eq_ignore_ascii_case(spelling);
    is(b".") || is(b"..") || is(b"%2e") || is(b".%2e") || is(b"%2e.") || is(b"%2e%2e")
}

/// The path routers match: `path` without the `;parameters` of its segments (what
/// Tomcat-style servers resolve). Borrowed, no allocation, when the path has no `;`.
pub fn routing_path(path: &str) -> Cow<'_, str> {
    if !path.contains(';') {
        return Cow::Borrowed(path);
    }
    let mut out = String::with_capacity(path.len());
    for (i, segment) in path.split('/').enumerate() {
        if i > 0 {
            out.push('/');
        }
        out.push_str(segment.split(';').next().unwrap_or(""));
    }
    Cow::Owned(out)
}

fn hex(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

/// Decodes `%XX` of unreserved characters; keeps other escapes (upper-cased); refuses
/// encoded separators and control bytes.
fn decode_unreserved(raw: &str, allowed: EncodedAllowed) -> Result<String, BadPath> {
    let bytes = raw.as_bytes();
    let mut out = String::with_capacity(raw.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'%' {
            // Copy up to the next escape as text: a non-ASCII character (`é` is two bytes)
            // stays whole. `%` is ASCII, so the slice ends on a character boundary.
            let end = raw[i..].find('%').map_or(raw.len(), |n| i + n);
            out.push_str(&raw[i..end]);
            i = end;
            continue;
        }
        let (Some(h), Some(l)) = (
            bytes.get(i + 1).and_then(|b| hex(*b)),
            bytes.get(i + 2).and_then(|b| hex(*b)),
        ) else {
            return Err(BadPath::BadEscape);
        };
        let c = h * 16 + l;
        match c {
            _ if allowed.allows(c) => push_escaped(&mut out, c),
            b'/' | b'\\' => return Err(BadPath::EncodedSeparator),
            0..=0x1f | 0x7f => return Err(BadPath::ForbiddenCharacter),
            // `;` `%` `?` `#` encoded in a path only serve to hide structure from routing
            // (path parameters, double encoding, query and fragment): refused, as Traefik does
            b';' | b'%' | b'?' | b'#' => return Err(BadPath::EncodedReserved),
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(c as char)
            }
            _ => push_escaped(&mut out, c),
        }
        i += 3;
    }
    Ok(out)
}

/// `%XX` of `c`, upper-case hex.
fn push_escaped(out: &mut String, c: u8) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    out.push('%');
    out.push(HEX[usize::from(c >> 4)] as char);
    out.push(HEX[usize::from(c & 0xf)] as char);
}

/// RFC 3986 dot-segment removal, also merging empty segments (`//`).
fn remove_dot_segments(path: &str) -> String {
    let mut segments: Vec<&str> = Vec::new();
    for seg in path.split('/').skip(1) {
        match seg {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            s => segments.push(s),
        }
    }
    let trailing = path.ends_with('/') || path.ends_with("/.") || path.ends_with("/..");
    let mut out = String::with_capacity(path.len());
    for s in &segments {
        out.push('/');
        out.push_str(s);
    }
    if out.is_empty() || (trailing && !segments.is_empty()) {
        out.push('/');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(p: &str) -> Result<String, BadPath> {
        normalize(p).map(|c| c.into_owned())
    }

    #[test]
    fn normal_paths_are_borrowed() {
        assert!(matches!(normalize("/api/users/1"), Ok(Cow::Borrowed(_))));
        assert!(matches!(normalize("/a.b/c-d_e~f"), Ok(Cow::Borrowed(_))));
    }

    #[test]
    fn traversal_and_separator_tricks_are_resolved_or_refused() {
        assert_eq!(n("//admin"), Ok("/admin".into()));
        assert_eq!(n("/public/../admin"), Ok("/admin".into()));
        assert_eq!(n("/public/%2e%2e/admin"), Ok("/admin".into()));
        assert_eq!(n("/public/%2E%2E/admin/"), Ok("/admin/".into()));
        assert_eq!(n("/./admin"), Ok("/admin".into()));
        assert_eq!(n("/%61dmin"), Ok("/admin".into()));
        assert_eq!(n("/.."), Ok("/".into()));
        assert_eq!(n("/admin/..%2f"), Err(BadPath::EncodedSeparator));
        assert_eq!(n("/admin%5c..%5cx"), Err(BadPath::EncodedSeparator));
        assert_eq!(n("/admin%00.js"), Err(BadPath::ForbiddenCharacter));
        assert_eq!(n("/admin\\x"), Err(BadPath::ForbiddenCharacter));
        assert_eq!(n("/a#b"), Err(BadPath::ForbiddenCharacter));
        assert_eq!(n("/a%zz"), Err(BadPath::BadEscape));
    }

    #[test]
    fn other_escapes_are_kept_upper_cased() {
        assert_eq!(n("/a%20b/%c3%a9"), Ok("/a%20b/%C3%A9".into()));
        assert_eq!(n("/admin;x=1"), Ok("/admin;x=1".into()));
    }

    #[test]
    fn non_ascii_paths_stay_intact() {
        assert_eq!(n("/café//menu/../carte"), Ok("/café/carte".into()));
        assert_eq!(n("/日本/%41"), Ok("/日本/A".into()));
    }

    #[test]
    fn written_paths_pass_the_client_checks_and_have_no_dot_segment() {
        for p in [
            "/admin",
            "/api//x",
            "/a;jsessionid=1/b",
            "/caf%C3%A9",
            "/a..b",
        ] {
            assert_eq!(check_written(p, EncodedAllowed::default()), Ok(()), "{p}");
        }
        for (p, why) in [
            ("/..;/admin", BadPath::DotSegmentParameters),
            ("/%2e%2e;/admin", BadPath::DotSegmentParameters),
            ("/x/..%3b/admin", BadPath::EncodedReserved),
            ("/;x/admin", BadPath::DotSegmentParameters),
            ("/../admin", BadPath::DotSegment),
            ("/a/%2E/b", BadPath::DotSegment),
            ("/a%2fb", BadPath::EncodedSeparator),
        ] {
            assert_eq!(check_written(p, EncodedAllowed::default()), Err(why), "{p}");
        }
    }

    #[test]
    fn allowed_encoded_characters_stay_encoded_and_others_are_still_refused() {
        let slash = EncodedAllowed {
            slash: true,
            ..EncodedAllowed::default()
        };
        let w = |p| normalize_with(p, slash).map(|c| c.into_owned());
        assert_eq!(w("/a%2fb/../c"), Ok("/c".into()));
        assert_eq!(w("/a%2fb/c"), Ok("/a%2Fb/c".into()));
        assert_eq!(w("/a%5cb"), Err(BadPath::EncodedSeparator));
        assert_eq!(w("/a%3bb"), Err(BadPath::EncodedReserved));
        let all = EncodedAllowed {
            slash: true,
            back_slash: true,
            null_character: true,
            semicolon: true,
            percent: true,
            question_mark: true,
            hash: true,
        };
        let a = |p| normalize_with(p, all).map(|c| c.into_owned());
        assert_eq!(a("/%5c%00%3b%25%3f%23"), Ok("/%5C%00%3B%25%3F%23".into()));
        assert_eq!(
            a("/%01"),
            Err(BadPath::ForbiddenCharacter),
            "not in the list"
        );
        assert_eq!(check_written("/x%2Fy", slash), Ok(()));
        assert_eq!(
            check_written("/x%2Fy", EncodedAllowed::default()),
            Err(BadPath::EncodedSeparator)
        );
    }

    #[test]
    fn routing_ignores_segment_parameters() {
        assert!(matches!(
            routing_path("/admin/x"),
            Cow::Borrowed("/admin/x")
        ));
        assert_eq!(routing_path("/admin;x=1"), "/admin");
        assert_eq!(routing_path("/admin;a/b;c=d/"), "/admin/b/");
        assert_eq!(routing_path("/admin;"), "/admin");
    }

    #[test]
    fn path_parameter_and_double_encoding_tricks_are_refused() {
        assert_eq!(n("/public/..;/admin"), Err(BadPath::DotSegmentParameters));
        assert_eq!(
            n("/public/%2e%2e;/admin"),
            Err(BadPath::DotSegmentParameters)
        );
        assert_eq!(n("/;/admin"), Err(BadPath::DotSegmentParameters));
        assert_eq!(n("/;x=1/admin"), Err(BadPath::DotSegmentParameters));
        assert_eq!(n("/public/..%3b/admin"), Err(BadPath::EncodedReserved));
        assert_eq!(n("/public/%252e%252e/admin"), Err(BadPath::EncodedReserved));
        assert_eq!(n("/%2561dmin"), Err(BadPath::EncodedReserved));
        assert_eq!(n("/a%3Fb"), Err(BadPath::EncodedReserved));
    }
}
