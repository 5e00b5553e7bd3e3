//! The memory allocator of every Floorhand program: jemalloc, where it builds.
//!
//! It is set here, in the library, so that the binary, the tests and the benchmarks run
//! on the same allocator and a benchmark measures what the floor runs.
//!
//! Why not the system's (glibc's) malloc: a catch-up pulls pages of events on one thread
//! and applies and frees them on others, and glibc spent over half of the fetching
//! thread's time reusing memory freed by another thread. See `src/sync/README.md` for
//! the figures.

#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;
