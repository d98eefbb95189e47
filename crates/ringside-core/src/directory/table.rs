//! Reading a CSV file row by row, as spreadsheets export it: a header row, a comma,
//! semicolon or tab delimiter (Excel in Germany writes `;`), maybe a UTF-8 byte order mark,
//! and rows whose length varies. Cells are passed on untrimmed (the line count below needs
//! them whole). Errors carry the line of the file.

use std::io::{self, BufRead, BufReader, Read};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use csv::{ErrorKind, ReaderBuilder, StringRecord};

use super::{field_key, DirectoryError};
use crate::limits::{MAX_LINES_PER_FILE, MAX_LINE_BYTES};

/// How much of the file is looked at to guess the delimiter.
const SNIFF_BYTES: usize = 64 * 1024;
/// The UTF-8 byte order mark that Excel puts first.
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// The most bytes the CSV reader may take from the file for one row: a row of
/// [`MAX_LINE_BYTES`] and what the reader's buffer holds beyond it.
const MAX_ROW_READ: usize = MAX_LINE_BYTES + SNIFF_BYTES;

/// Hands the file to the CSV reader and fails once it has taken more than [`MAX_ROW_READ`]
/// bytes since the last row ended, so that a row (a cell with an unclosed quote, a file
/// without line breaks) cannot grow without bound in memory.
struct RowBound<R> {
    inner: R,
    /// Bytes taken since the table last reset it, shared with the table.
    taken: Arc<AtomicUsize>,
}

impl<R: Read> Read for RowBound<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.taken.load(Ordering::Relaxed) > MAX_ROW_READ {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("a row is longer than {MAX_LINE_BYTES} bytes (an unclosed quote?)"),
            ));
        }
        let read = self.inner.read(buf)?;
        self.taken.fetch_add(read, Ordering::Relaxed);
        Ok(read)
    }
}

/// A CSV file after its header row.
pub(super) struct Table<R> {
    reader: csv::Reader<RowBound<BufReader<R>>>,
    /// Bytes the reader took since the last row ended.
    taken: Arc<AtomicUsize>,
    row: StringRecord,
    /// The line of the last row read, for errors that carry no position.
    line: u64,
    /// Set after a read error: the input cannot be trusted to make progress.
    stopped: bool,
}

/// The header row: the names as written (for messages) and as matched.
pub(super) struct Header {
    /// The line of the header row.
    pub line: u64,
    /// The names as written.
    pub names: Vec<String>,
    /// The names as matched by [`field_key`].
    pub keys: Vec<String>,
}

impl Header {
    /// The names as written, quoted and comma-separated, for error messages.
    pub fn listed(&self) -> String {
        let quoted: Vec<String> = self.names.iter().map(|n| format!("{n:?}")).collect();
        quoted.join(", ")
    }
}

impl<R: Read> Table<R> {
    /// Guesses the delimiter, skips a byte order mark and reads the header row, which is
    /// required.
    pub fn open(reader: R) -> Result<(Table<R>, Header), DirectoryError> {
        let mut input = BufReader::with_capacity(SNIFF_BYTES, reader);
        let start = input.fill_buf().map_err(|err| DirectoryError::Read {
            line: 1,
            message: err.to_string(),
        })?;
        let has_bom = start.starts_with(BOM);
        let delimiter = guess_delimiter(start);
        if has_bom {
            input.consume(BOM.len());
        }
        let taken = Arc::new(AtomicUsize::new(0));
        let bounded = RowBound {
            inner: input,
            taken: Arc::clone(&taken),
        };
        let reader = ReaderBuilder::new()
            .delimiter(delimiter)
            .flexible(true)
            .from_reader(bounded);
        let mut table = Table {
            reader,
            taken,
            row: StringRecord::new(),
            line: 1,
            stopped: false,
        };
        let headers = table
            .reader
            .headers()
            .map_err(|err| from_csv(err, 1))?
            .clone();
        let line = headers.position().map_or(1, |p| p.line());
        let names: Vec<String> = headers.iter().map(|name| name.trim().to_owned()).collect();
        if names.iter().all(|name| name.is_empty()) {
            return Err(DirectoryError::Header {
                line,
                message: "the file is empty: a header row naming the columns is required".into(),
            });
        }
        let keys = names.iter().map(|name| field_key(name)).collect();
        Ok((table, Header { line, names, keys }))
    }

    /// The next row that has at least one non-empty cell, with its line; `None` at the
    /// end, and after a read error or the [`MAX_LINES_PER_FILE`]th line.
    pub fn next_row(&mut self) -> Option<Result<(u64, &StringRecord), DirectoryError>> {
        while !self.stopped {
            self.taken.store(0, Ordering::Relaxed);
            match self.reader.read_record(&mut self.row) {
                Ok(false) => return None,
                Ok(true) => {
                    self.line = self.first_line();
                    if self.line > MAX_LINES_PER_FILE {
                        self.stopped = true;
                        return Some(Err(DirectoryError::Syntax {
                            line: self.line,
                            message: format!(
                                "the file has more than {MAX_LINES_PER_FILE} lines; split it"
                            ),
                        }));
                    }
                    if self.row.iter().any(|cell| !cell.trim().is_empty()) {
                        return Some(Ok((self.line, &self.row)));
                    }
                }
                Err(err) => {
                    self.stopped = matches!(err.kind(), ErrorKind::Io(_));
                    return Some(Err(from_csv(err, self.line + 1)));
                }
            }
        }
        None
    }

    /// The line on which the row just read starts. The csv crate's record position is
    /// where it started scanning, before any blank lines it skipped, so the line is counted
    /// back from the row's end instead: its terminator and the line breaks inside its
    /// quoted cells. (A last row without a terminator after blank lines comes out one line
    /// early.)
    fn first_line(&self) -> u64 {
        let scan_start = self.row.position().map_or(self.line + 1, |p| p.line());
        let end = self.reader.position().line();
        let inside: usize = self.row.iter().map(|cell| cell.matches('\n').count()).sum();
        end.saturating_sub(inside as u64 + 1).max(scan_start)
    }
}

/// The delimiter that occurs most often on the first line: `,`, `;` or tab.
fn guess_delimiter(start: &[u8]) -> u8 {
    let first_line = start.split(|&b| b == b'\n').next().unwrap_or_default();
    let count = |delimiter: u8| first_line.iter().filter(|&&b| b == delimiter).count();
    [b';', b'\t']
        .into_iter()
        .filter(|&d| count(d) > count(b','))
        .max_by_key(|&d| count(d))
        .unwrap_or(b',')
}

/// Turns the csv crate's error into one that names the line.
fn from_csv(err: csv::Error, fallback_line: u64) -> DirectoryError {
    let line = err.position().map_or(fallback_line, |p| p.line());
    match err.kind() {
        ErrorKind::Io(io) => DirectoryError::Read {
            line,
            message: io.to_string(),
        },
        ErrorKind::Utf8 { err: utf8, .. } => DirectoryError::Syntax {
            line,
            message: format!(
                "field {} is not valid UTF-8; export the file as UTF-8",
                utf8.field() + 1
            ),
        },
        _ => DirectoryError::Syntax {
            line,
            message: err.to_string(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A row as the tests compare it: its line and its cells.
    type Row = Result<(u64, Vec<String>), DirectoryError>;

    fn rows(input: &[u8]) -> (Header, Vec<Row>) {
        let (mut table, header) = Table::open(input).unwrap();
        let mut rows = Vec::new();
        while let Some(row) = table.next_row() {
            rows.push(row.map(|(line, r)| (line, r.iter().map(str::to_owned).collect())));
        }
        (header, rows)
    }

    #[test]
    fn guesses_the_delimiter_from_the_first_line() {
        assert_eq!(guess_delimiter(b"Name,Phone\n"), b',');
        assert_eq!(guess_delimiter(b"Name;Phone;Note\nA, B;1;2"), b';');
        assert_eq!(guess_delimiter(b"Name\tPhone"), b'\t');
        assert_eq!(guess_delimiter(b"Name"), b',');
        assert_eq!(guess_delimiter(b""), b',');
    }

    #[test]
    fn reads_rows_with_their_lines_and_skips_blank_ones() {
        let input = "\u{feff}Name;Phone\n\"Anna; Example\";030 1234567\n;\n\n Bob ;\n";
        let (header, rows) = rows(input.as_bytes());
        assert_eq!(header.names, ["Name", "Phone"]);
        assert_eq!(header.keys, ["name", "phone"]);
        assert_eq!(header.line, 1);
        let rows: Vec<_> = rows.into_iter().map(Result::unwrap).collect();
        assert_eq!(
            rows,
            [
                (
                    2,
                    vec!["Anna; Example".to_owned(), "030 1234567".to_owned()]
                ),
                (5, vec![" Bob ".to_owned(), String::new()]),
            ]
        );
    }

    #[test]
    fn lines_count_blank_lines_and_line_breaks_in_quoted_cells() {
        let input = "Name,Note\n\n\"Anna\",\"line one\nline two\"\nBob,x";
        let (_, rows) = rows(input.as_bytes());
        let lines: Vec<u64> = rows.into_iter().map(|r| r.unwrap().0).collect();
        assert_eq!(lines, [3, 5]);
    }

    #[test]
    fn invalid_utf8_names_the_line_and_reading_goes_on() {
        let input = b"Name,Phone\nM\xfcller,030 1234567\nBob,030 7654321\n";
        let (_, rows) = rows(input);
        assert_eq!(rows.len(), 2);
        let err = rows[0].as_ref().unwrap_err();
        assert!(
            matches!(err, DirectoryError::Syntax { line: 2, .. }),
            "{err:?}"
        );
        assert!(err.to_string().contains("UTF-8"), "{err}");
        assert_eq!(rows[1].as_ref().unwrap().0, 3);
    }

    #[test]
    fn a_row_longer_than_the_bound_stops_the_table_naming_its_line() {
        let mut input = b"Name,Note\nAnna,short\nBob,\"".to_vec();
        input.extend("x".repeat(MAX_ROW_READ + SNIFF_BYTES).bytes());
        input.extend(b"\"\nCarl,after\n");
        let (_, rows) = rows(&input);
        let lines: Vec<Result<u64, &DirectoryError>> = rows
            .iter()
            .map(|r| r.as_ref().map(|(line, _)| *line))
            .collect();
        assert_eq!(lines.len(), 2, "{lines:?}");
        assert_eq!(rows[0].as_ref().unwrap().0, 2);
        let err = rows[1].as_ref().unwrap_err();
        assert!(
            matches!(err, DirectoryError::Read { line: 3, .. }),
            "{err:?}"
        );
        assert!(err.to_string().contains("longer than"), "{err}");
    }

    #[test]
    fn a_row_at_the_bound_is_read() {
        let mut input = b"Name,Note\nAnna,".to_vec();
        input.extend("x".repeat(MAX_LINE_BYTES - 6).bytes());
        input.extend(b"\nBob,y\n");
        let (_, rows) = rows(&input);
        let lines: Vec<u64> = rows.into_iter().map(|r| r.unwrap().0).collect();
        assert_eq!(lines, [2, 3]);
    }

    #[test]
    fn an_empty_file_has_no_header() {
        for input in ["", "\n", " , \n"] {
            let err = Table::open(input.as_bytes()).err().unwrap();
            assert!(
                matches!(err, DirectoryError::Header { line: 1, .. }),
                "{err:?}"
            );
            assert!(err.to_string().contains("header row"), "{err}");
        }
    }
}
