//! `ringside-hub import contacts|tickets FILE`. After the import, the journal's calls of
//! the last 30 days get the directory's current match; their call events reach the apps
//! when the running hub next writes (it publishes what the command line wrote first).

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Subcommand;
use ringside_core::{directory, limits};
use ringside_hub::config::Settings;
use ringside_hub::recorder::Recorder;
use ringside_hub::store::directory::{self as stored, ImportError};
use ringside_hub::store::{on_own_thread, ImportCounts, Store};

#[derive(Debug, Subcommand)]
pub enum ImportCommand {
    /// Contacts from a vCard file (.vcf, versions 3 and 4) or a CSV file with a header row.
    Contacts {
        /// The file.
        file: PathBuf,
    },
    /// Tickets from a JSON-lines file (.jsonl) or a CSV file with a header row.
    Tickets {
        /// The file.
        file: PathBuf,
    },
    /// A whole hub from a file `ringside-hub export` wrote, into a store with no data yet
    /// (to move between SQLite and PostgreSQL).
    Hub {
        /// The file.
        file: PathBuf,
    },
}

/// What a directory import reads.
enum Records {
    Contacts,
    Tickets,
}

pub async fn run(settings: Settings, command: ImportCommand) -> anyhow::Result<()> {
    let (records, file) = match command {
        ImportCommand::Contacts { file } => (Records::Contacts, file),
        ImportCommand::Tickets { file } => (Records::Tickets, file),
        ImportCommand::Hub { file } => return super::hub_file::import(&settings, &file),
    };
    let (store, mut writer) =
        Store::open_at(settings.config.store_location()).context("opening the store")?;
    let country = &settings.country;
    let (what, counts) = match records {
        Records::Contacts => {
            let counts = if is_vcard(&file)? {
                let text = read_vcard_file(&file)?;
                let cards = directory::parse_vcards(&text, country)
                    .with_context(|| format!("{}", file.display()))?;
                let cards = cards.into_iter().map(Ok::<_, directory::DirectoryError>);
                on_own_thread(|| {
                    stored::import_contacts(&mut writer.db(), warn(&file, cards, |c| &c.warnings))
                })
            } else {
                let rows = directory::contacts_csv(open(&file)?, country)
                    .with_context(|| format!("{}", file.display()))?;
                on_own_thread(|| {
                    stored::import_contacts(&mut writer.db(), warn(&file, rows, |c| &c.warnings))
                })
            };
            ("contacts", finish(&file, counts)?)
        }
        Records::Tickets => {
            let counts = if has_extension(&file, &["csv"]) {
                let rows = directory::tickets_csv(open(&file)?, country)
                    .with_context(|| format!("{}", file.display()))?;
                on_own_thread(|| {
                    stored::import_tickets(&mut writer.db(), warn(&file, rows, |t| &t.warnings))
                })
            } else {
                let lines = directory::tickets_jsonl(BufReader::new(open(&file)?), country);
                on_own_thread(|| {
                    stored::import_tickets(&mut writer.db(), warn(&file, lines, |t| &t.warnings))
                })
            };
            ("tickets", finish(&file, counts)?)
        }
    };
    println!(
        "imported {} {what} with {} phone numbers",
        counts.records, counts.numbers
    );
    let recorder = Recorder::new(store, writer);
    let rematched = recorder
        .refresh_callers(country, time::OffsetDateTime::now_utc())
        .await
        .context("matching the recent calls to the directory")?;
    if rematched > 0 {
        println!("{rematched} recent calls now show their caller's current match");
    }
    Ok(())
}

/// The records, with each record's warnings (a field cut to its bound) printed to stderr
/// as the import reads it.
fn warn<'a, T: 'a, E: 'a>(
    file: &'a Path,
    records: impl Iterator<Item = Result<T, E>> + 'a,
    warnings: fn(&T) -> &Vec<directory::ImportWarning>,
) -> impl Iterator<Item = Result<T, E>> + 'a {
    records.inspect(move |record| {
        for warning in record.iter().flat_map(warnings) {
            eprintln!("warning: {}: {warning}", file.display());
        }
    })
}

fn finish(
    file: &Path,
    counts: Result<ImportCounts, ImportError<directory::DirectoryError>>,
) -> anyhow::Result<ImportCounts> {
    counts.with_context(|| format!("{}: nothing was imported", file.display()))
}

/// A vCard file's text, refused unread when it is larger than
/// [`limits::MAX_VCARD_FILE_BYTES`] (it is held in memory whole).
fn read_vcard_file(file: &Path) -> anyhow::Result<String> {
    let limit = limits::MAX_VCARD_FILE_BYTES;
    let size = open(file)?
        .metadata()
        .with_context(|| format!("reading {}", file.display()))?
        .len();
    if size > limit {
        anyhow::bail!(
            "{}: the file has {size} bytes, more than the {limit} a vCard import reads; \
             split it or export CSV",
            file.display()
        );
    }
    let mut text = String::new();
    open(file)?
        .take(limit + 1)
        .read_to_string(&mut text)
        .with_context(|| format!("reading {}", file.display()))?;
    if text.len() as u64 > limit {
        anyhow::bail!(
            "{}: the file grew past {limit} bytes while read",
            file.display()
        );
    }
    Ok(text)
}

fn open(file: &Path) -> anyhow::Result<File> {
    File::open(file).with_context(|| format!("opening {}", file.display()))
}

fn has_extension(file: &Path, extensions: &[&str]) -> bool {
    file.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| extensions.iter().any(|x| e.eq_ignore_ascii_case(x)))
}

/// A vCard file by its extension, or by its first line.
fn is_vcard(file: &Path) -> anyhow::Result<bool> {
    if has_extension(file, &["vcf", "vcard"]) {
        return Ok(true);
    }
    if has_extension(file, &["csv"]) {
        return Ok(false);
    }
    let mut head = Vec::with_capacity(64);
    open(file)?
        .take(64)
        .read_to_end(&mut head)
        .with_context(|| format!("reading {}", file.display()))?;
    let text = String::from_utf8_lossy(&head);
    Ok(text
        .trim_start()
        .to_ascii_uppercase()
        .starts_with("BEGIN:VCARD"))
}
