//! The XML answers Placetel and sipgate share, written byte for byte as Zammad's Ruby
//! Builder writes them (declaration, 2-space indent, a newline after every element), so that
//! a PBX set up for Zammad gets exactly what it got before.

use std::fmt::Write;

use ringside_core::routing::PbxAnswer;

/// The content type of every XML answer.
pub const CONTENT_TYPE: &str = "application/xml; charset=UTF-8";

const DECLARATION: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";

/// The `<Response>` for a routing decision, with `attributes` (name, value) on the root in
/// the given order.
pub fn response(attributes: &[(&str, &str)], answer: &PbxAnswer) -> String {
    let mut xml = String::from(DECLARATION);
    xml.push_str("<Response");
    for (name, value) in attributes {
        let _ = write!(xml, " {name}=\"{}\"", escaped(value, Context::Attribute));
    }
    match answer {
        PbxAnswer::Proceed => xml.push_str("/>\n"),
        PbxAnswer::Reject => xml.push_str(">\n  <Reject reason=\"busy\"/>\n</Response>\n"),
        PbxAnswer::Dial { caller_id, number } => {
            let _ = write!(
                xml,
                ">\n  <Dial callerId=\"{}\">\n    <Number>{}</Number>\n  </Dial>\n</Response>\n",
                escaped(caller_id, Context::Attribute),
                escaped(number, Context::Text),
            );
        }
    }
    xml
}

/// The `<Response>` carrying an error message for the admin.
pub fn error(message: &str) -> String {
    format!(
        "{DECLARATION}<Response>\n  <Error>{}</Error>\n</Response>\n",
        escaped(message, Context::Text)
    )
}

/// Escapes element text (see [`Context`]).
pub(crate) fn text(value: &str) -> String {
    escaped(value, Context::Text)
}

/// Escapes an attribute value (see [`Context`]).
pub(crate) fn attribute(value: &str) -> String {
    escaped(value, Context::Attribute)
}

/// Where a value goes. Text escapes only `& < >`, as Builder does, so that Zammad's
/// `<Error>Invalid 'direction'!</Error>` comes out byte for byte; attribute values also
/// escape both quotes and keep their white space as references (a parser would turn it into
/// plain spaces).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Context {
    Text,
    Attribute,
}

/// Escapes markup (see [`Context`]) and replaces the characters XML 1.0 does not allow
/// (most control characters) with U+FFFD, as Builder does, so the answer always parses.
fn escaped(value: &str, context: Context) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' if context == Context::Attribute => out.push_str("&quot;"),
            '\'' if context == Context::Attribute => out.push_str("&apos;"),
            '\t' | '\n' | '\r' if context == Context::Attribute => {
                let _ = write!(out, "&#{};", u32::from(c));
            }
            '\t' | '\n' | '\r' => out.push(c),
            '\u{0}'..='\u{1f}' | '\u{fffe}' | '\u{ffff}' => out.push(char::REPLACEMENT_CHARACTER),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_escapes_markup_but_not_quotes() {
        assert_eq!(
            escaped(r#"<a href="x">Tom & Jerry's</a>"#, Context::Text),
            r#"&lt;a href="x"&gt;Tom &amp; Jerry's&lt;/a&gt;"#
        );
        assert_eq!(
            escaped("line\nbreak\ttab", Context::Text),
            "line\nbreak\ttab"
        );
    }

    #[test]
    fn attributes_escape_quotes_too() {
        assert_eq!(
            escaped(r#"<"Tom" & 'Jerry'>"#, Context::Attribute),
            "&lt;&quot;Tom&quot; &amp; &apos;Jerry&apos;&gt;"
        );
    }

    #[test]
    fn attributes_keep_white_space_as_references() {
        assert_eq!(
            escaped("a\tb\nc\rd", Context::Attribute),
            "a&#9;b&#10;c&#13;d"
        );
    }

    #[test]
    fn characters_xml_forbids_are_replaced() {
        assert_eq!(
            escaped("a\u{0}b\u{1b}c\u{ffff}", Context::Text),
            "a\u{fffd}b\u{fffd}c\u{fffd}"
        );
        assert_eq!(escaped("Müller ☎ 😀", Context::Text), "Müller ☎ 😀");
    }

    #[test]
    fn attribute_order_is_kept() {
        assert_eq!(
            response(&[("b", "2"), ("a", "1")], &PbxAnswer::Proceed),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response b=\"2\" a=\"1\"/>\n"
        );
    }
}
