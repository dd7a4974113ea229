//! Configuration errors: each names its origin (file), its key path, and how to fix it.

use serde::de;

/// One problem found in a configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The file (or provider) the key came from.
    pub origin: String,
    /// The full key path, e.g. `http.routers.api.rule`.
    pub key_path: String,
    pub message: String,
    pub hint: Option<String>,
}

impl ConfigError {
    pub fn new(origin: &str, key_path: impl Into<String>, message: impl Into<String>) -> Self {
        ConfigError {
            origin: origin.to_string(),
            key_path: key_path.into(),
            message: message.into(),
            hint: None,
        }
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.key_path.is_empty() {
            write!(f, "{}: {}", self.origin, self.message)?;
        } else {
            write!(f, "{}: {}: {}", self.origin, self.key_path, self.message)?;
        }
        if let Some(hint) = &self.hint {
            write!(f, "\n  hint: {hint}")?;
        }
        Ok(())
    }
}

/// Every problem found; a configuration with any of them is not used.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ConfigErrors(pub Vec<ConfigError>);

impl ConfigErrors {
    pub fn len(&self) -> usize {
        self.0.len()
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    pub fn iter(&self) -> impl Iterator<Item = &ConfigError> {
        self.0.iter()
    }
}

impl From<ConfigError> for ConfigErrors {
    fn from(e: ConfigError) -> Self {
        ConfigErrors(vec![e])
    }
}

impl std::fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "error: {e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigErrors {}

/// What went wrong, kept structured so the loader can word it with the full key path.
#[derive(Debug, Clone, PartialEq)]
pub enum TreeError {
    /// A key that names no field of its section.
    UnknownKey {
        key: String,
        expected: &'static [&'static str],
    },
    /// A value (or a type key such as a middleware type) that names no variant.
    UnknownVariant {
        variant: String,
        expected: &'static [&'static str],
    },
    /// A required key that is absent.
    MissingKey(&'static str),
    /// Anything else, in serde's or the model's own words.
    Message(String),
}

impl std::fmt::Display for TreeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TreeError::UnknownKey { key, expected } => {
                write!(f, "unknown key `{key}`: expected {}", one_of(expected))
            }
            TreeError::UnknownVariant { variant, expected } => {
                write!(
                    f,
                    "unknown value `{variant}`: expected {}",
                    one_of(expected)
                )
            }
            TreeError::MissingKey(key) => write!(f, "missing required key `{key}`"),
            TreeError::Message(m) => f.write_str(m),
        }
    }
}

/// "`a`, `b`".
pub fn quoted(names: &[&str]) -> String {
    let quoted: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
    quoted.join(", ")
}

/// "one of `a`, `b`", "`a`", or "no keys here".
pub fn one_of(names: &[&str]) -> String {
    match names.len() {
        0 => "no keys here".to_string(),
        1 => quoted(names),
        _ => format!("one of {}", quoted(names)),
    }
}

impl std::error::Error for TreeError {}

impl de::Error for TreeError {
    fn custom<T: std::fmt::Display>(msg: T) -> Self {
        TreeError::Message(msg.to_string())
    }
    fn unknown_field(field: &str, expected: &'static [&'static str]) -> Self {
        TreeError::UnknownKey {
            key: field.to_string(),
            expected,
        }
    }
    fn unknown_variant(variant: &str, expected: &'static [&'static str]) -> Self {
        TreeError::UnknownVariant {
            variant: variant.to_string(),
            expected,
        }
    }
    fn missing_field(field: &'static str) -> Self {
        TreeError::MissingKey(field)
    }
}
