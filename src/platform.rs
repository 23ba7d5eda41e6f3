//! What the suite needs from the operating system beyond `std`, in one place: Linux system calls
//! behind `cfg(target_os = "linux")`, and on other platforms a clear "not supported" instead of
//! compile errors scattered through unrelated files.

use std::path::Path;

/// Whether a process with this id still runs (a zombie, dead but not yet reaped, does not).
#[cfg(target_os = "linux")]
pub fn process_is_alive(pid: u32) -> bool {
    let Ok(stat) = std::fs::read_to_string(Path::new("/proc").join(pid.to_string()).join("stat"))
    else {
        return false;
    };
    // `pid (comm) state ...`: comm may hold spaces and parentheses, the state follows the last ')'.
    stat.rsplit_once(')')
        .and_then(|(_, rest)| rest.split_whitespace().next())
        .is_some_and(|state| state != "Z" && state != "X")
}

/// Swaps two paths in one atomic step (`renameat2` with `RENAME_EXCHANGE`): a reader of either
/// name sees the old entry or the new one, never neither. Falls back to two renames where the
/// file system cannot exchange (the gap is then two renames wide, and the old entry is restored
/// if the second fails).
#[cfg(target_os = "linux")]
pub fn exchange_paths(a: &Path, b: &Path) -> std::io::Result<()> {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    let cstr = |p: &Path| {
        CString::new(p.as_os_str().as_bytes())
            .map_err(|_| std::io::Error::other("path contains a NUL byte"))
    };
    let (ca, cb) = (cstr(a)?, cstr(b)?);
    // SAFETY: both are valid NUL-terminated paths; AT_FDCWD resolves them like rename(2).
    let rc = unsafe {
        libc::renameat2(
            libc::AT_FDCWD,
            ca.as_ptr(),
            libc::AT_FDCWD,
            cb.as_ptr(),
            libc::RENAME_EXCHANGE,
        )
    };
    if rc == 0 {
        return Ok(());
    }
    let err = std::io::Error::last_os_error();
    if !matches!(err.raw_os_error(), Some(libc::EINVAL | libc::ENOSYS)) {
        return Err(err);
    }
    let aside = b.with_extension("exchange-old");
    std::fs::rename(b, &aside)?;
    if let Err(e) = std::fs::rename(a, b) {
        let _ = std::fs::rename(&aside, b);
        return Err(e);
    }
    std::fs::rename(&aside, a)
}

/// Makes the calling (child) process die with its parent and never write a core file: a probe
/// child that overflows its stack on purpose must leave nothing behind, and one whose parent was
/// killed must not run on. Meant for `CommandExt::pre_exec`: async-signal-safe calls only.
#[cfg(target_os = "linux")]
pub fn harden_child() -> std::io::Result<()> {
    let no_core = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: plain system calls on the calling process with valid arguments.
    unsafe {
        if libc::setrlimit(libc::RLIMIT_CORE, &no_core) != 0
            || libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0
        {
            return Err(std::io::Error::last_os_error());
        }
        // The parent may have died before the prctl: then nobody would deliver the signal.
        if libc::getppid() == 1 {
            return Err(std::io::Error::other("parent exited"));
        }
    }
    Ok(())
}

/// Kills (SIGKILL) every process in the group led by `leader`: a child started in its own group
/// and whatever it started.
#[cfg(target_os = "linux")]
pub fn kill_process_group(leader: u32) {
    // SAFETY: kill(2) with a negative pid signals that process group; no memory is involved.
    unsafe {
        libc::kill(-(leader as libc::pid_t), libc::SIGKILL);
    }
}

/// The CPUs this process may run on (its affinity mask, `sched_getaffinity`), in order; empty if
/// the mask cannot be read.
#[cfg(target_os = "linux")]
pub fn allowed_cpus() -> Vec<usize> {
    // SAFETY: a zeroed cpu_set_t is a valid empty set; sched_getaffinity fills it for this process.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        if libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set) != 0 {
            return Vec::new();
        }
        (0..libc::CPU_SETSIZE as usize)
            .filter(|&cpu| libc::CPU_ISSET(cpu, &set))
            .collect()
    }
}

/// Lets the thread `tid` (a process's main thread when it is the process's id) run only on
/// `cpus`; the threads it starts afterwards inherit that.
#[cfg(target_os = "linux")]
pub fn set_cpus(tid: u32, cpus: &[usize]) -> std::io::Result<()> {
    // SAFETY: a zeroed cpu_set_t is a valid empty set; CPU_SET is given CPUs below CPU_SETSIZE
    // (sched_getaffinity's own numbers); sched_setaffinity reads the set.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        for &cpu in cpus.iter().filter(|&&c| c < libc::CPU_SETSIZE as usize) {
            libc::CPU_SET(cpu, &mut set);
        }
        if libc::sched_setaffinity(
            tid as libc::pid_t,
            std::mem::size_of::<libc::cpu_set_t>(),
            &set,
        ) != 0
        {
            return Err(std::io::Error::last_os_error());
        }
    }
    Ok(())
}

/// One page of memory shared with a child process through a memfd: the child inherits the
/// descriptor (no CLOEXEC) and maps it too, so what it writes survives its crash. Nothing is created
/// on disk, so nothing can be left behind.
#[cfg(target_os = "linux")]
pub struct SharedPage {
    fd: std::os::fd::OwnedFd,
    ptr: *mut u8,
}

#[cfg(target_os = "linux")]
impl SharedPage {
    /// The page size the mapping has.
    pub const BYTES: usize = 4096;

    /// A new zero-filled page, named `name` in `/proc/<pid>/fd`.
    pub fn create(name: &std::ffi::CStr) -> std::io::Result<SharedPage> {
        use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
        // SAFETY: memfd_create returns a new descriptor or -1; we own it from here on.
        let raw = unsafe { libc::memfd_create(name.as_ptr(), 0) };
        if raw < 0 {
            return Err(std::io::Error::last_os_error());
        }
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        // SAFETY: fd is ours.
        if unsafe { libc::ftruncate(fd.as_raw_fd(), Self::BYTES as libc::off_t) } != 0 {
            return Err(std::io::Error::last_os_error());
        }
        Self::map(fd)
    }

    /// Maps the page behind `fd` (a descriptor from [`SharedPage::create`], inherited by a child).
    pub fn map(fd: std::os::fd::OwnedFd) -> std::io::Result<SharedPage> {
        use std::os::fd::AsRawFd;
        // SAFETY: maps one page of a memfd that is at least one page long.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                Self::BYTES,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED,
                fd.as_raw_fd(),
                0,
            )
        };
        if ptr == libc::MAP_FAILED {
            return Err(std::io::Error::last_os_error());
        }
        Ok(SharedPage {
            fd,
            ptr: ptr.cast(),
        })
    }

    pub fn fd(&self) -> &std::os::fd::OwnedFd {
        &self.fd
    }

    /// The start of the page, valid for [`SharedPage::BYTES`] bytes while `self` lives.
    pub fn as_ptr(&self) -> *mut u8 {
        self.ptr
    }
}

#[cfg(target_os = "linux")]
impl Drop for SharedPage {
    fn drop(&mut self) {
        // SAFETY: unmaps the page mapped in `map`.
        unsafe { libc::munmap(self.ptr.cast(), Self::BYTES) };
    }
}

/// (lowest usable address, size) of the calling thread's stack, as glibc reports it: the guard page
/// lies below `low`; TLS and the thread control block sit inside the size, at the top.
#[cfg(target_os = "linux")]
pub fn current_stack_bounds() -> Option<(usize, usize)> {
    // SAFETY: a zeroed attr is filled by pthread_getattr_np and destroyed after use.
    unsafe {
        let mut attr: libc::pthread_attr_t = std::mem::zeroed();
        if libc::pthread_getattr_np(libc::pthread_self(), &mut attr) != 0 {
            return None;
        }
        let mut addr: *mut libc::c_void = std::ptr::null_mut();
        let mut size: libc::size_t = 0;
        let rc = libc::pthread_attr_getstack(&attr, &mut addr, &mut size);
        libc::pthread_attr_destroy(&mut attr);
        (rc == 0).then_some((addr as usize, size))
    }
}

/// The version of the glibc this process runs on, e.g. `2.36`.
#[cfg(target_os = "linux")]
pub fn glibc_version() -> String {
    // SAFETY: gnu_get_libc_version returns a static NUL-terminated string.
    unsafe { std::ffi::CStr::from_ptr(libc::gnu_get_libc_version()) }
        .to_string_lossy()
        .into_owned()
}

/// Peak resident set of this process so far, in KiB (`VmHWM` in `/proc/self/status`).
#[cfg(target_os = "linux")]
pub fn own_peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Minor page faults of the calling thread so far (`getrusage(RUSAGE_THREAD)`).
#[cfg(target_os = "linux")]
pub fn thread_minor_faults() -> u64 {
    // SAFETY: getrusage fills a zeroed struct.
    unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        if libc::getrusage(libc::RUSAGE_THREAD, &mut usage) != 0 {
            return 0;
        }
        usage.ru_minflt as u64
    }
}

/// The CPU time the calling thread has run so far (`CLOCK_THREAD_CPUTIME_ID`): user and system
/// time, but not the time it waited for a CPU while another process ran. (Whether a VM's steal
/// time is left out too depends on the kernel's steal accounting; the suite does not rely on it.)
#[cfg(target_os = "linux")]
pub fn thread_cpu_time() -> std::time::Duration {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime fills the timespec it is given. The calling thread's CPU clock exists on
    // every Linux since 2.6.12, so the call does not fail here.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut now) };
    std::time::Duration::new(now.tv_sec as u64, now.tv_nsec as u32)
}

/// Transparent huge pages the kernel has faulted in since boot, all processes (`thp_fault_alloc` in
/// `/proc/vmstat`); 0 where the kernel does not say. mimalloc asks for them (`MADV_HUGEPAGE` on its
/// arenas), so with THP in `madvise` mode its fresh memory arrives 2 MiB per fault.
#[cfg(target_os = "linux")]
pub fn huge_page_faults() -> u64 {
    std::fs::read_to_string("/proc/vmstat")
        .ok()
        .and_then(|text| {
            text.lines()
                .find_map(|line| line.strip_prefix("thp_fault_alloc "))
                .and_then(|n| n.trim().parse().ok())
        })
        .unwrap_or(0)
}

/// The first value of `field` in `/proc/cpuinfo` (`model name`, `flags`, ...), for the first CPU.
#[cfg(target_os = "linux")]
pub fn cpuinfo_field(field: &str) -> Option<String> {
    let info = std::fs::read_to_string("/proc/cpuinfo").ok()?;
    info.lines()
        .filter_map(|l| l.split_once(':'))
        .find(|(name, _)| name.trim() == field)
        .map(|(_, value)| value.trim().to_owned())
}

/// Asks glibc's malloc to return its free memory to the kernel (`malloc_trim(0)`).
#[cfg(target_os = "linux")]
pub fn malloc_trim() {
    // SAFETY: malloc_trim has no preconditions.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Bytes glibc's malloc has handed out and not had back (`mallinfo2`: in-use chunks plus mmapped
/// blocks), by its own account.
#[cfg(target_os = "linux")]
pub fn glibc_bytes_in_use() -> u64 {
    // SAFETY: mallinfo2 has no preconditions and returns a plain struct.
    let info = unsafe { libc::mallinfo2() };
    (info.uordblks + info.hblkhd) as u64
}

#[cfg(not(target_os = "linux"))]
compile_error!(
    "stackheap is not supported on this platform yet: it needs Linux (memfd, pthread_getattr_np, RUSAGE_THREAD, /proc); src/platform.rs is where a port starts"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_thread_can_be_kept_to_one_of_its_cpus_and_given_them_back() {
        let cpus = allowed_cpus();
        assert!(!cpus.is_empty());
        // SAFETY: gettid has no preconditions.
        let tid = unsafe { libc::gettid() } as u32;
        set_cpus(tid, &cpus[..1]).unwrap();
        assert_eq!(allowed_cpus(), cpus[..1]);
        set_cpus(tid, &cpus).unwrap();
        assert_eq!(allowed_cpus(), cpus);
    }

    #[test]
    fn a_thread_s_cpu_clock_runs_while_it_works_and_not_while_it_sleeps() {
        let start = thread_cpu_time();
        std::thread::sleep(std::time::Duration::from_millis(50));
        let slept = thread_cpu_time() - start;
        let busy_until = std::time::Instant::now() + std::time::Duration::from_millis(20);
        while std::time::Instant::now() < busy_until {
            std::hint::black_box(0);
        }
        let worked = thread_cpu_time() - start - slept;
        // Sleeping costs microseconds of CPU; 20 ms of work at least a few milliseconds of it even
        // on a machine busy enough to take most of them away.
        assert!(slept < std::time::Duration::from_millis(10), "{slept:?}");
        assert!(worked > std::time::Duration::ZERO, "{worked:?}");
    }

    #[test]
    fn this_process_is_alive_and_an_impossible_one_is_not() {
        assert!(process_is_alive(std::process::id()));
        assert!(!process_is_alive(u32::MAX));
    }

    #[test]
    fn exchange_swaps_two_directories() {
        let root = std::env::temp_dir().join(format!("stackheap-xchg-{}", std::process::id()));
        let (a, b) = (root.join("a"), root.join("b"));
        std::fs::create_dir_all(&a).unwrap();
        std::fs::create_dir_all(&b).unwrap();
        std::fs::write(a.join("from-a"), "").unwrap();
        std::fs::write(b.join("from-b"), "").unwrap();
        exchange_paths(&a, &b).unwrap();
        assert!(a.join("from-b").exists() && b.join("from-a").exists());
        std::fs::remove_dir_all(&root).unwrap();
    }
}
