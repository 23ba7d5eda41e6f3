//! The settings of a run, from the `STACKHEAP_*` variables, each parsed by the one list parser
//! (`config::parse_list`: bad items and duplicates named in one line) and checked against what the
//! suite and the platform can do: allocators, thread counts, stack and frame sizes, and which process
//! of a repeated run this is.

use crate::config::{parse_list, parse_size};
use crate::error::InputError;
use crate::workload::allocators::{AllocatorKind, library};
use crate::workload::depth::{DEFAULT_FRAME_SIZES, SUPPORTED_FRAME_SIZES};

/// The allocators to measure: `STACKHEAP_ALLOCATORS` (comma-separated names) or the default run's
/// ([`AllocatorKind::default_run`]). Beside the built-in names, `name=path` names a shared library
/// that serves `malloc` (`tcmalloc=/usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4`): checked
/// here (the file, that it is a shared library defining malloc and free, the name) and registered as
/// [`AllocatorKind::Library`], measured in processes of its own ([`measured_here`]).
pub fn allocators_from(value: Option<&str>) -> Result<Vec<AllocatorKind>, String> {
    let Some(value) = value else {
        return Ok(AllocatorKind::default_run());
    };
    parse_list("STACKHEAP_ALLOCATORS", value, |item| {
        let Some((name, path)) = item.split_once('=') else {
            // A bare name is a built-in allocator's: a library is named with its path.
            return AllocatorKind::built_in(item).ok_or_else(|| {
                format!(
                    "is not an allocator: expected one of {}, or name=path of a shared library that serves malloc",
                    AllocatorKind::names()
                )
            });
        };
        let name = name.trim();
        if AllocatorKind::built_in(name).is_some() {
            return Err(format!(
                "names a built-in allocator: expected another name for the library {}",
                path.trim()
            ));
        }
        if !library::valid_name(name) {
            return Err(
                "has a name that cannot name an allocator: expected lower-case letters, digits, '_' or '-', starting with a letter, before '='".into(),
            );
        }
        let path = library::check(std::path::Path::new(path.trim()))?;
        library::register(name, Some(path)).map(AllocatorKind::Library)
    })
}

/// [`allocators_from`] the environment's `STACKHEAP_ALLOCATORS`.
pub fn allocators_from_env() -> Result<Vec<AllocatorKind>, InputError> {
    allocators_from(std::env::var("STACKHEAP_ALLOCATORS").ok().as_deref()).map_err(InputError)
}

/// The allocators of `chosen` that this process measures itself: the library that serves its
/// `malloc` where one was preloaded (proved, or refused with one line when `chosen` does not name
/// it: its rows would carry the C library's name), else the built-in ones; the others' rows are
/// measured in processes started with their library preloaded ([`preload_env`]).
pub fn measured_here(chosen: &[AllocatorKind]) -> Result<Vec<AllocatorKind>, InputError> {
    let Some(preloaded) = library::preloaded_malloc() else {
        return Ok(chosen.iter().copied().filter(|k| !k.is_library()).collect());
    };
    let named = chosen.iter().copied().find(|k| match k {
        AllocatorKind::Library(id) => id.library().path.as_ref() == Some(&preloaded),
        _ => false,
    });
    match named {
        Some(kind) => {
            proof_of(kind).map_err(InputError)?;
            Ok(vec![kind])
        }
        None => Err(InputError(format!(
            "this process's malloc is served by {} (LD_PRELOAD), which STACKHEAP_ALLOCATORS does not name: expected name={} among its allocators, so that its rows carry its name",
            preloaded.display(),
            preloaded.display()
        ))),
    }
}

/// The evidence that this process may measure `kind`: for a library, that its `malloc` (and the rest
/// of [`library::SERVED_FUNCTIONS`]) is the library's; a built-in allocator is linked in.
pub fn proof_of(kind: AllocatorKind) -> Result<String, String> {
    let AllocatorKind::Library(id) = kind else {
        return Ok(format!("{kind}: built into this binary"));
    };
    let library = id.library();
    let path = library.path.as_ref().ok_or_else(|| {
        format!(
            "allocator {kind}: no path: expected STACKHEAP_ALLOCATORS to name it as {kind}=<path>"
        )
    })?;
    library::prove(library.name, path)
}

/// The environment of a process that measures the library `kind`: it preloaded, and the allocators
/// list naming it (so that the process registers it under the same name and proves it).
pub fn preload_env(kind: AllocatorKind) -> Vec<(String, String)> {
    let AllocatorKind::Library(id) = kind else {
        return Vec::new();
    };
    let library = id.library();
    let path = library
        .path
        .as_ref()
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    vec![
        ("LD_PRELOAD".into(), path.clone()),
        (
            "STACKHEAP_ALLOCATORS".into(),
            format!("{}={path}", library.name),
        ),
    ]
}

/// [`thread_counts_from`] the environment's `STACKHEAP_THREADS`: the contention bench's thread
/// counts and the comparison engine's contention groups are the same list.
pub fn thread_counts_from_env(cores: usize) -> Result<Vec<usize>, String> {
    thread_counts_from(std::env::var("STACKHEAP_THREADS").ok().as_deref(), cores)
}

/// The thread counts to run: `STACKHEAP_THREADS` (comma-separated, e.g. `1,2,16`) or powers of two
/// from 1 to twice the available cores.
pub fn thread_counts_from(value: Option<&str>, cores: usize) -> Result<Vec<usize>, String> {
    let Some(value) = value else {
        return Ok(std::iter::successors(Some(1usize), |t| Some(t * 2))
            .take_while(|&t| t <= 2 * cores.max(1))
            .collect());
    };
    const EXPECTED: &str =
        "is not a thread count: expected comma-separated numbers from 1 to 1024, such as 1,2,16";
    parse_list("STACKHEAP_THREADS", value, |item| {
        item.parse::<usize>()
            .ok()
            .filter(|t| (1..=1024).contains(t))
            .ok_or_else(|| EXPECTED.to_string())
    })
}

/// Stack sizes probed by default: 16 KiB is below glibc's minimum (the granted size is reported).
pub const DEFAULT_STACK_SIZES: [usize; 6] =
    [16 << 10, 64 << 10, 256 << 10, 1 << 20, 2 << 20, 8 << 20];

/// The largest stack size the suite probes: beyond it a request is a typo (`100000G`), not a stack,
/// and the thread spawn would fail.
pub const MAX_STACK_BYTES: usize = 4 << 30;

/// The stack sizes to probe: `STACKHEAP_STACK_SIZES` (comma-separated sizes) or the defaults.
pub fn stack_sizes_from(value: Option<&str>) -> Result<Vec<usize>, InputError> {
    let Some(value) = value else {
        return Ok(DEFAULT_STACK_SIZES.to_vec());
    };
    parse_list("STACKHEAP_STACK_SIZES", value, |item| {
        match parse_size(item) {
            Some(size) if (1..=MAX_STACK_BYTES).contains(&size) => Ok(size),
            Some(_) => Err("is not a stack size this suite probes: expected 1 byte to 4G".into()),
            None => Err("is not a stack size: expected positive sizes such as 65536,64K,8M".into()),
        }
    })
    .map_err(InputError)
}

/// The frame sizes to probe: `STACKHEAP_FRAME_SIZES` (comma-separated) or the defaults.
pub fn frame_sizes_from(value: Option<&str>) -> Result<Vec<usize>, InputError> {
    let Some(value) = value else {
        return Ok(DEFAULT_FRAME_SIZES.to_vec());
    };
    parse_list("STACKHEAP_FRAME_SIZES", value, |item| {
        parse_size(item)
            .filter(|size| SUPPORTED_FRAME_SIZES.contains(size))
            .ok_or_else(|| {
                format!(
                    "is not a supported frame size: expected some of {SUPPORTED_FRAME_SIZES:?} (bytes)"
                )
            })
    })
    .map_err(InputError)
}

/// Which process of a repeated run this bench binary is: process `index` of `count`, from
/// `STACKHEAP_PROCESS` and `STACKHEAP_PROCESSES` (set by `scripts/run`); 1 of 1 when run alone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Process {
    pub index: u32,
    pub count: u32,
    /// A later round of a repeated run (`STACKHEAP_REMEASURE=1`, set by `scripts/run`) that measures
    /// again the rows the first rounds left unsettled, selected by its filter.
    pub remeasure: bool,
}

impl Process {
    /// The process of the running binary; bad values are one line naming the variable.
    pub fn from_env() -> Result<Process, InputError> {
        let read = |name: &str| std::env::var(name).ok();
        let mut process = process_from(read("STACKHEAP_PROCESS"), read("STACKHEAP_PROCESSES"))
            .map_err(InputError)?;
        process.remeasure = match read("STACKHEAP_REMEASURE").as_deref() {
            None | Some("0") => false,
            Some("1") => true,
            Some(other) => {
                return Err(InputError(format!(
                    "STACKHEAP_REMEASURE='{other}': expected 1 (a round that measures unsettled rows again) or 0"
                )));
            }
        };
        Ok(process)
    }

    /// Whether this process runs the parts measured once per run (the fault counts, memory,
    /// latency, overflow probes): the first process of a repeated run, or a lone run.
    pub fn runs_once_parts(self) -> bool {
        self.index == 1 && !self.remeasure
    }

    /// Whether this process runs the timed rows that are slow to set up (locality, first touch,
    /// alignment, the large boxes): the first two processes, so that each such row has a second
    /// measurement to be checked against (a disturbed one shows as a spread between the two, is
    /// not decided, and is measured again), and any round that measures unsettled rows again.
    pub fn runs_checked_parts(self) -> bool {
        self.index <= 2 || self.remeasure
    }

    /// `items` rotated so that each process of a repeated run starts with a different one:
    /// allocators take turns at being measured first (warm caches, a fresh heap, the machine's
    /// state).
    pub fn order<T>(self, mut items: Vec<T>) -> Vec<T> {
        if !items.is_empty() {
            let shift = (self.index as usize - 1) % items.len();
            items.rotate_left(shift);
        }
        items
    }
}

/// Parses the process index and count: both unset, or `1 <= k <= n`.
pub fn process_from(k: Option<String>, n: Option<String>) -> Result<Process, String> {
    let parse = |name: &str, v: &str| {
        v.parse::<u32>()
            .ok()
            .filter(|x| *x >= 1)
            .ok_or_else(|| format!("{name}='{v}': expected a whole number >= 1"))
    };
    match (k, n) {
        (None, None) => Ok(Process {
            index: 1,
            count: 1,
            remeasure: false,
        }),
        (Some(k), Some(n)) => {
            let (k, n) = (parse("STACKHEAP_PROCESS", &k)?, parse("STACKHEAP_PROCESSES", &n)?);
            if k > n {
                return Err(format!(
                    "STACKHEAP_PROCESS={k} is beyond STACKHEAP_PROCESSES={n}: expected 1..={n}"
                ));
            }
            Ok(Process {
                index: k,
                count: n,
                remeasure: false,
            })
        }
        _ => Err(
            "STACKHEAP_PROCESS and STACKHEAP_PROCESSES: expected both set (by scripts/run) or neither"
                .into(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allocator_selection_names_the_variable_on_a_bad_name() {
        assert_eq!(allocators_from(None).unwrap(), AllocatorKind::default_run());
        assert_eq!(
            allocators_from(Some("mimalloc, system")),
            Ok(vec![AllocatorKind::Mimalloc, AllocatorKind::System])
        );
        assert_eq!(
            allocators_from(Some("system,tcmalloc")),
            Err(format!(
                "STACKHEAP_ALLOCATORS: 'tcmalloc' is not an allocator: expected one of {}, or name=path of a shared library that serves malloc",
                AllocatorKind::names()
            ))
        );
        assert!(
            allocators_from(Some("mimalloc,system,mimalloc"))
                .unwrap_err()
                .contains("'mimalloc' repeats 'mimalloc'")
        );
    }

    #[test]
    fn a_library_allocator_is_checked_and_named_or_refused_in_one_line() {
        let (libc_file, _) = library::defined_in(c"gnu_get_libc_version").unwrap();
        let libc_path = libc_file.display().to_string();
        let chosen = allocators_from(Some(&format!("system,glibc-again={libc_path}"))).unwrap();
        assert_eq!(chosen[0], AllocatorKind::System);
        assert!(chosen[1].is_library());
        assert_eq!(chosen[1].name(), "glibc-again");
        // This process runs on the C library's malloc: it measures the built-in ones only.
        assert_eq!(measured_here(&chosen).unwrap(), vec![AllocatorKind::System]);
        let env = preload_env(chosen[1]);
        assert_eq!(env[0], ("LD_PRELOAD".into(), libc_path.clone()));
        for (value, expected) in [
            (
                "jemalloc=/x.so",
                "'jemalloc=/x.so' names a built-in allocator",
            ),
            ("Big=/x.so", "cannot name an allocator"),
            ("tc=/no/such.so", "/no/such.so: No such file"),
            ("m=/etc/hostname", "not an ELF file"),
        ] {
            let err = allocators_from(Some(value)).unwrap_err();
            assert!(err.starts_with("STACKHEAP_ALLOCATORS: '"), "{err}");
            assert!(err.contains(expected), "{value}: {err}");
            assert!(!err.contains('\n'));
        }
        let err = allocators_from(Some(&format!(
            "glibc-again={libc_path},glibc-again={libc_path}"
        )))
        .unwrap_err();
        assert!(err.contains("repeats"), "{err}");
        let err = allocators_from(Some(&format!("other={libc_path}"))).unwrap_err();
        assert!(err.contains("already named 'glibc-again'"), "{err}");
    }

    #[test]
    fn thread_counts_default_to_powers_of_two_up_to_twice_the_cores() {
        assert_eq!(thread_counts_from(None, 2), Ok(vec![1, 2, 4]));
        assert_eq!(thread_counts_from(None, 64).unwrap().last(), Some(&128));
        assert_eq!(thread_counts_from(Some("1, 2,16"), 2), Ok(vec![1, 2, 16]));
        let err = thread_counts_from(Some("1,two"), 2).unwrap_err();
        assert!(err.starts_with("STACKHEAP_THREADS: 'two' is not a thread count"));
        assert!(thread_counts_from(Some("0"), 2).is_err());
        assert_eq!(
            thread_counts_from(Some("1,2,1"), 2),
            Err("STACKHEAP_THREADS: '1' repeats '1' (1): expected each value once".into())
        );
    }
    #[test]
    fn sizes_parse_with_binary_units_and_bad_values_name_the_variable() {
        assert_eq!(stack_sizes_from(Some("16K, 1M")), Ok(vec![16384, 1 << 20]));
        assert_eq!(stack_sizes_from(None).unwrap().len(), 6);
        let err = stack_sizes_from(Some("64K,lots")).unwrap_err();
        assert!(
            err.0
                .starts_with("STACKHEAP_STACK_SIZES: 'lots' is not a stack size"),
            "{err}"
        );
        assert!(stack_sizes_from(Some("0")).is_err());
        let err = frame_sizes_from(Some("300")).unwrap_err();
        assert!(
            err.0
                .starts_with("STACKHEAP_FRAME_SIZES: '300' is not a supported frame size")
        );
        assert_eq!(frame_sizes_from(Some("0,16K")), Ok(vec![0, 16384]));
        // Regressions: a size beyond any stack passed the parser and panicked at spawn; duplicates
        // (also spelled differently) reached Criterion's duplicate-id assertion.
        let err = stack_sizes_from(Some("100000G")).unwrap_err();
        assert!(
            err.0
                .contains("'100000G' is not a stack size this suite probes"),
            "{err}"
        );
        assert!(
            stack_sizes_from(Some("64K,65536"))
                .unwrap_err()
                .0
                .contains("repeats '64K'")
        );
        assert!(
            frame_sizes_from(Some("0,0"))
                .unwrap_err()
                .0
                .contains("repeats '0'")
        );
    }

    #[test]
    fn process_index_and_count_are_both_set_or_neither() {
        let s = |v: &str| Some(v.to_owned());
        assert_eq!(
            process_from(None, None),
            Ok(Process {
                index: 1,
                count: 1,
                remeasure: false
            })
        );
        assert_eq!(
            process_from(s("2"), s("3")),
            Ok(Process {
                index: 2,
                count: 3,
                remeasure: false
            })
        );
        for (k, n) in [
            (s("0"), s("3")),
            (s("4"), s("3")),
            (s("x"), s("3")),
            (s("1"), None),
        ] {
            let e = process_from(k, n).unwrap_err();
            assert!(e.starts_with("STACKHEAP_PROCESS"), "{e}");
            assert!(!e.contains('\n'));
        }
    }
}
