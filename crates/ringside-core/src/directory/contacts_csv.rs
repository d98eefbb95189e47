//! Contacts from a spreadsheet: whatever columns Google Contacts, Outlook or a hand-made
//! sheet has, matched by their header names. Streams, because a directory can hold a
//! million contacts.

use std::io::Read;

use super::table::{Header, Table};
use super::{ContactDraft, ContactRecord, DirectoryError, NOTHING_TO_CALL_IT_BY};
use crate::number::DefaultCountry;

/// Google Contacts writes several values into one cell, separated by this.
const MULTI_VALUE_SEPARATOR: &str = ":::";
/// Words that make a column a phone column.
const PHONE_WORDS: [&str; 5] = ["phone", "mobile", "tel", "fax", "cell"];

/// The contacts of a CSV file, one per data row, read as the iterator advances.
pub struct ContactsCsv<R> {
    table: Table<R>,
    columns: Columns,
    country: DefaultCountry,
}

/// Where each contact field is, by column index.
#[derive(Debug, Default, PartialEq, Eq)]
struct Columns {
    full_name: Option<usize>,
    given_name: Option<usize>,
    family_name: Option<usize>,
    organization: Option<usize>,
    emails: Vec<usize>,
    phones: Vec<usize>,
    note: Option<usize>,
    profile_url: Option<usize>,
}

/// Reads the header row of a contacts CSV file and returns the contacts as an iterator.
///
/// Columns are matched by name, ignoring case, spaces, `_` and `-`: the name (`Name`,
/// `Full Name`, `Display Name`, or `First Name` + `Last Name`, `Given Name` + `Family
/// Name`), `Organization`/`Company`, every column naming an e-mail, every column whose
/// name contains `phone`, `mobile`, `tel`, `fax` or `cell`, `Note`/`Notes`/`Comment` and
/// `URL`/`Profile`/`Link`. Type, label and phonetic-name columns (`Phone 1 - Type`) are
/// skipped. A file
/// with neither a name nor a phone column is refused, naming the headers it has.
pub fn contacts_csv<R: Read>(
    reader: R,
    country: &DefaultCountry,
) -> Result<ContactsCsv<R>, DirectoryError> {
    let (table, header) = Table::open(reader)?;
    let columns = Columns::from_header(&header)?;
    Ok(ContactsCsv {
        table,
        columns,
        country: country.clone(),
    })
}

impl<R: Read> Iterator for ContactsCsv<R> {
    type Item = Result<ContactRecord, DirectoryError>;

    fn next(&mut self) -> Option<Self::Item> {
        let (line, row) = match self.table.next_row()? {
            Ok(found) => found,
            Err(err) => return Some(Err(err)),
        };
        let cell = |index: Option<usize>| index.and_then(|i| row.get(i)).map(str::to_owned);
        let cells = |indexes: &[usize]| -> Vec<String> {
            indexes
                .iter()
                .filter_map(|&i| row.get(i))
                .flat_map(|value| value.split(MULTI_VALUE_SEPARATOR))
                .map(str::to_owned)
                .collect()
        };
        let draft = ContactDraft {
            full_name: cell(self.columns.full_name),
            given_name: cell(self.columns.given_name),
            family_name: cell(self.columns.family_name),
            organization: cell(self.columns.organization),
            emails: cells(&self.columns.emails),
            phones: cells(&self.columns.phones),
            note: cell(self.columns.note),
            profile_url: cell(self.columns.profile_url),
        };
        Some(
            draft
                .finish(line, &self.country)
                .ok_or(DirectoryError::Record {
                    line,
                    message: NOTHING_TO_CALL_IT_BY.into(),
                }),
        )
    }
}

impl Columns {
    /// Maps the header names to contact fields; the first column wins for single fields.
    fn from_header(header: &Header) -> Result<Columns, DirectoryError> {
        let mut columns = Columns::default();
        for (index, key) in header.keys.iter().enumerate() {
            let key = key.as_str();
            if key.ends_with("type") || key.ends_with("label") || key.contains("phonetic") {
                continue;
            }
            let single = match key {
                "name" | "fullname" | "displayname" => &mut columns.full_name,
                "firstname" | "givenname" => &mut columns.given_name,
                "lastname" | "familyname" | "surname" => &mut columns.family_name,
                "note" | "notes" | "comment" | "comments" => &mut columns.note,
                "url" | "profile" | "profileurl" | "link" => &mut columns.profile_url,
                _ if is_organization(key) => &mut columns.organization,
                _ if key == "mail" || key.contains("email") => {
                    columns.emails.push(index);
                    continue;
                }
                _ if PHONE_WORDS.iter().any(|word| key.contains(word)) => {
                    columns.phones.push(index);
                    continue;
                }
                _ => continue,
            };
            single.get_or_insert(index);
        }
        let has_name = columns.full_name.is_some()
            || columns.given_name.is_some()
            || columns.family_name.is_some();
        if !has_name && columns.phones.is_empty() {
            return Err(DirectoryError::Header {
                line: header.line,
                message: format!(
                    "no name column and no phone column among the headers {}; expected e.g. \
                     \"Name\" or \"First Name\" and \"Last Name\", and \"Phone\"",
                    header.listed()
                ),
            });
        }
        Ok(columns)
    }
}

/// `Organization`, `Organisation`, `Company`, `Org`, also as Google's `Organization 1 -
/// Name` and `Organization Name`.
fn is_organization(key: &str) -> bool {
    let stem = key
        .strip_suffix("name")
        .unwrap_or(key)
        .trim_end_matches(|c: char| c.is_ascii_digit());
    matches!(stem, "organization" | "organisation" | "company" | "org")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::number::E164;

    fn de() -> DefaultCountry {
        DefaultCountry::from_iso("DE").unwrap()
    }

    fn read(input: &str) -> Vec<Result<ContactRecord, DirectoryError>> {
        contacts_csv(input.as_bytes(), &de()).unwrap().collect()
    }

    fn numbers(contact: &ContactRecord) -> Vec<&str> {
        contact.numbers.iter().map(E164::as_str).collect()
    }

    #[test]
    fn google_contacts_export() {
        let input = "\
First Name,Middle Name,Last Name,Phonetic First Name,Nickname,File As,E-mail 1 - Label,E-mail 1 - Value,E-mail 2 - Label,E-mail 2 - Value,Phone 1 - Label,Phone 1 - Value,Phone 2 - Label,Phone 2 - Value,Address 1 - Label,Address 1 - Street,Organization Name,Organization Title,Notes,Labels
Anna,,Example,,,,* Work,anna@example.com,Home,anna.private@example.org,Mobile,+49 171 2345678 ::: 0171 2345678,Work,030 609854180,Work,\"Hauptstr. 1, 10115 Berlin\",Example GmbH,Head of IT,\"Prefers calls after 10.
Assistant: 030 609854181\",* myContacts
,,,,,,,,,,Work,+43 664 123456,,,,,Acme AG,,,* myContacts
";
        let contacts: Vec<ContactRecord> = read(input).into_iter().map(Result::unwrap).collect();
        assert_eq!(contacts.len(), 2);
        let anna = &contacts[0];
        assert_eq!(anna.name, "Anna Example");
        assert_eq!(anna.organization.as_deref(), Some("Example GmbH"));
        assert_eq!(
            anna.emails,
            ["anna@example.com", "anna.private@example.org"]
        );
        assert_eq!(
            anna.phones,
            ["+49 171 2345678", "0171 2345678", "030 609854180"]
        );
        assert_eq!(
            numbers(anna),
            ["+491712345678", "+4930609854180", "+4930609854181"]
        );
        assert!(anna.note.as_deref().unwrap().starts_with("Prefers calls"));
        let acme = &contacts[1];
        assert_eq!(acme.name, "Acme AG");
        assert_eq!(numbers(acme), ["+43664123456"]);
    }

    #[test]
    fn outlook_export_with_semicolons() {
        let input = "\u{feff}First Name;Last Name;Company;E-mail Address;Business Phone;Mobile Phone;Business Fax;Notes;Web Page\n\
                     Max;Mustermann;Muster AG;max@muster.de;+49 (0)89 1234567;;089 1234568;;\n";
        let max = read(input).remove(0).unwrap();
        assert_eq!(max.name, "Max Mustermann");
        assert_eq!(max.organization.as_deref(), Some("Muster AG"));
        assert_eq!(max.emails, ["max@muster.de"]);
        assert_eq!(numbers(&max), ["+49891234567", "+49891234568"]);
    }

    #[test]
    fn simple_sheet_with_profile_links() {
        let input = "name,phone,email,profile url,comment\n\
                     CallerId Customer1,+49 99999 222222,c1@example.com,https://desk.example.com/#user/profile/2,Phone at home: +49 99999 222224\n\
                     Front desk,23,,,\n";
        let contacts: Vec<ContactRecord> = read(input).into_iter().map(Result::unwrap).collect();
        let c1 = &contacts[0];
        assert_eq!(
            c1.profile_url.as_deref(),
            Some("https://desk.example.com/#user/profile/2")
        );
        assert_eq!(numbers(c1), ["+4999999222222", "+4999999222224"]);
        // An extension is kept as written but is not a known number.
        assert_eq!(contacts[1].phones, ["23"]);
        assert!(contacts[1].numbers.is_empty());
    }

    #[test]
    fn header_matching() {
        let columns = |header: &str| {
            let (_, header) = Table::open(format!("{header}\n").as_bytes()).unwrap();
            Columns::from_header(&header)
        };
        let found =
            columns("Display_Name,ORG,Mail,Work Tel,Cell,Fax,Home-Phone,Link,Title").unwrap();
        assert_eq!(
            found,
            Columns {
                full_name: Some(0),
                organization: Some(1),
                emails: vec![2],
                phones: vec![3, 4, 5, 6],
                profile_url: Some(7),
                ..Columns::default()
            }
        );
        let google =
            columns("Name,Given Name,Family Name,Organization 1 - Name,Phone 1 - Type").unwrap();
        assert_eq!(google.full_name, Some(0));
        assert_eq!(google.given_name, Some(1));
        assert_eq!(google.family_name, Some(2));
        assert_eq!(google.organization, Some(3));
        assert!(google.phones.is_empty());
        // A phone column alone is enough: the numbers identify the caller.
        assert!(columns("Telephone").is_ok());
    }

    #[test]
    fn a_header_without_name_or_phone_is_refused_naming_the_headers() {
        let err = contacts_csv("Company,E-mail\nAcme,info@acme.test\n".as_bytes(), &de())
            .err()
            .unwrap();
        assert!(
            matches!(err, DirectoryError::Header { line: 1, .. }),
            "{err:?}"
        );
        assert!(err.to_string().contains(r#""Company", "E-mail""#), "{err}");
    }

    #[test]
    fn a_row_without_name_number_or_email_names_its_line() {
        let input = "Name,Phone,Notes\nAnna,030 609854180,\n,,just a note\n,ext 23,\nBob,,\n";
        let results = read(input);
        assert_eq!(results.len(), 4);
        assert!(results[0].is_ok());
        assert_eq!(
            results[1].as_ref().unwrap_err().to_string(),
            "line 3: the contact has no name, no phone number and no e-mail address"
        );
        assert!(matches!(
            results[2],
            Err(DirectoryError::Record { line: 4, .. })
        ));
        assert_eq!(results[3].as_ref().unwrap().name, "Bob");
    }

    #[test]
    fn a_row_that_is_not_utf8_is_reported_and_skipped() {
        let input = b"Name,Phone\nAnna,030 609854180\n\xff\xfe,1\n";
        let results: Vec<_> = contacts_csv(&input[..], &de()).unwrap().collect();
        assert_eq!(results.len(), 2);
        assert!(matches!(
            results[1],
            Err(DirectoryError::Syntax { line: 3, .. })
        ));
    }
}
