//! The one place a scenario step becomes a browser [`Fetch`]: the simulator, the wire
//! driver, lint and the explorer all build their fetches here.

use super::{Client, Scenario, Step};
use crate::browser::Fetch;

impl Scenario {
    /// The fetch step `st` describes, made by its client's page.
    pub fn fetch(&self, st: &Step) -> Fetch {
        let mut f = Fetch {
            agent: crate::browser::Agent::None,
            origin: String::new(),
            method: String::new(),
            scheme: String::new(),
            host: String::new(),
            target: String::new(),
            headers: Default::default(),
            mode: st.mode,
            credentials: st.credentials,
            cookie: None,
            private_network: false,
            redirect: st.redirect,
            chain: crate::browser::Chain::default(),
        };
        self.refill_fetch(st, &mut f);
        f
    }

    /// Writes the fetch `st` describes into `f`, reusing its buffers (a per-step path
    /// would otherwise allocate every string anew).
    pub fn refill_fetch(&self, st: &Step, f: &mut Fetch) {
        fill_fetch(&self.clients[st.client], st, f);
    }
}

/// [`Scenario::refill_fetch`] for a caller that holds the step's client (`c`, the
/// scenario's `clients[st.client]`) rather than the scenario.
pub fn fill_fetch(c: &Client, st: &Step, f: &mut Fetch) {
    f.agent = c.agent;
    f.origin.clone_from(&c.origin);
    f.method.clone_from(&st.method);
    f.scheme.clone_from(&st.scheme);
    f.host.clone_from(&st.host);
    f.target.clone_from(&st.target);
    f.headers.clone_from(&st.headers);
    f.mode = st.mode;
    f.credentials = st.credentials;
    match &mut f.cookie {
        Some(k) => k.clone_from(&c.cookie),
        None => f.cookie = Some(c.cookie.clone()),
    }
    f.private_network = c.private_network;
    f.redirect = st.redirect;
    f.chain = crate::browser::Chain::default();
}
