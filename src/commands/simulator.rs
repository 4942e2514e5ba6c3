//! One way to run a scenario under the profiles `matrix` compares, shared by `matrix` (its
//! rows) and `lint` (its simulated poisoning, through [`lint::Replayer`]), so that when
//! lint names a profile as poisoning, `matrix` on the same file shows it failing or both
//! say it is latent.

use std::path::Path;
use varyedge::edge::knobs::Knobs;
use varyedge::error::InputError;
use varyedge::flow::Trace;
use varyedge::lint::{self, Replayer};
use varyedge::origin::OriginModel;
use varyedge::profile::PROFILE_NAMES;
use varyedge::scenario::Scenario;
use varyedge::sim::{self, SimError};

/// A scenario file's edge under each profile (the profile's knobs, the file's overrides
/// on top), and the simulator to run it.
pub(crate) struct Simulator {
    /// `(profile, the file's knobs under it)`, in the order asked for. Only the knobs are
    /// kept: fourteen copies of a long trace's steps would not fit in memory.
    pub(crate) under: Vec<(String, Knobs)>,
}

impl Simulator {
    /// Loads `file` under each of `names` (exit 2 on the first that does not load).
    pub(crate) fn load(file: &Path, names: &[String]) -> Result<Simulator, InputError> {
        Simulator::load_each(file, names, |_, _| {})
    }

    /// [`Simulator::load`], handing each profile's scenario to `each` before the next is
    /// loaded (so one is in memory at a time).
    pub(crate) fn load_each(
        file: &Path,
        names: &[String],
        mut each: impl FnMut(&str, Scenario),
    ) -> Result<Simulator, InputError> {
        let mut under = Vec::new();
        for n in names {
            let sc = super::load(file, Some(n))?;
            under.push((n.clone(), sc.edge.knobs.clone()));
            each(n, sc);
        }
        Ok(Simulator { under })
    }

    /// Every built-in profile, as `lint` compares them.
    pub(crate) fn all(file: &Path) -> Result<Simulator, InputError> {
        let names: Vec<String> = PROFILE_NAMES.iter().map(|n| n.to_string()).collect();
        Simulator::load(file, &names)
    }

    /// The replay of a scenario as loaded: its own origin, its own edge. This is what a
    /// `matrix` row is.
    pub(crate) fn row(sc: &Scenario) -> Result<Trace, SimError> {
        sim::replay(sc)
    }

    /// Lints `sc` (loaded from `text`) with this simulator.
    pub(crate) fn lint(&self, sc: &Scenario, text: &str) -> Vec<lint::Finding> {
        lint::check(sc, text, self)
    }
}

impl Replayer for Simulator {
    fn replay(&self, sc: &Scenario, knobs: &Knobs, origin: &OriginModel) -> Trace {
        sim::replay_with(sc, knobs, &mut origin.clone())
    }

    fn profiles(&self, _: &Scenario) -> Vec<(String, Knobs)> {
        self.under.clone()
    }

    fn any_cache_induced(&self, sc: &Scenario, knobs: &Knobs, origin: &OriginModel) -> bool {
        sim::any_cache_induced(sc, knobs, &mut origin.clone())
    }
}
