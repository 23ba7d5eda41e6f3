//! Records the compiler version so every result file can say which rustc built the measured code.
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
}
