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

#[cfg(not(target_os = "linux"))]
compile_error!(
    "stackheap is not supported on this platform yet: it needs Linux (memfd, pthread_getattr_np, RUSAGE_THREAD, /proc); src/platform.rs is where a port starts"
);

#[cfg(test)]
mod tests {
    use super::*;

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
