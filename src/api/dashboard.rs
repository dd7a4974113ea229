//! The web dashboard: three static files embedded in the binary (no CDN, works offline) that
//! read the API from the browser.

use http::StatusCode;

/// One dashboard answer.
pub struct Asset {
    pub status: StatusCode,
    pub body: &'static [u8],
    pub content_type: &'static str,
    /// Where a redirect points (`/dashboard` → `/dashboard/`).
    pub location: Option<&'static str>,
}

const INDEX: &str = include_str!("dashboard/index.html");
const SCRIPT: &str = include_str!("dashboard/app.js");
const STYLE: &str = include_str!("dashboard/style.css");

/// The CSP the dashboard's pages are sent with: nothing but its own files and the API.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self'; connect-src 'self'; img-src 'self' data:; frame-ancestors 'none'; \
     base-uri 'none'; form-action 'none'";

/// The file for `path` (under `/dashboard`).
pub fn asset(path: &str) -> Asset {
    let ok = |body: &'static str, content_type| Asset {
        status: StatusCode::OK,
        body: body.as_bytes(),
        content_type,
        location: None,
    };
    match path {
        "/dashboard" => Asset {
            status: StatusCode::MOVED_PERMANENTLY,
            body: b"",
            content_type: "text/plain; charset=utf-8",
            location: Some("/dashboard/"),
        },
        "/dashboard/" | "/dashboard/index.html" => ok(INDEX, "text/html; charset=utf-8"),
        "/dashboard/app.js" => ok(SCRIPT, "text/javascript; charset=utf-8"),
        "/dashboard/style.css" => ok(STYLE, "text/css; charset=utf-8"),
        _ => Asset {
            status: StatusCode::NOT_FOUND,
            body: b"404 page not found\n",
            content_type: "text/plain; charset=utf-8",
            location: None,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serves_the_three_files_and_redirects_the_bare_path() {
        assert_eq!(asset("/dashboard/").status, StatusCode::OK);
        assert!(asset("/dashboard/").content_type.starts_with("text/html"));
        assert_eq!(asset("/dashboard/app.js").status, StatusCode::OK);
        assert_eq!(asset("/dashboard/style.css").status, StatusCode::OK);
        assert_eq!(asset("/dashboard").location, Some("/dashboard/"));
        assert_eq!(asset("/dashboard/../etc").status, StatusCode::NOT_FOUND);
    }

    #[test]
    fn the_page_loads_only_its_own_files() {
        assert!(INDEX.contains("src=\"app.js\""));
        assert!(!INDEX.contains("http://") && !INDEX.contains("https://"));
        assert!(!SCRIPT.contains("http://") && !SCRIPT.contains("https://"));
    }
}
