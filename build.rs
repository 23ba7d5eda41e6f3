//! Records the compiler version so every result file can say which rustc built the measured code,
//! and the optimisation level, so the startup proof can say which code it proved.
use std::process::Command;

fn main() {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let version = Command::new(rustc)
        .arg("--version")
        .output()
        .ok()
        .and_then(|out| String::from_utf8(out.stdout).ok())
        .map(|s| s.trim().to_owned())
        .unwrap_or_else(|| "unknown".into());
    println!("cargo:rustc-env=STACKHEAP_RUSTC_VERSION={version}");
    println!("cargo:rerun-if-env-changed=RUSTC");
    // The optimisation level this build of the package gets, so that the startup proof can say which
    // code it proved (cargo tells build scripts in OPT_LEVEL; there is no cfg for it).
    let opt_level = std::env::var("OPT_LEVEL").unwrap_or_else(|_| "unknown".into());
    println!("cargo:rustc-env=STACKHEAP_OPT_LEVEL={opt_level}");
}
