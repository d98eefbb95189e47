//! `ringside-hub export FILE` and `ringside-hub import hub FILE`: a whole hub to a file and
//! back, to move between SQLite and PostgreSQL (see `store::dump`).

use std::fs::File;
use std::io::{BufReader, BufWriter};
use std::path::Path;

use anyhow::{bail, Context};
use ringside_hub::config::Settings;
use ringside_hub::owner_only;
use ringside_hub::store::{dump, on_own_thread, Store};

/// Writes the whole hub to `file`, a new file readable by its owner only (it holds the
/// team's calls and the agents' token hashes).
pub fn export(settings: &Settings, file: &Path) -> anyhow::Result<()> {
    if file.exists() {
        bail!("{} exists; export into a new file", file.display());
    }
    let location = settings.config.store_location();
    let (_store, mut db) =
        Store::open_at(location).with_context(|| format!("opening {location}"))?;
    owner_only::create_file(file).with_context(|| format!("creating {}", file.display()))?;
    let out = File::create(file).with_context(|| format!("writing {}", file.display()))?;
    let counts = on_own_thread(|| dump::export(&mut db.db(), &mut BufWriter::new(out)))
        .with_context(|| format!("exporting {location} to {}", file.display()))?;
    println!("exported {location} to {}:", file.display());
    print_counts(&counts);
    Ok(())
}

/// Reads a whole hub from `file` into this hub's store, which must have no data yet.
pub fn import(settings: &Settings, file: &Path) -> anyhow::Result<()> {
    let input = File::open(file).with_context(|| format!("reading {}", file.display()))?;
    let location = settings.config.store_location();
    let (_store, mut db) =
        Store::open_at(location).with_context(|| format!("opening {location}"))?;
    let counts =
        on_own_thread(|| dump::import(&mut db.db(), BufReader::new(input))).with_context(|| {
            format!(
                "importing {} into {location}; nothing was imported",
                file.display()
            )
        })?;
    println!("imported {} into {location}:", file.display());
    print_counts(&counts);
    Ok(())
}

fn print_counts(counts: &dump::Counts) {
    for (table, rows) in counts {
        println!("  {table}: {rows}");
    }
}
