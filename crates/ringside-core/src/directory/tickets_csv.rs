//! Tickets from a spreadsheet, with the same fields as the JSON-lines format. Streams, like
//! every import.

use std::io::Read;

use super::table::Table;
use super::tickets::{Field, TicketDraft};
use super::{DirectoryError, TicketRecord};
use crate::number::DefaultCountry;

/// The tickets of a CSV file, one per data row, read as the iterator advances.
pub struct TicketsCsv<R> {
    table: Table<R>,
    /// Each column Ringside reads: its index, field and the rank of its name.
    columns: Vec<(usize, (Field, usize))>,
    country: DefaultCountry,
}

/// Reads the header row of a tickets CSV file and returns the tickets as an iterator.
///
/// The columns are named like the JSON-lines keys (see [`tickets_jsonl`]), matched
/// ignoring case, spaces, `_` and `-`; an `id` and a `title` column are required, other
/// columns are ignored.
///
/// [`tickets_jsonl`]: super::tickets_jsonl
pub fn tickets_csv<R: Read>(
    reader: R,
    country: &DefaultCountry,
) -> Result<TicketsCsv<R>, DirectoryError> {
    let (table, header) = Table::open(reader)?;
    let columns: Vec<(usize, (Field, usize))> = header
        .names
        .iter()
        .enumerate()
        .filter_map(|(index, name)| Some((index, Field::for_name(name)?)))
        .collect();
    let has = |wanted: Field| columns.iter().any(|(_, (field, _))| *field == wanted);
    if !has(Field::Id) || !has(Field::Title) {
        return Err(DirectoryError::Header {
            line: header.line,
            message: format!(
                "an \"id\" and a \"title\" column are required; the headers are {}",
                header.listed()
            ),
        });
    }
    Ok(TicketsCsv {
        table,
        columns,
        country: country.clone(),
    })
}

impl<R: Read> Iterator for TicketsCsv<R> {
    type Item = Result<TicketRecord, DirectoryError>;

    fn next(&mut self) -> Option<Self::Item> {
        let (line, row) = match self.table.next_row()? {
            Ok(found) => found,
            Err(err) => return Some(Err(err)),
        };
        let mut draft = TicketDraft::default();
        for &(index, field) in &self.columns {
            if let Some(value) = row.get(index) {
                draft.offer(field, value);
            }
        }
        Some(draft.finish(line, &self.country))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::number::E164;
    use time::macros::datetime;

    fn de() -> DefaultCountry {
        DefaultCountry::from_iso("DE").unwrap()
    }

    #[test]
    fn reads_a_help_desk_export() {
        let input = "\
Id,Number,Title,State,Customer,Customer Phone,URL,Updated At,Body
4711,31001,Printer on fire,open,nicole.braun@zammad.org,+49 30 609854180,https://desk.example.com/#ticket/zoom/4711,2024-05-01T10:00:00Z,\"Call me: 0171 2345678
thanks\"
4712,31002,\"Invoice 12/12/2024, call 030 609854181\",closed,,,,,
";
        let tickets: Vec<TicketRecord> = tickets_csv(input.as_bytes(), &de())
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert_eq!(tickets.len(), 2);
        let first = &tickets[0];
        assert_eq!(first.id, "4711");
        assert_eq!(
            first.customer_email.as_deref(),
            Some("nicole.braun@zammad.org")
        );
        assert_eq!(
            first.customer_phone.as_ref().map(E164::as_str),
            Some("+4930609854180")
        );
        assert_eq!(first.updated_at, Some(datetime!(2024-05-01 10:00:00 UTC)));
        assert_eq!(first.text.as_deref(), Some("Call me: 0171 2345678\nthanks"));
        assert_eq!(first.maybe_numbers, [E164::parse("+491712345678").unwrap()]);
        let second = &tickets[1];
        assert_eq!(second.state.as_deref(), Some("closed"));
        assert_eq!(second.customer_email, None);
        assert_eq!(second.updated_at, None);
        assert_eq!(
            second.maybe_numbers,
            [E164::parse("+4930609854181").unwrap()]
        );
    }

    #[test]
    fn id_and_title_columns_are_required() {
        let err = tickets_csv("Number;Subject\n1;x\n".as_bytes(), &de())
            .err()
            .unwrap();
        assert_eq!(
            err.to_string(),
            "line 1: an \"id\" and a \"title\" column are required; the headers are \
             \"Number\", \"Subject\""
        );
    }

    #[test]
    fn bad_rows_name_their_line() {
        let input = "id,title,updated\n1,a,\n,b,\n3,,\n4,d,2024-13-01T00:00:00Z\n5,e,\n";
        let results: Vec<_> = tickets_csv(input.as_bytes(), &de()).unwrap().collect();
        let lines: Vec<Option<u64>> = results
            .iter()
            .map(|r| match r {
                Err(DirectoryError::Record { line, .. }) => Some(*line),
                _ => None,
            })
            .collect();
        assert_eq!(lines, [None, Some(3), Some(4), Some(5), None]);
    }
}
