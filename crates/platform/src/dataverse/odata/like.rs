//! SQL's `LIKE`, as FetchXML's `like` and `not-like` conditions use it: `%`
//! any run of characters, `_` one, `[...]` one of a set.

/// One piece of a `LIKE` pattern.
#[derive(Debug, PartialEq)]
enum Piece {
    /// `%`: any run of characters, none included.
    Any,
    /// `_`: any one character.
    One,
    /// `[...]`: one character of the ranges (a single character is a range
    /// of one), or with `^` first, one not of them.
    Set(bool, Vec<(char, char)>),
    Char(char),
}

/// `pattern`'s pieces; a `[` with no `]` after it is a plain character.
fn pieces(pattern: &str) -> Vec<Piece> {
    let chars: Vec<char> = pattern.chars().collect();
    let mut pieces = Vec::new();
    let mut at = 0;
    while let Some(&c) = chars.get(at) {
        at += 1;
        match c {
            '%' if pieces.last() == Some(&Piece::Any) => {}
            '%' => pieces.push(Piece::Any),
            '_' => pieces.push(Piece::One),
            '[' => match chars[at..].iter().position(|&c| c == ']') {
                Some(length) => {
                    pieces.push(set(&chars[at..at + length]));
                    at += length + 1;
                }
                None => pieces.push(Piece::Char('[')),
            },
            c => pieces.push(Piece::Char(c)),
        }
    }
    pieces
}

/// The inside of `[...]`: `^` first negates, `a-c` is a range.
fn set(inside: &[char]) -> Piece {
    let (negated, inside) = match inside.split_first() {
        Some(('^', rest)) => (true, rest),
        _ => (false, inside),
    };
    let mut ranges = Vec::new();
    let mut at = 0;
    while let Some(&low) = inside.get(at) {
        match (inside.get(at + 1), inside.get(at + 2)) {
            (Some('-'), Some(&high)) => {
                ranges.push((low, high));
                at += 3;
            }
            _ => {
                ranges.push((low, low));
                at += 1;
            }
        }
    }
    Piece::Set(negated, ranges)
}

impl Piece {
    /// Whether this piece, not [`Piece::Any`], takes the character `c`.
    fn takes(&self, c: char) -> bool {
        match self {
            Self::Any => false,
            Self::One => true,
            Self::Char(p) => *p == c,
            Self::Set(negated, ranges) => {
                ranges.iter().any(|(low, high)| (*low..=*high).contains(&c)) != *negated
            }
        }
    }
}

/// SQL's `LIKE` without case. Greedy with one point to return to (the
/// last `%`): time bounded by the text's length times the pattern's, with
/// no recursion.
pub(in crate::dataverse) fn like(text: &str, pattern: &str) -> bool {
    let text: Vec<char> = text.to_lowercase().chars().collect();
    let pieces = pieces(&pattern.to_lowercase());
    let (mut t, mut p) = (0, 0);
    let mut back: Option<(usize, usize)> = None;
    while t < text.len() {
        match pieces.get(p) {
            Some(Piece::Any) => {
                back = Some((p, t));
                p += 1;
            }
            Some(piece) if piece.takes(text[t]) => {
                t += 1;
                p += 1;
            }
            _ => match back {
                Some((star, from)) => {
                    back = Some((star, from + 1));
                    p = star + 1;
                    t = from + 1;
                }
                None => return false,
            },
        }
    }
    pieces[p..].iter().all(|piece| *piece == Piece::Any)
}
