//! Which hubs this app works with. A hub says its version in `GET /me`; one older than
//! [`OLDEST_HUB`], or one that does not say (it predates versioning), lacks parts of the API
//! this app uses, and the app tells the agent so instead of failing here and there.

/// This app's version: the workspace's, the same as `ringside-hub --version` of the hub
/// built with it.
pub const APP_VERSION: &str = env!("CARGO_PKG_VERSION");

/// The oldest hub version this app supports.
pub const OLDEST_HUB: &str = "0.1.0";

/// What the app tells the agent about a hub of `hub_version`; `None` when it supports it.
pub fn warning(hub_version: Option<&str>) -> Option<String> {
    let oldest = release(OLDEST_HUB).expect("OLDEST_HUB is a version");
    match hub_version {
        None => Some(format!(
            "the hub does not say its version: it is older than this app supports \
             ({OLDEST_HUB} or newer); ask the admin to update it"
        )),
        Some(version) => match release(version) {
            Some(found) if found >= oldest => None,
            Some(_) => Some(format!(
                "the hub is version {version}, older than this app supports ({OLDEST_HUB} or \
                 newer); ask the admin to update it"
            )),
            None => Some(format!(
                "the hub says it is version {version:?}, which this app cannot read; it \
                 supports {OLDEST_HUB} or newer"
            )),
        },
    }
}

/// `MAJOR.MINOR.PATCH` of a version (what follows `-` or `+` aside), to compare.
fn release(version: &str) -> Option<(u64, u64, u64)> {
    let core = version.split(['-', '+']).next()?;
    let mut parts = core.split('.').map(|part| part.parse::<u64>().ok());
    let found = (parts.next()??, parts.next()??, parts.next()??);
    parts.next().is_none().then_some(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hubs_from_the_oldest_supported_on_pass_and_older_ones_are_named() {
        assert_eq!(warning(Some(OLDEST_HUB)), None);
        assert_eq!(warning(Some("0.1.7")), None);
        assert_eq!(warning(Some("1.0.0-rc.1")), None);
        assert_eq!(warning(Some("0.10.0")), None, "numbers, not text");
        let older = warning(Some("0.0.9")).unwrap();
        assert!(older.contains("version 0.0.9") && older.contains("0.1.0 or newer"));
        let silent = warning(None).unwrap();
        assert!(silent.contains("does not say its version"));
        let garbled = warning(Some("latest")).unwrap();
        assert!(garbled.contains("cannot read"));
        assert!(warning(Some("1.2")).is_some(), "three numbers");
    }
}
