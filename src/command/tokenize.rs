//! Splitting a typed line into [`Token`]s, shell-like but small:
//! - words are separated by whitespace;
//! - `"..."` keeps everything inside, with escapes: `\"` `\\` `\n` `\t`
//!   `\r` `\xNN` (up to 7f) and `\u{N}`; any other escape is an error;
//! - `'...'` keeps everything inside as typed, no escapes;
//! - outside quotes a backslash makes the next whitespace, quote or
//!   backslash part of the word (`my\ key`); before anything else it is an
//!   ordinary character (`C:\dir`);
//! - quoted and unquoted parts next to each other form one word;
//! - an unterminated quote is an error, never a word.

use std::iter::Peekable;
use std::str::Chars;

use crate::command::ParseError;

/// One word of a command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// The word, quotes removed and escapes resolved.
    pub text: String,
    /// Whether a quote or an escape was used in it: such a word is always
    /// text, never an option like `--quorum`.
    pub quoted: bool,
    /// The whitespace typed before it (a single space for `ctl`'s list),
    /// kept so that an unquoted value keeps its inner spacing.
    pub gap: String,
}

impl Token {
    /// A token given as one argument (by `ctl`): exactly `text`, no quoting.
    pub fn arg(text: &str) -> Token {
        Token {
            text: text.to_string(),
            quoted: false,
            gap: " ".into(),
        }
    }
}

/// Splits `line` into tokens (see the module documentation for the rules).
pub fn tokenize(line: &str) -> Result<Vec<Token>, ParseError> {
    let mut tokens = Vec::new();
    let mut chars = line.chars().peekable();
    loop {
        let mut gap = String::new();
        while let Some(c) = chars.next_if(|c| c.is_whitespace()) {
            gap.push(c);
        }
        if chars.peek().is_none() {
            return Ok(tokens);
        }
        let mut token = Token {
            text: String::new(),
            quoted: false,
            gap,
        };
        while let Some(c) = chars.next_if(|c| !c.is_whitespace()) {
            match c {
                '"' => {
                    token.quoted = true;
                    double_quoted(&mut chars, &mut token.text)?;
                }
                '\'' => {
                    token.quoted = true;
                    single_quoted(&mut chars, &mut token.text)?;
                }
                '\\' => {
                    match chars.next_if(|&n| n.is_whitespace() || matches!(n, '"' | '\'' | '\\')) {
                        Some(escaped) => {
                            token.quoted = true;
                            token.text.push(escaped);
                        }
                        None => token.text.push('\\'),
                    }
                }
                c => token.text.push(c),
            }
        }
        tokens.push(token);
    }
}

fn single_quoted(chars: &mut Peekable<Chars<'_>>, out: &mut String) -> Result<(), ParseError> {
    for c in chars.by_ref() {
        if c == '\'' {
            return Ok(());
        }
        out.push(c);
    }
    Err(ParseError::Unterminated { quote: '\'' })
}

fn double_quoted(chars: &mut Peekable<Chars<'_>>, out: &mut String) -> Result<(), ParseError> {
    let unterminated = ParseError::Unterminated { quote: '"' };
    while let Some(c) = chars.next() {
        match c {
            '"' => return Ok(()),
            '\\' => {
                let Some(escaped) = chars.next() else {
                    return Err(unterminated);
                };
                out.push(escape(escaped, chars)?);
            }
            c => out.push(c),
        }
    }
    Err(unterminated)
}

/// The character named by the escape `\` + `c` (+ what follows for `\x`, `\u`).
fn escape(c: char, chars: &mut Peekable<Chars<'_>>) -> Result<char, ParseError> {
    let mut seen = format!("\\{c}");
    let code = match c {
        '"' | '\\' => return Ok(c),
        'n' => return Ok('\n'),
        't' => return Ok('\t'),
        'r' => return Ok('\r'),
        'x' => {
            let digits: String = (0..2)
                .map_while(|_| chars.next_if(char::is_ascii_hexdigit))
                .collect();
            seen.push_str(&digits);
            u32::from_str_radix(&digits, 16)
                .ok()
                .filter(|&n| digits.len() == 2 && n < 0x80)
        }
        'u' => {
            let open = chars.next_if_eq(&'{').is_some();
            let mut digits = String::new();
            while let Some(d) = chars.next_if(|d| open && d.is_ascii_hexdigit() && digits.len() < 6)
            {
                digits.push(d);
            }
            let close = open && chars.next_if_eq(&'}').is_some();
            if open {
                seen.push('{');
            }
            seen.push_str(&digits);
            if close {
                seen.push('}');
            }
            close
                .then(|| u32::from_str_radix(&digits, 16).ok())
                .flatten()
        }
        _ => None,
    };
    code.and_then(char::from_u32)
        .ok_or(ParseError::BadEscape { escape: seen })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(line: &str) -> Vec<String> {
        tokenize(line)
            .unwrap_or_else(|e| panic!("{line}: {e}"))
            .into_iter()
            .map(|t| t.text)
            .collect()
    }

    #[test]
    fn whitespace_separates_words() {
        assert_eq!(words("  put k\tv  "), ["put", "k", "v"]);
        assert!(words("   ").is_empty());
        let tokens = tokenize("a  \tb").unwrap();
        assert_eq!(tokens[1].gap, "  \t");
        assert!(!tokens[1].quoted);
    }

    #[test]
    fn quotes_keep_what_is_inside() {
        assert_eq!(
            words(r#"put "my key" 'some value'"#),
            ["put", "my key", "some value"]
        );
        assert_eq!(words(r#""  padded  ""#), ["  padded  "]);
        assert_eq!(words(r#"'a "b" c' "it's""#), [r#"a "b" c"#, "it's"]);
        assert_eq!(words(r#"ab"c d"e"#), ["abc de"]);
        assert_eq!(words(r"'no \n escapes'"), [r"no \n escapes"]);
    }

    #[test]
    fn empty_quoted_strings_are_words() {
        assert_eq!(words(r#"put k """#), ["put", "k", ""]);
        assert_eq!(words("'' x"), ["", "x"]);
        assert!(tokenize("\"\"").unwrap()[0].quoted);
    }

    #[test]
    fn escapes_in_double_quotes() {
        assert_eq!(words(r#""a\"b\\c\nd\te\rf""#), ["a\"b\\c\nd\te\rf"]);
        assert_eq!(words(r#""\x1b[0m\x7f""#), ["\x1b[0m\x7f"]);
        assert_eq!(words(r#""\u{202e}\u{1F600}""#), ["\u{202e}\u{1F600}"]);
        for (line, seen) in [
            (r#""\q""#, r"\q"),
            (r#""\x8f""#, r"\x8f"),
            (r#""\xz""#, r"\x"),
            (r#""\x""#, r"\x"),
            (r#""\u{}""#, r"\u{}"),
            (r#""\u{d800}""#, r"\u{d800}"),
            (r#""\u{110000}""#, r"\u{110000}"),
            (r#""\u1234""#, r"\u"),
        ] {
            assert_eq!(
                tokenize(line),
                Err(ParseError::BadEscape {
                    escape: seen.into()
                }),
                "{line}"
            );
        }
    }

    #[test]
    fn backslash_outside_quotes() {
        assert_eq!(words(r"my\ key v"), ["my key", "v"]);
        assert_eq!(words(r#"\"x\" \\"#), ["\"x\"", "\\"]);
        assert_eq!(words(r"C:\dir end\"), [r"C:\dir", r"end\"]);
        assert!(tokenize(r"my\ key").unwrap()[0].quoted);
        assert!(!tokenize(r"C:\dir").unwrap()[0].quoted);
    }

    #[test]
    fn unterminated_quotes_are_errors() {
        for (line, quote) in [
            (r#"put "quoted key v"#, '"'),
            ("put 'k v", '\''),
            (r#"put "k\"#, '"'),
            (r#"put "k\""#, '"'),
            (r#"""#, '"'),
        ] {
            assert_eq!(
                tokenize(line),
                Err(ParseError::Unterminated { quote }),
                "{line}"
            );
        }
        let message = tokenize("put \"k").unwrap_err().to_string();
        assert!(!message.contains('\n'), "{message}");
    }
}
