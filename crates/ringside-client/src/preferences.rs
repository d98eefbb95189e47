//! The agent's settings for the desktop app, kept as JSON in the app's config directory,
//! readable by its owner only, and checked before they are kept. The remote hub's token is
//! not among them: the app keeps it in the OS keyring.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use url::Url;

use crate::endpoint::{self, PlainHttp};
use crate::error::ClientError;
use crate::session::{HubMode, SessionSettings, DEFAULT_KEEP_WARM, MAX_KEEP_WARM};
use crate::state::PopupOn;

/// Why settings were not kept, with a stable code for the UI.
#[derive(Debug, thiserror::Error)]
pub enum PreferencesError {
    /// A setting the app cannot use; the message says which and what it should look like.
    #[error("{0}")]
    Invalid(String),
    /// The hub URL is refused by the connection's own rules (e.g. plain http elsewhere).
    #[error(transparent)]
    Hub(#[from] ClientError),
    /// The file could not be written.
    #[error("saving {path}: {source}")]
    Save {
        /// The preferences file.
        path: String,
        /// What the system said.
        source: std::io::Error,
    },
}

impl PreferencesError {
    /// The stable code the UI branches on: `invalid_input`, `preferences`, or the hub
    /// client's code (`plain_http_hub`, …).
    pub fn code(&self) -> &'static str {
        match self {
            PreferencesError::Invalid(_) => "invalid_input",
            PreferencesError::Hub(error) => error.code(),
            PreferencesError::Save { .. } => "preferences",
        }
    }
}

/// The settings as stored and as the UI shows them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(default)]
pub struct Preferences {
    /// Embedded or remote hub.
    pub mode: HubMode,
    /// The remote hub's URL, or the URLs of its nodes separated by commas.
    pub hub_url: String,
    /// Whether a remote token is in the keyring (filled in when shown, never stored).
    pub has_token: bool,
    /// The help desk's address: ticket and profile links open only on its origin.
    pub helpdesk_url: String,
    /// Native notifications on incoming calls.
    pub notifications: bool,
    /// When the popup opens.
    pub popup_on: PopupOn,
    /// Start the app when the user logs in.
    pub start_at_login: bool,
    /// Ask before dialing a phone link clicked in the app's own windows (links from other
    /// programs are always confirmed).
    pub confirm_app_links: bool,
    /// Seconds the hidden popup window is kept for the next call (0 closes it at once; at
    /// most [`MAX_KEEP_WARM`]): a longer time pops the next call faster and holds the
    /// window's memory meanwhile. Set in the file only; the Settings form keeps it.
    #[cfg_attr(feature = "ts", ts(skip))]
    pub popup_keep_warm_secs: u64,
}

impl Default for Preferences {
    fn default() -> Self {
        Preferences {
            mode: HubMode::Embedded,
            hub_url: String::new(),
            has_token: false,
            helpdesk_url: String::new(),
            notifications: true,
            popup_on: PopupOn::Ring,
            start_at_login: false,
            confirm_app_links: true,
            popup_keep_warm_secs: DEFAULT_KEEP_WARM.as_secs(),
        }
    }
}

/// What the Settings form sends.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct PreferencesUpdate {
    /// Embedded or remote hub.
    pub mode: HubMode,
    /// The remote hub's URL, or the URLs of its nodes separated by commas.
    pub hub_url: String,
    /// A new remote token; `None` keeps the stored one.
    pub token: Option<String>,
    /// The help desk's address.
    pub helpdesk_url: String,
    /// Native notifications on incoming calls.
    pub notifications: bool,
    /// When the popup opens.
    pub popup_on: PopupOn,
    /// Start the app when the user logs in.
    pub start_at_login: bool,
    /// Ask before dialing a phone link clicked in the app's own windows.
    pub confirm_app_links: bool,
}

impl PreferencesUpdate {
    /// The new remote token the form carries, trimmed; `None` when the field was left
    /// empty (the stored token stays).
    pub fn new_token(&self) -> Option<&str> {
        self.token
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
    }

    /// Whether the token kept for `current`'s hub goes on with this update's hub URLs: no
    /// new token is given, and the URLs changed but still share a node with the current
    /// ones (a node added, removed or moved), so the agent need not type the token again.
    pub fn keeps_token_of(&self, current: &Preferences) -> bool {
        let next = normalized_hub_urls(&self.hub_url);
        self.new_token().is_none()
            && next != current.hub_url
            && endpoint::hub_urls(&next)
                .any(|url| endpoint::hub_urls(&current.hub_url).any(|old| old == url))
    }

    /// Whether saving this update must drop the connection and connect anew: the mode,
    /// the hub or its token changed. Everything else applies to the live session.
    pub fn reconnects(&self, current: &Preferences) -> bool {
        self.mode != current.mode
            || normalized_hub_urls(&self.hub_url) != current.hub_url
            || self.new_token().is_some()
    }

    /// The preferences this update makes, checked: a remote hub needs an https URL (or
    /// http on this computer, or anywhere when `plain_http` allows it), the help desk an
    /// https one. `has_token` is left as it was.
    pub fn apply_to(
        &self,
        current: &Preferences,
        plain_http: PlainHttp,
    ) -> Result<Preferences, PreferencesError> {
        let hub_url = normalized_hub_urls(&self.hub_url);
        if self.mode == HubMode::Remote {
            let urls: Vec<&str> = endpoint::hub_urls(&hub_url).collect();
            if urls.is_empty() || urls.len() > endpoint::MAX_HUB_URLS {
                return Err(PreferencesError::Invalid(format!(
                    "give the hub's URL (like https://ringside.example.com), or the URLs of up \
                     to {} nodes of one hub separated by commas",
                    endpoint::MAX_HUB_URLS
                )));
            }
            for url in urls {
                if Url::parse(url).is_err() {
                    return Err(PreferencesError::Invalid(format!(
                        "{url:?} is not a hub URL (like https://ringside.example.com)"
                    )));
                }
                endpoint::check_hub_url(url, plain_http)?;
            }
        }
        let helpdesk_url = self.helpdesk_url.trim().trim_end_matches('/').to_owned();
        if !helpdesk_url.is_empty() {
            let parsed = Url::parse(&helpdesk_url).ok();
            if parsed.as_ref().map(Url::scheme) != Some("https") {
                return Err(PreferencesError::Invalid(format!(
                    "{helpdesk_url:?} is not an https address of a help desk"
                )));
            }
        }
        Ok(Preferences {
            mode: self.mode,
            hub_url,
            has_token: current.has_token,
            helpdesk_url,
            notifications: self.notifications,
            popup_on: self.popup_on,
            start_at_login: self.start_at_login,
            confirm_app_links: self.confirm_app_links,
            popup_keep_warm_secs: current.popup_keep_warm_secs,
        })
    }
}

impl Preferences {
    /// The help desk's address, when one is set.
    pub fn helpdesk(&self) -> Option<Url> {
        Url::parse(&self.helpdesk_url).ok()
    }

    /// The part of the preferences the session follows while it runs.
    pub fn session_settings(&self) -> SessionSettings {
        SessionSettings {
            popup_on: self.popup_on,
            notifications: self.notifications,
            new_ticket_url: self.new_ticket_url(),
            confirm_app_links: self.confirm_app_links,
            popup_keep_warm: Duration::from_secs(self.popup_keep_warm_secs),
        }
    }

    /// The preferences with a keep-warm time beyond [`MAX_KEEP_WARM`] (read from `path`)
    /// set back to the default, with a warning.
    fn bounded(mut self, path: &Path) -> Preferences {
        if self.popup_keep_warm_secs > MAX_KEEP_WARM.as_secs() {
            tracing::warn!(
                "{}: popup_keep_warm_secs {} is more than {}; using {}",
                path.display(),
                self.popup_keep_warm_secs,
                MAX_KEEP_WARM.as_secs(),
                DEFAULT_KEEP_WARM.as_secs()
            );
            self.popup_keep_warm_secs = DEFAULT_KEEP_WARM.as_secs();
        }
        self
    }

    /// Where a new ticket is opened: Zammad's ticket form on the help desk.
    pub fn new_ticket_url(&self) -> Option<String> {
        self.helpdesk()
            .map(|url| format!("{}/#ticket/create", url.as_str().trim_end_matches('/')))
    }
}

/// The preferences file.
#[derive(Debug, Clone)]
pub struct PreferencesFile {
    path: PathBuf,
}

impl PreferencesFile {
    /// The file `preferences.json` in `dir`.
    pub fn in_dir(dir: &Path) -> PreferencesFile {
        PreferencesFile {
            path: dir.join("preferences.json"),
        }
    }

    /// The stored preferences; defaults when there is no file yet or it cannot be read
    /// (the reason is logged: a broken file must not keep the app from starting). A file
    /// others may read is made readable by its owner only.
    pub fn load(&self) -> Preferences {
        if let Err(e) = owner_only(&self.path) {
            if e.kind() != std::io::ErrorKind::NotFound {
                tracing::warn!("restricting {} to its owner: {e}", self.path.display());
            }
        }
        match std::fs::read(&self.path) {
            Ok(bytes) => serde_json::from_slice::<Preferences>(&bytes)
                .map(|preferences| preferences.bounded(&self.path))
                .unwrap_or_else(|e| {
                    tracing::warn!("{} is unreadable, using defaults: {e}", self.path.display());
                    Preferences::default()
                }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Preferences::default(),
            Err(e) => {
                tracing::warn!("reading {}: {e}", self.path.display());
                Preferences::default()
            }
        }
    }

    /// Writes the preferences (to a temporary file first, so a crash leaves the old ones),
    /// readable by the owner only.
    pub fn save(&self, preferences: &Preferences) -> Result<(), PreferencesError> {
        let failed = |source: std::io::Error| PreferencesError::Save {
            path: self.path.display().to_string(),
            source,
        };
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir).map_err(failed)?;
        }
        let text = serde_json::to_vec_pretty(preferences).expect("preferences serialize");
        let temporary = self.path.with_extension("json.tmp");
        let mut options = OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(&temporary).map_err(failed)?;
        // A temporary file left over from a crash keeps its old mode when opened again.
        owner_only(&temporary).map_err(failed)?;
        file.write_all(&text).map_err(failed)?;
        file.sync_all().map_err(failed)?;
        drop(file);
        std::fs::rename(&temporary, &self.path).map_err(failed)
    }
}

/// Makes `path` readable and writable by its owner only, when others could read it.
#[cfg(unix)]
fn owner_only(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path)?.permissions().mode();
    if mode & 0o077 != 0 {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    }
    Ok(())
}

/// Other systems keep the file in the user's own profile, with its default access rights.
#[cfg(not(unix))]
fn owner_only(_path: &Path) -> std::io::Result<()> {
    Ok(())
}

/// The hub URLs of a setting as stored: each without a trailing `/`, joined by `, `.
fn normalized_hub_urls(setting: &str) -> String {
    endpoint::hub_urls(setting)
        .map(|url| url.trim_end_matches('/'))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn update() -> PreferencesUpdate {
        PreferencesUpdate {
            mode: HubMode::Remote,
            hub_url: " https://hub.example.com/ ".into(),
            token: None,
            helpdesk_url: "https://support.example.com/".into(),
            notifications: false,
            popup_on: PopupOn::Answer,
            start_at_login: true,
            confirm_app_links: false,
        }
    }

    const LOOPBACK_ONLY: PlainHttp = PlainHttp::LoopbackOnly;

    #[test]
    fn an_update_is_trimmed_and_keeps_the_token_flag() {
        let current = Preferences {
            has_token: true,
            ..Preferences::default()
        };
        let next = update().apply_to(&current, LOOPBACK_ONLY).unwrap();
        assert_eq!(next.hub_url, "https://hub.example.com");
        assert_eq!(next.helpdesk_url, "https://support.example.com");
        assert!(next.has_token);
        assert_eq!(
            next.new_ticket_url().as_deref(),
            Some("https://support.example.com/#ticket/create")
        );
    }

    #[test]
    fn only_the_hub_its_token_or_the_mode_make_the_app_reconnect() {
        let current = update()
            .apply_to(&Preferences::default(), LOOPBACK_ONLY)
            .unwrap();
        let same_hub = PreferencesUpdate {
            token: Some("  ".into()),
            notifications: true,
            popup_on: PopupOn::Ring,
            ..update()
        };
        assert_eq!(
            same_hub.new_token(),
            None,
            "a blank token keeps the stored one"
        );
        assert!(!same_hub.reconnects(&current));
        let new_token = PreferencesUpdate {
            token: Some(" secret ".into()),
            ..update()
        };
        assert_eq!(new_token.new_token(), Some("secret"));
        assert!(new_token.reconnects(&current));
        let other_hub = PreferencesUpdate {
            hub_url: "https://other.example.com".into(),
            ..update()
        };
        assert!(other_hub.reconnects(&current));
        let embedded = PreferencesUpdate {
            mode: HubMode::Embedded,
            ..update()
        };
        assert!(embedded.reconnects(&current));
    }

    #[test]
    fn bad_urls_are_refused_with_a_reason() {
        let bad_hub = PreferencesUpdate {
            hub_url: "ringside".into(),
            ..update()
        };
        let error = bad_hub
            .apply_to(&Preferences::default(), LOOPBACK_ONLY)
            .unwrap_err();
        assert_eq!(error.code(), "invalid_input");
        assert!(error.to_string().contains("not a hub URL"), "{error}");
        let plain_http_desk = PreferencesUpdate {
            helpdesk_url: "http://support.example.com".into(),
            ..update()
        };
        assert!(plain_http_desk
            .apply_to(&Preferences::default(), LOOPBACK_ONLY)
            .is_err());
        let embedded_needs_no_url = PreferencesUpdate {
            mode: HubMode::Embedded,
            hub_url: String::new(),
            ..update()
        };
        assert!(embedded_needs_no_url
            .apply_to(&Preferences::default(), LOOPBACK_ONLY)
            .is_ok());
    }

    #[test]
    fn the_nodes_of_one_hub_are_checked_each_and_stored_as_one_list() {
        let nodes = PreferencesUpdate {
            hub_url: " https://a.example.com/,https://b.example.com \n https://c.example.com/ "
                .into(),
            ..update()
        };
        let next = nodes
            .apply_to(&Preferences::default(), LOOPBACK_ONLY)
            .unwrap();
        assert_eq!(
            next.hub_url,
            "https://a.example.com, https://b.example.com, https://c.example.com"
        );
        assert!(!nodes.reconnects(&Preferences {
            mode: HubMode::Remote,
            ..next.clone()
        }));
        let one_plain = PreferencesUpdate {
            hub_url: "https://a.example.com, http://b.example.com".into(),
            ..update()
        };
        let error = one_plain
            .apply_to(&Preferences::default(), LOOPBACK_ONLY)
            .unwrap_err();
        assert_eq!(error.code(), "plain_http_hub");
        let too_many = PreferencesUpdate {
            hub_url: ["https://a.example.com"; endpoint::MAX_HUB_URLS + 1].join(","),
            ..update()
        };
        let error = too_many
            .apply_to(&Preferences::default(), LOOPBACK_ONLY)
            .unwrap_err();
        assert_eq!(error.code(), "invalid_input");
        let none = PreferencesUpdate {
            hub_url: " , ".into(),
            ..update()
        };
        assert!(none
            .apply_to(&Preferences::default(), LOOPBACK_ONLY)
            .is_err());
    }

    #[test]
    fn the_token_goes_on_while_the_hub_keeps_one_of_its_nodes() {
        let current = Preferences {
            mode: HubMode::Remote,
            hub_url: "https://a.example.com".into(),
            has_token: true,
            ..Preferences::default()
        };
        let with = |hub_url: &str, token: Option<&str>| PreferencesUpdate {
            hub_url: hub_url.into(),
            token: token.map(str::to_owned),
            ..update()
        };
        assert!(
            with("https://a.example.com/, https://b.example.com", None).keeps_token_of(&current)
        );
        assert!(with("https://b.example.com https://a.example.com", None).keeps_token_of(&current));
        assert!(
            !with("https://a.example.com", None).keeps_token_of(&current),
            "nothing changed"
        );
        assert!(
            !with("https://c.example.com", None).keeps_token_of(&current),
            "another hub"
        );
        assert!(
            !with("https://a.example.com, https://b.example.com", Some("new"))
                .keeps_token_of(&current),
            "a new token replaces it"
        );
    }

    #[test]
    fn preferences_survive_a_save_and_a_broken_file_gives_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let file = PreferencesFile::in_dir(dir.path());
        assert_eq!(file.load(), Preferences::default());
        let saved = update()
            .apply_to(&Preferences::default(), LOOPBACK_ONLY)
            .unwrap();
        file.save(&saved).unwrap();
        assert_eq!(file.load(), saved);
        std::fs::write(dir.path().join("preferences.json"), "{not json").unwrap();
        assert_eq!(file.load(), Preferences::default());
    }

    #[test]
    fn a_remote_hub_over_plain_http_elsewhere_is_refused_with_a_code() {
        let lan = PreferencesUpdate {
            hub_url: "http://192.168.1.20:8642".into(),
            ..update()
        };
        let error = lan
            .apply_to(&Preferences::default(), LOOPBACK_ONLY)
            .unwrap_err();
        assert_eq!(error.code(), "plain_http_hub");
        assert!(error.to_string().contains("unencrypted"), "{error}");
        assert!(lan
            .apply_to(&Preferences::default(), PlainHttp::Allowed)
            .is_ok());
        let this_computer = PreferencesUpdate {
            hub_url: "http://127.0.0.1:8642".into(),
            ..update()
        };
        assert!(this_computer
            .apply_to(&Preferences::default(), LOOPBACK_ONLY)
            .is_ok());
    }

    #[test]
    fn preferences_from_before_the_link_setting_confirm_app_links() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("preferences.json"),
            r#"{"mode":"embedded"}"#,
        )
        .unwrap();
        assert!(PreferencesFile::in_dir(dir.path()).load().confirm_app_links);
    }

    #[test]
    fn the_keep_warm_time_comes_from_the_file_within_its_bound_and_survives_the_form() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("preferences.json");
        let file = PreferencesFile::in_dir(dir.path());
        assert_eq!(
            file.load().session_settings().popup_keep_warm,
            Duration::from_secs(30),
            "30 s without the setting"
        );
        std::fs::write(&path, r#"{"popup_keep_warm_secs":0}"#).unwrap();
        let zero = file.load();
        assert_eq!(zero.session_settings().popup_keep_warm, Duration::ZERO);
        let saved = update().apply_to(&zero, LOOPBACK_ONLY).unwrap();
        assert_eq!(saved.popup_keep_warm_secs, 0, "the form keeps it");
        std::fs::write(&path, r#"{"popup_keep_warm_secs":3601}"#).unwrap();
        assert_eq!(
            file.load().popup_keep_warm_secs,
            30,
            "beyond an hour: the default"
        );
        std::fs::write(&path, r#"{"popup_keep_warm_secs":3600}"#).unwrap();
        assert_eq!(file.load().popup_keep_warm_secs, 3600);
    }

    #[cfg(unix)]
    fn mode(path: &Path) -> u32 {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[cfg(unix)]
    #[test]
    fn the_file_is_readable_by_its_owner_only() {
        let dir = tempfile::tempdir().unwrap();
        let file = PreferencesFile::in_dir(dir.path());
        file.save(&Preferences::default()).unwrap();
        assert_eq!(mode(&dir.path().join("preferences.json")), 0o600);
    }

    #[cfg(unix)]
    #[test]
    fn a_file_others_can_read_is_tightened() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("preferences.json");
        std::fs::write(&path, "{}").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        PreferencesFile::in_dir(dir.path()).load();
        assert_eq!(mode(&path), 0o600, "tightened when read");

        let leftover = dir.path().join("preferences.json.tmp");
        std::fs::write(&leftover, "{}").unwrap();
        std::fs::set_permissions(&leftover, std::fs::Permissions::from_mode(0o666)).unwrap();
        PreferencesFile::in_dir(dir.path())
            .save(&Preferences::default())
            .unwrap();
        assert_eq!(
            mode(&path),
            0o600,
            "a leftover temporary file does not widen it"
        );
    }
}
