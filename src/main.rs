//! The `todo-api` binary: a thin shell over the library.

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
