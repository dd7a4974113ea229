//! The error type for rules that fail to parse or validate, pointing at a column.

use std::fmt;

/// A rule that could not be parsed or validated.
///
/// `column` is the 1-based *character* (not byte) column of the offending
/// spot; a column one past the last character means "at the end of the rule".
///
/// `Display` renders the message, the rule and a caret under the column:
///
/// ```text
/// unknown matcher `Hots` at column 1
///   Hots(`example.com`)
///   ^
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleError {
    /// The full rule text as given.
    pub rule: String,
    /// 1-based character column of the error.
    pub column: usize,
    /// What is wrong, without the position.
    pub message: String,
}

impl RuleError {
    /// Build an error for `rule` at 1-based character `column`.
    pub fn new(rule: &str, column: usize, message: impl Into<String>) -> Self {
        RuleError {
            rule: rule.to_owned(),
            column: column.max(1),
            message: message.into(),
        }
    }
}

impl fmt::Display for RuleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{} at column {}", self.message, self.column)?;
        // Line breaks and tabs would move the caret off its character, so the
        // echoed rule shows each of them as one space.
        let echoed: String = self
            .rule
            .chars()
            .map(|c| if c.is_whitespace() { ' ' } else { c })
            .collect();
        writeln!(f, "  {echoed}")?;
        write!(f, "  {:width$}^", "", width = self.column - 1)
    }
}

impl std::error::Error for RuleError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_points_at_the_column() {
        let err = RuleError::new("Hots(`a`)", 1, "unknown matcher `Hots`");
        assert_eq!(
            err.to_string(),
            "unknown matcher `Hots` at column 1\n  Hots(`a`)\n  ^"
        );
        let err = RuleError::new("Path(`/a`", 10, "expected `)`");
        assert_eq!(
            err.to_string(),
            "expected `)` at column 10\n  Path(`/a`\n           ^"
        );
    }

    #[test]
    fn display_keeps_caret_aligned_across_line_breaks() {
        let err = RuleError::new("Path(`/a`) &&\n\tX", 16, "boom");
        assert_eq!(
            err.to_string(),
            "boom at column 16\n  Path(`/a`) &&  X\n                 ^"
        );
    }

    #[test]
    fn is_a_std_error() {
        let err: Box<dyn std::error::Error> = Box::new(RuleError::new("", 1, "empty rule"));
        assert!(err.to_string().starts_with("empty rule at column 1"));
    }
}
