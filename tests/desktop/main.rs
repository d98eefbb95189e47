//! The real desktop app in a real window (Xvfb under `make test`), driven over WebDriver,
//! with its embedded hub fed by HTTP webhooks as a PBX would: popups with the caller's
//! name and tickets that follow the call, the journal's missed calls, do-not-disturb,
//! click-to-dial through a provider's API, the test call, caller data shown as text, and a
//! hub connected to Zammad (a fake built from its documented API): the help desk's state in
//! Settings, fresh tickets in the popup and the one-click ticket. Screenshots of the windows
//! land in `target/e2e-screenshots/`.

mod app;
#[path = "../../crates/ringside-hub/tests/common/fake_zammad.rs"]
mod fake_zammad;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use app::{DesktopApp, Seed};
use axum::routing::post;
use axum::Json;
use fake_zammad::{FakeZammad, ZAMMAD_TOKEN};
use ringside_core::call::Provider;
use ringside_hub::recorder::Recorder;
use ringside_hub::store::{AgentChange, Store};
use serde_json::Value;

const CARLA: &str = "+4930609854180";
const XSS_NAME: &str = "<img src=x onerror=alert(1)>";

fn vcard(name: &str, organization: &str, email: &str, number: &str) -> String {
    format!(
        "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:{name}\r\nORG:{organization}\r\nEMAIL:{email}\r\nTEL;TYPE=work:{number}\r\nURL:https://support.example.com/#user/profile/7\r\nEND:VCARD\r\n"
    )
}

/// Puts contacts (and tickets for the first one) into the embedded hub's directory.
fn import_directory(seed: &Seed<'_>, cards: &str, tickets: &str) {
    let country = ringside_core::number::DefaultCountry::from_iso("DE").unwrap();
    let (_store, writer) = Store::open(seed.hub_dir).unwrap();
    let writer = &mut ringside_hub::store::Db::Sqlite(&writer);
    let parsed = ringside_core::directory::parse_vcards(cards, &country).unwrap();
    ringside_hub::store::directory::import_contacts(
        writer,
        parsed
            .into_iter()
            .map(Ok::<_, ringside_core::directory::DirectoryError>),
    )
    .unwrap();
    let lines = ringside_core::directory::tickets_jsonl(tickets.as_bytes(), &country);
    ringside_hub::store::directory::import_tickets(writer, lines).unwrap();
}

/// Adds a colleague who can answer calls.
async fn add_colleague(seed: &Seed<'_>, login: &str, name: &str) {
    let (store, writer) = Store::open(seed.hub_dir).unwrap();
    let recorder = Recorder::new(store, writer);
    let country = ringside_core::number::DefaultCountry::from_iso("DE").unwrap();
    let agent =
        ringside_hub::state::new_agent(login, name, false, vec![], Default::default(), &country)
            .unwrap();
    recorder
        .add_agent(
            &agent,
            &ringside_hub::token::hash(&ringside_hub::token::generate()),
            time::OffsetDateTime::now_utc(),
        )
        .await
        .unwrap()
        .unwrap();
}

fn call(
    event: &'static str,
    id: &'static str,
    from: &'static str,
) -> Vec<(&'static str, &'static str)> {
    vec![
        ("event", event),
        ("direction", "in"),
        ("callId", id),
        ("from", from),
        ("to", "4930600000000"),
    ]
}

#[tokio::test(flavor = "multi_thread")]
#[cfg_attr(
    not(e2e),
    ignore = "desktop end-to-end: build with E2E=1 and run under scripts/headless-session.sh"
)]
async fn an_inbound_call_pops_up_with_the_caller_and_closes_when_a_colleague_answers() {
    let tickets = r#"{"id": 101, "title": "Printer on fire", "state": "open", "customer_email": "carla@acme.example", "url": "https://support.example.com/#ticket/zoom/101", "updated_at": "2026-11-20T09:00:00Z"}
{"id": 102, "title": "Invoice question", "state": "closed", "customer_email": "carla@acme.example", "updated_at": "2026-11-21T09:00:00Z"}
"#;
    let app = DesktopApp::launch(&[], async |seed| {
        import_directory(
            &seed,
            &vcard("Carla Customer", "Acme GmbH", "carla@acme.example", CARLA),
            tickets,
        );
        add_colleague(&seed, "bob", "Bob Builder").await;
    })
    .await;

    app.pbx(&call("newCall", "c1", "030609854180")).await;
    app.switch_to("popup.html").await;
    app.wait_for_text("[data-testid=popup-caller-name]", |t| t == "Carla Customer")
        .await;
    assert_eq!(
        app.text_of("[data-testid=popup-organization]")
            .await
            .as_deref(),
        Some("Acme GmbH")
    );
    assert_eq!(
        app.text_of("[data-testid=popup-number]").await.as_deref(),
        Some("+49 30 609854180")
    );
    let titles: Vec<String> = app
        .client
        .execute(
            "return [...document.querySelectorAll('[data-testid=popup-ticket]')].map(e => e.textContent);",
            vec![],
        )
        .await
        .unwrap()
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(titles.len(), 2, "{titles:?}");
    assert!(
        titles[0].contains("Invoice question"),
        "newest first: {titles:?}"
    );
    assert!(titles[1].contains("Printer on fire"), "{titles:?}");
    app.screenshot("popup-known-caller").await;

    app::wait_for_popup_window(true).await;
    app::wait_for_notifications(1, app::PATIENCE).await;

    app.pbx(&[call("answer", "c1", "030609854180"), vec![("user", "bob")]].concat())
        .await;
    app.wait_for_absence("[data-testid=popup-caller-name]")
        .await;
    // Not only emptied: the window is off the screen, and the call's notification is gone
    // from the notification daemon.
    app::wait_for_popup_window(false).await;
    app::wait_for_notifications(0, app::WITHDRAWN_WITHIN).await;

    app.switch_to("index.html").await;
    let row = "[data-testid=journal-row][data-call-id]";
    app.wait_for_text(row, |t| {
        t.contains("Carla Customer") && t.contains("connected")
    })
    .await;
    app.screenshot("main-journal").await;
    app.close().await;
}

#[tokio::test(flavor = "multi_thread")]
#[cfg_attr(
    not(e2e),
    ignore = "desktop end-to-end: build with E2E=1 and run under scripts/headless-session.sh"
)]
async fn a_missed_call_waits_in_the_journal_until_marked_done() {
    let app = DesktopApp::launch(&[], async |_| {}).await;
    app.pbx(&call("newCall", "m1", "040123456")).await;
    app.pbx(&[call("hangup", "m1", "040123456"), vec![("cause", "cancel")]].concat())
        .await;

    let open = "[data-testid=journal-row][data-open-missed=true]";
    let text = app.wait_for_text(open, |t| t.contains("not reached")).await;
    app.screenshot("journal-missed-call").await;
    assert!(text.contains("+49 40 123456"), "{text}");
    app.click(&format!("{open} [data-testid=mark-done]")).await;
    app.wait_for_absence(open).await;

    // The hub kept it: a fresh listing shows it done.
    app.click("[data-testid=filter-missed]").await;
    app.click("[data-testid=filter-all]").await;
    app.find("[data-testid=journal-row]").await;
    assert!(app.find_all(open).await.is_empty());
    app.close().await;
}

#[tokio::test(flavor = "multi_thread")]
#[cfg_attr(
    not(e2e),
    ignore = "desktop end-to-end: build with E2E=1 and run under scripts/headless-session.sh"
)]
async fn do_not_disturb_keeps_the_popup_and_the_notification_away() {
    let app = DesktopApp::launch(&[], async |_| {}).await;
    let team_row = "[data-testid=team-row]";
    let on_dnd = |t: &str| {
        t.to_lowercase().contains("do not disturb") || t.to_lowercase().contains("do-not-disturb")
    };
    app.click("[data-testid=dnd-toggle]").await;
    app.click("[data-testid=tab-team]").await;
    app.wait_for_text(team_row, on_dnd).await;

    app.pbx(&call("newCall", "d1", "0891234567")).await;
    app.click("[data-testid=tab-journal]").await;
    app.wait_for_text("[data-testid=journal-row]", |t| t.contains("89 1234567"))
        .await;

    // A later call, after do-not-disturb, does pop up: the stream is in order, so once it
    // shows, the first call was handled long before.
    app.click("[data-testid=dnd-toggle]").await;
    app.click("[data-testid=tab-team]").await;
    app.wait_for_text(team_row, |t| !on_dnd(t)).await;
    app.pbx(&call("newCall", "d2", "0301112222")).await;
    app.switch_to("popup.html").await;
    app.wait_for_text("[data-testid=popup-number]", |t| t == "+49 30 1112222")
        .await;
    app::wait_for_popup_window(true).await;
    app::wait_for_notifications(1, app::PATIENCE).await;

    // The first call still rings: had it a popup, the popup would show it once the second
    // call ends; had it a notification, the daemon would still display it.
    app.pbx(
        &[
            call("hangup", "d2", "0301112222"),
            vec![("cause", "cancel")],
        ]
        .concat(),
    )
    .await;
    app::wait_for_popup_window(false).await;
    app::wait_for_notifications(0, app::WITHDRAWN_WITHIN).await;
    assert_eq!(
        app.text_of("[data-testid=popup-number]").await,
        None,
        "the popup has nothing to show"
    );
    let history = app::notification_history();
    assert!(
        history.contains("30 1112222"),
        "the second call's notification came and went: {history}"
    );
    assert!(
        !history.contains("89 1234567"),
        "no notification for the call during do-not-disturb: {history}"
    );
    app.close().await;
}

/// The app with Placetel enabled against a fake Placetel API, dialing for the local agent
/// (Placetel user `777`), its hub seeded with `seed` too.
async fn launch_with_placetel<F>(seed_more: F) -> (DesktopApp, Arc<Mutex<Vec<Value>>>)
where
    F: AsyncFnOnce(&Seed<'_>),
{
    let (placetel_url, placed) = fake_placetel().await;
    let env = [
        ("RINGSIDE_PLACETEL_ENABLED", "true".to_owned()),
        (
            "RINGSIDE_PLACETEL_API_TOKEN",
            "placetel-api-token".to_owned(),
        ),
        ("RINGSIDE_PLACETEL_API_URL", placetel_url),
    ];
    let app = DesktopApp::launch(&env, async |seed| {
        seed_more(&seed).await;
        let (store, writer) = Store::open(seed.hub_dir).unwrap();
        let recorder = Recorder::new(store, writer);
        let change = AgentChange {
            name: None,
            role: None,
            numbers: None,
            identities: Some(BTreeMap::from([(Provider::Placetel, "777".to_owned())])),
            out_of_office: None,
        };
        recorder
            .update_agent(&seed.login, &change, time::OffsetDateTime::now_utc())
            .await
            .unwrap()
            .unwrap();
    })
    .await;

    (app, placed)
}

/// A fake Placetel API that records the calls it is asked to place.
async fn fake_placetel() -> (String, Arc<Mutex<Vec<Value>>>) {
    let placed = Arc::new(Mutex::new(vec![]));
    let seen = placed.clone();
    let router = axum::Router::new().route(
        "/v2/calls",
        post(move |Json(body): Json<Value>| {
            let seen = seen.clone();
            async move {
                seen.lock().unwrap().push(body);
                Json(serde_json::json!({"id": 1}))
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/v2", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    (url, placed)
}

#[tokio::test(flavor = "multi_thread")]
#[cfg_attr(
    not(e2e),
    ignore = "desktop end-to-end: build with E2E=1 and run under scripts/headless-session.sh"
)]
async fn dialing_reaches_the_hub_and_the_provider() {
    let (app, placed) = launch_with_placetel(async |_| {}).await;

    app.click("[data-testid=tab-dial]").await;
    let field = app.find("[data-testid=dial-number]").await;
    field.send_keys("12").await.unwrap();
    app.click("[data-testid=dial-submit]").await;
    app.find("[data-testid=dial-error]").await;
    assert!(
        placed.lock().unwrap().is_empty(),
        "an invalid number is not dialed"
    );

    field.clear().await.unwrap();
    field.send_keys("030 1234567").await.unwrap();
    app.click("[data-testid=dial-submit]").await;
    app.wait_for_text("[data-testid=dial-result]", |t| t.contains("+4930"))
        .await;
    let requests = placed.lock().unwrap().clone();
    assert_eq!(
        requests,
        vec![serde_json::json!({"sipuid": "777", "target": "+49301234567"})]
    );
    app.close().await;
}

/// Waits until the fake provider has been asked to place `count` calls; returns them.
async fn wait_for_placed(placed: &Mutex<Vec<Value>>, count: usize) -> Vec<Value> {
    let deadline = std::time::Instant::now() + app::PATIENCE;
    loop {
        let now = placed.lock().unwrap().clone();
        if now.len() >= count {
            return now;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the provider was asked for {now:?}, not {count} calls"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
#[cfg_attr(
    not(e2e),
    ignore = "desktop end-to-end: build with E2E=1 and run under scripts/headless-session.sh"
)]
async fn a_tel_link_from_another_program_dials_only_once_confirmed() {
    let (app, placed) = launch_with_placetel(async |seed| {
        import_directory(
            seed,
            &vcard("Carla Customer", "Acme GmbH", "carla@acme.example", CARLA),
            "",
        );
    })
    .await;
    let prompt = "[data-testid=dial-prompt]";

    // A link to an unknown number, turned down with Esc.
    app.open_link("tel:+49-40-123456").await;
    app.switch_to("index.html").await;
    app.wait_for_text("[data-testid=dial-prompt-number]", |t| t == "+49 40 123456")
        .await;
    assert!(app
        .text_of("[data-testid=dial-prompt-unknown]")
        .await
        .is_some());
    app.press(prompt, fantoccini::key::Key::Escape).await;
    app.wait_for_absence(prompt).await;

    // A link to Carla, as a web page would hand it over: the prompt names her; Enter dials.
    app.open_link("tel:+49%2030%20609854180").await;
    app.wait_for_text("[data-testid=dial-prompt-contact]", |t| {
        t == "Carla Customer"
    })
    .await;
    assert_eq!(
        app.text_of("[data-testid=dial-prompt-number]")
            .await
            .as_deref(),
        Some("+49 30 609854180")
    );
    assert!(
        placed.lock().unwrap().is_empty(),
        "nothing is dialed before the agent confirms"
    );
    app.screenshot("dial-prompt").await;
    app.press(prompt, fantoccini::key::Key::Enter).await;
    app.wait_for_absence(prompt).await;
    let requests = wait_for_placed(&placed, 1).await;
    app.wait_for_text("[data-testid=notice]", |t| t.contains("Placetel"))
        .await;
    assert_eq!(
        requests,
        vec![serde_json::json!({"sipuid": "777", "target": CARLA})],
        "only the confirmed link was dialed"
    );
    app.close().await;
}

#[tokio::test(flavor = "multi_thread")]
#[cfg_attr(
    not(e2e),
    ignore = "desktop end-to-end: build with E2E=1 and run under scripts/headless-session.sh"
)]
async fn settings_show_the_webhook_and_the_test_call_pops_up() {
    let app = DesktopApp::launch(&[], async |_| {}).await;
    app.click("[data-testid=tab-settings]").await;
    let webhook = app
        .wait_for_text("[data-testid=webhook-url][data-provider=generic]", |t| {
            t.contains("/api/v1/cti/")
        })
        .await;
    assert!(webhook.contains(&app.hub.url), "{webhook}");
    assert!(webhook.contains(&app.hub.generic_token), "{webhook}");
    // The app and its embedded hub, built together, have the workspace's version.
    let version = env!("CARGO_PKG_VERSION");
    app.wait_for_text("[data-testid=settings-versions]", |t| {
        t.trim() == format!("Ringside {version} · hub {version}")
    })
    .await;
    app.screenshot("main-settings").await;
    app.click("[data-testid=send-test-call]").await;
    app.find("[data-testid=test-call-result]").await;
    app.switch_to("popup.html").await;
    app.find("[data-testid=popup-unknown]").await;
    assert_eq!(
        app.text_of("[data-testid=popup-number]").await.as_deref(),
        Some("+49 30 23125000")
    );
    app.close().await;
}

#[tokio::test(flavor = "multi_thread")]
#[cfg_attr(
    not(e2e),
    ignore = "desktop end-to-end: build with E2E=1 and run under scripts/headless-session.sh"
)]
async fn caller_names_are_shown_as_text_never_as_markup() {
    let app = DesktopApp::launch(&[], async |seed| {
        import_directory(
            &seed,
            &vcard(
                XSS_NAME,
                "<b>Evil</b> Corp",
                "evil@evil.example",
                "+4922112345",
            ),
            "",
        );
    })
    .await;
    app.pbx(&call("newCall", "x1", "022112345")).await;
    app.switch_to("popup.html").await;
    let name = app
        .wait_for_text("[data-testid=popup-caller-name]", |t| !t.is_empty())
        .await;
    assert_eq!(name, XSS_NAME);
    assert_eq!(
        app.text_of("[data-testid=popup-organization]")
            .await
            .as_deref(),
        Some("<b>Evil</b> Corp")
    );
    assert!(
        app.find_all("img").await.is_empty(),
        "no image element was made"
    );
    assert!(
        app.find_all("b").await.is_empty(),
        "no bold element was made"
    );
    app.screenshot("popup-markup-as-text").await;
    app.close().await;
}

#[tokio::test(flavor = "multi_thread")]
#[cfg_attr(
    not(e2e),
    ignore = "desktop end-to-end: build with E2E=1 and run under scripts/headless-session.sh"
)]
async fn a_remote_hub_is_reached_with_the_token_kept_in_the_keyring() {
    let hub_dir = tempfile::tempdir().unwrap();
    let hub = ringside_e2e::start_hub(hub_dir.path(), "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let token = ringside_e2e::add_agent(&hub, "zoe", false).await.unwrap();
    let app = DesktopApp::launch(&[], async |_| {}).await;

    app.click("[data-testid=tab-settings]").await;
    app.click("[data-testid=settings-mode-remote]").await;
    app.find("[data-testid=settings-hub-url]")
        .await
        .send_keys(&hub.url())
        .await
        .unwrap();
    app.find("[data-testid=settings-token]")
        .await
        .send_keys(&token)
        .await
        .unwrap();
    app.click("[data-testid=settings-save]").await;
    app.wait_for_text("[data-testid=settings-message]", |t| !t.is_empty())
        .await;
    app.wait_for_attr("[data-testid=connection]", "data-state", "connected")
        .await;
    let me = app.wait_for_text("header", |t| t.contains("zoe")).await;
    assert!(me.contains("zoe"), "{me}");

    let preferences = std::fs::read_to_string(app.dir().join("preferences.json")).unwrap();
    assert!(preferences.contains("\"remote\""), "{preferences}");
    assert!(!preferences.contains(&token), "the token is not in a file");
    let keyring = std::process::Command::new("secret-tool")
        .args(["search", "--all", "service", "org.ringside.desktop"])
        .output()
        .unwrap();
    let found = String::from_utf8_lossy(&keyring.stdout).to_string()
        + &String::from_utf8_lossy(&keyring.stderr);
    assert!(
        found.contains(&token),
        "the token is in the keyring: {found}"
    );

    ringside_e2e::pbx(&hub, "newCall", "r1", &[]).await;
    app.switch_to("popup.html").await;
    app.wait_for_text("[data-testid=popup-number]", |t| t == "+49 30 609854180")
        .await;
    app.close().await;
    hub.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
#[cfg_attr(
    not(e2e),
    ignore = "desktop end-to-end: build with E2E=1 and run under scripts/headless-session.sh"
)]
async fn a_zammad_customer_pops_up_with_her_tickets_and_gets_a_ticket_in_one_click() {
    let fake = FakeZammad::start(true).await;
    fake.put_user(
        2,
        serde_json::json!({"firstname": "Nicole", "lastname": "Braun",
                           "phone": "+49 30 123456", "email": "nicole.braun@zammad.org"}),
    );
    fake.put_ticket(7, 2, "Router blinks red", 2);
    let env = [
        ("RINGSIDE_ZAMMAD_URL", fake.url.clone()),
        ("RINGSIDE_ZAMMAD_TOKEN", ZAMMAD_TOKEN.to_owned()),
        ("RINGSIDE_ZAMMAD_TICKET_GROUP", "Users".to_owned()),
        // Opening the new ticket goes to a browser that does nothing.
        ("BROWSER", "true".to_owned()),
    ];
    let app = DesktopApp::launch(&env, async |_| {}).await;

    // Settings show the connection and the customer the first sync brought.
    app.click("[data-testid=tab-settings]").await;
    let mut synced = false;
    for _ in 0..100 {
        let line = app.text_of("[data-testid=helpdesk-sync]").await;
        if line.as_deref().is_some_and(|l| l.contains("1 user")) {
            synced = true;
            break;
        }
        app.click("[data-testid=helpdesk-refresh]").await;
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(synced, "the first sync shows in Settings");
    app.wait_for_attr("[data-testid=helpdesk-connection]", "data-state", "up")
        .await;
    app.screenshot("main-settings-helpdesk").await;

    // Her call pops up with the ticket Zammad has now.
    app.pbx(&call("newCall", "z1", "030123456")).await;
    app.switch_to("popup.html").await;
    app.wait_for_text("[data-testid=popup-caller-name]", |t| t == "Nicole Braun")
        .await;
    app.wait_for_text("[data-testid=popup-ticket]", |t| {
        t.contains("Router blinks red")
    })
    .await;

    // One click makes her ticket in Zammad, and the popup links to it.
    app.click("[data-testid=popup-create-ticket]").await;
    let link = app
        .wait_for_text("[data-testid=popup-call-ticket]", |t| {
            t.starts_with("Ticket #")
        })
        .await;
    let tickets = fake.tickets();
    assert_eq!(tickets.len(), 2, "one ticket made: {tickets:?}");
    let made = &tickets[1];
    assert_eq!(made["customer_id"], 2);
    assert_eq!(
        link,
        format!("Ticket #{}", made["number"].as_str().unwrap())
    );
    app.screenshot("popup-zammad-ticket").await;
    app.close().await;
}
