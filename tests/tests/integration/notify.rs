//! `email` and `webhook` against real servers on loopback: aiosmtpd (a Python SMTP server) keeps what it
//! receives in a maildir, read back with Python's own email parser; a Python HTTP server keeps what is
//! posted.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use tests::{TestHosts, remote, remote_with_env};

/// A loopback port nothing listens on right now.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A server process, stopped when dropped.
struct Server(Child);

impl Server {
    /// Starts `python3 ARGS` and waits until `port` accepts connections.
    fn start(args: &[&str], port: u16) -> Self {
        let child = Command::new("python3")
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3");
        let server = Server(child);
        let address = SocketAddr::from(([127, 0, 0, 1], port));
        let until = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect_timeout(&address, Duration::from_millis(200)).is_err() {
            assert!(Instant::now() < until, "the server on port {port} did not start: python3 {args:?}");
            std::thread::sleep(Duration::from_millis(50));
        }
        server
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The inventory of `hosts` with a `[notify]` table for `smtp`.
fn inventory_with_notify(hosts: &TestHosts, smtp: &str) -> PathBuf {
    // A file of its own: the harness rewrites `remote.toml` whenever it is asked for the hosts.
    let mut text = std::fs::read_to_string(hosts.write_inventory(&[])).unwrap();
    let path = hosts.dir().join(format!("notify-{}.toml", smtp.replace([':', '.'], "-")));
    text.push_str(&format!(
        "\n[notify]\nsmtp = \"{smtp}\"\nfrom = \"remote@example.org\"\nto = [\"team@example.org\"]\n"
    ));
    std::fs::write(&path, text).unwrap();
    path
}

/// The messages in `maildir`, each parsed by Python's email package: subject, recipients, text, HTML,
/// attachments.
fn received(maildir: &Path) -> Vec<Value> {
    let script = r#"
import email, email.policy, json, mailbox, sys
found = []
for message in mailbox.Maildir(sys.argv[1], create=False):
    parsed = email.message_from_bytes(message.as_bytes(), policy=email.policy.default)
    item = {"subject": parsed["subject"], "to": parsed["to"], "from": parsed["from"], "attachments": {}}
    for part in parsed.walk():
        if part.is_multipart():
            continue
        if part.get_filename():
            item["attachments"][part.get_filename()] = part.get_content()
        elif part.get_content_type() == "text/html":
            item["html"] = part.get_content()
        elif part.get_content_type() == "text/plain":
            item["text"] = part.get_content()
    found.append(item)
print(json.dumps(found))
"#;
    let out = Command::new("python3").args(["-c", script]).arg(maildir).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn email_sends_the_summary_with_failures_attached_and_says_when_it_cannot() {
    let hosts = TestHosts::start(2);
    let dir = hosts.dir().to_path_buf();
    let maildir = dir.join("maildir");
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let _smtp = Server::start(
        &[
            "-m",
            "aiosmtpd",
            "-n",
            "-l",
            &listen,
            "-c",
            "aiosmtpd.handlers.Mailbox",
            maildir.to_str().unwrap(),
        ],
        port,
    );
    let inventory = inventory_with_notify(&hosts, &listen);
    let inventory = inventory.to_str().unwrap();
    // The second host fails, with words on stderr.
    let script = format!(
        "case \\\"$SSH_CONNECTION \\\" in *\\\" {} \\\"*) echo 'disk <full>' >&2; exit 3;; esac; echo fine",
        hosts.server_end(1)
    );
    let expression = format!(
        "exec(test, \"{script}\") | email(\"ops@example.org, dev@example.org\", \"nightly <check>\")"
    );

    // A dry run sends nothing.
    let out = remote(&["--inventory", inventory, "--check", "eval", &expression]);
    assert!(
        out.stderr
            .contains("remote: dry run: would have emailed the summary to ops@example.org, dev@example.org"),
        "{}",
        out.stderr
    );

    let out = remote(&["--inventory", inventory, "eval", &expression]);
    assert_eq!(out.code, 1, "one host failed: {}{}", out.stdout, out.stderr);
    assert!(
        out.stderr.contains("remote: emailed the summary to ops@example.org, dev@example.org"),
        "{}",
        out.stderr
    );
    let messages = received(&maildir);
    assert_eq!(messages.len(), 1, "{messages:?}");
    let message = &messages[0];
    assert_eq!(message["subject"], "nightly <check>");
    assert_eq!(message["to"], "ops@example.org, dev@example.org");
    assert_eq!(message["from"], "remote@example.org");
    let html = message["html"].as_str().unwrap();
    let (ok_host, bad_host) = (hosts.specs()[0].name.clone(), hosts.specs()[1].name.clone());
    assert!(html.contains(&format!("<td>{ok_host}</td><td>fine</td>")), "{html}");
    assert!(html.contains(&format!("<td>{bad_host}</td><td>exited with status 3")), "{html}");
    assert!(
        html.contains("disk &lt;full&gt;") && !html.contains("disk <full>"),
        "host output is escaped: {html}"
    );
    assert!(html.contains("2 host(s): 1 ok, 1 failed"), "{html}");
    assert!(message["text"].as_str().unwrap().contains("Run summary:"), "{message}");
    let attachment = message["attachments"][format!("{bad_host}.txt")].as_str().unwrap_or_default();
    assert!(attachment.contains("--- stderr ---\ndisk <full>"), "{message}");
    assert_eq!(
        message["attachments"].as_object().unwrap().len(),
        1,
        "only the failed host's output is attached"
    );

    // `notify` mails [notify]'s own recipients; the seed's `aptgrade` as a dry run mails nobody and changes
    // nothing.
    let out = remote(&["--inventory", inventory, "eval", "exec(test, \"true\") | notify(\"to the team\")"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let messages = received(&maildir);
    let team = messages.iter().find(|m| m["subject"] == "to the team").expect("the notify mail");
    assert_eq!(team["to"], "team@example.org");
    let out = remote(&["--inventory", inventory, "--check", "run", "aptgrade", "test"]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert_eq!(
        out.stderr.matches("remote: dry run: would have emailed the summary to team@example.org").count(),
        2,
        "{}",
        out.stderr
    );
    assert!(
        out.stdout.contains("would upgrade") || out.stdout.contains("unchanged: nothing to upgrade"),
        "{}",
        out.stdout
    );
    assert_eq!(received(&maildir).len(), 2, "a dry run sent mail");

    // A server that is not there: the hosts' own outcomes stand, the command exits 1 and says why.
    let down = inventory_with_notify(&hosts, &format!("127.0.0.1:{}", free_port()));
    let out = remote(&[
        "--inventory",
        down.to_str().unwrap(),
        "--json",
        "eval",
        "exec(test, \"true\") | email(\"ops@example.org\", \"x\")",
    ]);
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    let document: Value = serde_json::from_str(&out.stdout).unwrap();
    assert!(document["results"].as_array().unwrap().iter().all(|r| r["ok"] == true), "{document}");
    assert!(out.stderr.contains("error: email not sent: the SMTP server 127.0.0.1:"), "{}", out.stderr);

    // No [notify] table: said how to add one.
    let plain = hosts.write_inventory(&[]);
    let out = remote(&[
        "--inventory",
        plain.to_str().unwrap(),
        "eval",
        "exec(test, \"true\") | email(\"ops@example.org\", \"x\")",
    ]);
    assert_eq!(out.code, 1);
    assert!(
        out.stderr.contains("has no [notify] table; add one with `smtp = \"host:port\"`"),
        "{}",
        out.stderr
    );
}

#[test]
fn webhook_posts_the_runs_json_and_never_shows_the_urls_secret() {
    let hosts = TestHosts::start(1);
    let dir = hosts.dir().to_path_buf();
    let port = free_port();
    let server = r#"
import http.server, sys
class Hook(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if self.path.startswith("/fail"):
            self.send_response(500); self.end_headers(); return
        with open(sys.argv[2], "wb") as f:
            f.write(self.headers.get("Content-Type", "").encode() + b"\n" + body)
        self.send_response(204); self.end_headers()
    def log_message(self, *args):
        pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), Hook).serve_forever()
"#;
    let posted = dir.join("posted");
    let _http = Server::start(&["-c", server, &port.to_string(), posted.to_str().unwrap()], port);
    let inventory = hosts.write_inventory(&[]);
    let inventory = inventory.to_str().unwrap();

    let url = format!("http://127.0.0.1:{port}/hook/secret-token-123");
    let mut said = String::new();
    let out =
        remote(&["--inventory", inventory, "eval", &format!("exec(test, \"echo hi\") | webhook(\"{url}\")")]);
    said.push_str(&(out.stdout.clone() + &out.stderr));
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stderr.contains(&format!("remote: posted the run to http://127.0.0.1:{port}/…")),
        "{}",
        out.stderr
    );
    let text = std::fs::read_to_string(&posted).unwrap();
    let (content_type, body) = text.split_once('\n').unwrap();
    assert_eq!(content_type, "application/json");
    let document: Value = serde_json::from_str(body).unwrap();
    assert_eq!(document["results"][0]["stdout"], "hi\n", "{document}");
    assert_eq!(document["ok"], Value::from(true));

    // By name from the inventory's [webhooks], so that the secret is not in the pipeline's text.
    let named = dir.join("named.toml");
    let text = std::fs::read_to_string(inventory).unwrap() + &format!("\n[webhooks]\noncall = \"{url}\"\n");
    std::fs::write(&named, text).unwrap();
    std::fs::remove_file(&posted).unwrap();
    let out = remote(&[
        "--inventory",
        named.to_str().unwrap(),
        "eval",
        "exec(test, \"echo named\") | webhook(\"oncall\")",
    ]);
    said.push_str(&(out.stdout.clone() + &out.stderr));
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert!(std::fs::read_to_string(&posted).unwrap().contains("named"), "posted by name");
    let out = remote(&[
        "--inventory",
        named.to_str().unwrap(),
        "--check",
        "eval",
        "exec(test, \"true\") | webhook(\"oncal\")",
    ]);
    assert_eq!(out.code, 1, "a dry run checks the name");
    assert!(out.stderr.contains("has no webhook `oncal`; did you mean `oncall`?"), "{}", out.stderr);

    let failing = format!("http://127.0.0.1:{port}/fail/secret-token-123");
    let out = remote(&[
        "--inventory",
        inventory,
        "eval",
        &format!("exec(test, \"true\") | webhook(\"{failing}\")"),
    ]);
    said.push_str(&(out.stdout.clone() + &out.stderr));
    assert_eq!(out.code, 1);
    assert!(
        out.stderr.contains(&format!(
            "error: webhook not sent: http://127.0.0.1:{port}/… answered with HTTP status 500"
        )),
        "{}",
        out.stderr
    );
    let refused = format!("http://127.0.0.1:{}/secret-token-123", free_port());
    let out = remote(&[
        "--inventory",
        inventory,
        "eval",
        &format!("exec(test, \"true\") | webhook(\"{refused}\")"),
    ]);
    said.push_str(&(out.stdout.clone() + &out.stderr));
    assert_eq!(out.code, 1);
    assert!(
        out.stderr.contains("error: webhook not sent: cannot post to http://127.0.0.1:"),
        "{}",
        out.stderr
    );
    // Nor at any log level: the HTTP client's own logs would print the whole URL.
    let trace = [("REMOTE_LOG", Some(Path::new("trace")))];
    let out = remote_with_env(
        &["--inventory", inventory, "eval", &format!("exec(test, \"true\") | webhook(\"{url}\")")],
        &trace,
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stderr.contains("TRACE"), "REMOTE_LOG=trace logs: {}", out.stderr);
    said.push_str(&(out.stdout.clone() + &out.stderr));
    // Hooks carry their secret in the path: it is never printed, whatever happened.
    assert!(!said.contains("secret-token-123"), "{said}");
}
