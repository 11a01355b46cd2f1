use clap::Parser;

fn main() -> anyhow::Result<()> {
    limit_malloc_arenas();
    let cli = concord::cli::Cli::parse();
    concord::cli::init_tracing(&cli.config);
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(concord::cli::run(cli))
}

/// glibc gives each thread that meets a busy allocator an arena of its own (up
/// to eight per core), and memory freed in one arena is not reused by another:
/// the server's peak RSS grows with its threads, not with what it holds. One
/// arena (small allocations still go through each thread's own cache) keeps
/// it to what the server holds at its busiest (BENCHMARKS.md).
/// `MALLOC_ARENA_MAX`, when set, still wins.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn limit_malloc_arenas() {
    if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
        // SAFETY: mallopt only sets a malloc parameter; it is called before
        // any other thread exists.
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, 1);
        }
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn limit_malloc_arenas() {}
