//! The messages of the hub's live event stream (`GET /api/v1/stream`, a WebSocket).
//!
//! Every event carries `seq`, increasing per hub, and the hub's `epoch`, which changes when
//! the event history is lost (a new database) or goes back (a database restored from a
//! backup). A client remembers the last `(epoch, seq)` it applied and sends it as the query
//! parameters `epoch` and `seq` when it connects; the hub replays what was missed, or sends a
//! snapshot when it cannot. Heartbeats are WebSocket pings in both directions.
//!
//! On the wire each message is one JSON text frame, a [`StreamFrame`] tagged by `type`, of at
//! most [`MAX_FRAME_BYTES`]:
//!
//! - `event`: one [`StreamEvent`];
//! - `snapshot_begin`, then one or more `snapshot_part`s, then `snapshot_end`: a
//!   [`Snapshot`] in parts of about [`SNAPSHOT_PART_BYTES`] each, so that no backlog of open
//!   calls can outgrow a frame. Nothing else comes between a snapshot's begin and its end.
//!
//! A client feeds the frames to a [`SnapshotAssembly`], which hands back each event and each
//! whole snapshot as a [`ServerMessage`]. A snapshot is applied at once when its end arrives:
//! a connection that drops in the middle of one leaves the client's state as it was.

use serde::{Deserialize, Serialize};
use thiserror::Error;
use time::OffsetDateTime;

use crate::agent::Presence;
use crate::call::Call;

/// The largest frame the hub sends and a client accepts. A call carries at most
/// [`crate::caller::MAX_CONTACTS`] candidates and [`crate::caller::MAX_TICKETS_PER_CALL`]
/// tickets, so that one call event, with every text at its bound, stays well below it.
pub const MAX_FRAME_BYTES: usize = 1 << 20;

/// The size a snapshot part aims at: items are added to a part until the next one would
/// take it past this; an item larger than this travels in a part of its own.
pub const SNAPSHOT_PART_BYTES: usize = 64 << 10;

/// The most calls and presences one snapshot carries, as a client accepts it: far above a
/// team's agents, its current calls and the open missed calls a snapshot lists.
pub const MAX_SNAPSHOT_ITEMS: usize = 50_000;

/// The most bytes of frames one snapshot may take, as a client accepts it.
pub const MAX_SNAPSHOT_BYTES: usize = 64 << 20;

/// A stream message as a client applies it: an event, or a whole snapshot assembled from its
/// parts by a [`SnapshotAssembly`].
#[derive(Debug, Clone, PartialEq)]
pub enum ServerMessage {
    /// One event from the hub's event log.
    Event(StreamEvent),
    /// The whole current state, sent when replay is impossible; it replaces the client's.
    Snapshot(Snapshot),
}

/// One frame of the stream as the hub sends it (a WebSocket text frame of JSON).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum StreamFrame {
    /// One event from the hub's event log.
    Event(StreamEvent),
    /// A snapshot starts: its position; parts follow.
    SnapshotBegin(SnapshotBegin),
    /// Some of the snapshot's calls and presences.
    SnapshotPart(SnapshotPart),
    /// The snapshot is complete: the client applies it now.
    SnapshotEnd(SnapshotEnd),
}

/// The first frame of a snapshot: where it stands.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SnapshotBegin {
    /// The hub's epoch.
    pub epoch: String,
    /// The position the snapshot reflects; the client resumes after it.
    pub seq: u64,
    /// See [`Snapshot::recovered`].
    pub recovered: bool,
}

/// Some of a snapshot's items; a part is never empty.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SnapshotPart {
    /// Calls still ringing or answered.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub active_calls: Vec<Call>,
    /// Inbound calls that were missed and are not done yet.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub open_missed_calls: Vec<Call>,
    /// Agents' availability.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub presence: Vec<Presence>,
}

impl SnapshotPart {
    fn items(&self) -> usize {
        self.active_calls.len() + self.open_missed_calls.len() + self.presence.len()
    }
}

/// The last frame of a snapshot.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SnapshotEnd {
    /// How many parts the snapshot had, so that a client can tell it has them all.
    pub parts: u32,
}

/// One event of the hub's durable event log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StreamEvent {
    /// The hub's epoch; a different epoch means the client's position is meaningless.
    pub epoch: String,
    /// The event's position in the log, increasing by one per event.
    pub seq: u64,
    /// When the hub recorded the event.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// What happened.
    #[serde(flatten)]
    pub body: EventBody,
}

impl StreamEvent {
    /// The JSON text of [`StreamFrame::Event`] for this event, written around `body_json`,
    /// the JSON of its body as the event log keeps it (see [`EventBody::call_json`]): the
    /// hub writes the body's JSON once for the log and builds the stream's frame from it,
    /// instead of serializing the whole call a second time. The text is the one serde
    /// writes for the frame.
    pub fn frame_json(&self, body_json: &str) -> Result<String, FrameJsonError> {
        let fields = body_json
            .strip_prefix('{')
            .filter(|rest| rest.starts_with("\"kind\":"))
            .ok_or(FrameJsonError::NotABody)?;
        let at = self
            .at
            .format(&time::format_description::well_known::Rfc3339)
            .map_err(|_| FrameJsonError::Time(self.at))?;
        let epoch = serde_json::to_string(&self.epoch).map_err(|_| FrameJsonError::NotABody)?;
        Ok(format!(
            "{{\"type\":\"event\",\"epoch\":{epoch},\"seq\":{},\"at\":\"{at}\",{fields}",
            self.seq
        ))
    }
}

/// Why [`StreamEvent::frame_json`] could not build a frame.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum FrameJsonError {
    /// The text given is not the JSON of an event's body.
    #[error("not the JSON of an event body")]
    NotABody,
    /// The event's time has no RFC 3339 form (a year beyond 9999).
    #[error("the event time {0} has no RFC 3339 form")]
    Time(OffsetDateTime),
}

/// What an event is about.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum EventBody {
    /// A call was created or changed; carries the whole call as it now is. Who the call is
    /// meant for is the call's `offered_to` (`null`: everyone).
    Call {
        /// The call after the change.
        call: Box<Call>,
    },
    /// An agent's availability or details changed, or a new agent was added.
    Presence {
        /// The agent's availability after the change.
        presence: Presence,
    },
    /// An agent was removed from the team.
    AgentRemoved {
        /// The removed agent's login.
        login: String,
    },
}

impl EventBody {
    /// The JSON of a [`EventBody::Call`] body written around `call_json`, the call's own
    /// JSON as the journal keeps it: a changed call is serialized once for its journal
    /// row, its event and the stream. The text is the one serde writes for the body.
    pub fn call_json(call_json: &str) -> String {
        format!("{{\"kind\":\"call\",\"call\":{call_json}}}")
    }
}

/// The current state, for a client that cannot be brought up to date by replay; it travels
/// as a [`StreamFrame::SnapshotBegin`], parts and a [`StreamFrame::SnapshotEnd`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Snapshot {
    /// The hub's epoch.
    pub epoch: String,
    /// The position the snapshot reflects; the client resumes after it.
    pub seq: u64,
    /// `false`: events were missed and this snapshot replaces them. `true` is never sent
    /// today; the field is there so that clients can tell a resync from a first connect.
    pub recovered: bool,
    /// Calls still ringing or answered.
    pub active_calls: Vec<Call>,
    /// Inbound calls that were missed and are not done yet.
    pub open_missed_calls: Vec<Call>,
    /// Every agent's availability.
    pub presence: Vec<Presence>,
}

/// The position a client has applied, sent as query parameters when it connects.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResumeFrom {
    /// The epoch of the last applied event.
    pub epoch: String,
    /// The seq of the last applied event.
    pub seq: u64,
}

/// A snapshot as the frames that carry it, ready to send.
#[derive(Debug, Clone, PartialEq)]
pub struct SnapshotFrames {
    /// The JSON text of each frame, in order: begin, the parts, end.
    pub frames: Vec<String>,
    /// Items left out because alone they would not fit in [`MAX_FRAME_BYTES`]; they could
    /// not be sent as events either.
    pub dropped: usize,
}

impl Snapshot {
    /// Cuts the snapshot into frames: a begin, parts of about [`SNAPSHOT_PART_BYTES`] (each
    /// item serialized once), and an end that counts the parts.
    pub fn into_frames(self) -> SnapshotFrames {
        let begin = StreamFrame::SnapshotBegin(SnapshotBegin {
            epoch: self.epoch,
            seq: self.seq,
            recovered: self.recovered,
        });
        let mut frames = vec![serde_json::to_string(&begin).expect("snapshots serialize")];
        let mut part = PartWriter::default();
        let mut dropped = 0;
        let items = (self
            .active_calls
            .iter()
            .map(|c| (PartList::Active, to_json(c))))
        .chain(
            self.open_missed_calls
                .iter()
                .map(|c| (PartList::Missed, to_json(c))),
        )
        .chain(
            self.presence
                .iter()
                .map(|p| (PartList::Presence, to_json(p))),
        );
        for (list, json) in items {
            if PART_OVERHEAD + json.len() > MAX_FRAME_BYTES {
                dropped += 1;
                continue;
            }
            if !part.is_empty() && part.bytes + json.len() + 1 > SNAPSHOT_PART_BYTES {
                frames.push(part.finish());
            }
            part.add(list, json);
        }
        if !part.is_empty() {
            frames.push(part.finish());
        }
        let parts = (frames.len() - 1) as u32;
        let end = StreamFrame::SnapshotEnd(SnapshotEnd { parts });
        frames.push(serde_json::to_string(&end).expect("snapshots serialize"));
        SnapshotFrames { frames, dropped }
    }
}

fn to_json<T: Serialize>(item: &T) -> String {
    serde_json::to_string(item).expect("snapshot items serialize")
}

/// The bytes of a part besides its items: the tag and the three lists' names and brackets.
const PART_OVERHEAD: usize =
    r#"{"type":"snapshot_part","active_calls":[],"open_missed_calls":[],"presence":[]}"#.len();

/// Which list of a part an item goes to.
#[derive(Debug, Clone, Copy)]
enum PartList {
    Active,
    Missed,
    Presence,
}

/// A part being filled with items already serialized, so that its size is known exactly.
#[derive(Debug, Default)]
struct PartWriter {
    active: Vec<String>,
    missed: Vec<String>,
    presence: Vec<String>,
    bytes: usize,
}

impl PartWriter {
    fn is_empty(&self) -> bool {
        self.bytes == 0
    }

    fn add(&mut self, list: PartList, json: String) {
        if self.is_empty() {
            self.bytes = PART_OVERHEAD;
        }
        self.bytes += json.len() + 1;
        match list {
            PartList::Active => self.active.push(json),
            PartList::Missed => self.missed.push(json),
            PartList::Presence => self.presence.push(json),
        }
    }

    /// The part's JSON, as `StreamFrame::SnapshotPart` serializes (empty lists left out).
    fn finish(&mut self) -> String {
        let mut json = String::with_capacity(self.bytes);
        json.push_str(r#"{"type":"snapshot_part""#);
        for (name, items) in [
            ("active_calls", &self.active),
            ("open_missed_calls", &self.missed),
            ("presence", &self.presence),
        ] {
            if !items.is_empty() {
                json.push_str(&format!(",{name:?}:["));
                json.push_str(&items.join(","));
                json.push(']');
            }
        }
        json.push('}');
        *self = PartWriter::default();
        json
    }
}

/// Why a client gave up on the frames it received; the connection must be dropped (the
/// client keeps its state and resumes).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum AssemblyError {
    /// A frame came that has no place where it came.
    #[error("a {frame} frame {place}")]
    OutOfPlace {
        /// The frame's `type`.
        frame: &'static str,
        /// Where it came, e.g. "outside a snapshot".
        place: &'static str,
    },
    /// A snapshot part without items.
    #[error("an empty snapshot part")]
    EmptyPart,
    /// The snapshot's end counts other parts than arrived.
    #[error("the snapshot announced {announced} parts, {received} arrived")]
    MissingParts {
        /// The parts the end counted.
        announced: u32,
        /// The parts that arrived.
        received: u32,
    },
    /// The snapshot carries more than [`MAX_SNAPSHOT_ITEMS`].
    #[error("a snapshot of more than {MAX_SNAPSHOT_ITEMS} items")]
    TooManyItems,
    /// The snapshot's frames take more than [`MAX_SNAPSHOT_BYTES`].
    #[error("a snapshot of more than {MAX_SNAPSHOT_BYTES} bytes")]
    TooManyBytes,
}

/// Puts a snapshot together from its frames and passes events through: what a client does
/// with every frame of one connection. Pure; one per connection, so that a snapshot cut off
/// by a dropped connection is simply forgotten with it.
#[derive(Debug, Default)]
pub struct SnapshotAssembly {
    pending: Option<Pending>,
}

/// A snapshot whose end has not arrived yet.
#[derive(Debug)]
struct Pending {
    snapshot: Snapshot,
    parts: u32,
    items: usize,
    bytes: usize,
}

impl SnapshotAssembly {
    /// An assembly with nothing received.
    pub fn new() -> Self {
        SnapshotAssembly::default()
    }

    /// Whether a snapshot has begun and not ended.
    pub fn is_assembling(&self) -> bool {
        self.pending.is_some()
    }

    /// Takes the next frame, `bytes` long on the wire: returns the message to apply now (an
    /// event, or a snapshot whose end this is), `None` while a snapshot is incomplete, or an
    /// error for frames out of order or beyond the bounds, after which the partial snapshot
    /// is forgotten.
    pub fn feed(
        &mut self,
        frame: StreamFrame,
        bytes: usize,
    ) -> Result<Option<ServerMessage>, AssemblyError> {
        let fed = self.step(frame, bytes);
        if fed.is_err() {
            self.pending = None;
        }
        fed
    }

    fn step(
        &mut self,
        frame: StreamFrame,
        bytes: usize,
    ) -> Result<Option<ServerMessage>, AssemblyError> {
        const INSIDE: &str = "inside a snapshot";
        const OUTSIDE: &str = "outside a snapshot";
        let out_of_place = |frame, place| Err(AssemblyError::OutOfPlace { frame, place });
        match (frame, &mut self.pending) {
            (StreamFrame::Event(event), None) => Ok(Some(ServerMessage::Event(event))),
            (StreamFrame::Event(_), Some(_)) => out_of_place("event", INSIDE),
            (StreamFrame::SnapshotBegin(_), Some(_)) => out_of_place("snapshot_begin", INSIDE),
            (StreamFrame::SnapshotPart(_), None) => out_of_place("snapshot_part", OUTSIDE),
            (StreamFrame::SnapshotEnd(_), None) => out_of_place("snapshot_end", OUTSIDE),
            (StreamFrame::SnapshotBegin(begin), None) => {
                if bytes > MAX_SNAPSHOT_BYTES {
                    return Err(AssemblyError::TooManyBytes);
                }
                self.pending = Some(Pending {
                    snapshot: Snapshot {
                        epoch: begin.epoch,
                        seq: begin.seq,
                        recovered: begin.recovered,
                        ..Snapshot::default()
                    },
                    parts: 0,
                    items: 0,
                    bytes,
                });
                Ok(None)
            }
            (StreamFrame::SnapshotPart(part), Some(pending)) => {
                if part.items() == 0 {
                    return Err(AssemblyError::EmptyPart);
                }
                pending.bytes = pending.bytes.saturating_add(bytes);
                if pending.bytes > MAX_SNAPSHOT_BYTES {
                    return Err(AssemblyError::TooManyBytes);
                }
                pending.items += part.items();
                if pending.items > MAX_SNAPSHOT_ITEMS {
                    return Err(AssemblyError::TooManyItems);
                }
                pending.parts += 1;
                let snapshot = &mut pending.snapshot;
                snapshot.active_calls.extend(part.active_calls);
                snapshot.open_missed_calls.extend(part.open_missed_calls);
                snapshot.presence.extend(part.presence);
                Ok(None)
            }
            (StreamFrame::SnapshotEnd(end), Some(pending)) => {
                if end.parts != pending.parts {
                    return Err(AssemblyError::MissingParts {
                        announced: end.parts,
                        received: pending.parts,
                    });
                }
                let pending = self.pending.take().expect("a snapshot is pending");
                Ok(Some(ServerMessage::Snapshot(pending.snapshot)))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agent::Role;
    use crate::call::{CallState, Direction, Provider};

    fn call(id: i64, from: &str) -> Call {
        let at = OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap();
        Call {
            id,
            provider: Provider::Generic,
            call_id: format!("c{id}"),
            direction: Direction::In,
            state: CallState::Ended,
            from: from.into(),
            from_comment: None,
            from_pretty: from.into(),
            to: "4930600000000".into(),
            to_comment: None,
            to_pretty: "+49 30 600000000".into(),
            queue: None,
            comment: None,
            done: false,
            initialized_at: Some(at),
            start_at: None,
            end_at: Some(at),
            duration_waiting_time: Some(3),
            duration_talking_time: None,
            answered_by: None,
            offered_to: None,
            caller: None,
            ticket: None,
            created_at: at,
            updated_at: at,
        }
    }

    fn presence(login: &str) -> Presence {
        Presence {
            login: login.into(),
            name: login.into(),
            role: Role::Agent,
            numbers: vec![],
            identities: Default::default(),
            online: true,
            dnd: false,
            out_of_office: false,
            on_call: None,
        }
    }

    /// A snapshot whose single-frame form was larger than a frame may be.
    fn big_snapshot() -> Snapshot {
        Snapshot {
            epoch: "e1".into(),
            seq: 42,
            recovered: false,
            active_calls: (1..=3).map(|id| call(id, "4930609854180")).collect(),
            open_missed_calls: (10..510).map(|id| call(id, &"9".repeat(4_000))).collect(),
            presence: (0..40).map(|n| presence(&format!("agent{n}"))).collect(),
        }
    }

    fn feed_all(
        assembly: &mut SnapshotAssembly,
        frames: &[String],
    ) -> Result<Vec<ServerMessage>, AssemblyError> {
        let mut out = Vec::new();
        for text in frames {
            let frame: StreamFrame = serde_json::from_str(text).expect("a frame");
            out.extend(assembly.feed(frame, text.len())?);
        }
        Ok(out)
    }

    fn to_text(frame: &StreamFrame) -> String {
        serde_json::to_string(frame).unwrap()
    }

    #[test]
    fn frames_built_from_a_bodys_json_are_the_ones_serde_writes() {
        let at = OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap()
            + time::Duration::milliseconds(250);
        let bodies = [
            EventBody::Call {
                call: Box::new(call(7, "+49 30 \"quoted\" \u{e9}")),
            },
            EventBody::Presence {
                presence: presence("anna"),
            },
            EventBody::AgentRemoved {
                login: "ben".into(),
            },
        ];
        for body in bodies {
            let body_json = match &body {
                EventBody::Call { call } => {
                    EventBody::call_json(&serde_json::to_string(call).unwrap())
                }
                other => serde_json::to_string(other).unwrap(),
            };
            assert_eq!(body_json, serde_json::to_string(&body).unwrap());
            let event = StreamEvent {
                epoch: "e\"1".into(),
                seq: 42,
                at,
                body,
            };
            assert_eq!(
                event.frame_json(&body_json).unwrap(),
                serde_json::to_string(&StreamFrame::Event(event.clone())).unwrap()
            );
        }
        let event = StreamEvent {
            epoch: "e1".into(),
            seq: 1,
            at,
            body: EventBody::AgentRemoved {
                login: "ben".into(),
            },
        };
        assert_eq!(event.frame_json("[]"), Err(FrameJsonError::NotABody));
    }

    #[test]
    fn a_big_snapshot_travels_in_bounded_parts_and_arrives_whole() {
        let snapshot = big_snapshot();
        let frames = snapshot.clone().into_frames();
        assert_eq!(frames.dropped, 0);
        assert!(frames.frames.len() > 3, "several parts");
        for text in &frames.frames {
            assert!(text.len() <= SNAPSHOT_PART_BYTES, "{} bytes", text.len());
        }
        let mut assembly = SnapshotAssembly::new();
        let messages = feed_all(&mut assembly, &frames.frames).unwrap();
        assert_eq!(messages, vec![ServerMessage::Snapshot(snapshot)]);
        assert!(!assembly.is_assembling());
    }

    #[test]
    fn an_empty_snapshot_is_a_begin_and_an_end() {
        let snapshot = Snapshot {
            epoch: "e1".into(),
            seq: 0,
            ..Snapshot::default()
        };
        let frames = snapshot.clone().into_frames();
        assert_eq!(frames.frames.len(), 2);
        let messages = feed_all(&mut SnapshotAssembly::new(), &frames.frames).unwrap();
        assert_eq!(messages, vec![ServerMessage::Snapshot(snapshot)]);
    }

    #[test]
    fn an_item_larger_than_a_frame_is_left_out_and_counted() {
        let mut snapshot = big_snapshot();
        snapshot.open_missed_calls = vec![call(1, &"9".repeat(MAX_FRAME_BYTES)), call(2, "49")];
        let frames = snapshot.into_frames();
        assert_eq!(frames.dropped, 1);
        let messages = feed_all(&mut SnapshotAssembly::new(), &frames.frames).unwrap();
        let [ServerMessage::Snapshot(whole)] = &messages[..] else {
            panic!("one snapshot")
        };
        assert_eq!(whole.open_missed_calls, vec![call(2, "49")]);
    }

    #[test]
    fn nothing_is_handed_out_until_the_end_arrives() {
        let frames = big_snapshot().into_frames().frames;
        let mut assembly = SnapshotAssembly::new();
        let cut_off = feed_all(&mut assembly, &frames[..frames.len() - 1]).unwrap();
        assert!(cut_off.is_empty());
        assert!(assembly.is_assembling());
    }

    #[test]
    fn events_pass_through_outside_a_snapshot_only() {
        let event = StreamFrame::Event(StreamEvent {
            epoch: "e1".into(),
            seq: 43,
            at: OffsetDateTime::UNIX_EPOCH,
            body: EventBody::AgentRemoved {
                login: "anna".into(),
            },
        });
        let mut assembly = SnapshotAssembly::new();
        let StreamFrame::Event(inner) = event.clone() else {
            unreachable!()
        };
        assert_eq!(
            assembly.feed(event.clone(), 10),
            Ok(Some(ServerMessage::Event(inner)))
        );
        let begin = &big_snapshot().into_frames().frames[0];
        feed_all(&mut assembly, std::slice::from_ref(begin)).unwrap();
        assert!(matches!(
            assembly.feed(event, 10),
            Err(AssemblyError::OutOfPlace { frame: "event", .. })
        ));
        assert!(
            !assembly.is_assembling(),
            "the partial snapshot is forgotten"
        );
    }

    #[test]
    fn frames_out_of_order_are_refused() {
        let frames = big_snapshot().into_frames().frames;
        let mut assembly = SnapshotAssembly::new();
        assert!(matches!(
            feed_all(&mut assembly, &frames[1..2]),
            Err(AssemblyError::OutOfPlace {
                frame: "snapshot_part",
                ..
            })
        ));
        assert!(matches!(
            feed_all(&mut assembly, &frames[frames.len() - 1..]),
            Err(AssemblyError::OutOfPlace {
                frame: "snapshot_end",
                ..
            })
        ));
        let twice = [frames[0].clone(), frames[0].clone()];
        assert!(matches!(
            feed_all(&mut assembly, &twice),
            Err(AssemblyError::OutOfPlace {
                frame: "snapshot_begin",
                ..
            })
        ));
        let mut skipped = frames.clone();
        skipped.remove(1);
        let announced = (frames.len() - 2) as u32;
        assert_eq!(
            feed_all(&mut SnapshotAssembly::new(), &skipped),
            Err(AssemblyError::MissingParts {
                announced,
                received: announced - 1
            })
        );
        let empty = [
            frames[0].clone(),
            to_text(&StreamFrame::SnapshotPart(SnapshotPart::default())),
        ];
        assert_eq!(
            feed_all(&mut SnapshotAssembly::new(), &empty),
            Err(AssemblyError::EmptyPart)
        );
    }

    #[test]
    fn a_snapshot_beyond_the_bounds_is_refused() {
        let begin = big_snapshot().into_frames().frames[0].clone();
        let many = StreamFrame::SnapshotPart(SnapshotPart {
            presence: vec![presence("a"); 1_000],
            ..SnapshotPart::default()
        });
        let mut assembly = SnapshotAssembly::new();
        feed_all(&mut assembly, std::slice::from_ref(&begin)).unwrap();
        let mut refused = None;
        for _ in 0..=MAX_SNAPSHOT_ITEMS / 1_000 {
            if let Err(e) = assembly.feed(many.clone(), 100) {
                refused = Some(e);
                break;
            }
        }
        assert_eq!(refused, Some(AssemblyError::TooManyItems));

        let mut assembly = SnapshotAssembly::new();
        feed_all(&mut assembly, &[begin]).unwrap();
        let one = StreamFrame::SnapshotPart(SnapshotPart {
            presence: vec![presence("a")],
            ..SnapshotPart::default()
        });
        assert_eq!(assembly.feed(one.clone(), MAX_FRAME_BYTES), Ok(None));
        let mut refused = None;
        for _ in 0..=MAX_SNAPSHOT_BYTES / MAX_FRAME_BYTES {
            if let Err(e) = assembly.feed(one.clone(), MAX_FRAME_BYTES) {
                refused = Some(e);
                break;
            }
        }
        assert_eq!(refused, Some(AssemblyError::TooManyBytes));
    }
}
