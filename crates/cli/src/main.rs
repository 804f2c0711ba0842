//! The `greenbridge` binary: the web server and the commands that administer it.
//!
//! A tour: [`settings`] turns flags, `GREENBRIDGE_…` variables, the TOML file and the
//! defaults into one [`settings::Settings`]; [`commands`] holds one function per
//! subcommand; [`demo`] is what `serve --demo` loads.
//!
//! Exit codes: 0 success; 1 the command ran and failed (database unreachable, port in
//! use, login taken, password refused); 2 the command line or the configuration is
//! wrong (clap's usage errors, an invalid setting, an unknown key in the TOML file).

mod commands;
mod demo;
mod qa;
mod settings;

use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use greenbridge_domain::account::{LoginName, PersonName};
use time::Date;

use crate::settings::{FileSettings, GlobalOverrides, ServerOverrides, Settings};

/// GreenBridge (绿桥): the platform's web server and its administration commands.
///
/// Settings come from flags, then GREENBRIDGE_… environment variables, then the TOML
/// file given by --config, then defaults.
#[derive(Debug, Parser)]
#[command(name = "greenbridge", version, propagate_version = true)]
struct Cli {
    #[command(flatten)]
    global: GlobalOverrides,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the web server (applies pending migrations first)
    Serve(Box<ServeArgs>),
    /// Apply the database migrations that have not run yet and print how many ran
    Migrate,
    /// Manage accounts
    #[command(subcommand)]
    User(UserCommand),
    /// Manage the audit log
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Rebuild this instance's search indexes from the database (stop `serve` on the
    /// same data directory first: an index has one writer)
    Reindex(ReindexArgs),
    /// Import a data file (or a folder of pages) into the platform and print the report
    #[command(after_help = "\
Exit codes: 0 when the input was processed, even with rejected rows; 2 when it could
not be read at all (missing, not a list of the kind, unknown --kind); 1 when the
database failed. With --dry-run nothing is committed and the report is the same.")]
    Import(ImportArgs),
    /// The assistant (智能问答)
    #[command(subcommand)]
    Qa(QaCommand),
}

#[derive(Debug, Subcommand)]
enum QaCommand {
    /// Measure the assistant on a question file (JSON Lines: question, expected) against
    /// the FAQ base of the data directory: top-1, top-3, correct declines, latency
    #[command(after_help = "\
expected is the source_id of the entry that answers, a list of acceptable ones, or null
when the assistant should decline. Top-1 counts a question only when the assistant is
confident and its first answer is right. Exit 2 when the file cannot be read.")]
    Eval(QaEvalArgs),
}

#[derive(Debug, Args)]
struct QaEvalArgs {
    /// The question file
    file: std::path::PathBuf,
    /// Print the figures and every outcome as JSON
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
struct ImportArgs {
    /// What the input holds
    #[arg(value_parser = ["suppliers", "notices", "demands", "regulations", "faq", "courses"])]
    dataset: String,
    /// The file to import (for notices also a folder of pages)
    path: std::path::PathBuf,
    /// The kind of list, where a dataset has several (suppliers: hw-licence, monitoring, eia)
    #[arg(long)]
    kind: Option<String>,
    /// Read and check everything, report, commit nothing
    #[arg(long)]
    dry_run: bool,
    /// Suppliers: the file is a partial list (补充名单); it adds and updates, and marks
    /// no licence 不在最新名单
    #[arg(long)]
    partial: bool,
    /// Print the report as JSON (read, created, updated, unchanged, rejected, skipped)
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
struct ReindexArgs {
    /// A collection to check for (e.g. organisations). Every collection is rebuilt
    /// either way: one outbox cursor covers them all.
    collection: Option<String>,
}

#[derive(Debug, Args)]
struct ServeArgs {
    #[command(flatten)]
    server: ServerOverrides,
    /// Load the reference data and the sample data sets (marked 示例数据), idempotently
    #[arg(long, env = "GREENBRIDGE_DEMO")]
    demo: bool,
}

#[derive(Debug, Subcommand)]
enum UserCommand {
    /// Create an administrator account (运维管理员)
    #[command(after_help = "\
The password is read, in this order:
  1. with --password-stdin, from the first line of standard input
     (e.g. `printf '%s\\n' \"$PW\" | greenbridge user create-admin … --password-stdin`);
  2. from the environment variable GREENBRIDGE_ADMIN_PASSWORD;
  3. when standard input is not a terminal, from its first line.
There is no interactive prompt: on a terminal, use 1 or 2.
Rule: 10 to 128 characters, three of lower case, upper case, digits and other
characters, not containing the login name.
On first login the administrator must enrol a TOTP second factor.")]
    CreateAdmin(CreateAdminArgs),
}

#[derive(Debug, Args)]
struct CreateAdminArgs {
    /// Login name: an 11-digit mainland mobile number or an e-mail address
    #[arg(long, value_name = "MOBILE|EMAIL", value_parser = parse_login)]
    login: LoginName,
    /// Display name shown in the interface and the audit log
    #[arg(long, value_name = "NAME", value_parser = parse_person_name)]
    name: PersonName,
    /// Read the password from the first line of standard input
    #[arg(long)]
    password_stdin: bool,
}

#[derive(Debug, Subcommand)]
enum AuditCommand {
    /// Delete audit records dated before a day; records younger than 180 days are kept
    Purge(PurgeArgs),
}

#[derive(Debug, Args)]
struct PurgeArgs {
    /// Delete records before this day (00:00 Asia/Shanghai); at least 180 days ago
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = parse_date_arg)]
    before: Date,
}

fn parse_login(text: &str) -> Result<LoginName, String> {
    LoginName::parse(text).map_err(|e| e.to_string())
}

fn parse_person_name(text: &str) -> Result<PersonName, String> {
    PersonName::parse(text).map_err(|e| e.to_string())
}

fn parse_date_arg(text: &str) -> Result<Date, String> {
    greenbridge_domain::time::parse_date(text).map_err(|e| format!("{e} (YYYY-MM-DD)"))
}

/// A failure, and the exit code it gets.
#[derive(Debug)]
pub enum Failure {
    /// The command line or the configuration is wrong: exit 2.
    Usage(String),
    /// The command ran and failed: exit 1. The message is one line, secrets removed.
    Runtime(String),
}

impl Failure {
    fn exit(self) -> ExitCode {
        let (message, code) = match self {
            Failure::Usage(message) => (message, 2),
            Failure::Runtime(message) => (message, 1),
        };
        // One line, whatever the causes contained.
        let line = message.split_whitespace().collect::<Vec<_>>().join(" ");
        eprintln!("error: {line}");
        ExitCode::from(code)
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_tracing(matches!(cli.command, Command::Serve(_)));

    let no_server_flags = ServerOverrides::default();
    let server = match &cli.command {
        Command::Serve(args) => &args.server,
        _ => &no_server_flags,
    };
    let settings = match load_settings(&cli.global, server) {
        Ok(settings) => settings,
        Err(failure) => return failure.exit(),
    };

    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            return Failure::Runtime(format!("cannot start the async runtime: {error}")).exit();
        }
    };
    let outcome = runtime.block_on(async move {
        match cli.command {
            Command::Serve(args) => commands::serve(settings, args.demo).await,
            Command::Migrate => commands::migrate(settings).await,
            Command::User(UserCommand::CreateAdmin(args)) => {
                commands::create_admin(settings, args.login, args.name, args.password_stdin).await
            }
            Command::Audit(AuditCommand::Purge(args)) => {
                commands::purge_audit(settings, args.before).await
            }
            Command::Reindex(args) => commands::reindex(settings, args.collection).await,
            Command::Qa(QaCommand::Eval(args)) => qa::eval(settings, &args.file, args.json).await,
            Command::Import(args) => {
                commands::import(
                    settings,
                    &args.dataset,
                    &args.path,
                    commands::ImportFlags {
                        kind: args.kind,
                        dry_run: args.dry_run,
                        partial: args.partial,
                        json: args.json,
                    },
                )
                .await
            }
        }
    });
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => failure.exit(),
    }
}

fn load_settings(global: &GlobalOverrides, server: &ServerOverrides) -> Result<Settings, Failure> {
    let file = match &global.config {
        Some(path) => FileSettings::read(path).map_err(|e| Failure::Usage(e.to_string()))?,
        None => FileSettings::default(),
    };
    Settings::resolve(file, global, server).map_err(|e| Failure::Usage(e.to_string()))
}

/// Logs go to standard error, compact; `RUST_LOG` filters them. The default is `info`
/// for `serve` and `warn` for the one-shot commands, whose results are printed.
fn init_tracing(serving: bool) {
    use std::io::IsTerminal as _;
    use tracing_subscriber::EnvFilter;
    let default = if serving { "info" } else { "warn" };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    tracing_subscriber::fmt()
        .compact()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr)
        .init();
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn global_options_are_accepted_after_the_subcommand() {
        let cli = Cli::try_parse_from([
            "greenbridge",
            "migrate",
            "--data",
            "/tmp/x",
            "--today",
            "2026-11-28",
        ])
        .expect("parses");
        assert_eq!(
            cli.global.data.as_deref(),
            Some(std::path::Path::new("/tmp/x"))
        );
        assert_eq!(cli.global.today.as_deref(), Some("2026-11-28"));
    }

    #[test]
    fn trusted_proxy_takes_an_optional_boolean() {
        let parse = |args: &[&str]| {
            let mut all = vec!["greenbridge", "serve"];
            all.extend_from_slice(args);
            match Cli::try_parse_from(all).expect("parses").command {
                Command::Serve(serve) => serve.server.trusted_proxy,
                _ => unreachable!(),
            }
        };
        assert_eq!(parse(&["--trusted-proxy"]), Some(true));
        assert_eq!(parse(&["--trusted-proxy=false"]), Some(false));
    }

    #[test]
    fn a_malformed_login_is_a_usage_error() {
        let error = Cli::try_parse_from([
            "greenbridge",
            "user",
            "create-admin",
            "--login",
            "12",
            "--name",
            "管理员",
        ])
        .expect_err("invalid login");
        assert_eq!(error.exit_code(), 2);
    }
}
