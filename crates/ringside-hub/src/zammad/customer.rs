//! Creating a customer in Zammad for an unknown caller, from a popup: `POST /api/v1/users`
//! with the caller's number, then the new user in the directory as the sync would write
//! it, then the last 30 days' calls from that number matched to it (and streamed), as
//! Zammad back-fills its caller log. One creation per number runs at a time and looks at
//! the directory first, so that a double click or two agents at once make one user.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};

use ringside_core::caller::{ContactCard, ContactSource, MatchLevel};
use ringside_core::number::E164;
use ringside_providers::zammad::{customer, links, ZammadWireError};
use thiserror::Error;
use time::OffsetDateTime;

use super::client::{ZammadError, USER_CREATE};
use super::sync::Syncer;
use super::task::ZammadSync;
use crate::recorder::Recorder;
use crate::store::{Store, StoreError};

/// Why no customer was created.
#[derive(Debug, Error)]
pub enum CreateError {
    /// The number belongs to a contact already.
    #[error("{} is known already: {}", .number, .contact.name)]
    Known {
        /// The number, in E.164.
        number: String,
        /// The contact it belongs to.
        contact: Box<ContactCard>,
    },
    /// Zammad failed or refused.
    #[error("{0}")]
    Zammad(#[from] ZammadError),
    /// Zammad answered with something that is not a user.
    #[error("Zammad's answer to POST /api/v1/users: {0}")]
    Wire(#[from] ZammadWireError),
    /// The directory could not be read or written.
    #[error("the directory: {0}")]
    Store(#[from] StoreError),
}

/// Creates customers in the Zammad the hub syncs from.
#[derive(Debug)]
pub struct Customers {
    syncer: Syncer,
    sync: Arc<ZammadSync>,
    recorder: Recorder,
    store: Store,
    /// One lock per number being created; an entry goes once no request holds it.
    creating: Mutex<HashMap<String, Weak<tokio::sync::Mutex<()>>>>,
}

impl Customers {
    /// Creation through the sync's Zammad client and directory connection; `sync` is
    /// asked for a full pass when Zammad may have created a user without saying so.
    pub fn new(syncer: Syncer, sync: Arc<ZammadSync>, recorder: Recorder, store: Store) -> Self {
        Customers {
            syncer,
            sync,
            recorder,
            store,
            creating: Mutex::default(),
        }
    }

    /// Zammad's base URL, for links and for the app's list of trusted origins.
    pub fn helpdesk_url(&self) -> &str {
        self.syncer.client().url()
    }

    /// Creates the customer of `number` (with `name`, if the agent gave one), writes them
    /// into the directory and matches the recent calls from the number to them; their
    /// card. Refused when a contact has the number already.
    pub async fn create(
        &self,
        number: &E164,
        name: Option<&str>,
        now: OffsetDateTime,
    ) -> Result<ContactCard, CreateError> {
        let lock = self.lock(number.as_str());
        let held = lock.lock().await;
        if let Some(known) = self.store.lookup(number.as_str())? {
            if let (MatchLevel::Known, Some(contact)) = (known.level, known.contacts.first()) {
                return Err(CreateError::Known {
                    number: number.as_str().to_owned(),
                    contact: Box::new(contact.clone()),
                });
            }
        }
        let body = customer::new_customer(name, number);
        let answer = match self
            .syncer
            .client()
            .post("users", &body, None, USER_CREATE)
            .await
        {
            Ok(answer) => answer,
            Err(e) => {
                if matches!(
                    e,
                    ZammadError::Timeout { .. } | ZammadError::Unreachable { .. }
                ) {
                    // Zammad may have created the user before the answer was lost: the
                    // next pass brings it into the directory if so.
                    self.sync.demand_full_pass();
                }
                return Err(e.into());
            }
        };
        let user = customer::created_user(&answer, self.syncer.country())?;
        let base = self.helpdesk_url().to_owned();
        let card = ContactCard {
            id: None,
            name: user.name.clone(),
            organization: None,
            email: user.email.clone(),
            profile_url: Some(links::profile(&base, user.id)),
            new_ticket_url: Some(links::new_ticket(&base, user.id)),
            source: ContactSource::Zammad,
            tickets: Vec::new(),
        };
        let id = self.syncer.put_user(user).await?;
        drop(held);
        match self
            .recorder
            .refresh_callers(self.syncer.country(), now)
            .await
        {
            Ok(changed) => tracing::info!("zammad: customer created, {changed} call(s) matched"),
            Err(e) => tracing::warn!("zammad: customer created, recent calls not matched: {e}"),
        }
        Ok(ContactCard {
            id: Some(id),
            ..card
        })
    }

    /// The lock of `number`, shared by the requests that create its customer now.
    fn lock(&self, number: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut creating = self.creating.lock().unwrap_or_else(|e| e.into_inner());
        creating.retain(|_, lock| lock.strong_count() > 0);
        if let Some(lock) = creating.get(number).and_then(Weak::upgrade) {
            return lock;
        }
        let lock = Arc::new(tokio::sync::Mutex::new(()));
        creating.insert(number.to_owned(), Arc::downgrade(&lock));
        lock
    }
}
