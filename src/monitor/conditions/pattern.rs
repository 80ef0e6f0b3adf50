//! `pat(…)`: the glob patterns Gatus matches with, `*` for any run of characters, `?` for
//! one, `[abc]`, `[a-z]` and `[^a-z]` for a class, and `\` to take the next character as is.
//! Parsed once, so a malformed pattern is refused when the monitor is saved instead of
//! silently never matching.

use super::ConditionError;

/// One element of a pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    /// Any run of characters, empty included.
    Star,
    /// Exactly one character.
    AnyChar,
    /// This character.
    Char(char),
    /// One character in (or, negated, not in) these inclusive ranges.
    Class {
        negated: bool,
        ranges: Vec<(char, char)>,
    },
}

/// A parsed glob pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern {
    text: String,
    tokens: Vec<Token>,
}

impl Pattern {
    /// Parses `text`; `column` is where it starts in the condition (1-based, in characters).
    pub(super) fn parse(text: &str, column: usize) -> Result<Self, ConditionError> {
        let mut tokens = Vec::new();
        let mut chars = text.chars().enumerate().peekable();
        let fail = |at: usize, reason: &str| ConditionError {
            column: column + at,
            reason: reason.to_owned(),
        };
        while let Some((at, c)) = chars.next() {
            let token = match c {
                '*' => Token::Star,
                '?' => Token::AnyChar,
                '\\' => match chars.next() {
                    Some((_, escaped)) => Token::Char(escaped),
                    None => return Err(fail(at, "the pattern ends with a lone `\\`")),
                },
                '[' => {
                    let negated = chars.next_if(|&(_, c)| c == '^').is_some();
                    let mut ranges = Vec::new();
                    loop {
                        let Some((_, first)) = chars.next() else {
                            return Err(fail(at, "`[` is not closed with `]` in the pattern"));
                        };
                        if first == ']' && !ranges.is_empty() {
                            break;
                        }
                        let first = if first == '\\' {
                            match chars.next() {
                                Some((_, escaped)) => escaped,
                                None => return Err(fail(at, "the pattern ends inside `[`")),
                            }
                        } else {
                            first
                        };
                        let last = if chars.next_if(|&(_, c)| c == '-').is_some() {
                            match chars.next() {
                                Some((_, ']')) | None => {
                                    return Err(fail(at, "a range in `[…]` has no end"));
                                }
                                Some((_, last)) => last,
                            }
                        } else {
                            first
                        };
                        if last < first {
                            return Err(fail(at, "a range in `[…]` runs backwards"));
                        }
                        ranges.push((first, last));
                    }
                    Token::Class { negated, ranges }
                }
                other => Token::Char(other),
            };
            tokens.push(token);
        }
        Ok(Self {
            text: text.to_owned(),
            tokens,
        })
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether the whole of `text` matches.
    pub fn matches(&self, text: &str) -> bool {
        let text: Vec<char> = text.chars().collect();
        // Iterative glob matching with one backtrack point (the last `*`): linear in
        // practice, and never exponential, whatever the pattern.
        let (mut t, mut p) = (0, 0);
        let mut star: Option<(usize, usize)> = None;
        while t < text.len() {
            match self.tokens.get(p) {
                Some(Token::Star) => {
                    star = Some((p, t));
                    p += 1;
                    continue;
                }
                Some(token) if one(token, text[t]) => {
                    t += 1;
                    p += 1;
                    continue;
                }
                _ => {}
            }
            match star {
                Some((star_p, star_t)) => {
                    p = star_p + 1;
                    t = star_t + 1;
                    star = Some((star_p, star_t + 1));
                }
                None => return false,
            }
        }
        self.tokens[p..].iter().all(|token| *token == Token::Star)
    }
}

/// Whether a single-character token matches `c`.
fn one(token: &Token, c: char) -> bool {
    match token {
        Token::Star => false,
        Token::AnyChar => true,
        Token::Char(expected) => *expected == c,
        Token::Class { negated, ranges } => {
            ranges.iter().any(|&(lo, hi)| (lo..=hi).contains(&c)) != *negated
        }
    }
}
