//! `varyedge profiles`: every built-in profile, its knobs, behaviour and sources.

use super::emit;
use crate::cli::ProfilesArgs;
use varyedge::error::ExitStatus;
use varyedge::profile::builtin_profiles;
use varyedge::report::{Profiles, ProfilesFormat, Render};

pub(crate) fn run(a: ProfilesArgs) -> anyhow::Result<ExitStatus> {
    let ps = builtin_profiles();
    let format = if a.json {
        ProfilesFormat::Json
    } else {
        ProfilesFormat::Text
    };
    emit(None, &Profiles { profiles: &ps }.render(format))?;
    Ok(ExitStatus::Clean)
}
