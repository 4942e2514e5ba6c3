use super::*;
use crate::scenario;

fn load(path: &str) -> Scenario {
    let full = format!("{}/{path}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&full).unwrap();
    scenario::parse(path, &text).unwrap()
}

#[test]
fn smoke() {
    let sc = load("scenarios/01-reflect-without-vary.yaml");
    let a = advise(&sc, 50).unwrap();
    for c in &a.candidates {
        eprintln!("{} works={} {:?} {:?} {:?}", c.kind.id(), c.proof.works, c.proof, c.scenario_cost, c.mix_cost);
    }
}
