//! `target/stackheap/first_touch.json`: the minor page faults of each first-touch benchmark (written
//! by the bench, read by the report).

use crate::workload::allocators::AllocatorKind;

/// Where touched memory came from: an allocator's heap, straight from the kernel, or a fresh
/// thread's stack. Written as one word: the allocator's name, `mmap` or `stack`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MemorySource {
    Heap(AllocatorKind),
    /// Straight from the kernel.
    Mmap,
    /// A fresh thread's own stack.
    Stack,
}

impl MemorySource {
    pub fn name(self) -> &'static str {
        match self {
            MemorySource::Heap(kind) => kind.name(),
            MemorySource::Mmap => "mmap",
            MemorySource::Stack => "stack",
        }
    }
}

impl From<AllocatorKind> for MemorySource {
    fn from(kind: AllocatorKind) -> MemorySource {
        MemorySource::Heap(kind)
    }
}

impl serde::Serialize for MemorySource {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

impl<'de> serde::Deserialize<'de> for MemorySource {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let word = String::deserialize(deserializer)?;
        match word.as_str() {
            "mmap" => Ok(MemorySource::Mmap),
            "stack" => Ok(MemorySource::Stack),
            // An allocator as every result file names one: built in, or a library named at run
            // time (registered here; the reader then checks that a machine records it).
            other => AllocatorKind::try_from(other.to_owned())
                .map(MemorySource::Heap)
                .map_err(|_| {
                    serde::de::Error::custom(format!(
                        "unknown memory source '{other}': expected mmap, stack, one of {} or the name of a library",
                        AllocatorKind::names()
                    ))
                }),
        }
    }
}

/// The state the memory was in before the touch.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TouchState {
    /// The allocator was first asked to return its free memory to the kernel.
    GivenBack,
    /// It was not: it may serve memory it kept.
    Kept,
    /// Straight from the kernel or a new thread's stack.
    Fresh,
    /// Touched before: no fault is expected.
    Pretouched,
}

/// Minor page faults of one first-touch benchmark.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct FaultEntry {
    /// The benchmark's id, e.g. `first_touch/heap_growth/jemalloc/0008388608`.
    pub id: String,
    /// Where the memory came from: an allocator's name, `mmap` or `stack`.
    pub allocator: MemorySource,
    /// `given_back`, `kept`, `fresh` or `pretouched`.
    pub mode: TouchState,
    pub size_bytes: usize,
    pub minor_faults_per_iter: f64,
    /// Pages touched per iteration; faults / pages near 1 means every page was fresh.
    #[serde(default)]
    pub pages_per_iter: Option<f64>,
    /// Transparent huge page faults per iteration (system-wide count; each maps 512 pages).
    #[serde(default)]
    pub huge_faults_per_iter: Option<f64>,
}

impl crate::data::results::SuiteEntry for FaultEntry {
    fn key(&self) -> String {
        self.id.clone()
    }

    /// A size of zero, or fault and page counts that are negative or not finite.
    fn problem(&self) -> Option<String> {
        let counts = [
            Some(self.minor_faults_per_iter),
            self.pages_per_iter,
            self.huge_faults_per_iter,
        ];
        if let Err(e) = self.id.parse::<crate::data::id::BenchId>() {
            Some(format!("id: {e}"))
        } else if self.size_bytes == 0 {
            Some("size_bytes must be at least 1".into())
        } else if counts.iter().flatten().any(|c| !c.is_finite() || *c < 0.0) {
            Some("fault and page counts must be finite and non-negative".into())
        } else {
            None
        }
    }
}

impl FaultEntry {
    /// Minor faults per touched page, when the pages are known.
    pub fn faults_per_page(&self) -> Option<f64> {
        self.pages_per_iter
            .filter(|p| *p > 0.0)
            .map(|p| self.minor_faults_per_iter / p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_memory_source_is_mmap_stack_or_an_allocator_a_library_included() {
        let read = |word: &str| serde_json::from_str::<MemorySource>(&format!("\"{word}\""));
        assert_eq!(read("mmap").unwrap(), MemorySource::Mmap);
        assert_eq!(
            read("jemalloc").unwrap(),
            MemorySource::Heap(AllocatorKind::Jemalloc)
        );
        // A library named at run time is registered as it is read (the reader checks later that a
        // machine records it).
        let MemorySource::Heap(library) = read("faults-test-lib").unwrap() else {
            panic!("a heap");
        };
        assert!(library.is_library());
        let err = read("Not A Name").unwrap_err().to_string();
        assert!(err.contains("unknown memory source 'Not A Name'"), "{err}");
    }
}
