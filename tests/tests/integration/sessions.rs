//! Connections: kept open and reused, reopened when they die, and never more channels than sshd allows.

use std::time::Duration;

use remote_ssh::SessionPool;
use remote_ssh::pool::{ExecOptions, PoolConfig};
use tests::{TestHosts, runtime};

/// The client port of the connection a command ran over (second field of `$SSH_CONNECTION`).
fn client_port(pool: &SessionPool, hosts: &TestHosts, rt: &tokio::runtime::Runtime) -> String {
    let result =
        rt.block_on(pool.exec_on(&hosts.specs()[0], "echo $SSH_CONNECTION", &ExecOptions::default()));
    assert!(result.ok(), "{result:?}");
    String::from_utf8_lossy(&result.output().unwrap().stdout).split_whitespace().nth(1).unwrap().to_string()
}

#[test]
fn one_connection_is_kept_and_reused() {
    let hosts = TestHosts::start(1);
    let (pool, rt) = (SessionPool::new(PoolConfig::default()), runtime());
    let first = client_port(&pool, &hosts, &rt);
    let second = client_port(&pool, &hosts, &rt);
    assert_eq!(first, second, "the second command opened a new connection");
    assert_eq!(pool.open_connections(), 1);
}

#[test]
fn a_killed_connection_is_reopened() {
    let hosts = TestHosts::start(1);
    let (pool, rt) = (SessionPool::new(PoolConfig::default()), runtime());
    let first = client_port(&pool, &hosts, &rt);
    assert!(hosts.sandbox.servers()[0].kill_connections() > 0, "no connection process to kill");
    let second = client_port(&pool, &hosts, &rt);
    assert_ne!(first, second, "expected a new connection after the old one was killed");
    assert_eq!(pool.open_connections(), 1);
}

#[test]
fn more_commands_than_max_sessions_all_run() {
    // The test servers keep OpenSSH's default MaxSessions 10; 30 concurrent commands must queue, not fail.
    let hosts = TestHosts::start(1);
    let (pool, rt) = (SessionPool::new(PoolConfig::default()), runtime());
    let spec = hosts.specs()[0].clone();
    let results = rt.block_on(async {
        let tasks: Vec<_> = (0..30)
            .map(|i| {
                let (pool, spec) = (pool.clone(), spec.clone());
                tokio::spawn(async move {
                    pool.exec_on(&spec, &format!("sleep 0.2; echo {i}"), &ExecOptions::default()).await
                })
            })
            .collect();
        let mut results = Vec::new();
        for task in tasks {
            results.push(task.await.unwrap());
        }
        results
    });
    for (i, result) in results.iter().enumerate() {
        assert!(result.ok(), "command {i}: {result:?}");
        assert_eq!(result.output().unwrap().stdout, format!("{i}\n").into_bytes());
    }
    assert_eq!(pool.open_connections(), 1);
}

#[test]
fn a_host_that_never_answers_times_out() {
    // A listening socket that accepts but never speaks SSH: the handshake must give up on time.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port();
    let hosts = TestHosts::start(1);
    let mut spec = hosts.specs()[0].clone();
    spec.address = "127.0.0.1".into();
    spec.port = port;
    let mut config = PoolConfig::default();
    config.connect.timeout = Duration::from_millis(500);
    let pool = SessionPool::new(config);
    let result = runtime().block_on(pool.exec_on(&spec, "true", &ExecOptions::default()));
    assert_eq!(result.error_text().as_deref(), Some("connect timed out after 500ms"));
}
