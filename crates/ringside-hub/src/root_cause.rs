//! The innermost cause of an error, which names what actually failed ("Connection
//! refused") where the outer errors say only what was being done ("error sending request").

/// The innermost error's text.
pub fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = e;
    while let Some(source) = cause.source() {
        cause = source;
    }
    cause.to_string()
}
