//! `email` and `webhook`: a run's report sent on, by SMTP to the inventory's `[notify]` server (lettre) or as
//! its JSON document by HTTP POST (ureq). Both block the pipeline's thread while they send, as a command
//! does.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::message::{Attachment, Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{Message as Email, SmtpTransport, Transport};
use remote_config::Inventory;
use remote_config::{Notify, SmtpTls};
use remote_core::{HostResult, Message, Report, pretty};

/// Where the SMTP password may come from; read once at start, like the other secrets.
pub const SMTP_PASSWORD_ENV: &str = "REMOTE_SMTP_PASSWORD";

/// How long a message may take to go out before it is given up.
const SEND_TIMEOUT: Duration = Duration::from_secs(30);

/// Bytes of each of a failed host's streams attached to the email, from the end.
const ATTACHED_BYTES: usize = 1 << 20;

/// Lines of a failed host's output quoted in the email's table (the whole of it is attached).
const TAIL_LINES: usize = 5;

/// Set when a message could not be sent, so that the command ends with exit 1 even when every host succeeded.
static FAILED: AtomicBool = AtomicBool::new(false);

/// Whether any message of this process could not be sent.
pub fn any_failed() -> bool {
    FAILED.load(Ordering::SeqCst)
}

/// Sends the messages (emails, webhook posts) of one process: the inventory is read again for each (its `[notify]` table may have changed
/// since the prompt started), and every outcome is said on stderr.
pub struct Outbox {
    inventory: PathBuf,
    smtp_password: Option<remote_ssh::auth::Secret>,
}

impl Outbox {
    /// A sender reading `[notify]` from the inventory at `inventory`.
    pub fn new(inventory: PathBuf, smtp_password: Option<remote_ssh::auth::Secret>) -> Self {
        Outbox { inventory, smtp_password }
    }

    /// Sends `report` as `message` says; with `dry_run`, checks everything (the `[notify]` table, the
    /// addresses, the message, the webhook's name and URL) and sends nothing.
    fn send(&self, report: &Report, message: &Message<'_>, dry_run: bool) -> Result<String, String> {
        let would = if dry_run { "would have " } else { "" };
        match *message {
            Message::Email { to, subject } => {
                let inventory = Inventory::load(&self.inventory).map_err(|e| e.to_string())?;
                let settings = inventory.notify().ok_or_else(|| {
                    format!(
                        "the inventory {} has no [notify] table; add one with `smtp = \"host:port\"` and `from = \"…\"`",
                        self.inventory.display()
                    )
                })?;
                let listed = settings.to.join(", ");
                let to = if to.trim().is_empty() { listed.as_str() } else { to };
                let email = email(report, settings, to, subject)?;
                let transport = transport(settings, self.smtp_password.as_ref())?;
                if !dry_run {
                    transport
                        .send(&email)
                        .map_err(|e| format!("the SMTP server {} refused it: {e}", settings.smtp))?;
                }
                Ok(format!("{would}emailed the summary to {to}"))
            }
            Message::Webhook { url } => {
                // A name from the inventory's [webhooks], or the URL itself.
                let inventory;
                let url = if url.contains("://") {
                    url
                } else {
                    inventory = Inventory::load(&self.inventory).map_err(|e| e.to_string())?;
                    inventory.webhook(url)?
                };
                let shown = shown_url(url)
                    .ok_or_else(|| "the webhook URL must start with http:// or https://".to_string())?;
                if dry_run {
                    return Ok(format!("{would}posted the run to {shown}"));
                }
                post(report, url, &shown)
            }
        }
    }
}

impl Outbox {
    /// Sends `report` as `message` says (`email`, `webhook`): what was done, or why not. In a dry run
    /// (`dry_run`) nothing is sent; what would be is said.
    pub fn notify(&self, report: &Report, message: &Message<'_>, dry_run: bool) -> Result<String, String> {
        let what = match message {
            Message::Email { .. } => "email",
            Message::Webhook { .. } => "webhook",
        };
        // A dry run sends nothing anywhere; it checks what it can and says what it would have sent.
        let outcome = self.send(report, message, dry_run);
        let outcome = match outcome {
            Ok(done) if dry_run => Ok(format!("dry run: {done}")),
            other => other,
        };
        match &outcome {
            Ok(done) => eprintln!("remote: {done}"),
            Err(why) => {
                FAILED.store(true, Ordering::SeqCst);
                eprintln!("error: {what} not sent: {why}");
            }
        }
        outcome
    }
}

/// The email: the summary as plain text and as HTML, and each failed host's output attached.
fn email(report: &Report, settings: &Notify, to: &str, subject: &str) -> Result<Email, String> {
    let from: Mailbox =
        settings.from.parse().map_err(|e| format!("`from` = \"{}\" in [notify]: {e}", settings.from))?;
    let mut builder = Email::builder().from(from).subject(subject);
    let mut any = false;
    for address in to.split(',').map(str::trim).filter(|a| !a.is_empty()) {
        let mailbox: Mailbox =
            address.parse().map_err(|e| format!("`{address}` is not an email address: {e}"))?;
        builder = builder.to(mailbox);
        any = true;
    }
    if !any {
        return Err("no recipient: give one, `email(\"ops@example.org\", \"subject\")`, or list them as `to` in [notify]".into());
    }
    let mut parts = MultiPart::mixed()
        .multipart(MultiPart::alternative_plain_html(pretty::render(report, false), html(report)));
    for result in report.results.iter().filter(|r| !r.ok()) {
        if let Some(output) = failure_output(result) {
            let name = format!("{}.txt", result.host.replace(['/', '\\', '"'], "_"));
            parts = parts.singlepart(Attachment::new(name).body(output, ContentType::TEXT_PLAIN));
        }
    }
    builder.multipart(parts).map_err(|e| format!("cannot make the email: {e}"))
}

/// A failed host's whole output, for its attachment, when it has any.
fn failure_output(result: &HostResult) -> Option<String> {
    let output = result.output()?;
    if output.stdout.is_empty() && output.stderr.is_empty() {
        return None;
    }
    let mut text = format!("{}: {}\n", result.host, result.error_text().unwrap_or_default());
    for (name, bytes) in [("stderr", &output.stderr), ("stdout", &output.stdout)] {
        if bytes.is_empty() {
            continue;
        }
        // Mail servers refuse messages of a few tens of MiB: the end of each stream is what explains a
        // failure.
        let cut = bytes.len().saturating_sub(ATTACHED_BYTES);
        let note = if cut > 0 {
            format!(" (its last {ATTACHED_BYTES} bytes; {cut} before them left out)")
        } else {
            String::new()
        };
        text.push_str(&format!("\n--- {name}{note} ---\n{}", String::from_utf8_lossy(&bytes[cut..])));
    }
    Some(text)
}

/// The summary as an HTML table, a row per host; every text from a host is escaped.
fn html(report: &Report) -> String {
    let failed = report.failed_count();
    let mut page = format!(
        "<!DOCTYPE html>\n<html><body style=\"font-family: sans-serif\">\n<h2>{} on {}</h2>\n<p>{} host(s): {} ok, {} failed, {:.2}s</p>\n\
         <table cellpadding=\"4\" style=\"border-collapse: collapse\">\n<tr><th></th><th align=\"left\">host</th><th align=\"left\">result</th></tr>\n",
        escape(report.label.lines().next().unwrap_or_default()),
        escape(&report.group),
        report.results.len(),
        report.results.len() - failed,
        failed,
        report.elapsed.as_secs_f64()
    );
    for result in &report.results {
        let (mark, colour) = if result.ok() { ("✔", "#1a7f37") } else { ("✖", "#cf222e") };
        let mut said = escape(&pretty::host_line(result));
        if !result.ok() {
            let tail = result.output().map(|o| if o.stderr.is_empty() { &o.stdout } else { &o.stderr });
            let text = tail.map(|bytes| String::from_utf8_lossy(bytes).into_owned()).unwrap_or_default();
            let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
            let last = &lines[lines.len().saturating_sub(TAIL_LINES)..];
            if !last.is_empty() {
                let quoted: Vec<String> = last.iter().map(|l| escape(&pretty::sanitize(l))).collect();
                said.push_str(&format!("<pre style=\"margin: 4px 0\">{}</pre>", quoted.join("\n")));
            }
        }
        page.push_str(&format!(
            "<tr><td style=\"color: {colour}\">{mark}</td><td>{}</td><td>{said}</td></tr>\n",
            escape(&result.host)
        ));
    }
    page.push_str("</table>\n");
    if failed > 0 {
        page.push_str("<p>The failed hosts' output is attached.</p>\n");
    }
    page.push_str("</body></html>\n");
    page
}

/// Text from a run made safe inside HTML: markup escaped, control characters and bidirectional overrides
/// shown as `·`.
fn escape(text: &str) -> String {
    crate::junit::xml(text)
}

/// The SMTP connection `[notify]` describes.
fn transport(
    settings: &Notify,
    password: Option<&remote_ssh::auth::Secret>,
) -> Result<SmtpTransport, String> {
    let (host, port) = match settings.smtp.rsplit_once(':') {
        Some((host, port)) if !host.ends_with(':') => {
            let port = port
                .parse::<u16>()
                .map_err(|_| format!("`smtp` = \"{}\": `{port}` is not a port", settings.smtp))?;
            (host.trim_matches(['[', ']']), port)
        }
        // SMTP's port, or smtps' for TLS from the first byte.
        _ => (settings.smtp.trim_matches(['[', ']']), if settings.tls == SmtpTls::Tls { 465 } else { 25 }),
    };
    let builder = match settings.tls {
        SmtpTls::None => SmtpTransport::builder_dangerous(host),
        SmtpTls::StartTls => {
            SmtpTransport::starttls_relay(host).map_err(|e| format!("STARTTLS to {host}: {e}"))?
        }
        SmtpTls::Tls => SmtpTransport::relay(host).map_err(|e| format!("TLS to {host}: {e}"))?,
    };
    let mut builder = builder.port(port).timeout(Some(SEND_TIMEOUT));
    if let Some(user) = &settings.user {
        let password = password.ok_or_else(|| {
            format!("[notify] names the user `{user}`, and {SMTP_PASSWORD_ENV} holds no password for it")
        })?;
        let password = String::from_utf8_lossy(password.expose()).into_owned();
        builder = builder.credentials(Credentials::new(user.clone(), password));
    }
    Ok(builder.build())
}

/// Posts the run's JSON document to `url`. Only the URL's scheme and host are ever shown: hooks often carry
/// their secret in the path.
fn post(report: &Report, url: &str, shown: &str) -> Result<String, String> {
    let body = serde_json::to_vec(report).map_err(|e| format!("cannot write the run as JSON: {e}"))?;
    let agent: ureq::Agent = ureq::Agent::config_builder().timeout_global(Some(SEND_TIMEOUT)).build().into();
    match agent.post(url).header("content-type", "application/json").send(&body[..]) {
        Ok(_) => Ok(format!("posted the run to {shown}")),
        Err(ureq::Error::StatusCode(code)) => Err(format!("{shown} answered with HTTP status {code}")),
        Err(e) => Err(format!("cannot post to {shown}: {}", scrub(&e.to_string(), url, shown))),
    }
}

/// `scheme://host/…` of `url`, without its path, query or credentials; `None` unless it is http(s).
fn shown_url(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    if !matches!(scheme, "http" | "https") {
        return None;
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = authority.rsplit_once('@').map_or(authority, |(_, host)| host);
    if host.is_empty() {
        return None;
    }
    Some(format!("{scheme}://{host}/…"))
}

/// `text` with the full URL replaced by its shown form, in case an error quotes it.
fn scrub(text: &str, url: &str, shown: &str) -> String {
    text.replace(url, shown)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_shown_without_their_secrets() {
        let check =
            |url: &str, expected: Option<&str>| assert_eq!(shown_url(url).as_deref(), expected, "{url}");
        check("https://hooks.example.org/services/T000/B000/XXXX", Some("https://hooks.example.org/…"));
        check("http://user:secret@127.0.0.1:8080/hook?token=abc", Some("http://127.0.0.1:8080/…"));
        check("ftp://example.org/x", None);
        check("hooks.example.org/x", None);
        check("https:///x", None);
    }

    #[test]
    fn html_escapes_what_hosts_wrote() {
        assert_eq!(
            escape("<script>\"x\" & 'y'</script>\u{1b}[2J"),
            "&lt;script&gt;&quot;x&quot; &amp; 'y'&lt;/script&gt;·[2J"
        );
    }
}
