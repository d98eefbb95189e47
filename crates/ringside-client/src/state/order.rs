//! Which of two versions of the same call is newer, so that a late or repeated event never
//! moves a call backwards.

use ringside_core::call::Call;

/// Whether `incoming` should replace `current`: a later state always wins
/// (ringing < answered < ended); within the same state the later `updated_at` wins; an equal
/// version is a duplicate and changes nothing.
pub(super) fn supersedes(incoming: &Call, current: &Call) -> bool {
    (incoming.state, incoming.updated_at) > (current.state, current.updated_at)
}
