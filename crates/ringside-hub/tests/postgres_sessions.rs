//! The PostgreSQL sessions of one hub's reads are bounded: PostgreSQL allows 100
//! connections by default for every client together, so a busy node waits for a session of
//! its own rather than taking the other nodes'. On a real server.

mod common;

use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use ringside_hub::store::{Location, Store, MAX_POSTGRES_READERS};

/// The sessions the server has open on `database`, counted from the server's `postgres`
/// database.
fn sessions_on(database: &str) -> usize {
    let name = database.rsplit('/').next().unwrap().to_owned();
    let server = std::env::var(common::DATABASE_URL_VAR).unwrap();
    std::thread::spawn(move || {
        let mut client = postgres::Client::connect(&server, postgres::NoTls).unwrap();
        let row = client
            .query_one(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = $1",
                &[&name],
            )
            .unwrap();
        usize::try_from(row.get::<_, i64>(0)).unwrap()
    })
    .join()
    .unwrap()
}

/// Holds the reads that wait on it until opened, or dropped: a failing assertion must not
/// leave the reads (and the runtime, which waits for them) blocked.
#[derive(Clone, Default)]
struct Gate(Arc<(Mutex<bool>, Condvar)>);

impl Gate {
    fn wait(&self) {
        let (open, opened) = &*self.0;
        drop(
            opened
                .wait_while(open.lock().unwrap(), |open| !*open)
                .unwrap(),
        );
    }

    fn open(&self) {
        *self.0 .0.lock().unwrap() = true;
        self.0 .1.notify_all();
    }
}

/// Opens the gate when dropped, however the test ends.
struct Opens(Gate);

impl Drop for Opens {
    fn drop(&mut self) {
        self.0.open();
    }
}

#[tokio::test]
#[ignore = "needs a PostgreSQL server: make test runs it"]
async fn reads_beyond_the_ceiling_wait_for_a_session_and_then_succeed() {
    let dir = tempfile::tempdir().unwrap();
    let database = common::required_postgres_for(dir.path());
    let (store, _writer) = Store::open_at(Location::Postgres {
        url: &database,
        ca_file: None,
    })
    .unwrap();
    // The writer's session.
    let others = sessions_on(&database);

    // More reads at once than the ceiling, each holding its session until the gate opens.
    let gate = Gate::default();
    let opens = Opens(gate.clone());
    let reads: Vec<_> = (0..MAX_POSTGRES_READERS + 4)
        .map(|_| {
            let store = store.clone();
            let gate = gate.clone();
            tokio::spawn(async move {
                store
                    .read(move |_| {
                        gate.wait();
                        Ok(())
                    })
                    .await
            })
        })
        .collect();

    // The ceiling is reached, and stays the most while the reads beyond it wait.
    let mut seen = 0;
    for _ in 0..200 {
        seen = sessions_on(&database) - others;
        assert!(
            seen <= MAX_POSTGRES_READERS,
            "{seen} read sessions open, more than {MAX_POSTGRES_READERS}"
        );
        if seen == MAX_POSTGRES_READERS {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        seen, MAX_POSTGRES_READERS,
        "the reads open sessions up to the ceiling"
    );
    for _ in 0..20 {
        let now = sessions_on(&database) - others;
        assert!(now <= MAX_POSTGRES_READERS, "{now} read sessions open");
    }

    // Sessions freed go to the reads that waited: every read succeeds.
    drop(opens);
    for read in reads {
        read.await
            .unwrap()
            .expect("the read succeeds once a session is free");
    }
}
