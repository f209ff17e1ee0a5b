//! The `todo-api` binary: a thin shell over the library.

/// The allocator: jemalloc, configured at build time (`JEMALLOC_SYS_WITH_MALLOC_CONF` in
/// `.cargo/config.toml`) to give freed pages back to the system after a second unused. An idle
/// connection or an event stream then costs what it writes, not what its buffers reserve:
/// hyper reserves 8 KiB to read and 8 KiB to write for every connection and writes a few
/// hundred bytes of each, and jemalloc keeps no header beside an allocation, so the rest of
/// those buffers is resident only while pages freed in the last second are reused
/// (bench/README.md, "Live sync": 10,000 streams in ≈ 170 MiB, ≈ 144 MiB when every page went
/// back at once, which halved SQLite's lists: issue 18 there; ≈ 210 MiB with glibc's malloc).
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let result = match todo_api::cli::parse() {
        Ok((cli, settings)) => todo_api::cli::run(cli, settings).await,
        Err(err) => Err(err),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
