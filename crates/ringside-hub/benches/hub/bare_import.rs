//! The directory import's baseline: the same contacts written by bare statements on a held
//! connection, in one transaction, into a database with the hub's schema (its indexes and
//! the full-text index's triggers). What the hub's import adds to this: the upsert by a
//! contact's key, the removal of a re-imported contact's earlier numbers and the linking of
//! tickets already imported for the contact's e-mail or numbers.

use std::path::Path;

use ringside_core::directory::ContactRecord;
use ringside_hub::store::Store;
use rusqlite::params;

/// Creates a hub database in `dir` and inserts `records` into it in one transaction;
/// returns how many contacts it wrote.
pub fn import(dir: &Path, records: impl Iterator<Item = ContactRecord>) -> anyhow::Result<u64> {
    let (_store, mut conn) = Store::open(dir)?;
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let mut written = 0;
    for record in records {
        let email = record.emails.first().map(|e| e.to_lowercase());
        tx.prepare_cached(
            "INSERT INTO contacts (key, name, organization, email, profile_url, note)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )?
        .execute(params![
            email.clone().unwrap_or_else(|| record.name.clone()),
            record.name,
            record.organization,
            email,
            record.profile_url,
            record.note
        ])?;
        let id = tx.last_insert_rowid();
        let mut insert = tx.prepare_cached(
            "INSERT INTO caller_numbers (e164, level, contact_id) VALUES (?1, 'known', ?2)",
        )?;
        for number in &record.numbers {
            insert.execute(params![number.as_str(), id])?;
        }
        written += 1;
    }
    tx.commit()?;
    Ok(written)
}
