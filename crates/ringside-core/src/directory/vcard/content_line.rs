//! The lexical layer of vCard: content lines (`[group.]NAME[;param…]:value`), line
//! folding, value escapes and 2.1's quoted-printable encoding.

use std::borrow::Cow;

/// The content lines with their first physical line: folded lines (a line break followed
/// by a space or tab) and quoted-printable soft breaks (`=` at the end) are joined, blank
/// lines dropped.
pub(super) fn unfold(text: &str) -> Vec<(u64, String)> {
    let mut lines: Vec<(u64, String)> = Vec::new();
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    for (index, physical) in text.split('\n').enumerate() {
        let physical = physical.strip_suffix('\r').unwrap_or(physical);
        let line = index as u64 + 1;
        match lines.last_mut() {
            Some((_, logical)) if physical.starts_with([' ', '\t']) => {
                logical.push_str(&physical[1..]);
            }
            Some((_, logical)) if logical.ends_with('=') && is_quoted_printable(logical) => {
                logical.pop();
                logical.push_str(physical);
            }
            _ if physical.trim().is_empty() => {}
            _ => lines.push((line, physical.to_owned())),
        }
    }
    lines
}

/// One content line: `[group.]NAME[;param…]:value`.
pub(super) struct Property<'a> {
    /// Upper case, without the group.
    pub name: String,
    /// The value with quoted-printable decoded, escapes still in place.
    pub value: Cow<'a, str>,
}

impl<'a> Property<'a> {
    /// Splits a content line; `None` when it has no `:` or no valid name.
    pub fn parse(content: &'a str) -> Option<Property<'a>> {
        let colon = find_unquoted(content, ':')?;
        let (head, value) = (&content[..colon], &content[colon + 1..]);
        let mut parts = split_unquoted(head, ';');
        let qualified = parts.next().unwrap_or_default();
        let name = qualified.rsplit('.').next().unwrap_or_default();
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
            return None;
        }
        let quoted_printable = parts.any(|param| {
            param.eq_ignore_ascii_case("ENCODING=QUOTED-PRINTABLE")
                || param.eq_ignore_ascii_case("QUOTED-PRINTABLE")
        });
        let value = if quoted_printable {
            Cow::Owned(decode_quoted_printable(value))
        } else {
            Cow::Borrowed(value)
        };
        Some(Property {
            name: name.to_ascii_uppercase(),
            value,
        })
    }
}

/// Whether a content line's parameters say its value is quoted-printable.
fn is_quoted_printable(content: &str) -> bool {
    let head = find_unquoted(content, ':').map_or(content, |colon| &content[..colon]);
    head.to_ascii_uppercase().contains("QUOTED-PRINTABLE")
}

/// The byte position of the first `wanted` outside double quotes.
fn find_unquoted(text: &str, wanted: char) -> Option<usize> {
    let mut in_quotes = false;
    for (index, c) in text.char_indices() {
        match c {
            '"' => in_quotes = !in_quotes,
            c if c == wanted && !in_quotes => return Some(index),
            _ => {}
        }
    }
    None
}

/// Splits at every `separator` outside double quotes.
fn split_unquoted(text: &str, separator: char) -> impl Iterator<Item = &str> {
    let mut rest = Some(text);
    std::iter::from_fn(move || {
        let current = rest?;
        match find_unquoted(current, separator) {
            Some(at) => {
                rest = Some(&current[at + separator.len_utf8()..]);
                Some(&current[..at])
            }
            None => {
                rest = None;
                Some(current)
            }
        }
    })
}

/// The components of a structured value (N, ORG), split at unescaped `;`, unescaped and
/// trimmed.
pub(super) fn split_structured(value: &str) -> Vec<String> {
    let mut components = Vec::new();
    let mut current = String::new();
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                current.push(c);
                current.extend(chars.next());
            }
            ';' => components.push(std::mem::take(&mut current)),
            _ => current.push(c),
        }
    }
    components.push(current);
    components
        .iter()
        .map(|component| unescape(component).trim().to_owned())
        .collect()
}

/// Resolves the text escapes `\,` `\;` `\:` `\\` and `\n`/`\N`; other backslashes stay.
pub(super) fn unescape(value: &str) -> String {
    let mut text = String::with_capacity(value.len());
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            text.push(c);
            continue;
        }
        match chars.next() {
            Some('n' | 'N') => text.push('\n'),
            Some(escaped @ (',' | ';' | ':' | '\\')) => text.push(escaped),
            Some(other) => {
                text.push('\\');
                text.push(other);
            }
            None => text.push('\\'),
        }
    }
    text
}

/// Decodes `=XX` byte escapes; the bytes are taken as UTF-8.
fn decode_quoted_printable(value: &str) -> String {
    let bytes = value.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        let escaped = bytes
            .get(index + 1..index + 3)
            .filter(|_| bytes[index] == b'=')
            .and_then(|hex| std::str::from_utf8(hex).ok())
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match escaped {
            Some(byte) => {
                decoded.push(byte);
                index += 3;
            }
            None => {
                decoded.push(bytes[index]);
                index += 1;
            }
        }
    }
    String::from_utf8_lossy(&decoded).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_lines_split_into_name_and_value() {
        let property = Property::parse(r#"item1.tel;type="a:b";PREF:tel:+49 30 1"#).unwrap();
        assert_eq!(property.name, "TEL");
        assert_eq!(property.value, "tel:+49 30 1");
        let encoded = Property::parse("NOTE;ENCODING=QUOTED-PRINTABLE:M=C3=BCnchen").unwrap();
        assert_eq!(encoded.value, "München");
        assert!(Property::parse("no colon").is_none());
        assert!(Property::parse(":value").is_none());
        assert!(Property::parse("two words:value").is_none());
    }

    #[test]
    fn unfolding_keeps_the_first_line_number() {
        let lines = unfold("A:1\r\n 2\r\n\t3\r\n\r\nB;QUOTED-PRINTABLE:x=\r\ny\nC:=\nD:4");
        let expected = [
            (1, "A:123"),
            (5, "B;QUOTED-PRINTABLE:xy"),
            (7, "C:="),
            (8, "D:4"),
        ];
        let expected: Vec<(u64, String)> = expected.iter().map(|&(n, l)| (n, l.into())).collect();
        assert_eq!(lines, expected);
    }

    #[test]
    fn escapes() {
        assert_eq!(unescape(r"a\,b\;c\\d\ne\Nf\:g\x"), "a,b;c\\d\ne\nf:g\\x");
        assert_eq!(unescape("trailing\\"), "trailing\\");
        assert_eq!(
            split_structured(r"Fam\;ily;Given\,Name; ;"),
            ["Fam;ily", "Given,Name", "", ""]
        );
        assert_eq!(decode_quoted_printable("a=3Db=C3=A4=ZZ="), "a=bä=ZZ=");
    }
}
