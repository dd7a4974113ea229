//! The `circuitBreaker` settings (Traefik's keys and defaults) and their build: the expression
//! is parsed here, once; every problem is reported at its key.

use super::expression;
use super::state::Timing;
use super::CircuitBreaker;
use crate::build::{BuildCx, BuildResult, Problems};
use crate::duration::Duration;
use http::StatusCode;
use serde::{Deserialize, Serialize};

/// Traefik's `circuitBreaker`: `expression`, `checkPeriod`, `fallbackDuration`,
/// `recoveryDuration`, `responseCode`.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Config {
    pub expression: Option<String>,
    pub check_period: Option<Duration>,
    pub fallback_duration: Option<Duration>,
    pub recovery_duration: Option<Duration>,
    pub response_code: Option<i64>,
}

/// Traefik's defaults (a zero duration also means the default, as in Traefik).
const CHECK_PERIOD_MS: u64 = 100;
const FALLBACK_S: u64 = 10;
const RECOVERY_S: u64 = 10;

const EXAMPLE: &str = "e.g. expression = \"NetworkErrorRatio() > 0.30\" or \"ResponseCodeRatio(500, 600, 0, 600) > 0.25\"";

/// Parses the expression and checks the response code, and builds the breaker.
pub fn build(cfg: &Config, cx: &BuildCx) -> BuildResult<CircuitBreaker> {
    let mut problems = Problems::new(cx, "circuitBreaker");
    let condition = match cfg.expression.as_deref() {
        None => {
            problems.push("expression", "no expression is set", Some(EXAMPLE.into()));
            None
        }
        Some(text) if text.trim().is_empty() => {
            problems.push("expression", "no expression is set", Some(EXAMPLE.into()));
            None
        }
        Some(text) => match expression::parse(text) {
            Ok(e) => Some(e),
            Err(e) => {
                problems.push(
                    "expression",
                    format!("`{}`: {e}", text.escape_debug()),
                    Some(format!(
                        "metrics: {}; operators: < <= > >= == != && || and parentheses",
                        expression::FUNCTIONS.map(|f| format!("{f}()")).join(", ")
                    )),
                );
                None
            }
        },
    };
    let code = cfg.response_code.unwrap_or(503);
    let status = u16::try_from(code)
        .ok()
        .filter(|c| *c >= 200)
        .and_then(|c| StatusCode::from_u16(c).ok());
    if status.is_none() {
        problems.push(
            "responseCode",
            format!("`{code}` is not a status code a fallback can answer with"),
            Some("use a final status from 200 to 999, e.g. responseCode = 503".into()),
        );
    }
    let (Some(condition), Some(status)) = (condition, status) else {
        return Err(problems.into_errors());
    };
    let nanos = |d: Option<Duration>, default: std::time::Duration| {
        let d = d
            .map(Duration::get)
            .filter(|d| !d.is_zero())
            .unwrap_or(default);
        u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
    };
    let timing = Timing {
        check_period: nanos(
            cfg.check_period,
            std::time::Duration::from_millis(CHECK_PERIOD_MS),
        ),
        fallback: nanos(
            cfg.fallback_duration,
            std::time::Duration::from_secs(FALLBACK_S),
        ),
        recovery: nanos(
            cfg.recovery_duration,
            std::time::Duration::from_secs(RECOVERY_S),
        ),
    };
    problems.finish(|| CircuitBreaker::new(condition, timing, status))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::build::test_cx;

    fn errors(text: &str) -> Vec<(String, String)> {
        build(&toml::from_str(text).unwrap(), &test_cx())
            .err()
            .unwrap_or_default()
            .into_iter()
            .map(|e| (e.key_path, e.message))
            .collect()
    }

    #[test]
    fn defaults_are_traefiks() {
        let b = build(
            &toml::from_str("expression = \"NetworkErrorRatio() > 0.5\"").unwrap(),
            &test_cx(),
        )
        .unwrap();
        assert_eq!(
            b.timing(),
            Timing {
                check_period: 100_000_000,
                fallback: 10_000_000_000,
                recovery: 10_000_000_000
            }
        );
        assert_eq!(b.response_code(), StatusCode::SERVICE_UNAVAILABLE);
        let b = build(
            &toml::from_str(
                "expression = \"NetworkErrorRatio() > 0.5\"\ncheckPeriod = \"1s\"\nfallbackDuration = \"0s\"\nrecoveryDuration = 3\nresponseCode = 429\n",
            )
            .unwrap(),
            &test_cx(),
        )
        .unwrap();
        assert_eq!(
            b.timing(),
            Timing {
                check_period: 1_000_000_000,
                fallback: 10_000_000_000,
                recovery: 3_000_000_000
            }
        );
        assert_eq!(b.response_code(), StatusCode::TOO_MANY_REQUESTS);
    }

    #[test]
    fn problems_are_named_by_key_with_the_column() {
        let key = "http.middlewares.m.circuitBreaker";
        assert_eq!(
            errors("responseCode = 99\n"),
            [
                (
                    format!("{key}.expression"),
                    "no expression is set".to_string()
                ),
                (
                    format!("{key}.responseCode"),
                    "`99` is not a status code a fallback can answer with".to_string()
                )
            ]
        );
        let e = errors("expression = \"NetworkErrorRatio() >> 0.5\"\n");
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].0, format!("{key}.expression"));
        assert!(e[0].1.contains("column 22"), "{}", e[0].1);
        assert_eq!(
            errors("expression = \"  \"\nresponseCode = 1000\n").len(),
            2
        );
        assert!(errors("expression = \"RequestThreshold() > 1\"\nresponseCode = 200\n").is_empty());
    }

    #[test]
    fn unknown_keys_are_refused() {
        assert!(toml::from_str::<Config>("expresion = \"x\"").is_err());
    }
}
