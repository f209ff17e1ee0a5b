//! The `todo-api` binary: a thin shell over the library.

use clap::Parser as _;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match todo_api::cli::run(todo_api::cli::Cli::parse()).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
