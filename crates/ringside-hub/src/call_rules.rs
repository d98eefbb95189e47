//! The parts of the configuration a running hub takes again when told to (SIGHUP): the
//! block list (`[inbound]`), the outbound routes and caller IDs (`[outbound]`) and the
//! notify map (`[notify]`). Every new call reads the rules of the moment; a reload swaps
//! them whole, so that a call never sees half of an old set and half of a new one.

use std::sync::{Arc, PoisonError, RwLock};

use crate::config::{Config, Inbound, Notify, Outbound};

/// One consistent set of rules.
#[derive(Debug, Clone)]
pub struct CallRules {
    /// `[inbound]`: who is refused.
    pub inbound: Inbound,
    /// `[outbound]`: the caller IDs and how to dial.
    pub outbound: Outbound,
    /// `[notify]`: who is offered which number's calls.
    pub notify: Notify,
}

impl CallRules {
    fn of(config: &Config) -> Self {
        CallRules {
            inbound: config.inbound.clone(),
            outbound: config.outbound.clone(),
            notify: config.notify.clone(),
        }
    }
}

/// The rules in force, replaced whole by a reload.
#[derive(Debug)]
pub struct LiveRules(RwLock<Arc<CallRules>>);

impl LiveRules {
    /// The rules of `config`.
    pub fn new(config: &Config) -> Self {
        LiveRules(RwLock::new(Arc::new(CallRules::of(config))))
    }

    /// The rules now: the same set for all of a call's decisions.
    pub fn current(&self) -> Arc<CallRules> {
        self.0
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Puts the rules of `config` in force; what they hold, in words, for the log.
    pub fn replace(&self, config: &Config) -> String {
        let rules = CallRules::of(config);
        let said = format!(
            "{} blocked caller(s), {} outbound route(s), {} notify rule(s)",
            rules.inbound.block.len(),
            rules.outbound.routes.len(),
            rules.notify.map.len()
        );
        *self.0.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(rules);
        said
    }
}
