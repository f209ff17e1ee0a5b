//! The command line: `serve` (the default), `migrate`, `openapi` and `token`.

use std::time::Duration;

use anyhow::Context as _;
use clap::{CommandFactory as _, FromArgMatches as _, Parser, Subcommand};

use crate::auth::SharedSecret;
use crate::config::{Environment, Settings};
use crate::startup::{Application, shutdown_signal};
use crate::{http, store};

/// A multi-user todo API for Next.js + Better Auth frontends.
#[derive(Debug, Parser)]
#[command(name = "todo-api", version, about)]
pub struct Cli {
    /// What to do (default: serve).
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Reads the command line and the settings (a `.env` file, then the environment, then flags).
/// `--help` and `--version` print and exit; a bad setting is an error naming its variable.
pub fn parse() -> anyhow::Result<(Cli, Settings)> {
    let _ = dotenvy::dotenv();
    let command = Environment::command(Cli::command());
    let matches = match command.try_get_matches() {
        Ok(matches) => matches,
        Err(err) if !err.use_stderr() || err.kind() == clap::error::ErrorKind::UnknownArgument => {
            err.exit()
        }
        Err(err) => return Err(crate::config::clap_error(&err).into()),
    };
    let cli = Cli::from_arg_matches(&matches)?;
    let settings = Settings::from_matches(&matches)?;
    Ok((cli, settings))
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server (the default).
    Serve,
    /// Apply database migrations to DATABASE_URL and exit.
    Migrate,
    /// Print the OpenAPI spec as YAML (what openapi.yaml holds).
    Openapi,
    /// Print a token signed with BETTER_AUTH_SECRET.
    Token {
        /// The user id (the `sub` claim).
        #[arg(long)]
        sub: String,
        /// How long the token is valid, e.g. 15m, 1h, 7d.
        #[arg(long, default_value = "1h", value_parser = humantime::parse_duration)]
        ttl: Duration,
    },
}

/// Runs the command line.
pub async fn run(cli: Cli, settings: Settings) -> anyhow::Result<()> {
    match cli.command.unwrap_or(Command::Serve) {
        Command::Openapi => {
            print!("{}", http::spec_yaml());
            Ok(())
        }
        Command::Token { sub, ttl } => {
            let Some(secret) = &settings.auth.shared_secret else {
                anyhow::bail!(
                    "BETTER_AUTH_SECRET is not set: set it to the secret the server uses \
                     (in development mode the secret is random and the server prints its own token; \
                     with BETTER_AUTH_URL, tokens come from Better Auth: `authClient.token()`)"
                );
            };
            crate::domain::UserId::parse(&sub).map_err(|why| anyhow::anyhow!("--sub {why}"))?;
            let auth = &settings.auth;
            let signer = SharedSecret::new(secret)
                .with_claims(auth.issuer.as_deref(), auth.audiences.as_deref());
            println!("{}", signer.issue(&sub, ttl)?);
            Ok(())
        }
        Command::Migrate => {
            let _logs = crate::telemetry::init(settings.telemetry.log_format);
            let hub = std::sync::Arc::new(crate::sync::ChangeHub::new());
            let store = store::connect(&settings.database_url, &settings.database, hub)?;
            store.migrate().await.context("migration failed")?;
            store.close().await;
            tracing::info!("migrations applied");
            Ok(())
        }
        Command::Serve => serve(settings).await,
    }
}

async fn serve(settings: Settings) -> anyhow::Result<()> {
    let _logs = crate::telemetry::init(settings.telemetry.log_format);
    let app = Application::build(&settings).await?;
    let host = match settings.host.as_str() {
        "0.0.0.0" | "::" => "localhost",
        host => host,
    };
    let base = format!("http://{host}:{}", app.port());
    tracing::info!("listening on {base} (Swagger UI: {base}/docs)");
    if let Some(token) = app.dev_token() {
        println!(
            "\nDevelopment mode: neither BETTER_AUTH_SECRET nor BETTER_AUTH_URL is set, so tokens \
             are signed with a random secret that lives as long as this process.\n\n  \
             Swagger UI: {base}/docs\n  \
             Token for user `demo` (valid 1 hour):\n\n{token}\n\n\
             In Swagger UI, click Authorize, paste the token, and use user_id `demo`.\n"
        );
    }
    app.run_until(shutdown_signal()).await?;
    Ok(())
}
