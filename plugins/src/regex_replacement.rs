//! The `regex` + `replacement` pair that `redirectRegex` and `replacePathRegex` share: the regex
//! compiled once, both keys required, problems named by key with an example of each.

use crate::build::Problems;
use regex::Regex;

/// Examples shown in the hints when a key is missing.
pub struct Examples {
    pub regex: &'static str,
    pub replacement: &'static str,
}

/// The compiled regex and the replacement, or `None` with the problems pushed.
pub fn build(
    regex: Option<&str>,
    replacement: Option<&str>,
    examples: Examples,
    problems: &mut Problems,
) -> Option<(Regex, String)> {
    let regex = match regex {
        None | Some("") => {
            problems.push(
                "regex",
                "no regex is set",
                Some(format!("write e.g. regex = \"{}\"", examples.regex)),
            );
            None
        }
        Some(re) => Regex::new(re)
            .map_err(|e| problems.push("regex", format!("invalid regex: {e}"), None))
            .ok(),
    };
    let replacement = replacement.filter(|r| !r.is_empty()).map(str::to_string);
    if replacement.is_none() {
        problems.push(
            "replacement",
            "no replacement is set",
            Some(format!(
                "write e.g. replacement = \"{}\"",
                examples.replacement
            )),
        );
    }
    regex.zip(replacement)
}
