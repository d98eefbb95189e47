//! A message for the agent in the main window: how a phone link went.

use serde::Serialize;

/// A message for the agent in the main window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Notice {
    /// How it reads.
    pub level: NoticeLevel,
    /// The text.
    pub message: String,
}

/// Whether a notice reports success or a problem.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "lowercase")]
pub enum NoticeLevel {
    /// Something worked.
    Info,
    /// Something failed.
    Error,
}

impl Notice {
    /// The notice of an outcome: its message, as information or as an error.
    pub fn of(told: Result<String, String>) -> Notice {
        match told {
            Ok(message) => Notice {
                level: NoticeLevel::Info,
                message,
            },
            Err(message) => Notice {
                level: NoticeLevel::Error,
                message,
            },
        }
    }
}
