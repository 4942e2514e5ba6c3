//! `varyedge origin`: serve a scenario's origin model over HTTP.

use super::load;
use crate::cli::OriginArgs;
use varyedge::error::ExitStatus;
use varyedge::scenario::OriginSpec;

pub(crate) fn run(a: OriginArgs) -> anyhow::Result<ExitStatus> {
    let sc = match load(&a.scenario, None) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{e}");
            return Ok(ExitStatus::BadInput);
        }
    };
    let model = match sc.origin {
        OriginSpec::Model(m) => m,
        OriginSpec::Upstream(u) => {
            eprintln!("{}: the scenario's origin is already a real server ({u}); there is nothing to serve", sc.file);
            return Ok(ExitStatus::BadInput);
        }
    };
    super::log_to_std();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    match rt.block_on(varyedge::net::origin_server::serve(model, a.listen)) {
        Ok(()) => Ok(ExitStatus::Clean),
        Err(e) => {
            eprintln!("varyedge origin: cannot listen on {}: {e}", a.listen);
            Ok(ExitStatus::BadInput)
        }
    }
}
