//! The Edm types of `$filter`'s operands, and which of them compare.
//!
//! Dataverse parses `$filter` with Microsoft.OData.Core (OData/odata.net),
//! which types every literal as it reads it and refuses a comparison whose
//! two sides share no type they both convert to. The rules here are that
//! library's, as its source states them:
//!
//! - the literal's type (`ExpressionLexer.ParseFromDigit`): a whole number
//!   is Edm.Int32 when it fits, else Edm.Int64; a fraction is Edm.Single
//!   unless a float would lose precision (then Edm.Double, then
//!   Edm.Decimal); the suffixes `L`, `F`, `D`, `M` name Int64, Single,
//!   Double, Decimal; `2024-01-01` is an Edm.Date, `2024-01-01T00:00:00Z`
//!   an Edm.DateTimeOffset, a bare GUID an Edm.Guid, `'...'` an Edm.String;
//! - the comparisons (`TypePromotionUtils`: one signature `(T, T)` per
//!   type for eq, ne, gt, ge, lt, le) and the implicit conversions
//!   (`MetadataUtilsCommon.CanConvertPrimitiveTypeTo`): Int32 to Int64,
//!   Single, Double, Decimal; Int64 to Single, Double, Decimal; Single to
//!   Double; Single and Double to Decimal only when they are a literal;
//!   Date to DateTimeOffset; String, Guid, Boolean and DateTimeOffset to
//!   nothing but themselves; `null` to anything.
//!
//! Dataverse answers a refused comparison with 400, code 0x80060888, and
//! the library's sentence ("A binary operator with incompatible types was
//! detected. Found operand types 'Edm.Boolean' and 'Edm.Int32' for
//! operator kind 'Equal'.", microsoft/Power-CAT-Copilot-Studio-Kit#584; a
//! quoted GUID against a lookup, microsoft/coe-starter-kit#392).

/// A primitive type of the Entity Data Model, as far as the served
/// columns and `$filter`'s literals use them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Edm {
    Boolean,
    Guid,
    String,
    Int32,
    Int64,
    Single,
    Double,
    Decimal,
    Date,
    DateTimeOffset,
}

/// The types a comparison may be made in: `TypePromotionUtils`'s
/// relational signatures, for the types above.
const COMPARED_AS: [Edm; 10] = [
    Edm::Int32,
    Edm::Int64,
    Edm::Single,
    Edm::Double,
    Edm::Decimal,
    Edm::String,
    Edm::Boolean,
    Edm::Guid,
    Edm::Date,
    Edm::DateTimeOffset,
];

impl Edm {
    /// The name the OData library's messages give the type.
    pub fn name(self) -> &'static str {
        match self {
            Self::Boolean => "Edm.Boolean",
            Self::Guid => "Edm.Guid",
            Self::String => "Edm.String",
            Self::Int32 => "Edm.Int32",
            Self::Int64 => "Edm.Int64",
            Self::Single => "Edm.Single",
            Self::Double => "Edm.Double",
            Self::Decimal => "Edm.Decimal",
            Self::Date => "Edm.Date",
            Self::DateTimeOffset => "Edm.DateTimeOffset",
        }
    }

    /// Whether a value of this type converts implicitly to `target`;
    /// `literal`: the value is written in the query, not read from a row.
    fn converts_to(self, target: Self, literal: bool) -> bool {
        use Edm::*;
        self == target
            || match (self, target) {
                (Int32, Int64 | Single | Double | Decimal) => true,
                (Int64, Single | Double | Decimal) => true,
                (Single, Double) => true,
                (Single | Double, Decimal) => literal,
                (Date, DateTimeOffset) => true,
                _ => false,
            }
    }
}

/// Whether a column of type `column` compares with a literal of type
/// `literal` (`None`: the literal `null`, which compares with anything).
pub fn comparable(column: Edm, literal: Option<Edm>) -> bool {
    let Some(literal) = literal else {
        return true;
    };
    COMPARED_AS
        .iter()
        .any(|&t| column.converts_to(t, false) && literal.converts_to(t, true))
}

/// The type a number literal is read as (`None`: it is not a number) and
/// its value: its suffix's type, else the first that keeps it whole, as
/// `MakeBestGuessOnNoSuffixStr` guesses: Int32, Int64, then Decimal when a
/// double would change its digits, Double when a float would, else Single.
pub fn number_type(text: &str) -> Option<(Edm, f64)> {
    let (digits, suffix) = match text.char_indices().last() {
        Some((at, c)) if "LlFfDdMm".contains(c) => (&text[..at], Some(c.to_ascii_uppercase())),
        _ => (text, None),
    };
    // Rust reads "inf" and "NaN" as numbers; OData's numbers are digits.
    let spelled = digits.bytes().any(|b| b.is_ascii_digit())
        && digits
            .bytes()
            .all(|b| b.is_ascii_digit() || b".eE+-".contains(&b));
    let value: f64 = digits
        .parse()
        .ok()
        .filter(|v: &f64| spelled && v.is_finite())?;
    let whole = !digits.contains(['.', 'e', 'E']);
    let edm = match suffix {
        Some('L') if whole => Edm::Int64,
        Some('L') => return None,
        Some('F') => Edm::Single,
        Some('D') => Edm::Double,
        Some('M') => Edm::Decimal,
        _ if whole && digits.parse::<i32>().is_ok() => Edm::Int32,
        _ if whole && digits.parse::<i64>().is_ok() => Edm::Int64,
        _ if decimal_digits(digits) != decimal_digits(&value.to_string()) => Edm::Decimal,
        _ if digits
            .parse::<f32>()
            .ok()
            .map(|f| f.to_string().parse::<f64>().ok())
            != Some(Some(value)) =>
        {
            Edm::Double
        }
        _ => Edm::Single,
    };
    Some((edm, value))
}

/// A decimal number's sign, significant digits and the power of ten of
/// the first one, so that two spellings of one value compare equal.
fn decimal_digits(text: &str) -> Option<(bool, String, i64)> {
    let (negative, text) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let (mantissa, exponent) = match text.split_once(['e', 'E']) {
        Some((m, e)) => (m, e.parse::<i64>().ok()?),
        None => (text, 0),
    };
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let all: String = whole.chars().chain(fraction.chars()).collect();
    let leading = all.len() - all.trim_start_matches('0').len();
    let significant = all.trim_matches('0').to_owned();
    if significant.is_empty() {
        return Some((false, significant, 0));
    }
    let places = i64::try_from(whole.len()).ok()? - i64::try_from(leading).ok()?;
    Some((negative, significant, exponent + places))
}

/// The library's name of a comparison operator, for its messages.
pub fn operator_kind(op: super::Op) -> &'static str {
    match op {
        super::Op::Eq => "Equal",
        super::Op::Ne => "NotEqual",
        super::Op::Gt => "GreaterThan",
        super::Op::Ge => "GreaterThanOrEqual",
        super::Op::Lt => "LessThan",
        super::Op::Le => "LessThanOrEqual",
    }
}

#[cfg(test)]
mod tests {
    use super::Edm::*;
    use super::*;

    #[test]
    fn comparisons_follow_the_odata_librarys_conversions() {
        // (column, literal, compares): each from TypePromotionUtils and
        // CanConvertPrimitiveTypeTo, or a test of the library's.
        let cases = [
            (Int32, Int32, true),
            (Int64, Int32, true),
            (Decimal, Int32, true),
            (Double, Int32, true),
            (Int32, Int64, true),
            (Int32, Single, true),
            (Decimal, Single, true),
            (Decimal, Double, true),
            // "Edm.Double" and "Edm.Decimal": a column does not become a Decimal.
            (Double, Decimal, false),
            (Single, Decimal, false),
            (DateTimeOffset, Date, true),
            (DateTimeOffset, DateTimeOffset, true),
            (Int32, String, false),
            (String, Int32, false),
            (Guid, String, false),
            (String, Guid, false),
            (Boolean, Int32, false),
            (DateTimeOffset, String, false),
            (Boolean, Boolean, true),
            (Guid, Guid, true),
            (String, String, true),
        ];
        for (column, literal, expected) in cases {
            assert_eq!(
                comparable(column, Some(literal)),
                expected,
                "{} against a literal {}",
                column.name(),
                literal.name()
            );
        }
        for column in COMPARED_AS {
            assert!(comparable(column, None), "null against {}", column.name());
        }
    }

    #[test]
    fn number_literals_take_the_librarys_types() {
        for (text, expected) in [
            ("0", Int32),
            ("-2147483648", Int32),
            ("2147483648", Int64),
            ("545940001", Int32),
            ("5L", Int64),
            ("1.5", Single),
            ("0.1", Single),
            ("3.14159265358979", Double),
            ("3258.678765765489753678965390", Decimal),
            ("99999999999999999999", Decimal),
            ("1.5M", Decimal),
            ("2D", Double),
            ("2f", Single),
        ] {
            assert_eq!(number_type(text).map(|(t, _)| t), Some(expected), "{text}");
        }
        assert_eq!(decimal_digits("0012.3400"), decimal_digits("1.234e1"));
        assert_ne!(decimal_digits("0.1"), decimal_digits("0.01"));
        assert_eq!(decimal_digits("-0.0"), decimal_digits("0"));
        for not_a_number in [
            "", "L", "1.5L", "abc", "1-2", "inf", "-inf", "NaN", "infinity", "1e400",
        ] {
            assert_eq!(number_type(not_a_number), None, "{not_a_number}");
        }
    }
}
