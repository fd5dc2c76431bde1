//! The `patchbay` command: `serve` (default), `migrate`, `user create`,
//! `secrets generate-key|status|rotate`, `config check`, `backup`.

use std::io::BufRead as _;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};
use patchbay::Settings;
use patchbay::config::{generate_key_entry, redact_url};
use patchbay_app::auth::{AuthService, RegisterInput};
use patchbay_app::ports::{SystemClock, UuidV7Generator};
use patchbay_app::security::{Argon2Hasher, JwtSettings, TokenService};
use patchbay_store::{Database, DatabaseOptions};

/// The package version and the git commit the binary was built from.
const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (",
    env!("PATCHBAY_GIT_COMMIT"),
    ")"
);

#[derive(Debug, Parser)]
#[command(
    name = "patchbay",
    version = VERSION,
    about = "Self-hostable control-plane REST API"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the API (the default).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate {
        /// Revert every migration instead (destroys all data).
        #[arg(long)]
        revert_all: bool,
    },
    /// Manage user accounts.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Manage the sealing keys of credential secrets.
    Secrets {
        #[command(subcommand)]
        command: SecretsCommand,
    },
    /// Inspect the configuration.
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
    /// Copy the database (consistently, while servers keep serving) and the
    /// uploads; SQLite copies are verified with `PRAGMA integrity_check`.
    Backup {
        /// The file to write (must not exist); uploads go to `<FILE>.uploads/`.
        #[arg(long, value_name = "FILE")]
        to: std::path::PathBuf,
    },
    /// Print a shell completion script (e.g. `patchbay completions bash >
    /// /etc/bash_completion.d/patchbay`).
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

#[derive(Debug, Subcommand)]
enum ConfigCommand {
    /// Load the configuration as `serve` does, validate it without changing
    /// anything, print it with secrets redacted; exit 1 with one line per
    /// problem. Run it before every restart.
    Check,
}

#[derive(Debug, Subcommand)]
enum UserCommand {
    /// Create an account; the password is read from standard input.
    Create {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        /// Make the account an instance administrator.
        #[arg(long)]
        admin: bool,
    },
}

#[derive(Debug, Subcommand)]
enum SecretsCommand {
    /// Print a new key-ring entry for PATCHBAY_SECRET_KEYS.
    GenerateKey,
    /// Count the sealed values under each key id, and say which key ids are
    /// missing from the ring.
    Status,
    /// Re-seal every value not under the active key (the ring's first):
    /// batched, online, safe to interrupt and to run again.
    Rotate {
        /// Values per batch (each batch is one transaction).
        #[arg(long, default_value_t = 500)]
        batch: u32,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // The log format is configuration too; when the configuration itself is
    // bad, the error is reported in the default format.
    let settings = Settings::load();
    patchbay::logging::init(settings.as_ref().map(|s| s.log_format).unwrap_or_default());
    match run(cli, settings) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            tracing::error!("{message}");
            eprintln!("patchbay: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli, settings: Result<Settings, String>) -> Result<(), String> {
    let command = cli.command.unwrap_or(Command::Serve);
    if let Command::Completions { shell } = command {
        use clap::CommandFactory as _;
        use std::io::Write as _;
        // Into a buffer first: the generator panics on a closed stdout.
        let mut script = Vec::new();
        clap_complete::generate(shell, &mut Cli::command(), "patchbay", &mut script);
        return match std::io::stdout().write_all(&script) {
            Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
                Err(format!("cannot write the script: {e}"))
            }
            _ => Ok(()),
        };
    }
    if let Command::Secrets {
        command: SecretsCommand::GenerateKey,
    } = command
    {
        println!("{}", generate_key_entry());
        return Ok(());
    }
    let settings = settings?;
    match command {
        Command::Serve => serve(settings),
        Command::Migrate { revert_all } => {
            let report = if revert_all {
                patchbay_store::revert_all_migrations(&settings.database_url)?
            } else {
                patchbay_store::run_migrations(&settings.database_url)?
            };
            let verb = if revert_all { "reverted" } else { "applied" };
            println!(
                "{verb} {} migration(s) on {}{}",
                report.versions.len(),
                redact_url(&settings.database_url),
                if report.versions.is_empty() {
                    String::new()
                } else {
                    format!(": {}", report.versions.join(", "))
                }
            );
            Ok(())
        }
        Command::User {
            command: UserCommand::Create { email, name, admin },
        } => create_user(&settings, email, name, admin),
        Command::Secrets { command } => secrets(&settings, command),
        Command::Config {
            command: ConfigCommand::Check,
        } => config_check(&settings),
        Command::Completions { .. } => Ok(()),
        Command::Backup { to } => {
            let report = patchbay::ops::backup(&settings, &to)?;
            println!("database copied to {}", report.database.display());
            match &report.uploads {
                Some(dir) => println!(
                    "uploads ({} file(s)) copied to {}",
                    report.upload_files,
                    dir.display()
                ),
                None => println!(
                    "no uploads to copy ({} does not exist)",
                    settings.data_dir.join("uploads").display()
                ),
            }
            Ok(())
        }
    }
}

fn config_check(settings: &Settings) -> Result<(), String> {
    // The Debug form of Settings redacts every secret.
    println!("effective configuration:\n{settings:#?}");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let report = runtime.block_on(patchbay::ops::check_config(settings));
    for note in &report.notes {
        println!("note: {note}");
    }
    for problem in &report.problems {
        println!("problem: {problem}");
    }
    if report.problems.is_empty() {
        println!("configuration OK");
        Ok(())
    } else {
        Err(format!(
            "{} problem(s) in the configuration",
            report.problems.len()
        ))
    }
}

fn secrets(settings: &Settings, command: SecretsCommand) -> Result<(), String> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    runtime.block_on(async {
        let service = patchbay::secrets_service(settings).await?;
        let status = || async {
            let lines = service.status().await.map_err(|e| e.to_string())?;
            println!("{:<34} {:>10}  state", "key id", "values");
            for line in &lines {
                let state = match (line.active, line.in_ring) {
                    (true, _) => "active",
                    (false, true) => "in ring",
                    (false, false) => "MISSING from PATCHBAY_SECRET_KEYS",
                };
                println!("{:<34} {:>10}  {state}", line.key_id, line.values);
            }
            Ok::<_, String>(())
        };
        match command {
            SecretsCommand::GenerateKey => Ok(()),
            SecretsCommand::Status => status().await,
            SecretsCommand::Rotate { batch } => {
                let report = service.rotate(batch).await.map_err(|e| {
                    e.detail.clone().unwrap_or_else(|| e.message.clone())
                })?;
                println!(
                    "re-sealed {} value(s) under the active key in {} batch(es); {} changed concurrently and were left as written{}",
                    report.resealed,
                    report.batches,
                    report.skipped,
                    if report.resealed == 0 && report.skipped == 0 {
                        " (nothing to do)"
                    } else {
                        ""
                    }
                );
                status().await
            }
        }
    })
}

fn serve(settings: Settings) -> Result<(), String> {
    actix_web::rt::System::new().block_on(async move {
        tracing::info!(version = VERSION, ?settings, "starting patchbay");
        let app = patchbay::Application::build(&settings).await?;
        tracing::info!(addr = %app.addr(), "listening");
        app.run().await.map_err(|e| format!("server error: {e}"))?;
        tracing::info!("stopped");
        Ok(())
    })
}

fn create_user(
    settings: &Settings,
    email: String,
    name: String,
    admin: bool,
) -> Result<(), String> {
    eprintln!("password (read from standard input):");
    let mut password = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut password)
        .map_err(|e| format!("cannot read the password: {e}"))?;
    let password = password.trim_end_matches(['\r', '\n']).to_owned();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    runtime.block_on(async {
        let db = Database::connect(&DatabaseOptions::new(settings.database_url.clone())).await?;
        let tokens = TokenService::new(JwtSettings {
            secret: settings.resolve_jwt_secret()?,
            issuer: patchbay::JWT_ISSUER.into(),
            audience: patchbay::JWT_AUDIENCE.into(),
            ttl_seconds: settings.jwt_ttl_seconds,
        })?;
        let auth = AuthService::new(
            Arc::new(db),
            Arc::new(Argon2Hasher::new(1)?),
            tokens,
            Arc::new(SystemClock),
            Arc::new(UuidV7Generator),
            true,
        );
        let user = auth
            .create_user(
                RegisterInput {
                    email,
                    password,
                    name,
                },
                admin,
            )
            .await
            .map_err(|e| e.message)?;
        println!(
            "created user {} <{}>{}",
            user.id,
            user.email.as_str(),
            if user.is_admin {
                " (instance admin)"
            } else {
                ""
            }
        );
        Ok(())
    })
}
