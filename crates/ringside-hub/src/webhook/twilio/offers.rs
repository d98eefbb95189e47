//! The simple-queue flow's memory: for every caller waiting in their queue, whom the hub
//! has offered the call to and which agent call is ringing now, keyed by the caller's
//! `CallSid`. It lives in the hub's memory only: a restarted hub forgets the waiting
//! callers, who then hear hold music until they hang up.

use std::collections::HashMap;
use std::sync::Mutex;

use super::available::Available;

/// Every waiting caller's offer; shared by the Twilio routes.
#[derive(Debug, Default)]
pub struct Offers {
    calls: Mutex<HashMap<String, Offer>>,
}

/// One waiting caller.
#[derive(Debug, Default)]
struct Offer {
    /// `From` of the caller, who is never offered their own call.
    caller: Option<String>,
    /// Logins of the agents offered the call so far, the ringing one included.
    tried: Vec<String>,
    /// The call ringing an agent now: its `CallSid` and the agent.
    ringing: Option<(String, Available)>,
}

/// Whom the next offer may go to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Untried {
    /// `From` of the caller.
    pub caller: Option<String>,
    /// Logins already offered the call.
    pub tried: Vec<String>,
}

impl Offers {
    fn calls(&self) -> std::sync::MutexGuard<'_, HashMap<String, Offer>> {
        self.calls
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Starts offering the call `caller_sid` from `caller`.
    pub fn open(&self, caller_sid: &str, caller: Option<String>) {
        let offer = Offer {
            caller,
            ..Offer::default()
        };
        self.calls().insert(caller_sid.to_owned(), offer);
    }

    /// Whom the call may still be offered to; `None` once it is no longer offered.
    pub fn untried(&self, caller_sid: &str) -> Option<Untried> {
        self.calls().get(caller_sid).map(|offer| Untried {
            caller: offer.caller.clone(),
            tried: offer.tried.clone(),
        })
    }

    /// Notes that `login` is being offered the call; false once it is no longer offered.
    pub fn trying(&self, caller_sid: &str, login: &str) -> bool {
        self.calls()
            .get_mut(caller_sid)
            .map(|offer| offer.tried.push(login.to_owned()))
            .is_some()
    }

    /// Notes the call `leg_sid` Twilio created to ring `agent`; false when the caller left
    /// meanwhile (the leg is then to be hung up).
    pub fn ringing(&self, caller_sid: &str, leg_sid: String, agent: Available) -> bool {
        self.calls()
            .get_mut(caller_sid)
            .map(|offer| offer.ringing = Some((leg_sid, agent)))
            .is_some()
    }

    /// The agent call `leg_sid` ended: true when it was the one ringing for a caller still
    /// waiting, who is then to be offered to the next agent.
    pub fn leg_ended(&self, caller_sid: &str, leg_sid: &str) -> bool {
        let mut calls = self.calls();
        let Some(offer) = calls.get_mut(caller_sid) else {
            return false;
        };
        if offer
            .ringing
            .as_ref()
            .is_some_and(|(sid, _)| sid == leg_sid)
        {
            offer.ringing = None;
            true
        } else {
            false
        }
    }

    /// The caller was taken out of the queue by the agent call `dequeuing_sid`: the offer
    /// ends, and the agent it rang is returned.
    pub fn dequeued(&self, caller_sid: &str, dequeuing_sid: &str) -> Option<Available> {
        let offer = self.calls().remove(caller_sid)?;
        offer
            .ringing
            .filter(|(sid, _)| sid == dequeuing_sid)
            .map(|(_, agent)| agent)
    }

    /// Ends the offer (the caller left, or nobody is left to offer it to); returns the agent
    /// call still ringing, to be hung up.
    pub fn close(&self, caller_sid: &str) -> Option<String> {
        self.calls()
            .remove(caller_sid)?
            .ringing
            .map(|(leg_sid, _)| leg_sid)
    }
}

#[cfg(test)]
mod tests {
    use ringside_providers::twilio::RingTarget;

    use super::*;

    fn agent(login: &str) -> Available {
        Available {
            login: login.into(),
            name: login.to_uppercase(),
            identity: format!("client:{login}"),
            target: RingTarget::Client(login.into()),
        }
    }

    #[test]
    fn an_offer_moves_from_agent_to_agent_until_dequeued() {
        let offers = Offers::default();
        offers.open("CA1", Some("+4930".into()));
        assert!(offers.trying("CA1", "anna"));
        assert!(offers.ringing("CA1", "LEG1".into(), agent("anna")));
        assert!(!offers.leg_ended("CA1", "OTHER"), "not the ringing leg");
        assert!(offers.leg_ended("CA1", "LEG1"));
        assert!(!offers.leg_ended("CA1", "LEG1"), "only once");
        assert!(offers.trying("CA1", "ben"));
        assert!(offers.ringing("CA1", "LEG2".into(), agent("ben")));
        assert_eq!(
            offers.untried("CA1"),
            Some(Untried {
                caller: Some("+4930".into()),
                tried: vec!["anna".into(), "ben".into()],
            })
        );
        assert_eq!(offers.dequeued("CA1", "LEG2"), Some(agent("ben")));
        assert_eq!(offers.untried("CA1"), None, "the offer is over");
        assert!(!offers.leg_ended("CA1", "LEG2"));
    }

    #[test]
    fn a_closed_offer_hands_back_the_ringing_leg() {
        let offers = Offers::default();
        offers.open("CA1", None);
        offers.trying("CA1", "anna");
        offers.ringing("CA1", "LEG1".into(), agent("anna"));
        assert_eq!(offers.close("CA1"), Some("LEG1".into()));
        assert_eq!(offers.close("CA1"), None);
        assert!(!offers.trying("CA1", "ben"));
        assert!(!offers.ringing("CA1", "LEG2".into(), agent("ben")));
    }
}
