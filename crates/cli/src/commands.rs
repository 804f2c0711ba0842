//! One function per subcommand. Each returns a [`Failure`] whose message is one line
//! with the database password removed; `main` prints it and picks the exit code.

use std::io::{BufRead as _, IsTerminal as _};

use greenbridge_domain::account::{LoginName, PersonName, check_password};
use greenbridge_domain::role::Role;
use greenbridge_domain::time::{SHANGHAI, format_date, shanghai_date};
use greenbridge_ingest::{Dataset, ImportOptions, IngestError};
use greenbridge_store::{AuditEntry, Clock, NewAccount, Outcome, Store, StoreError, redact_url};
use greenbridge_web::config::PasswordCost;
use time::{Date, Duration};

use crate::Failure;
use crate::demo::load_demo;
use crate::settings::Settings;

/// The environment variable `user create-admin` reads the password from.
pub const ADMIN_PASSWORD_ENV: &str = "GREENBRIDGE_ADMIN_PASSWORD";

/// What the audit log records as the actor of command-line actions.
const CLI_ACTOR: &str = "cli";
/// The audit log's client address for command-line actions, which have none.
const CLI_IP: &str = "-";

/// `serve`: data directory, database, migrations, demo data, then the web server.
pub async fn serve(mut settings: Settings, demo: bool) -> Result<(), Failure> {
    prepare_data_dir(&mut settings, true)?;
    let store = open_store(&settings).await?;
    let applied = run_migrations(&store, &settings).await?;
    tracing::info!(
        database = %settings.database_url_redacted(),
        migrations_applied = applied,
        "database ready"
    );
    if demo {
        let report = load_demo(&store)
            .await
            .map_err(|e| runtime(&settings, format!("{e:#}")))?;
        tracing::info!("demo mode: {report}");
        let lessons = crate::demo::attach_demo_media(&store, &settings.data)
            .await
            .map_err(|e| runtime(&settings, format!("{e:#}")))?;
        tracing::info!("demo mode: sample video attached as {lessons} new lesson(s)");
    } else if crate::demo::demo_enabled(&store).await.unwrap_or(false) {
        tracing::info!("this database holds demonstration data from an earlier `serve --demo`");
    }
    let state = greenbridge_web::build_state(store, settings.web_config())
        .await
        .map_err(|e| runtime(&settings, format!("{e:#}")))?;
    let listener = tokio::net::TcpListener::bind(&settings.addr)
        .await
        .map_err(|e| Failure::Runtime(format!("cannot listen on {}: {e}", settings.addr)))?;
    let local = listener
        .local_addr()
        .map_err(|e| Failure::Runtime(format!("cannot listen on {}: {e}", settings.addr)))?;
    tracing::info!("listening on http://{local}");
    // Background workers and the scheduler of this instance (every instance runs
    // them; jobs are rows, claimed once).
    let jobs = greenbridge_web::jobs::start(state.clone());
    let served = greenbridge_web::serve(listener, state)
        .await
        .map_err(|e| runtime(&settings, format!("{e:#}")));
    jobs.shutdown(std::time::Duration::from_secs(10)).await;
    served
}

/// `migrate`: applies pending migrations and prints how many ran.
pub async fn migrate(mut settings: Settings) -> Result<(), Failure> {
    prepare_data_dir(&mut settings, false)?;
    let store = open_store(&settings).await?;
    let applied = run_migrations(&store, &settings).await?;
    println!("migrations applied: {applied}");
    store.close().await;
    Ok(())
}

/// `reindex [COLLECTION]`: rebuilds the search indexes under this data directory from
/// the database. Today every collection is rebuilt together (there is one), so the
/// argument only checks the name.
pub async fn reindex(mut settings: Settings, collection: Option<String>) -> Result<(), Failure> {
    prepare_data_dir(&mut settings, false)?;
    let store = open_store(&settings).await?;
    run_migrations(&store, &settings).await?;
    let indexer = greenbridge_search::Indexer::open(store.clone(), &settings.data)
        .map_err(|e| runtime(&settings, format!("cannot open the search indexes: {e}")))?;
    let names = indexer.collection_names();
    if let Some(name) = &collection
        && !names.contains(&name.as_str())
    {
        store.close().await;
        return Err(Failure::Usage(format!(
            "unknown collection {name}; this build indexes: {}",
            names.join(", ")
        )));
    }
    let started = std::time::Instant::now();
    let count = indexer
        .rebuild()
        .await
        .map_err(|e| runtime(&settings, format!("reindex failed: {e}")))?;
    println!(
        "reindexed {count} documents in {:.1} s ({})",
        started.elapsed().as_secs_f64(),
        names.join(", ")
    );
    store.close().await;
    Ok(())
}

/// The flags of `import` besides the dataset and the path.
pub struct ImportFlags {
    pub kind: Option<String>,
    pub dry_run: bool,
    pub partial: bool,
    pub json: bool,
}

/// `import`: reads the file (or folder), imports it as `dataset` and prints the report
/// (DESIGN.md "Commands"). Exit 0 when the input was processed, even with rejected rows;
/// 2 when it could not be read at all. A committed import is audited.
pub async fn import(
    mut settings: Settings,
    dataset: &str,
    path: &std::path::Path,
    flags: ImportFlags,
) -> Result<(), Failure> {
    let Some(dataset) = Dataset::parse(dataset) else {
        return Err(Failure::Usage(format!("unknown dataset {dataset}")));
    };
    prepare_data_dir(&mut settings, false)?;
    let store = open_store(&settings).await?;
    run_migrations(&store, &settings).await?;
    let clock = clock(&settings);
    let options = ImportOptions {
        kind: flags.kind,
        dry_run: flags.dry_run,
        sample: false,
        now: clock.unix(),
        actor_account_id: None,
        partial: flags.partial,
    };
    let report = match greenbridge_ingest::import(&store, dataset, path, &options).await {
        Ok(report) => report,
        Err(IngestError::Unreadable(message) | IngestError::Options(message)) => {
            store.close().await;
            return Err(Failure::Usage(message));
        }
        Err(IngestError::Store(error)) => return Err(store_failure(&settings, error)),
    };
    if !flags.dry_run {
        let detail = format!(
            "{} from {}: {}",
            dataset.name(),
            path.display(),
            report.summary()
        );
        store
            .append_audit(
                &cli_audit_entry("data.import", dataset.name(), &detail),
                clock.unix(),
            )
            .await
            .map_err(|e| store_failure(&settings, e))?;
    }
    store.close().await;
    if flags.json {
        let json = serde_json::to_string_pretty(&report).expect("a report serialises");
        println!("{json}");
    } else {
        println!("{}: {}", dataset.name(), report.summary());
        for rejected in &report.rejected {
            let place = match (&rejected.row, &rejected.file) {
                (Some(row), _) => format!("row {row}"),
                (None, Some(file)) => file.clone(),
                (None, None) => "input".to_string(),
            };
            match &rejected.field {
                Some(field) => println!("  rejected {place} [{field}]: {}", rejected.reason),
                None => println!("  rejected {place}: {}", rejected.reason),
            }
        }
        for skipped in &report.skipped {
            println!("  skipped {}: {}", skipped.file, skipped.reason);
        }
    }
    Ok(())
}

/// `user create-admin`: checks the input, then creates the account and audits it.
pub async fn create_admin(
    mut settings: Settings,
    login: LoginName,
    name: PersonName,
    password_stdin: bool,
) -> Result<(), Failure> {
    let password = read_password(password_stdin)?;
    check_password(&password, login.as_str())
        .map_err(|e| Failure::Runtime(format!("password refused: {e}")))?;

    prepare_data_dir(&mut settings, false)?;
    let store = open_store(&settings).await?;
    run_migrations(&store, &settings).await?;
    let clock = clock(&settings);

    let taken = || {
        Failure::Runtime(format!(
            "the login {login} is already taken by another account"
        ))
    };
    let existing = store
        .account_by_login(login.as_str())
        .await
        .map_err(|e| store_failure(&settings, e))?;
    if existing.is_some() {
        return Err(taken());
    }
    let password_hash =
        greenbridge_web::password::hash_password(password, PasswordCost::PRODUCTION)
            .await
            .map_err(|e| Failure::Runtime(format!("cannot hash the password: {e:#}")))?;
    let new = NewAccount {
        login: login.as_str(),
        display_name: name.as_str(),
        role: Role::Admin,
        organisation_id: None,
        province_code: None,
        password_hash: &password_hash,
    };
    let id = match store.insert_account(&new, clock.unix()).await {
        Ok(id) => id,
        Err(StoreError::Conflict) => return Err(taken()),
        Err(e) => return Err(store_failure(&settings, e)),
    };
    let target = format!("account:{id}");
    let detail = format!("administrator {login} ({name}) created from the command line");
    store
        .append_audit(
            &cli_audit_entry("account.create_admin", &target, &detail),
            clock.unix(),
        )
        .await
        .map_err(|e| {
            runtime(
                &settings,
                format!("account {id} was created, but its audit record could not be written: {e}"),
            )
        })?;
    store.close().await;

    println!("created administrator account {id}: {login} ({name})");
    println!(
        "on first login the administrator must enrol a TOTP second factor \
         (an authenticator app) before the admin pages open"
    );
    Ok(())
}

/// `audit purge`: deletes records dated before `before`; the store refuses anything
/// younger than the retention period. The purge itself is audited.
pub async fn purge_audit(mut settings: Settings, before: Date) -> Result<(), Failure> {
    prepare_data_dir(&mut settings, false)?;
    let store = open_store(&settings).await?;
    run_migrations(&store, &settings).await?;
    let clock = clock(&settings);
    let before_unix = before.midnight().assume_offset(SHANGHAI).unix_timestamp();
    let deleted = match store.purge_audit_before(before_unix, clock.unix()).await {
        Ok(deleted) => deleted,
        Err(StoreError::RetentionViolated { days }) => {
            let latest = shanghai_date(clock.now() - Duration::days(days));
            return Err(Failure::Runtime(format!(
                "refused: audit records younger than {days} days cannot be purged; \
                 today ({}) the latest --before allowed is {}",
                format_date(clock.today()),
                format_date(latest)
            )));
        }
        Err(e) => return Err(store_failure(&settings, e)),
    };
    let detail = format!(
        "{deleted} records dated before {} deleted",
        format_date(before)
    );
    store
        .append_audit(
            &cli_audit_entry("audit.purge", "audit_log", &detail),
            clock.unix(),
        )
        .await
        .map_err(|e| store_failure(&settings, e))?;
    store.close().await;
    println!(
        "deleted {deleted} audit records dated before {} (Asia/Shanghai)",
        format_date(before)
    );
    Ok(())
}

fn cli_audit_entry<'a>(action: &'a str, target: &'a str, detail: &'a str) -> AuditEntry<'a> {
    AuditEntry {
        actor_account_id: None,
        actor_login: Some(CLI_ACTOR),
        actor_role: None,
        ip: CLI_IP,
        action,
        target,
        outcome: Outcome::Success,
        detail,
    }
}

/// The one clock of every date rule: pinned by `today`, else the system's.
pub(crate) fn clock(settings: &Settings) -> Clock {
    settings
        .today
        .map(Clock::pinned)
        .unwrap_or_else(Clock::system)
}

/// Creates the data directory and makes its path absolute. `serve` always needs it
/// (uploads, indexes); the other commands only when the SQLite file lives there.
pub(crate) fn prepare_data_dir(settings: &mut Settings, always: bool) -> Result<(), Failure> {
    if !always && !settings.uses_default_database() {
        return Ok(());
    }
    let cannot = |e: std::io::Error| {
        Failure::Runtime(format!(
            "cannot create the data directory {}: {e}",
            settings.data.display()
        ))
    };
    std::fs::create_dir_all(&settings.data).map_err(cannot)?;
    settings.data = std::fs::canonicalize(&settings.data).map_err(cannot)?;
    Ok(())
}

pub(crate) async fn open_store(settings: &Settings) -> Result<Store, Failure> {
    let url = settings.database_url();
    Store::connect(&url).await.map_err(|error| {
        let cause = match &error {
            StoreError::Connect(inner) => {
                let inner = inner.to_string();
                if inner.contains("pool timed out") {
                    // sqlx retries a refused connection until its timeout, then says only this.
                    "no connection within 10 seconds; is the database server running and the \
                     address right?"
                        .to_owned()
                } else {
                    inner
                }
            }
            other => other.to_string(),
        };
        runtime(
            settings,
            format!(
                "cannot connect to the database {}: {cause}",
                redact_url(&url)
            ),
        )
    })
}

pub(crate) async fn run_migrations(store: &Store, settings: &Settings) -> Result<usize, Failure> {
    store.migrate().await.map_err(|e| {
        runtime(
            settings,
            format!(
                "cannot migrate the database {}: {e}",
                settings.database_url_redacted()
            ),
        )
    })
}

pub(crate) fn store_failure(settings: &Settings, error: StoreError) -> Failure {
    runtime(
        settings,
        format!("database {}: {error}", settings.database_url_redacted()),
    )
}

/// A runtime failure whose message cannot leak the database password, whatever the
/// causes quoted.
fn runtime(settings: &Settings, message: String) -> Failure {
    Failure::Runtime(scrub(&message, &settings.database_url()))
}

/// Replaces the database URL by its redacted form and its password by `***`.
fn scrub(message: &str, url: &str) -> String {
    let mut message = message.replace(url, &redact_url(url));
    if let Some(password) = url_password(url) {
        message = message.replace(password, "***");
    }
    message
}

fn url_password(url: &str) -> Option<&str> {
    let rest = &url[url.find("://")? + 3..];
    let credentials = &rest[..rest.rfind('@')?];
    let (_, password) = credentials.split_once(':')?;
    (!password.is_empty()).then_some(password)
}

/// The password for `user create-admin`; see the command's help for the order.
fn read_password(from_stdin: bool) -> Result<String, Failure> {
    if from_stdin {
        return read_stdin_line();
    }
    if let Some(value) = std::env::var_os(ADMIN_PASSWORD_ENV) {
        return value
            .into_string()
            .map_err(|_| Failure::Usage(format!("{ADMIN_PASSWORD_ENV} is not valid UTF-8")));
    }
    if !std::io::stdin().is_terminal() {
        return read_stdin_line();
    }
    Err(Failure::Usage(format!(
        "no password given: pipe it in with --password-stdin or set {ADMIN_PASSWORD_ENV} \
         (there is no interactive prompt)"
    )))
}

/// The first line of standard input without its line ending; nothing else is trimmed,
/// since the password is hashed as typed.
fn read_stdin_line() -> Result<String, Failure> {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        eprint!("password (shown as you type; prefer a pipe): ");
    }
    let mut line = String::new();
    let read = stdin.lock().read_line(&mut line).map_err(|e| {
        Failure::Runtime(format!("cannot read the password from standard input: {e}"))
    })?;
    if read == 0 {
        return Err(Failure::Usage("no password on standard input".into()));
    }
    if line.ends_with('\n') {
        line.pop();
        if line.ends_with('\r') {
            line.pop();
        }
    }
    Ok(line)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scrubbing_removes_the_url_and_the_password() {
        let url = "postgres://nobody:s3cret-pw@db.example:5432/gb";
        let message = format!("failed at {url}: password s3cret-pw rejected");
        let scrubbed = scrub(&message, url);
        assert!(!scrubbed.contains("s3cret-pw"), "{scrubbed}");
        assert!(
            scrubbed.contains("postgres://nobody:***@db.example:5432/gb"),
            "{scrubbed}"
        );
    }

    #[test]
    fn a_url_without_a_password_is_left_alone() {
        assert_eq!(url_password("sqlite:///tmp/x.db?mode=rwc"), None);
        assert_eq!(url_password("postgres://user@host/db"), None);
        assert_eq!(url_password("postgres://user:pw@host/db"), Some("pw"));
        assert_eq!(
            scrub("at sqlite:///tmp/x.db", "sqlite:///tmp/x.db"),
            "at sqlite:///tmp/x.db"
        );
    }
}
