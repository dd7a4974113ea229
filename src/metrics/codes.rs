//! Status codes as label values without formatting per request: "100" ..= "599" made once.

use std::sync::OnceLock;

/// `code` as text ("200"); codes outside 100..=599 read as "0".
pub fn code_label(code: u16) -> &'static str {
    static CODES: OnceLock<Vec<String>> = OnceLock::new();
    let codes = CODES.get_or_init(|| (100..600).map(|c: u16| c.to_string()).collect());
    match code {
        100..=599 => &codes[usize::from(code - 100)],
        _ => "0",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_their_text() {
        assert_eq!(code_label(200), "200");
        assert_eq!(code_label(599), "599");
        assert_eq!(code_label(100), "100");
        assert_eq!(code_label(42), "0");
    }
}
