//! `service` against real sshd: arguments refused before any host is reached, and on hosts without systemd
//! (the sandbox's, in a container) a clear error per host; with systemd, a unit the host lacks is named as
//! missing.

use serde_json::Value;
use tests::{TestHosts, remote};

fn results(inventory: &str, expression: &str, extra: &[&str]) -> (i32, Vec<Value>) {
    let mut args = vec!["--inventory", inventory, "--json"];
    args.extend_from_slice(extra);
    args.extend(["eval", expression]);
    let out = remote(&args);
    let document: Value =
        serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}{}", out.stdout, out.stderr));
    (out.code, document["results"].as_array().unwrap().clone())
}

#[test]
fn service_refuses_bad_arguments_and_says_what_a_host_lacks() {
    let hosts = TestHosts::start(2);
    let inventory = hosts.write_inventory(&[]);
    let inventory = inventory.to_str().unwrap();
    let check = |expression: &str, extra: &[&str], error: &str| {
        let (code, results) = results(inventory, expression, extra);
        assert_eq!(code, 1, "{expression}");
        assert_eq!(results.len(), 2);
        for result in &results {
            assert_eq!(result["ok"], Value::from(false), "{result}");
            let said = result["error"].as_str().unwrap_or_default().to_string()
                + result["stderr"].as_str().unwrap_or_default();
            assert!(said.contains(error), "{expression}: {result}");
        }
    };
    check(r#"service(test, "nginx", "strat")"#, &[], "unknown service action `strat`; did you mean `start`?");
    check(
        r#"service(test, "-nginx", "start")"#,
        &[],
        "starts with `-`, which systemctl would read as an option",
    );
    check(r#"service(test, "a b", "start")"#, &[], "contains whitespace");
    if std::path::Path::new("/run/systemd/system").is_dir() {
        // The sandbox's hosts are this machine: with systemd running here, a unit it does not have.
        let missing = "there is no unit `remote-test-no-such-unit.service` on this host";
        check(r#"service(test, "remote-test-no-such-unit", "start")"#, &[], missing);
        check(r#"service(test, "remote-test-no-such-unit", "start")"#, &["--check"], missing);
    } else {
        let no_systemd = "this host does not run systemd (no /run/systemd/system), which `service` drives";
        check(r#"service(test, "ssh", "start")"#, &[], no_systemd);
        check(r#"service(test, "ssh", "status")"#, &["--check"], no_systemd);
    }
}
