//! The built `greenbridge` binary, run in a temporary directory as an operator would.
//!
//! Every command gets `--data` inside its own temporary directory, and the
//! `GREENBRIDGE_…` variables of the developer's shell are removed from the child, so
//! the results depend on nothing outside the test.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use greenbridge_store::{AuditFilter, Store};

const STRONG_PASSWORD: &str = "Gr33n-Bridge!2026";

struct Workspace {
    dir: tempfile::TempDir,
}

impl Workspace {
    fn new() -> Workspace {
        Workspace {
            dir: tempfile::tempdir().expect("tempdir"),
        }
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// `greenbridge --data <tmp>/data ARGS…`, isolated from the caller's environment.
    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_greenbridge"));
        command.current_dir(self.dir.path());
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("GREENBRIDGE_") {
                command.env_remove(&key);
            }
        }
        command.env_remove("RUST_LOG");
        command.args(args).arg("--data").arg(self.data());
        command
    }

    fn run(&self, args: &[&str]) -> Output {
        self.command(args)
            .stdin(Stdio::null())
            .output()
            .expect("run greenbridge")
    }

    fn run_with_stdin(&self, args: &[&str], input: &str) -> Output {
        let mut child = self
            .command(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn greenbridge");
        // The command may exit before reading (a usage error): a broken pipe is fine.
        let _ = child
            .stdin
            .take()
            .expect("stdin")
            .write_all(input.as_bytes());
        child.wait_with_output().expect("wait")
    }

    fn database_url(&self) -> String {
        format!(
            "sqlite://{}?mode=rwc",
            self.data().join("greenbridge.db").display()
        )
    }

    fn store(&self) -> (tokio::runtime::Runtime, Store) {
        let runtime = tokio::runtime::Runtime::new().expect("runtime");
        let store = runtime
            .block_on(Store::connect(&self.database_url()))
            .expect("connect");
        (runtime, store)
    }
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn create_admin(workspace: &Workspace, login: &str, password: &str) -> Output {
    workspace.run_with_stdin(
        &[
            "user",
            "create-admin",
            "--login",
            login,
            "--name",
            "平台管理员",
            "--password-stdin",
        ],
        &format!("{password}\n"),
    )
}

/// Waits for `child` to exit, killing it and failing the test after `limit`.
fn wait_with_limit(child: &mut Child, limit: Duration) -> std::process::ExitStatus {
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            return status;
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("greenbridge did not exit within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn migrating_twice_applies_nothing_the_second_time() {
    let workspace = Workspace::new();
    let first = workspace.run(&["migrate"]);
    assert!(first.status.success(), "stderr: {}", stderr(&first));
    let applied: usize = stdout(&first)
        .trim()
        .strip_prefix("migrations applied: ")
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("unexpected output {:?}", stdout(&first)));
    assert!(applied > 0);
    assert!(
        workspace.data().join("greenbridge.db").exists(),
        "the data directory holds the database"
    );

    let second = workspace.run(&["migrate"]);
    assert!(second.status.success(), "stderr: {}", stderr(&second));
    assert_eq!(stdout(&second).trim(), "migrations applied: 0");
}

#[test]
fn an_admin_created_with_a_piped_password_is_stored_and_audited() {
    let workspace = Workspace::new();
    let output = create_admin(&workspace, "Admin@Example.CN", STRONG_PASSWORD);
    assert!(output.status.success(), "stderr: {}", stderr(&output));
    let out = stdout(&output);
    assert!(out.contains("admin@example.cn"), "{out}");
    assert!(
        out.contains("TOTP"),
        "the operator is told about the second factor: {out}"
    );

    let (runtime, store) = workspace.store();
    let account = runtime
        .block_on(store.account_by_login("admin@example.cn"))
        .expect("query")
        .expect("the account exists");
    assert_eq!(account.role.as_str(), "admin");
    assert_eq!(account.display_name, "平台管理员");
    assert!(
        account.password_hash.starts_with("$argon2id$"),
        "hashed, not stored"
    );
    assert!(
        account.totp_secret.is_none(),
        "the second factor is enrolled on first login"
    );
    let filter = AuditFilter {
        action: Some("account.create_admin".into()),
        ..AuditFilter::default()
    };
    let records = runtime
        .block_on(store.audit_records(&filter, None, 0))
        .expect("audit");
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].actor_login.as_deref(), Some("cli"));
    assert_eq!(records[0].target, format!("account:{}", account.id));
}

#[test]
fn creating_an_admin_with_a_taken_login_fails() {
    let workspace = Workspace::new();
    assert!(
        create_admin(&workspace, "13812345678", STRONG_PASSWORD)
            .status
            .success()
    );
    let output = create_admin(&workspace, "138 1234 5678", STRONG_PASSWORD);
    assert_eq!(output.status.code(), Some(1));
    let err = stderr(&output);
    assert!(err.contains("13812345678 is already taken"), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
}

#[test]
fn a_weak_admin_password_is_refused_naming_the_rule() {
    let workspace = Workspace::new();
    let output = create_admin(&workspace, "admin@example.cn", "short");
    assert_eq!(output.status.code(), Some(1));
    let err = stderr(&output);
    assert!(err.contains("密码至少需要10个字符"), "{err}");

    let output = create_admin(&workspace, "admin@example.cn", "alllowercaseletters");
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains("至少3类"), "{}", stderr(&output));
    assert!(!workspace.data().exists(), "nothing was touched");
}

#[test]
fn an_admin_password_is_required() {
    let workspace = Workspace::new();
    // Standard input is empty and not a terminal: there is nothing to read.
    let output = workspace.run(&[
        "user",
        "create-admin",
        "--login",
        "admin@example.cn",
        "--name",
        "管理员",
    ]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("no password"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn the_admin_password_can_come_from_the_environment() {
    let workspace = Workspace::new();
    let output = workspace
        .command(&[
            "user",
            "create-admin",
            "--login",
            "admin@example.cn",
            "--name",
            "管理员",
        ])
        .env("GREENBRIDGE_ADMIN_PASSWORD", STRONG_PASSWORD)
        .stdin(Stdio::null())
        .output()
        .expect("run");
    assert!(output.status.success(), "stderr: {}", stderr(&output));
}

#[test]
fn a_malformed_login_is_a_usage_error() {
    let workspace = Workspace::new();
    let output = create_admin(&workspace, "not-a-login", STRONG_PASSWORD);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("--login"), "{}", stderr(&output));
}

#[test]
fn an_unreachable_database_fails_with_one_line_that_hides_the_password() {
    let workspace = Workspace::new();
    let output = workspace.run(&[
        "migrate",
        "--database-url",
        "postgres://nobody:secret@127.0.0.1:1/x",
    ]);
    assert_eq!(output.status.code(), Some(1));
    let err = stderr(&output);
    assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
    assert!(
        err.starts_with(
            "error: cannot connect to the database postgres://nobody:***@127.0.0.1:1/x"
        ),
        "{err}"
    );
    assert!(!err.contains("secret"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn serving_on_a_port_in_use_fails_clearly() {
    let workspace = Workspace::new();
    let taken = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = taken.local_addr().expect("addr").to_string();
    let mut child = workspace
        .command(&["serve", "--addr", &addr])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let status = wait_with_limit(&mut child, Duration::from_secs(60));
    let mut err = String::new();
    child
        .stderr
        .take()
        .expect("stderr")
        .read_to_string(&mut err)
        .expect("read");
    assert_eq!(status.code(), Some(1), "{err}");
    assert!(
        err.contains(&format!("error: cannot listen on {addr}")),
        "{err}"
    );
    drop(taken);
}

#[test]
fn serve_with_demo_loads_the_reference_data_and_answers_health_checks() {
    let workspace = Workspace::new();
    let mut child = workspace
        .command(&[
            "serve",
            "--addr",
            "127.0.0.1:0",
            "--demo",
            "--today",
            "2026-11-28",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut lines = BufReader::new(child.stderr.take().expect("stderr")).lines();
    let mut seen = Vec::new();
    let address = loop {
        let Some(Ok(line)) = lines.next() else {
            let _ = child.kill();
            panic!("serve stopped before listening: {seen:#?}");
        };
        if let Some(at) = line.find("listening on http://") {
            break line[at + "listening on http://".len()..].trim().to_owned();
        }
        seen.push(line);
    };
    let log = seen.join("\n");
    assert!(
        log.contains("demo mode: reference data embedded in the binary"),
        "{log}"
    );
    assert!(log.contains("sample data sets: hw-licence ("), "{log}");

    let mut stream = TcpStream::connect(&address).expect("connect");
    stream
        .write_all(
            format!("GET /healthz HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n")
                .as_bytes(),
        )
        .expect("request");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("response");
    let _ = child.kill();
    let _ = child.wait();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
}

#[test]
fn an_unknown_key_in_the_config_file_is_refused_by_name() {
    let workspace = Workspace::new();
    let config = workspace.dir.path().join("greenbridge.toml");
    std::fs::write(&config, "registration_phase = 2\nlisten = \"0.0.0.0:80\"\n").expect("write");
    let output = workspace.run(&["migrate", "--config", config.to_str().expect("utf-8")]);
    assert_eq!(output.status.code(), Some(2));
    let err = stderr(&output);
    assert!(err.contains("`listen`") && err.contains("line 2"), "{err}");
}

#[test]
fn the_example_config_file_is_valid() {
    let workspace = Workspace::new();
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../greenbridge.example.toml");
    let output = workspace.run(&["migrate", "--config", example.to_str().expect("utf-8")]);
    assert!(output.status.success(), "stderr: {}", stderr(&output));
}

#[test]
fn audit_records_younger_than_180_days_cannot_be_purged() {
    let workspace = Workspace::new();
    let output = workspace.run(&[
        "audit",
        "purge",
        "--before",
        "2026-10-01",
        "--today",
        "2026-11-28",
    ]);
    assert_eq!(output.status.code(), Some(1));
    let err = stderr(&output);
    assert!(err.contains("younger than 180 days"), "{err}");
    assert!(
        err.contains("2026-06-01"),
        "names the latest date allowed: {err}"
    );

    let output = workspace.run(&[
        "audit",
        "purge",
        "--before",
        "2026-05-01",
        "--today",
        "2026-11-28",
    ]);
    assert!(output.status.success(), "stderr: {}", stderr(&output));
    assert!(
        stdout(&output).contains("deleted 0 audit records dated before 2026-05-01"),
        "{}",
        stdout(&output)
    );
}

#[test]
fn serve_runs_the_periodic_jobs_in_the_background() {
    let workspace = Workspace::new();
    let mut child = workspace
        .command(&["serve", "--addr", "127.0.0.1:0"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut lines = BufReader::new(child.stderr.take().expect("stderr")).lines();
    loop {
        let Some(Ok(line)) = lines.next() else {
            let _ = child.kill();
            panic!("serve stopped before listening");
        };
        if line.contains("listening on http://") {
            break;
        }
    }
    // Keep reading the log so that the server never blocks on a full pipe.
    let drain = std::thread::spawn(move || lines.map_while(Result::ok).count());
    let (runtime, store) = workspace.store();
    let started = Instant::now();
    let done = loop {
        let done = runtime
            .block_on(store.count_jobs(&greenbridge_store::JobFilter {
                status: Some(greenbridge_store::JobStatus::Done),
                kind: Some("sessions.purge".into()),
            }))
            .expect("count jobs");
        if done > 0 || started.elapsed() > Duration::from_secs(20) {
            break done;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let _ = child.kill();
    let _ = child.wait();
    let _ = drain.join();
    assert_eq!(
        done, 1,
        "the scheduler enqueued sessions.purge and a worker ran it"
    );
}

#[test]
fn reindex_rebuilds_the_search_index_from_the_database() {
    let workspace = Workspace::new();
    assert!(workspace.run(&["migrate"]).status.success());
    let (runtime, store) = workspace.store();
    let code = greenbridge_domain::credit_code::CreditCode::parse("91320509MA1WJ0001U")
        .expect("a valid code");
    let organisation = greenbridge_store::NewOrganisation {
        credit_code: &code,
        name: "吴江示例重建索引有限公司",
        side: greenbridge_store::OrgSide::Demand,
        region_code: "320509",
        address: "苏州市吴江区示例路1号",
        contact_name: "张示例",
        contact_phone: "0512-59990001",
        source: "registration",
        sample: false,
    };
    runtime
        .block_on(store.insert_organisation(&organisation, 1_795_000_000))
        .expect("insert");
    runtime.block_on(store.close());
    let output = workspace.run(&["reindex", "organisations"]);
    assert!(output.status.success(), "stderr: {}", stderr(&output));
    assert!(
        stdout(&output).contains("reindexed 1 documents"),
        "{}",
        stdout(&output)
    );
    assert!(workspace.data().join("search/organisations").is_dir());
    let refused = workspace.run(&["reindex", "people"]);
    assert_eq!(refused.status.code(), Some(2));
}

#[test]
fn importing_a_file_that_does_not_exist_exits_2_naming_it() {
    let workspace = Workspace::new();
    let missing = workspace.data().join("no-such-list.xlsx");
    let missing = missing.to_str().expect("utf-8 path");
    let output = workspace.run(&["import", "regulations", missing, "--json"]);
    assert_eq!(output.status.code(), Some(2), "stderr: {}", stderr(&output));
    assert!(
        stderr(&output).contains("no-such-list.xlsx"),
        "{}",
        stderr(&output)
    );
    assert!(stdout(&output).is_empty());

    let unknown = workspace.run(&["import", "people", missing]);
    assert_eq!(unknown.status.code(), Some(2));
}

#[test]
fn importing_the_licence_list_prints_the_json_report_and_a_second_run_changes_nothing() {
    let workspace = Workspace::new();
    let list = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../samples/suppliers/hazardous_waste_licences.xlsx");
    let list = list.to_str().expect("utf-8 path");
    let args = [
        "import",
        "suppliers",
        list,
        "--kind",
        "hw-licence",
        "--json",
    ];

    let dry = workspace.run(&[&args[..], &["--dry-run"]].concat());
    assert!(dry.status.success(), "stderr: {}", stderr(&dry));
    let report: serde_json::Value = serde_json::from_str(&stdout(&dry)).expect("JSON report");
    assert_eq!(report["created"], 59);
    assert_eq!(report["dry_run"], true);

    let first = workspace.run(&args);
    assert!(first.status.success(), "stderr: {}", stderr(&first));
    let report: serde_json::Value = serde_json::from_str(&stdout(&first)).expect("JSON report");
    assert_eq!(report["read"], 64);
    assert_eq!(report["created"], 59);
    let rows: Vec<i64> = report["rejected"]
        .as_array()
        .expect("rejected rows")
        .iter()
        .map(|r| r["row"].as_i64().expect("row"))
        .collect();
    assert_eq!(rows, vec![12, 24, 36, 50, 61]);
    assert!(
        report["rejected"][2]["reason"]
            .as_str()
            .is_some_and(|r| r.contains("HW99"))
    );

    let second = workspace.run(&args);
    let report: serde_json::Value = serde_json::from_str(&stdout(&second)).expect("JSON report");
    assert_eq!(
        (&report["created"], &report["updated"], &report["unchanged"]),
        (
            &serde_json::json!(0),
            &serde_json::json!(0),
            &serde_json::json!(59)
        )
    );

    let not_a_list = workspace.run(&["import", "suppliers", env!("CARGO_MANIFEST_DIR"), "--json"]);
    assert_eq!(not_a_list.status.code(), Some(2));
    let wrong_kind = workspace.run(&["import", "suppliers", list, "--kind", "people"]);
    assert_eq!(wrong_kind.status.code(), Some(2));
}
