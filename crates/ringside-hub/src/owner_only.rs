//! Files that hold secrets, readable by their owner only: `ringside.toml` (webhook tokens,
//! provider credentials) and the database (agents' token hashes, the journal, the caller
//! directory) with its `-wal` and `-shm` files.
//!
//! On Unix such a file is created with mode 0600, and an existing one of the hub's user whose
//! group or others have any access is tightened to 0600 (with a warning naming it) before the
//! hub uses it. A file another user owns (root's configuration, readable by the hub's group:
//! how the Debian package installs it) is not the hub's to change: its group's access was
//! given on purpose, and only access for everyone is warned about.
//! A directory the hub creates for them is 0700; an existing directory is left as it is
//! (it may be shared on purpose, such as the current directory), with a warning when
//! others may enter it. Elsewhere the platform's defaults apply.

use std::io;
use std::path::Path;

/// The mode of a file only its owner may read and write.
#[cfg(unix)]
pub const FILE_MODE: u32 = 0o600;

/// The mode of a directory only its owner may list and enter.
#[cfg(unix)]
pub const DIR_MODE: u32 = 0o700;

/// Creates `dir` and its missing parents, each 0700; warns about an existing `dir` that
/// group or others may enter.
pub fn create_dir(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
        if dir.is_dir() {
            let mode = std::fs::metadata(dir)?.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                tracing::warn!(
                    "{} has mode {mode:o}: other users may list it; chmod 700 it unless it \
                     is shared on purpose",
                    dir.display()
                );
            }
            return Ok(());
        }
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(DIR_MODE)
            .create(dir)
    }
    #[cfg(not(unix))]
    {
        std::fs::create_dir_all(dir)
    }
}

/// Writes `contents` to `path`: a new file is created 0600, an existing one is tightened
/// before it is written.
pub fn write(path: &Path, contents: &[u8]) -> io::Result<()> {
    use std::io::Write;
    tighten(path)?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(FILE_MODE);
    }
    let mut file = options.open(path)?;
    file.write_all(contents)?;
    file.sync_all()
}

/// Creates `path` empty with mode 0600 unless it exists, so that whatever fills it later
/// (SQLite) keeps the mode; an existing file is tightened.
pub fn create_file(path: &Path) -> io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(FILE_MODE);
    }
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => tighten(path),
        Err(e) => Err(e),
    }
}

/// Takes every access of group and others away from the file at `path`, if it exists, is
/// the hub user's and has any, with a warning naming it; warns about a file of another user
/// that everyone may read.
pub fn tighten(path: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        let metadata = match std::fs::metadata(path) {
            Ok(metadata) => metadata,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(e),
        };
        let mode = metadata.permissions().mode() & 0o777;
        // SAFETY: geteuid has no preconditions and cannot fail.
        let ours = metadata.uid() == unsafe { libc::geteuid() };
        if !ours {
            if mode & 0o007 != 0 {
                tracing::warn!(
                    "{} has mode {mode:o}: every user of this machine may read its secrets; \
                     its owner should chmod o= it",
                    path.display()
                );
            }
            return Ok(());
        }
        if mode & 0o077 != 0 {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode & 0o700))?;
            tracing::warn!(
                "{} had mode {mode:o}, readable by other users; now {:o}",
                path.display(),
                mode & 0o700
            );
        }
        Ok(())
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        Ok(())
    }
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn new_files_and_directories_are_the_owners() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("a").join("b");
        create_dir(&data).unwrap();
        assert_eq!(mode(&data), 0o700);
        assert_eq!(mode(&dir.path().join("a")), 0o700);
        let config = data.join("ringside.toml");
        write(&config, b"token = \"x\"").unwrap();
        assert_eq!(mode(&config), 0o600);
        let db = data.join("db");
        create_file(&db).unwrap();
        assert_eq!(mode(&db), 0o600);
    }

    #[test]
    fn wider_files_are_tightened_and_directories_kept() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        create_dir(dir.path()).unwrap();
        assert_eq!(
            mode(dir.path()),
            0o755,
            "an existing directory is left alone"
        );
        let config = dir.path().join("ringside.toml");
        std::fs::write(&config, "old").unwrap();
        std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o644)).unwrap();
        write(&config, b"new").unwrap();
        assert_eq!(mode(&config), 0o600);
        assert_eq!(std::fs::read_to_string(&config).unwrap(), "new");
        let db = dir.path().join("db");
        std::fs::write(&db, "").unwrap();
        std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o664)).unwrap();
        create_file(&db).unwrap();
        assert_eq!(mode(&db), 0o600);
        tighten(&dir.path().join("missing")).unwrap();
    }
}
