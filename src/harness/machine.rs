//! Describing the machine this process runs on: CPU, cores, kernel, glibc, rustc, allocator versions
//! and the allocator tunables found in the environment (the [`Machine`] every result file records).

use crate::data::machine::Machine;
use crate::workload::allocators::AllocatorKind;
use std::collections::BTreeMap;

impl Machine {
    /// Describes the current process's machine.
    pub fn current() -> Machine {
        Machine {
            cpu_model: cpu_model(),
            cores: available_cores(),
            kernel: kernel(),
            glibc: crate::platform::glibc_version(),
            rustc: env!("STACKHEAP_RUSTC_VERSION").to_owned(),
            allocator_versions: AllocatorKind::all()
                .iter()
                .map(|k| (k.name().to_owned(), k.version()))
                .collect(),
            allocator_proofs: BTreeMap::new(),
            allocator_settings: allocator_settings(std::env::vars()),
            unix_time: crate::data::machine::unix_now(),
        }
    }
}

/// The cores this process may run on (what `available_parallelism` reports), at least 1.
pub fn available_cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

fn cpu_model() -> String {
    crate::platform::cpuinfo_field("model name").unwrap_or_else(|| "unknown CPU".into())
}

fn kernel() -> String {
    // SAFETY: uname fills a zeroed struct of fixed-size NUL-terminated arrays.
    unsafe {
        let mut uts: libc::utsname = std::mem::zeroed();
        if libc::uname(&mut uts) != 0 {
            return "unknown".into();
        }
        std::ffi::CStr::from_ptr(uts.release.as_ptr())
            .to_string_lossy()
            .into_owned()
    }
}

/// The variables, among `vars`, that tune one of the allocators ([`AllocatorKind::tunables`]: a
/// name, or a prefix ending in `_`).
pub fn allocator_settings(
    vars: impl Iterator<Item = (String, String)>,
) -> BTreeMap<String, String> {
    let tunes = |name: &str| {
        AllocatorKind::ALL
            .iter()
            .flat_map(|kind| kind.tunables())
            .any(|t| name == *t || (t.ends_with('_') && name.starts_with(t)))
    };
    vars.filter(|(name, _)| tunes(name)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn describes_this_machine() {
        let m = Machine::current();
        assert!(m.cores >= 1);
        assert!(m.glibc.starts_with("2."));
        assert!(m.rustc.starts_with("rustc "));
        // Every built-in allocator, and any library another test registered.
        assert!(m.allocator_versions.len() >= AllocatorKind::ALL.len());
    }

    #[test]
    fn keeps_only_allocator_tunables() {
        let vars = [
            ("_RJEM_MALLOC_CONF", "background_thread:true"),
            ("MIMALLOC_ARENA_EAGER_COMMIT", "1"),
            ("MALLOC_ARENA_MAX", "2"),
            ("PATH", "/usr/bin"),
            ("HOME", "/root"),
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned()));
        let kept = allocator_settings(vars.into_iter());
        assert_eq!(
            kept.keys().map(String::as_str).collect::<Vec<_>>(),
            [
                "MALLOC_ARENA_MAX",
                "MIMALLOC_ARENA_EAGER_COMMIT",
                "_RJEM_MALLOC_CONF"
            ]
        );
    }
}
