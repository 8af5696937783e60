//! Writing text back so it reads as one token ([`quote`]), and showing
//! text from users or peers on a terminal without letting it move the
//! cursor or fake a line ([`escape_controls`]).
//!
//! [`quote`] is the inverse of the tokenizer ([`crate::command::tokenize`]):
//! `tokenize(quote(s))` is `[s]`
//! for every string, which the property tests check.

use std::borrow::Cow;
use std::fmt::Write;

/// The word that starts a trailing option (`--quorum N`): quoted whenever
/// it is meant as text, so it is never read as the option.
pub(crate) const QUORUM_OPTION: &str = "--quorum";

/// Every option word of the commands: quoted whenever meant as text.
pub(crate) const OPTION_WORDS: &[&str] = &[QUORUM_OPTION, "--svg", "--peer", "--providers"];

/// Whether `c` must never reach a terminal raw: control characters (ESC,
/// newline, CR, tab, DEL, C1), the Unicode line and paragraph separators,
/// and the bidirectional overrides that reorder what is shown.
pub fn needs_escape(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{200e}' | '\u{200f}' | '\u{2028}' | '\u{2029}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
        )
}

/// Whether `s` is read back as itself without quotes.
fn is_plain(s: &str) -> bool {
    !s.is_empty()
        && !OPTION_WORDS.contains(&s)
        && s.chars()
            .all(|c| !c.is_whitespace() && !matches!(c, '"' | '\'' | '\\') && !needs_escape(c))
}

/// `s` as one token of a command line: unchanged when it needs nothing,
/// else in double quotes with escapes. Control characters are always
/// escaped, so the result is also safe to print.
pub fn quote(s: &str) -> Cow<'_, str> {
    if is_plain(s) {
        Cow::Borrowed(s)
    } else {
        Cow::Owned(quote_always(s))
    }
}

/// `s` in double quotes, with `"`, `\` and the characters of
/// [`needs_escape`] escaped.
pub fn quote_always(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c => push_escaped(&mut out, c),
        }
    }
    out.push('"');
    out
}

/// `s` with only the characters of [`needs_escape`] escaped (`\n`, `\x1b`,
/// `\u{202e}`, ...): for messages, which are read, not typed back.
pub fn escape_controls(s: &str) -> Cow<'_, str> {
    if !s.chars().any(needs_escape) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        push_escaped(&mut out, c);
    }
    Cow::Owned(out)
}

fn push_escaped(out: &mut String, c: char) {
    match c {
        '\n' => out.push_str("\\n"),
        '\t' => out.push_str("\\t"),
        '\r' => out.push_str("\\r"),
        // Writing to a String cannot fail.
        c if needs_escape(c) && c.is_ascii() => {
            let _ = write!(out, "\\x{:02x}", u32::from(c));
        }
        c if needs_escape(c) => {
            let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
        }
        c => out.push(c),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_words_stay_as_they_are() {
        for s in ["greeting", "hex:00ff", "mh:x", "a=b", "日本"] {
            assert_eq!(quote(s), s);
        }
    }

    #[test]
    fn everything_else_is_quoted_and_escaped() {
        assert_eq!(quote(""), "\"\"");
        assert_eq!(quote("my key"), "\"my key\"");
        assert_eq!(quote("--quorum"), "\"--quorum\"");
        assert_eq!(quote("say \"hi\""), r#""say \"hi\"""#);
        assert_eq!(quote("a\\b"), r#""a\\b""#);
        assert_eq!(quote("it's"), r#""it's""#);
        assert_eq!(quote("a\nb\tc\r"), r#""a\nb\tc\r""#);
        assert_eq!(quote("\x1b[2J"), r#""\x1b[2J""#);
        assert_eq!(quote("\u{202e}x"), r#""\u{202e}x""#);
    }

    #[test]
    fn quoted_text_keeps_printable_unicode_as_it_is() {
        assert_eq!(quote("日本 語"), "\"日本 語\"");
        assert_eq!(quote("é\u{2028}"), r#""é\u{2028}""#);
        assert_eq!(escape_controls("é\u{2028}"), r"é\u{2028}");
    }

    #[test]
    fn escape_controls_leaves_the_rest() {
        assert_eq!(escape_controls("plain \"text\" \\"), "plain \"text\" \\");
        assert_eq!(escape_controls("a\nb\x1b\x7f"), "a\\nb\\x1b\\x7f");
    }
}
