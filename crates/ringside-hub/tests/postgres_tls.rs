//! The hub on a PostgreSQL server it reaches over TCP with TLS, as a team's hub reaches a
//! database server on another machine: every session encrypted, the server's certificate
//! verified against `database_ca_file` and the server's name checked; a server it cannot
//! verify is refused, saying why. Against the test server of `scripts/postgres.sh`, which
//! takes TCP connections only with TLS (its layout: see the script).

mod common;

use std::path::{Path, PathBuf};

use common::process::hub_command;
use common::TestHub;

/// How the test server is reached over TCP.
struct TlsServer {
    port: u16,
    ca_file: PathBuf,
    password: String,
}

impl TlsServer {
    /// From the socket URL of the environment, or a failure saying why the test cannot run.
    fn from_env() -> TlsServer {
        let url = std::env::var(common::DATABASE_URL_VAR).unwrap_or_else(|_| {
            panic!(
                "{} is not set: this test needs a PostgreSQL server (make test starts one)",
                common::DATABASE_URL_VAR
            )
        });
        let config: postgres::Config = url.parse().unwrap();
        let Some(postgres::config::Host::Unix(socket)) = config.get_hosts().first() else {
            panic!("the test server's URL names its Unix socket: {url}");
        };
        let tls = socket.parent().unwrap().join("tls");
        TlsServer {
            port: config.get_ports()[0],
            ca_file: tls.join("ca.crt"),
            password: std::fs::read_to_string(tls.join("password"))
                .unwrap_or_else(|e| panic!("{}: {e}", tls.join("password").display()))
                .trim()
                .to_owned(),
        }
    }

    /// The URL of `database` over TCP to `host`, requiring TLS.
    fn url(&self, host: &str, database: &str) -> String {
        format!(
            "postgresql://ringside_tls:{}@{host}:{}/{database}?sslmode=require",
            self.password, self.port
        )
    }
}

/// A new database for a hub in `dir`, named as the harness names it.
fn database(dir: &Path) -> String {
    let url = common::required_postgres_for(dir);
    url.rsplit('/').next().unwrap().to_owned()
}

/// The configuration of a hub on `url`, trusting `ca_file` when given.
fn store(url: &str, ca_file: Option<&Path>) -> String {
    let mut text = format!("store = \"postgres\"\ndatabase_url = {url:?}\n");
    if let Some(ca_file) = ca_file {
        text.push_str(&format!("database_ca_file = {ca_file:?}\n"));
    }
    text
}

/// What `ringside-hub migrate` says on the store of `config_text`: success, and its
/// standard error.
fn migrate(dir: &Path, config_text: &str) -> (bool, String) {
    let config = dir.join("ringside.toml");
    std::fs::write(&config, format!("listen = \"127.0.0.1:0\"\n{config_text}")).unwrap();
    let out = hub_command(&config).arg("migrate").output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test]
#[ignore = "needs a PostgreSQL server: make test runs it"]
async fn a_hub_on_a_verified_tls_session_records_and_answers() {
    let server = TlsServer::from_env();
    let dir = tempfile::tempdir().unwrap();
    let name = database(dir.path());
    let url = server.url("localhost", &name);
    let hub = TestHub::start_in(
        dir,
        &format!(
            "{}\n{}",
            store(&url, Some(&server.ca_file)),
            common::GENERIC_ON
        ),
    )
    .await;
    let (status, body) = hub
        .cti(&[
            ("event", "newCall"),
            ("direction", "in"),
            ("callId", "tls-1"),
            ("from", "4930609854180"),
            ("to", "4930600000000"),
        ])
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(hub.journal_entry("tls-1").await["state"], "newCall");

    // The server's own view: the hub's sessions are encrypted, none is not. (The server
    // takes no other TCP session, but the test does not rely on its configuration.)
    let admin = std::env::var(common::DATABASE_URL_VAR).unwrap();
    let sessions = tokio::task::spawn_blocking(move || {
        let mut client = postgres::Client::connect(&admin, postgres::NoTls).unwrap();
        client
            .query(
                "SELECT s.ssl FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) \
                 WHERE a.datname = $1 AND a.application_name = 'ringside-hub'",
                &[&name],
            )
            .unwrap()
            .iter()
            .map(|row| row.get::<_, bool>(0))
            .collect::<Vec<_>>()
    })
    .await
    .unwrap();
    assert!(!sessions.is_empty(), "the hub holds sessions");
    assert!(sessions.iter().all(|ssl| *ssl), "{sessions:?}");
}

#[test]
#[ignore = "needs a PostgreSQL server: make test runs it"]
fn a_server_the_hub_cannot_verify_is_refused_with_the_reason() {
    let server = TlsServer::from_env();
    let dir = tempfile::tempdir().unwrap();
    let name = database(dir.path());

    // Its authority is not a public one: without database_ca_file, nobody vouches for it.
    let (ok, err) = migrate(dir.path(), &store(&server.url("localhost", &name), None));
    assert!(!ok);
    assert!(
        err.contains("UnknownIssuer")
            && err.contains("name the authority that signed it with database_ca_file"),
        "{err}"
    );

    // The certificate is for localhost and 127.0.0.1: reached under another name (at the
    // same address), the server is not the one the hub asked for.
    let other_name = format!(
        "host=db.example hostaddr=127.0.0.1 port={} user=ringside_tls password={} \
         dbname={name} sslmode=require",
        server.port, server.password
    );
    let (ok, err) = migrate(dir.path(), &store(&other_name, Some(&server.ca_file)));
    assert!(!ok);
    assert!(
        err.contains("not valid for name \"db.example\"")
            && err.contains("use one its certificate holds"),
        "{err}"
    );
    assert!(
        !err.contains(&server.password),
        "no password in the message"
    );

    // The authority named: it works, and under the certificate's address too.
    let (ok, err) = migrate(
        dir.path(),
        &store(&server.url("127.0.0.1", &name), Some(&server.ca_file)),
    );
    assert!(ok, "{err}");
}
