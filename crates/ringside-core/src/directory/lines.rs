//! Lines of a text file read with a bound: a line longer than [`MAX_LINE_BYTES`] is skipped
//! without being held in memory, and reading stops after [`MAX_LINES_PER_FILE`] lines, so
//! that no file can make an import take unbounded memory or time.

use std::io::{self, BufRead, Read};

use crate::limits::{MAX_LINES_PER_FILE, MAX_LINE_BYTES};

/// One line as read.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Line {
    /// The line without its terminator (`\n` or `\r\n`).
    Text(String),
    /// The line is longer than [`MAX_LINE_BYTES`]; it was skipped.
    TooLong,
    /// The line is not UTF-8.
    NotUtf8,
    /// The file has more than [`MAX_LINES_PER_FILE`] lines; nothing after is read.
    TooMany,
}

/// The lines of `reader`, numbered from 1; ends after an IO error or [`Line::TooMany`].
pub(super) struct BoundedLines<R> {
    reader: R,
    line: u64,
    stopped: bool,
}

impl<R: BufRead> BoundedLines<R> {
    pub fn new(reader: R) -> Self {
        BoundedLines {
            reader,
            line: 0,
            stopped: false,
        }
    }

    /// Consumes the rest of an overlong line, up to and including its `\n`.
    fn skip_line(&mut self) -> io::Result<()> {
        loop {
            let available = self.reader.fill_buf()?;
            if available.is_empty() {
                return Ok(());
            }
            match available.iter().position(|&b| b == b'\n') {
                Some(end) => {
                    self.reader.consume(end + 1);
                    return Ok(());
                }
                None => {
                    let all = available.len();
                    self.reader.consume(all);
                }
            }
        }
    }

    fn read_line(&mut self) -> io::Result<Option<Line>> {
        let mut bytes = Vec::new();
        let read = (&mut self.reader)
            .take(MAX_LINE_BYTES as u64 + 2)
            .read_until(b'\n', &mut bytes)?;
        if read == 0 {
            return Ok(None);
        }
        self.line += 1;
        if self.line > MAX_LINES_PER_FILE {
            self.stopped = true;
            return Ok(Some(Line::TooMany));
        }
        let ended = bytes.last() == Some(&b'\n');
        if ended {
            bytes.pop();
            if bytes.last() == Some(&b'\r') {
                bytes.pop();
            }
        }
        if bytes.len() > MAX_LINE_BYTES {
            if !ended {
                self.skip_line()?;
            }
            return Ok(Some(Line::TooLong));
        }
        Ok(Some(match String::from_utf8(bytes) {
            Ok(text) => Line::Text(text),
            Err(_) => Line::NotUtf8,
        }))
    }
}

impl<R: BufRead> Iterator for BoundedLines<R> {
    type Item = (u64, io::Result<Line>);

    fn next(&mut self) -> Option<Self::Item> {
        if self.stopped {
            return None;
        }
        match self.read_line() {
            Ok(line) => line.map(|line| (self.line, Ok(line))),
            Err(err) => {
                self.stopped = true;
                Some((self.line + 1, Err(err)))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_lose_their_terminators_and_overlong_ones_are_skipped() {
        let at_bound = "y".repeat(MAX_LINE_BYTES);
        let mut input: Vec<u8> = b"a\r\n".to_vec();
        input.extend("x".repeat(MAX_LINE_BYTES + 1).bytes());
        input.push(b'\n');
        input.extend(at_bound.bytes());
        input.extend(b"\r\n\nb\xff\n");
        input.extend("z".repeat(MAX_LINE_BYTES + 1).bytes());
        input.extend(b"\r\nlast");
        let lines: Vec<(u64, Line)> = BoundedLines::new(&input[..])
            .map(|(n, line)| (n, line.unwrap()))
            .collect();
        assert_eq!(
            lines,
            [
                (1, Line::Text("a".into())),
                (2, Line::TooLong),
                (3, Line::Text(at_bound)),
                (4, Line::Text(String::new())),
                (5, Line::NotUtf8),
                (6, Line::TooLong),
                (7, Line::Text("last".into())),
            ]
        );
    }
}
