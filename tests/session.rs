//! The app's session against a real hub on a loopback port, shown on a recording display,
//! with time in the test's hands: the session waits out its retries and timers on a
//! manual clock, so that nothing happens before the test advances it.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use ringside_client::backoff::BackoffPolicy;
use ringside_client::call_notification::NotificationAction;
use ringside_client::dial_prompt::DialPrompt;
use ringside_client::endpoint::HubEndpoint;
use ringside_client::session::{
    AppStatus, ConnectionState, Display, EndpointLookup, HubMode, Notice, NoticeLevel, PopupView,
    Session, SessionConfig, SessionError, SessionSettings,
};
use ringside_clock::ManualClock;
use ringside_core::agent::Presence;
use ringside_core::api::DialResult;
use ringside_core::caller::TicketSummary;
use ringside_e2e::{add_agent, pbx, start_hub, start_hub_with};
use ringside_hub::store::zammad::FetchedTicket;
use tokio::sync::{oneshot, watch};
use url::Url;

/// What the session asked the display to do, in order.
#[derive(Debug, Clone)]
enum Shown {
    Status(AppStatus),
    Popup(Box<PopupView>),
    HidePopup,
    ClosePopup,
    Notify(NotificationAction),
    JournalChanged,
    Team(Vec<Presence>),
    DialPrompt(Option<DialPrompt>),
    Notice(Notice),
    Softphone(Url),
}

/// A display that records every request, for the test to wait on.
struct Recorder {
    shown: watch::Sender<Vec<Shown>>,
    phone_link_handler: bool,
}

impl Recorder {
    fn record(&self, shown: Shown) {
        self.shown.send_modify(|all| all.push(shown));
    }
}

impl Display for Recorder {
    fn show_status(&self, status: &AppStatus) {
        self.record(Shown::Status(status.clone()));
    }
    fn show_popup(&self, view: &PopupView) {
        self.record(Shown::Popup(Box::new(view.clone())));
    }
    fn hide_popup(&self) {
        self.record(Shown::HidePopup);
    }
    fn close_popup(&self) {
        self.record(Shown::ClosePopup);
    }
    fn notify(&self, action: NotificationAction) {
        self.record(Shown::Notify(action));
    }
    fn journal_changed(&self) {
        self.record(Shown::JournalChanged);
    }
    fn team_changed(&self, team: &[Presence]) {
        self.record(Shown::Team(team.to_vec()));
    }
    fn show_dial_prompt(&self, prompt: Option<&DialPrompt>) {
        self.record(Shown::DialPrompt(prompt.cloned()));
    }
    fn show_notice(&self, notice: &Notice) {
        self.record(Shown::Notice(notice.clone()));
    }
    fn is_phone_link_handler(&self) -> bool {
        self.phone_link_handler
    }
    fn open_softphone(&self, link: &Url) -> Result<(), String> {
        self.record(Shown::Softphone(link.clone()));
        Ok(())
    }
}

/// A session on a recorder and a manual clock.
struct Harness {
    session: Session,
    clock: ManualClock,
    shown: watch::Receiver<Vec<Shown>>,
}

impl Harness {
    fn new(settings: SessionSettings, phone_link_handler: bool) -> Harness {
        let (shown, watched) = watch::channel(Vec::new());
        let recorder = Recorder {
            shown,
            phone_link_handler,
        };
        let clock = ManualClock::starting_at(time::OffsetDateTime::now_utc());
        let config = SessionConfig {
            me_retry: BackoffPolicy {
                base: Duration::from_millis(500),
                cap: Duration::from_secs(30),
                reset_after: Duration::from_secs(30),
            },
            ..SessionConfig::default()
        };
        let session = Session::new(
            Arc::new(recorder),
            Arc::new(clock.clone()),
            tokio::runtime::Handle::current(),
            config,
            settings,
            HubMode::Remote,
        );
        Harness {
            session,
            clock,
            shown: watched,
        }
    }

    fn connect(&self, url: &str, token: &str) {
        let endpoint = HubEndpoint::new(url, token).unwrap();
        self.session.connect(
            HubMode::Remote,
            async move { EndpointLookup::Found(endpoint) },
        );
    }

    /// Waits until the display was asked for something `done` finds; panics after 10 s.
    async fn until_shown(&mut self, what: &str, done: impl Fn(&[Shown]) -> bool) -> Vec<Shown> {
        let waited = tokio::time::timeout(
            Duration::from_secs(10),
            self.shown.wait_for(|shown| done(shown)),
        )
        .await
        .map(|shown| shown.expect("the recorder lives").clone());
        waited
            .unwrap_or_else(|_| panic!("timed out waiting for {what}: {:#?}", self.shown.borrow()))
    }

    /// Waits until the status is in `connection`; panics after 10 s.
    async fn until_status(&self, connection: ConnectionState) -> AppStatus {
        self.until_status_is(|status| status.connection == connection)
            .await
    }

    /// Waits until `done` holds for the status; panics after 10 s.
    async fn until_status_is(&self, done: impl Fn(&AppStatus) -> bool) -> AppStatus {
        let mut status = self.session.watch_status();
        let waited = tokio::time::timeout(Duration::from_secs(10), status.wait_for(done))
            .await
            .map(|status| status.expect("the session lives").clone());
        waited.unwrap_or_else(|_| panic!("timed out; the status: {:?}", self.session.status()))
    }

    fn statuses(&self) -> Vec<AppStatus> {
        statuses(&self.shown.borrow())
    }
}

fn statuses(shown: &[Shown]) -> Vec<AppStatus> {
    shown
        .iter()
        .filter_map(|shown| match shown {
            Shown::Status(status) => Some(status.clone()),
            _ => None,
        })
        .collect()
}

fn popup_shown(shown: &[Shown], call_id: &str) -> bool {
    shown
        .iter()
        .any(|s| matches!(s, Shown::Popup(view) if view.call.call_id == call_id))
}

fn loopback() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 0))
}

#[tokio::test]
async fn the_status_connects_and_a_ringing_call_pops_up_until_it_ends() {
    let dir = tempfile::tempdir().unwrap();
    let hub = start_hub(dir.path(), loopback()).await.unwrap();
    let token = add_agent(&hub, "anna", false).await.unwrap();
    let keep_warm = Duration::from_secs(7);
    let settings = SessionSettings {
        new_ticket_url: Some("https://desk.example/#ticket/create".into()),
        popup_keep_warm: keep_warm,
        ..SessionSettings::default()
    };
    let mut app = Harness::new(settings, false);
    app.connect(&hub.url(), &token);
    let connected = app.until_status(ConnectionState::Connected).await;
    assert_eq!(connected.me.map(|me| me.login).as_deref(), Some("anna"));
    assert_eq!(connected.hub_url, Some(format!("{}/", hub.url())));
    // The hub built with this app says its version, the workspace's, which the app supports.
    assert_eq!(connected.app_version, env!("CARGO_PKG_VERSION"));
    assert_eq!(
        connected.hub_version.as_deref(),
        Some(env!("CARGO_PKG_VERSION"))
    );
    assert_eq!(connected.hub_warning, None);
    let connections: Vec<_> = app.statuses().iter().map(|s| s.connection).collect();
    assert_eq!(connections.first(), Some(&ConnectionState::Connecting));
    assert_eq!(connections.last(), Some(&ConnectionState::Connected));
    assert!(!connections.contains(&ConnectionState::Reconnecting));

    pbx(&hub, "newCall", "c1", &[]).await;
    let shown = app
        .until_shown("the popup", |shown| popup_shown(shown, "c1"))
        .await;
    let popup = app.session.current_popup().expect("a popup is open");
    assert_eq!(popup.call.call_id, "c1");
    assert_eq!(
        popup.new_ticket_url.as_deref(),
        Some("https://desk.example/#ticket/create")
    );
    assert!(
        shown
            .iter()
            .any(|s| matches!(s, Shown::Notify(NotificationAction::Show { .. }))),
        "{shown:#?}"
    );

    pbx(&hub, "hangup", "c1", &[("cause", "cancel")]).await;
    let shown = app
        .until_shown("the popup to hide", |shown| {
            shown.iter().any(|s| matches!(s, Shown::HidePopup))
        })
        .await;
    assert!(shown
        .iter()
        .any(|s| matches!(s, Shown::Notify(NotificationAction::Withdraw { .. }))));
    assert_eq!(app.session.current_popup(), None);

    // The hidden window is kept warm for the settings' time, then closed.
    assert_eq!(app.clock.next_sleep().await, keep_warm);
    assert!(!app
        .shown
        .borrow()
        .iter()
        .any(|s| matches!(s, Shown::ClosePopup)));
    app.clock.advance(keep_warm);
    app.until_shown("the cold window to close", |shown| {
        shown.iter().any(|s| matches!(s, Shown::ClosePopup))
    })
    .await;
    hub.stop().await.unwrap();
}

#[tokio::test]
async fn the_hubs_help_desk_reaches_the_status_and_the_popup() {
    let dir = tempfile::tempdir().unwrap();
    // A help desk on this computer that does not answer: the hub names it all the same.
    let zammad = "[zammad]\nurl = \"http://127.0.0.1:9\"\ntoken = \"zammad-token\"\n";
    let hub = start_hub_with(dir.path(), loopback(), zammad)
        .await
        .unwrap();
    let token = add_agent(&hub, "anna", false).await.unwrap();
    let mut app = Harness::new(SessionSettings::default(), false);
    app.connect(&hub.url(), &token);
    let connected = app.until_status(ConnectionState::Connected).await;
    assert_eq!(
        connected.helpdesk_url.as_deref(),
        Some("http://127.0.0.1:9/")
    );
    pbx(&hub, "newCall", "c1", &[]).await;
    app.until_shown("the popup", |shown| popup_shown(shown, "c1"))
        .await;
    let popup = app.session.current_popup().expect("a popup is open");
    assert_eq!(popup.helpdesk_url.as_deref(), Some("http://127.0.0.1:9/"));
    hub.stop().await.unwrap();

    let dir = tempfile::tempdir().unwrap();
    let hub = start_hub(dir.path(), loopback()).await.unwrap();
    let token = add_agent(&hub, "anna", false).await.unwrap();
    let mut app = Harness::new(SessionSettings::default(), false);
    app.connect(&hub.url(), &token);
    let connected = app.until_status(ConnectionState::Connected).await;
    assert_eq!(
        connected.helpdesk_url, None,
        "no help desk without the sync"
    );
    pbx(&hub, "newCall", "c2", &[]).await;
    app.until_shown("the popup", |shown| popup_shown(shown, "c2"))
        .await;
    assert_eq!(app.session.current_popup().unwrap().helpdesk_url, None);
    hub.stop().await.unwrap();
}

#[tokio::test]
async fn an_unreachable_hub_is_retried_only_when_the_clock_says() {
    let dir = tempfile::tempdir().unwrap();
    let hub = start_hub(dir.path(), loopback()).await.unwrap();
    let (addr, url) = (hub.addr, hub.url());
    let token = add_agent(&hub, "anna", false).await.unwrap();
    hub.stop().await.unwrap();

    let mut app = Harness::new(SessionSettings::default(), false);
    app.connect(&url, &token);
    let first = app.clock.next_sleep().await;
    assert!(first <= Duration::from_millis(500), "{first:?}");
    let status = app.session.status();
    assert_eq!(status.connection, ConnectionState::Reconnecting);
    assert!(
        status
            .detail
            .as_deref()
            .unwrap_or_default()
            .contains("retrying in 1 s"),
        "{status:?}"
    );
    let attempts = |app: &Harness| {
        app.statuses()
            .iter()
            .filter(|s| s.connection == ConnectionState::Reconnecting)
            .count()
    };
    assert_eq!(attempts(&app), 1);

    // The second attempt comes when the clock passes the first delay, and fails too.
    app.clock.advance(first);
    let second = app.clock.next_sleep().await;
    assert!(
        second <= Duration::from_secs(1),
        "the ceiling doubles: {second:?}"
    );
    assert_eq!(attempts(&app), 2);

    // The hub is back, but the session waits for its clock.
    let hub = start_hub(dir.path(), addr).await.unwrap();
    assert_eq!(
        app.session.status().connection,
        ConnectionState::Reconnecting
    );
    assert_eq!(attempts(&app), 2);
    assert!(matches!(
        app.session.client(),
        Err(SessionError::NotConnected)
    ));
    app.clock.advance(second);
    let connected = app.until_status(ConnectionState::Connected).await;
    assert_eq!(connected.detail, None);
    assert!(app.session.client().is_ok());
    app.until_shown("the connected status", |shown| {
        statuses(shown)
            .iter()
            .any(|s| s.connection == ConnectionState::Connected)
    })
    .await;
    hub.stop().await.unwrap();
}

#[tokio::test]
async fn with_several_hub_urls_the_session_moves_to_a_node_that_answers() {
    // Two hub processes' worth on one database: what one records, the other serves.
    let dir = tempfile::tempdir().unwrap();
    let a = start_hub(dir.path(), loopback()).await.unwrap();
    let b = start_hub(dir.path(), loopback()).await.unwrap();
    let token = add_agent(&a, "anna", false).await.unwrap();
    // Port 1 is below the range tests are given: nothing listens there.
    let dead = "http://127.0.0.1:1";

    // The first node listed is gone: the token is checked on the next one at once.
    let mut app = Harness::new(SessionSettings::default(), false);
    app.connect(&format!("{dead}, {}, {}", a.url(), b.url()), &token);
    let connected = app.until_status(ConnectionState::Connected).await;
    assert_eq!(connected.hub_url, Some(format!("{}/", a.url())));
    assert!(
        app.clock.sleeping().is_empty(),
        "no backoff while another node is untried: {:?}",
        app.clock.sleeping()
    );

    pbx(&a, "newCall", "c1", &[]).await;
    app.until_shown("the popup", |shown| popup_shown(shown, "c1"))
        .await;

    // The node the stream is on stops: the session follows the stream to the next node,
    // resumes there and gets the hangup recorded by that node.
    let a_url = a.url();
    a.stop().await.unwrap();
    pbx(&b, "hangup", "c1", &[("cause", "cancel")]).await;
    app.until_shown("the popup to hide", |shown| {
        shown.iter().any(|s| matches!(s, Shown::HidePopup))
    })
    .await;
    let moved = app
        .until_status_is(|status| {
            status.connection == ConnectionState::Connected
                && status.hub_url.as_deref() != Some(&format!("{a_url}/"))
        })
        .await;
    assert_eq!(moved.hub_url, Some(format!("{}/", b.url())));
    let client = app.session.client().expect("connected");
    let me = client
        .me()
        .await
        .expect("the REST calls go to the live node");
    assert_eq!(me.presence.login, "anna");
    b.stop().await.unwrap();
}

#[tokio::test]
async fn a_refused_token_goes_offline_and_nothing_waits_for_it() {
    let dir = tempfile::tempdir().unwrap();
    let hub = start_hub(dir.path(), loopback()).await.unwrap();
    add_agent(&hub, "anna", false).await.unwrap();
    let app = Harness::new(SessionSettings::default(), false);
    app.connect(&hub.url(), "not-a-token-of-this-hub");
    let offline = app.until_status(ConnectionState::Offline).await;
    assert!(offline.detail.is_some(), "{offline:?}");
    assert!(app.clock.sleeping().is_empty(), "no retry");
    let waited = app.session.wait_for_client().await;
    assert!(
        matches!(waited, Err(SessionError::NotConnected)),
        "{waited:?}"
    );
    hub.stop().await.unwrap();
}

#[tokio::test]
async fn waiting_for_the_client_resolves_when_the_session_connects() {
    let dir = tempfile::tempdir().unwrap();
    let hub = start_hub(dir.path(), loopback()).await.unwrap();
    let token = add_agent(&hub, "anna", false).await.unwrap();
    let app = Harness::new(SessionSettings::default(), false);
    let (found, finding) = oneshot::channel::<EndpointLookup>();
    app.session.connect(HubMode::Remote, async move {
        finding.await.expect("the test answers")
    });
    let waiting = app.session.wait_for_client();
    tokio::pin!(waiting);
    // Not connected yet: the wait is pending, and only the link patience's sleep is on
    // the clock (which the test never advances).
    tokio::select! {
        biased;
        early = &mut waiting => panic!("resolved before the connection: {early:?}"),
        patience = app.clock.next_sleep() => {
            assert_eq!(patience, SessionConfig::default().link_patience);
        }
    }
    found
        .send(EndpointLookup::Found(
            HubEndpoint::new(&hub.url(), &token).unwrap(),
        ))
        .unwrap();
    let client = tokio::time::timeout(Duration::from_secs(10), waiting)
        .await
        .expect("the wait ends once connected")
        .expect("a client");
    assert_eq!(client.me().await.unwrap().presence.login, "anna");
    hub.stop().await.unwrap();
}

#[tokio::test]
async fn a_new_connection_drops_the_old_one_with_its_popups() {
    let dir = tempfile::tempdir().unwrap();
    let hub = start_hub(dir.path(), loopback()).await.unwrap();
    let anna = add_agent(&hub, "anna", false).await.unwrap();
    let ben = add_agent(&hub, "ben", false).await.unwrap();
    let mut app = Harness::new(SessionSettings::default(), false);
    app.connect(&hub.url(), &anna);
    app.until_status(ConnectionState::Connected).await;
    pbx(&hub, "newCall", "c1", &[("user", "anna")]).await;
    app.until_shown("anna's popup", |shown| popup_shown(shown, "c1"))
        .await;

    // Connecting anew (other settings) drops the old connection with its popup.
    let before = app.shown.borrow().len();
    app.connect(&hub.url(), &ben);
    let shown = app
        .until_shown("the status starting over", |shown| {
            statuses(&shown[before..]).iter().any(|s| s.me.is_none())
        })
        .await;
    assert!(
        matches!(&shown[before..], [
            Shown::HidePopup,
            Shown::Notify(NotificationAction::Withdraw { .. }),
            Shown::Status(status),
            ..
        ] if status.connection == ConnectionState::Connecting),
        "{:#?}",
        &shown[before..]
    );
    assert_eq!(app.session.current_popup(), None);
    app.until_status_is(|status| {
        status.connection == ConnectionState::Connected
            && status.me.as_ref().is_some_and(|me| me.login == "ben")
    })
    .await;

    // Anna's old session no longer shows anything: her do-not-disturb reaches the team
    // view of ben's session, and the status stays ben's.
    let rest = ringside_client::rest::HubClient::new(
        HubEndpoint::new(&hub.url(), &anna).unwrap(),
        ringside_client::rest::DEFAULT_REQUEST_TIMEOUT,
    )
    .unwrap();
    rest.set_dnd(true).await.unwrap();
    app.until_shown("anna's do-not-disturb in the team", |shown| {
        shown.iter().any(|s| {
            matches!(s, Shown::Team(team)
                if team.iter().any(|p| p.login == "anna" && p.dnd))
        })
    })
    .await;
    let me = app.session.status().me.expect("ben's presence");
    assert_eq!((me.login.as_str(), me.dnd), ("ben", false));
    hub.stop().await.unwrap();
}

#[tokio::test]
async fn the_hubs_phone_link_goes_to_the_softphone_unless_it_would_come_back() {
    let dir = tempfile::tempdir().unwrap();
    let hub = start_hub(dir.path(), loopback()).await.unwrap();
    let token = add_agent(&hub, "anna", false).await.unwrap();
    let settings = SessionSettings {
        confirm_app_links: false,
        ..SessionSettings::default()
    };
    let mut app = Harness::new(settings, false);
    app.connect(&hub.url(), &token);
    app.until_status(ConnectionState::Connected).await;

    // A link in the app's window, no provider for anna: the softphone gets the hub's link.
    let dialed = app
        .session
        .follow_link("+4930609854180".into())
        .await
        .unwrap()
        .expect("dialed without a prompt");
    assert_eq!(
        dialed,
        DialResult::Tel {
            number: "+4930609854180".into(),
            link: "tel:+4930609854180".into(),
        }
    );
    app.until_shown("the softphone", |shown| {
        shown
            .iter()
            .any(|s| matches!(s, Shown::Softphone(link) if link.as_str() == "tel:+4930609854180"))
    })
    .await;

    // A link from the desktop came because this app handles tel: links: it waits for the
    // agent, and once confirmed, the hub's link is refused instead of looping back.
    app.session.follow_desktop_link("+4930609854181".into());
    let shown = app
        .until_shown("the prompt", |shown| {
            shown
                .iter()
                .any(|s| matches!(s, Shown::DialPrompt(Some(_))))
        })
        .await;
    let prompt = shown
        .iter()
        .find_map(|s| match s {
            Shown::DialPrompt(Some(prompt)) => Some(prompt.clone()),
            _ => None,
        })
        .unwrap();
    assert_eq!(app.session.pending_dial().as_ref(), Some(&prompt));
    assert_eq!(app.session.answer_dial(prompt.id, true), None);
    let shown = app
        .until_shown("the notice", |shown| {
            shown.iter().any(|s| matches!(s, Shown::Notice(_)))
        })
        .await;
    let notice = shown
        .iter()
        .find_map(|s| match s {
            Shown::Notice(notice) => Some(notice.clone()),
            _ => None,
        })
        .unwrap();
    assert_eq!(notice.level, NoticeLevel::Error);
    assert!(
        notice
            .message
            .starts_with("Could not dial +4930609854181: No phone provider"),
        "{notice:?}"
    );
    let softphone_links = shown
        .iter()
        .filter(|s| matches!(s, Shown::Softphone(_)))
        .count();
    assert_eq!(softphone_links, 1, "only the app window's link");
    hub.stop().await.unwrap();
}

#[tokio::test]
async fn a_popup_the_agent_closes_gives_way_to_the_next_and_takes_its_notification() {
    let dir = tempfile::tempdir().unwrap();
    let hub = start_hub(dir.path(), loopback()).await.unwrap();
    let token = add_agent(&hub, "anna", false).await.unwrap();
    let mut app = Harness::new(SessionSettings::default(), false);
    app.connect(&hub.url(), &token);
    app.until_status(ConnectionState::Connected).await;
    pbx(&hub, "newCall", "first", &[]).await;
    app.until_shown("the first popup", |shown| popup_shown(shown, "first"))
        .await;
    pbx(&hub, "newCall", "second", &[]).await;
    app.until_shown("the second popup", |shown| popup_shown(shown, "second"))
        .await;
    let second = app.session.current_popup().expect("the newest shows");
    assert_eq!(second.call.call_id, "second");

    let before = app.shown.borrow().len();
    app.session.dismiss_popup(second.call.id);
    let shown = app
        .until_shown("the dismissal", |shown| {
            shown[before..]
                .iter()
                .any(|s| matches!(s, Shown::Notify(NotificationAction::Withdraw { .. })))
        })
        .await;
    let after = &shown[before..];
    assert!(
        matches!(after, [
            Shown::Popup(view),
            Shown::Notify(NotificationAction::Withdraw { call_id }),
        ] if view.call.call_id == "first" && *call_id == second.call.id),
        "{after:#?}"
    );
    assert_eq!(
        app.session.current_popup().map(|v| v.call.call_id),
        Some("first".into())
    );
    hub.stop().await.unwrap();
}

#[tokio::test]
async fn fresh_tickets_for_a_ringing_call_refresh_its_open_popup_in_place() {
    let dir = tempfile::tempdir().unwrap();
    let hub = start_hub(dir.path(), loopback()).await.unwrap();
    let token = add_agent(&hub, "anna", false).await.unwrap();
    let (_, writer) = ringside_hub::store::Store::open(&dir.path().join("data")).unwrap();
    let carla = ringside_core::directory::ContactRecord {
        name: "Carla Customer".into(),
        organization: None,
        emails: vec![],
        phones: vec!["+49 30 609854180".into()],
        note: None,
        profile_url: None,
        numbers: vec![ringside_core::number::E164::parse("+4930609854180").unwrap()],
        warnings: vec![],
    };
    ringside_hub::store::directory::import_contacts(
        &mut ringside_hub::store::Db::Sqlite(&writer),
        [Ok::<_, std::convert::Infallible>(carla)].into_iter(),
    )
    .unwrap();
    let mut app = Harness::new(SessionSettings::default(), false);
    app.connect(&hub.url(), &token);
    app.until_status(ConnectionState::Connected).await;

    pbx(&hub, "newCall", "c1", &[]).await;
    app.until_shown("the popup", |shown| popup_shown(shown, "c1"))
        .await;
    let popup = app.session.current_popup().expect("a popup is open");
    let contact = popup.call.caller.as_ref().expect("Carla").contacts[0].clone();
    assert_eq!(contact.tickets, vec![]);

    // What the hub's ticket fetch records when the help desk's tickets come in.
    let ticket = TicketSummary {
        id: "53001".into(),
        title: "Printer on fire".into(),
        state: Some("open".into()),
        updated_at: Some(
            time::OffsetDateTime::now_utc()
                .replace_nanosecond(0)
                .unwrap(),
        ),
        url: Some("https://desk.example/#ticket/zoom/1".into()),
    };
    let fetched = FetchedTicket {
        zammad_id: 1,
        summary: ticket.clone(),
    };
    let changed = hub
        .hub
        .recorder
        .live_tickets(
            popup.call.id,
            vec![(contact.id.unwrap(), vec![fetched])],
            time::OffsetDateTime::now_utc(),
        )
        .await
        .unwrap();
    assert!(changed);
    let shown = app
        .until_shown("the popup with the tickets", |shown| {
            shown.iter().any(|s| {
                matches!(s, Shown::Popup(view)
                    if view.call.caller.as_ref().is_some_and(|c| !c.contacts[0].tickets.is_empty()))
            })
        })
        .await;
    let popup = app.session.current_popup().expect("still open");
    assert_eq!(popup.call.call_id, "c1");
    assert_eq!(popup.call.caller.unwrap().contacts[0].tickets, vec![ticket]);
    let notifications = shown
        .iter()
        .filter(|s| matches!(s, Shown::Notify(NotificationAction::Show { .. })))
        .count();
    assert_eq!(notifications, 1, "refreshed in place, not popped again");
    hub.stop().await.unwrap();
}
