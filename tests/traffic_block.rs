//! Every command that reads a scenario accepts and refuses the same files: a `traffic:`
//! block is checked by `replay`, `matrix`, `lint`, `explore` and `fix` alike (only
//! `explore` and `fix` use it).

use std::process::Command;

#[test]
fn every_command_refuses_a_bad_traffic_block_the_same_way() {
    let dir = std::env::temp_dir().join(format!("varyedge-traffic-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let f = dir.join("t.yaml");
    let base = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("scenarios/01-reflect-without-vary.yaml"),
    )
    .unwrap();
    std::fs::write(&f, base + "traffic: {}\n").unwrap();
    let file = f.to_str().unwrap();
    for cmd in [
        vec!["replay", file],
        vec!["matrix", file],
        vec!["lint", file],
        vec!["explore", file, "--cases", "10"],
        vec!["fix", file],
    ] {
        let o = Command::new(env!("CARGO_BIN_EXE_varyedge"))
            .args(&cmd)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{cmd:?}: {err}");
        assert!(
            err.contains("`traffic:` needs `clients:`"),
            "{cmd:?}: {err}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
