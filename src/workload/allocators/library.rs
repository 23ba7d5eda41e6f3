//! Allocators named at run time (`name=path` in `STACKHEAP_ALLOCATORS`): a shared library that
//! serves `malloc` and `free` to a process started with it preloaded (`LD_PRELOAD`), as people
//! deploy their distribution's jemalloc or tcmalloc. Such an allocator is measured only in processes
//! of its own, each of which proves before it measures that its `malloc` is the named library's.
//!
//! Here: the checks of a `name=path` item (one line each), the registry that gives every such name
//! its [`LibraryId`] (a process knows at most [`MAX_LIBRARIES`]), the proof, and what the library
//! really is (its soname and the package that installed it).

use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

/// An allocator named at run time, as the registry knows it.
#[derive(Debug, PartialEq, Eq)]
pub struct Library {
    /// The name given before `=`, as in benchmark ids (`heap_box/tcmalloc/0004096`).
    pub name: &'static str,
    /// The library, canonical, where this process was told it; `None` in a process that only
    /// read the name from recorded results (the report).
    pub path: Option<PathBuf>,
    /// Its give-back entry point and that function's address in this process, looked up once, on
    /// the first [`Library::give_back`] (the loader's answer does not change within a process).
    give_back_entry: OnceLock<Option<(&'static str, usize)>>,
}

/// The index of a registered library: what `AllocatorKind::Library` carries, so that the kind stays
/// a small `Copy` value however the library was named.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LibraryId(u8);

/// More allocators than any chart or run could show side by side; a typo list, not a plan.
pub const MAX_LIBRARIES: usize = 12;

static REGISTRY: Mutex<Vec<&'static Library>> = Mutex::new(Vec::new());

fn registry() -> std::sync::MutexGuard<'static, Vec<&'static Library>> {
    // A panic while the lock was held cannot leave the list half-changed (every change is one push).
    REGISTRY
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl LibraryId {
    /// The library this id names.
    pub fn library(self) -> &'static Library {
        registry()[usize::from(self.0)]
    }

    /// Its position among the registered libraries (from 0), for its colour and marker.
    pub fn index(self) -> usize {
        usize::from(self.0)
    }
}

/// Every registered library, in the order they were named.
pub fn registered() -> Vec<LibraryId> {
    (0..registry().len() as u8).map(LibraryId).collect()
}

/// The registered library called `name`.
pub fn find(name: &str) -> Option<LibraryId> {
    registry()
        .iter()
        .position(|l| l.name == name)
        .map(|i| LibraryId(i as u8))
}

/// Registers `name` (with its checked, canonical `path` where known) and returns its id; a name
/// registered before is the same library when the paths agree (or one is unknown).
pub fn register(name: &str, path: Option<PathBuf>) -> Result<LibraryId, String> {
    let mut list = registry();
    if let Some(i) = list.iter().position(|l| l.name == name) {
        return match (&list[i].path, &path) {
            (Some(a), Some(b)) if a != b => Err(format!(
                "'{name}' names two libraries, {} and {}: expected one name per library",
                a.display(),
                b.display()
            )),
            (None, Some(_)) => {
                // A name read from results first and given its path afterwards: one library.
                let known: &'static Library = Box::leak(Box::new(Library {
                    name: list[i].name,
                    path,
                    give_back_entry: OnceLock::new(),
                }));
                list[i] = known;
                Ok(LibraryId(i as u8))
            }
            _ => Ok(LibraryId(i as u8)),
        };
    }
    if let Some(other) = list
        .iter()
        .find(|l| path.is_some() && l.path.is_some() && l.path == path)
    {
        return Err(format!(
            "names {}, already named '{}': expected one name per library",
            other.path.as_deref().unwrap_or(Path::new("")).display(),
            other.name
        ));
    }
    if list.len() >= MAX_LIBRARIES {
        return Err(format!(
            "'{name}' would be library number {}: expected at most {MAX_LIBRARIES} named at run time",
            list.len() + 1
        ));
    }
    list.push(Box::leak(Box::new(Library {
        name: Box::leak(name.to_owned().into_boxed_str()),
        path,
        give_back_entry: OnceLock::new(),
    })));
    Ok(LibraryId((list.len() - 1) as u8))
}

/// Whether `name` can name an allocator: lower-case letters, digits, `_` and `-`, starting with a
/// letter (it becomes a path segment of benchmark ids and a file name).
pub fn valid_name(name: &str) -> bool {
    name.len() <= 32
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
}

/// The functions a process's global allocator calls (`std::alloc::System` on Linux): a library that
/// serves some of them and not others would mix two heaps in one process.
pub const SERVED_FUNCTIONS: [&str; 5] = ["malloc", "free", "calloc", "realloc", "posix_memalign"];

/// Checks the library of a `name=path` item before anything runs: the file exists and is an ELF
/// shared object for this machine that defines `malloc` and `free` (and the rest of
/// [`SERVED_FUNCTIONS`]). Returns its canonical path, or what is wrong in one line.
pub fn check(path: &Path) -> Result<PathBuf, String> {
    let shown = path.display();
    let canonical = std::fs::canonicalize(path)
        .map_err(|e| format!("{shown}: {e}: expected the path of a shared library"))?;
    let bytes = std::fs::read(&canonical)
        .map_err(|e| format!("{shown}: cannot read ({e}): expected a readable shared library"))?;
    use object::{Object, ObjectKind};
    let file = object::File::parse(&*bytes).map_err(|_| {
        format!("{shown}: not an ELF file: expected a shared library (.so) that serves malloc")
    })?;
    if file.kind() != ObjectKind::Dynamic || file.architecture() != HOST_ARCHITECTURE {
        return Err(format!(
            "{shown}: a {:?} {:?} file: expected a shared library (.so) for {HOST_ARCHITECTURE:?}",
            file.kind(),
            file.architecture()
        ));
    }
    let defined = defined_symbols(&file);
    let missing: Vec<&str> = SERVED_FUNCTIONS
        .into_iter()
        .filter(|f| !defined.contains(f))
        .collect();
    if !missing.is_empty() {
        return Err(format!(
            "{shown}: exports no {}: expected a library that serves {}",
            missing.join(", "),
            SERVED_FUNCTIONS.join(", ")
        ));
    }
    Ok(canonical)
}

/// The functions and data an ELF shared object defines for others (its dynamic symbols).
fn defined_symbols<'a>(file: &object::File<'a>) -> Vec<&'a str> {
    use object::{Object, ObjectSymbol};
    file.dynamic_symbols()
        .filter(|s| s.is_definition())
        .filter_map(|s| s.name().ok())
        .collect()
}

#[cfg(target_arch = "x86_64")]
const HOST_ARCHITECTURE: object::Architecture = object::Architecture::X86_64;
#[cfg(target_arch = "aarch64")]
const HOST_ARCHITECTURE: object::Architecture = object::Architecture::Aarch64;

/// The file (canonical) that defines the function `symbol` this process calls, by the dynamic
/// loader's own account (`dlsym` from the executable's scope, then `dladdr`), or `None`.
pub fn defined_in(symbol: &std::ffi::CStr) -> Option<(PathBuf, usize)> {
    // SAFETY: dlsym with RTLD_DEFAULT and a NUL-terminated name only looks the symbol up.
    let at = unsafe { libc::dlsym(libc::RTLD_DEFAULT, symbol.as_ptr()) };
    if at.is_null() {
        return None;
    }
    // SAFETY: dladdr fills a zeroed Dl_info for an address the loader gave.
    let mut info: libc::Dl_info = unsafe { std::mem::zeroed() };
    if unsafe { libc::dladdr(at, &mut info) } == 0 || info.dli_fname.is_null() {
        return None;
    }
    // SAFETY: dli_fname is a NUL-terminated path owned by the loader.
    let file = unsafe { std::ffi::CStr::from_ptr(info.dli_fname) };
    let file = PathBuf::from(std::ffi::OsStr::new(
        std::str::from_utf8(file.to_bytes()).ok()?,
    ));
    Some((std::fs::canonicalize(&file).unwrap_or(file), at as usize))
}

/// The library that serves this process's `malloc`, where it is not the C library's own.
pub fn preloaded_malloc() -> Option<PathBuf> {
    let (malloc, _) = defined_in(c"malloc")?;
    let (libc_file, _) = defined_in(c"gnu_get_libc_version")?;
    (malloc != libc_file).then_some(malloc)
}

/// Proves that every function of [`SERVED_FUNCTIONS`] this process calls is `library`'s: the
/// evidence in one line (`malloc at 0x7f... in /usr/lib/...`), or what contradicts it.
pub fn prove(name: &str, library: &Path) -> Result<String, String> {
    let mut malloc_at = 0;
    for function in SERVED_FUNCTIONS {
        let symbol = std::ffi::CString::new(function).expect("no NUL in a function name");
        match defined_in(&symbol) {
            Some((file, at)) if file == library => {
                if function == "malloc" {
                    malloc_at = at;
                }
            }
            found => {
                let found = found.map_or("nowhere".to_owned(), |(f, _)| f.display().to_string());
                return Err(format!(
                    "allocator {name}: this process's {function} is defined in {found}, not in {}: expected the process to be started with LD_PRELOAD={}",
                    library.display(),
                    library.display()
                ));
            }
        }
    }
    Ok(format!(
        "malloc at {malloc_at:#x} in {}, and {} there too (dladdr)",
        library.display(),
        SERVED_FUNCTIONS[1..].join(", ")
    ))
}

/// The entry points by which an allocator library gives its free memory back to the kernel, in the
/// order they are tried: glibc's (and any library that copies its API), jemalloc's purge of every
/// arena (`MALLCTL_ARENAS_ALL` is 4096), mimalloc's forced collection, gperftools' C shim.
const GIVE_BACK: [&str; 4] = [
    "malloc_trim",
    "mallctl",
    "mi_collect",
    "MallocExtension_ReleaseFreeMemory",
];

impl Library {
    /// Asks this library, this process's `malloc` (proved), to return its free memory to the
    /// kernel through the first of its known entry points (`malloc_trim`, `mallctl`, `mi_collect`,
    /// `MallocExtension_ReleaseFreeMemory`) the loader finds in it; returns the entry point it
    /// called, or `None` where it has none or no path here (its "given back" rows then keep what
    /// it holds, as the report says). The lookup is made once: a first-touch row gives back before
    /// every touch.
    pub fn give_back(&self) -> Option<&'static str> {
        let path = self.path.as_ref()?;
        let &(entry, at) = self
            .give_back_entry
            .get_or_init(|| {
                GIVE_BACK.into_iter().find_map(|name| {
                    let symbol = std::ffi::CString::new(name).expect("no NUL in a function name");
                    defined_in(&symbol)
                        .filter(|(file, _)| file == path)
                        .map(|(_, at)| (name, at))
                })
            })
            .as_ref()?;
        call_give_back(entry, at as *mut libc::c_void);
        Some(entry)
    }
}

/// Calls the give-back entry point `entry` of [`GIVE_BACK`], found at `at`.
fn call_give_back(entry: &str, at: *mut libc::c_void) {
    // SAFETY: `at` is the library's own function of that name, called with the C signature its
    // documentation gives.
    unsafe {
        match entry {
            "malloc_trim" => {
                let f: extern "C" fn(libc::size_t) -> libc::c_int = std::mem::transmute(at);
                f(0);
            }
            "mallctl" => {
                type Mallctl = extern "C" fn(
                    *const libc::c_char,
                    *mut libc::c_void,
                    *mut libc::size_t,
                    *mut libc::c_void,
                    libc::size_t,
                ) -> libc::c_int;
                let f: Mallctl = std::mem::transmute(at);
                f(
                    c"arena.4096.purge".as_ptr(),
                    std::ptr::null_mut(),
                    std::ptr::null_mut(),
                    std::ptr::null_mut(),
                    0,
                );
            }
            "mi_collect" => {
                let f: extern "C" fn(bool) = std::mem::transmute(at);
                f(true);
            }
            _ => {
                let f: extern "C" fn() = std::mem::transmute(at);
                f();
            }
        }
    }
}

/// What a library really is, for the report: its soname and, where a Debian package installed it,
/// the package and its version (`dpkg-query`).
pub fn describe(library: &Path) -> String {
    let bytes = std::fs::read(library).unwrap_or_default();
    let soname = soname(&bytes);
    let give_back = object::File::parse(&*bytes).ok().and_then(|file| {
        let defined = defined_symbols(&file);
        GIVE_BACK.into_iter().find(|entry| defined.contains(entry))
    });
    let package = debian_package(library);
    let mut words = vec![format!("shared library {}", library.display())];
    if let Some(soname) = soname {
        words.push(format!("soname {soname}"));
    }
    words.push(package.unwrap_or_else(|| "installed by no Debian package".into()));
    words.push(match give_back {
        Some(entry) => format!("gives memory back by {entry}"),
        None => {
            "no entry point to give memory back (its 'given back' rows keep what it holds)".into()
        }
    });
    words.join(", ")
}

/// The `DT_SONAME` of an ELF shared object.
fn soname(bytes: &[u8]) -> Option<String> {
    let file = object::read::elf::ElfFile64::<object::Endianness>::parse(bytes).ok()?;
    let table = file.elf_dynamic_table().ok()?;
    let entry = table.iter().find(|d| d.tag == object::elf::DT_SONAME)?;
    let name = table.string(entry).ok()?;
    Some(String::from_utf8_lossy(name).into_owned())
}

/// `libjemalloc2:amd64 5.3.0-1`: the Debian package that owns `library` (by any of its names:
/// dpkg records the path it installed, which may be a symbolic link to this file).
fn debian_package(library: &Path) -> Option<String> {
    let run = |args: &[&str]| {
        std::process::Command::new("dpkg-query")
            .args(args)
            .stderr(std::process::Stdio::null())
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
    };
    let dir = library.parent()?;
    let names = std::fs::read_dir(dir).ok()?.filter_map(|e| {
        let path = e.ok()?.path();
        (std::fs::canonicalize(&path).ok()? == library).then_some(path)
    });
    let mut candidates = vec![library.to_path_buf()];
    candidates.extend(names);
    candidates.into_iter().find_map(|path| {
        let owner = run(&["-S", &path.to_string_lossy()])?;
        let package = owner.split(": ").next()?.to_owned();
        let version = run(&["-W", "-f=${Version}", &package])?;
        Some(format!("package {package} {version}"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_path_segments_and_a_name_is_one_library() {
        assert!(valid_name("tcmalloc"));
        assert!(valid_name("jemalloc-debian"));
        for bad in ["", "Tcmalloc", "tc/malloc", "1st", "a b"] {
            assert!(!valid_name(bad), "{bad}");
        }
        let a = register("test-lib-a", Some("/x/a.so".into())).unwrap();
        assert_eq!(register("test-lib-a", None), Ok(a));
        assert_eq!(find("test-lib-a"), Some(a));
        assert_eq!(a.library().name, "test-lib-a");
        let err = register("test-lib-a", Some("/x/b.so".into())).unwrap_err();
        assert!(err.contains("names two libraries"), "{err}");
        let err = register("test-lib-b", Some("/x/a.so".into())).unwrap_err();
        assert!(err.contains("already named 'test-lib-a'"), "{err}");
    }

    #[test]
    fn a_library_that_is_missing_or_no_malloc_is_named_in_one_line() {
        let err = check(Path::new("/no/such/libfoo.so")).unwrap_err();
        assert!(err.starts_with("/no/such/libfoo.so: "), "{err}");
        let not_elf =
            std::env::temp_dir().join(format!("stackheap-not-elf-{}", std::process::id()));
        std::fs::write(&not_elf, b"hello").unwrap();
        let err = check(&not_elf).unwrap_err();
        std::fs::remove_file(&not_elf).unwrap();
        assert!(err.contains("not an ELF file"), "{err}");
        // The C library's math library is a shared object with no malloc.
        let (libc_file, _) = defined_in(c"gnu_get_libc_version").unwrap();
        let libm = libc_file.with_file_name("libm.so.6");
        let err = check(&libm).unwrap_err();
        assert!(err.contains("exports no malloc, free"), "{err}");
        // The C library itself serves them all.
        assert_eq!(check(&libc_file), Ok(libc_file.clone()));
        assert!(!err.contains('\n'));
    }

    #[test]
    fn a_library_gives_back_through_its_own_entry_point_and_one_without_a_path_cannot() {
        // The C library, named as a library, is asked through its own malloc_trim, twice (the
        // second from the remembered lookup).
        let (libc_file, _) = defined_in(c"gnu_get_libc_version").unwrap();
        // The same name as the settings tests give it: the registry is one per process.
        let libc = register("glibc-again", Some(libc_file)).unwrap();
        assert_eq!(libc.library().give_back(), Some("malloc_trim"));
        assert_eq!(libc.library().give_back(), Some("malloc_trim"));
        let recorded = register("test-recorded-only", None).unwrap();
        assert_eq!(recorded.library().give_back(), None);
    }

    #[test]
    fn this_process_runs_on_the_c_library_malloc_and_proves_it() {
        assert_eq!(preloaded_malloc(), None);
        let (libc_file, _) = defined_in(c"gnu_get_libc_version").unwrap();
        let evidence = prove("system", &libc_file).unwrap();
        assert!(evidence.starts_with("malloc at 0x"), "{evidence}");
        let err = prove("tcmalloc", Path::new("/x/libtcmalloc.so")).unwrap_err();
        assert!(err.contains("LD_PRELOAD=/x/libtcmalloc.so"), "{err}");
        assert!(describe(&libc_file).contains("soname libc.so.6"));
    }
}
