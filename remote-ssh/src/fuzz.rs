//! Property tests of the `known_hosts` reader, which reads files that people edit and other programs write:
//! files with text spliced in, cut out or duplicated never panic and place every entry and warning on a line
//! of theirs, and the line accept-new writes reads back as the entry it records, found again for the host it
//! was written for.

use std::path::PathBuf;

use proptest::prelude::*;

use crate::known_hosts::{self, Hosts, Parsed, Verdict};

pub(crate) use remote_fuzz::config;

/// Keys of every type the files hold, from the known_hosts tests: `type base64`.
const KEYS: &[&str] = &[
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIG3b5uZ+288mJD1qxtAkV4bsPuCO48BkEN/sxFjiKAl2",
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIH3STyJ+Gme/B5FK2H7bbeWeuX/9jY80dg+5GosN5nss",
    concat!(
        "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBKUUCNkPyW50G8ahEnTJgd+DSR3wW16K",
        "aR3P//Vws2bZUjBEbaY94dJExgMVDXRk2w+LxlYprC/AHyANEK2zRsQ=",
    ),
    concat!(
        "ecdsa-sha2-nistp384 AAAAE2VjZHNhLXNoYTItbmlzdHAzODQAAAAIbmlzdHAzODQAAABhBIgRCD3HdafCcNjRZiXphl0MKS0PX8WB",
        "2S3/vJeCkPMADfmoc4O0Q4U7sQsFt7CKopuQUI5kppcRgPfBFQsyN5b/XPNVJL8iSy94pVFt9I6RYhjX+olrLgee54mg/75rbw==",
    ),
    concat!(
        "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQDMhq/9ceY1o+pera3VUxFbanp7dmO+RtxHDCGYM2w1GgMwHBRrFwJXyX9dY3v7/Ecl9NaR",
        "q1bqlyl/TmaNZNgSKohzN+jXcXsD4UmY68HSy9e41AwDmvpU74wk4J1w10uLumoFMqMET0SUJBuL1jDcmYRtMHohsz+VkZeQm6iaVQ==",
    ),
    concat!(
        "ssh-ed25519-cert-v01@openssh.com AAAAIHNzaC1lZDI1NTE5LWNlcnQtdjAxQG9wZW5zc2guY29tAAAAIJ/NOwQ0no3dbHmvn2LXBLx6",
        "5sqp0+mVGTzrWkS6fpflAAAAIG3b5uZ+288mJD1qxtAkV4bsPuCO48BkEN/sxFjiKAl2AAAAAAAAAAAAAAACAAAABmVkY2VydAAAABAAAAAM",
        "aG9zdC5leGFtcGxlAAAAAAAAAAD//////////wAAAAAAAAAAAAAAAAAAADMAAAALc3NoLWVkMjU1MTkAAAAgfdJPIn4aZ78HkUrYfttt5Z65",
        "f/2NjzR2D7kaiw3meywAAABTAAAAC3NzaC1lZDI1NTE5AAAAQKpK4Q7afVAmmnSYNXyUak2nPM8/0/Pb2zLl6GY197zd38w56ynWazck9wZ1",
        "9u+YKisqN6bYSUnYdituxsafRw4=",
    ),
];

/// A file with a line of every kind: comments, patterns, ports, a hashed name (`ssh-keygen -H`), both
/// markers, a certificate, a key of a type OpenSSH does not know and a CRLF line end.
fn samples() -> Vec<String> {
    vec![format!(
        "# written by hand\n\nhost.example,10.0.0.1 {ed}\n[host.example]:2222 {rsa} a comment with words\n\
         |1|/LykXRZGlSZIQwvUolkaakwbtFw=|3fpycj33gPT8UH+nuTq9I/UHpJQ= {p256}\n@cert-authority *.example {ca}\n\
         @revoked bad.example {p384}\n*.example.org,!bastion.example.org\t{p384}\r\ncert.example {cert}\n\
         odd foo@example.com AAAAD2Zvb0BleGFtcGxlLmNvbQAAAAF4\n",
        ed = KEYS[0],
        ca = KEYS[1],
        p256 = KEYS[2],
        p384 = KEYS[3],
        rsa = KEYS[4],
        cert = KEYS[5],
    )]
}

/// What the format gives a meaning to.
const SPECIAL: &[&str] = &[
    " ",
    "\t",
    "\n",
    "\r",
    "\0",
    "#",
    ",",
    "!",
    "*",
    "?",
    "[",
    "]",
    ":",
    "|",
    "|1|",
    "|2|",
    "@",
    "@revoked ",
    "@cert-authority ",
    "=",
    "==",
    "A",
    "AAAA",
    "+",
    "/",
    "ssh-rsa ",
    "ssh-ed25519 ",
    "rsa-sha2-256 ",
    "\u{feff}",
];

/// A sample with one to five edits: noise or [`SPECIAL`] pieces inserted, lines spliced in, stretches and lines
/// cut out or duplicated.
fn spliced() -> impl Strategy<Value = String> {
    remote_fuzz::spliced(samples(), SPECIAL)
}

/// A key of [`KEYS`].
fn key(index: usize) -> russh::keys::ssh_key::PublicKey {
    known_hosts::parse(&format!("h {}", KEYS[index])).entries.remove(0).key
}

/// Parses `text` and checks that entries and warnings are on distinct lines of it, in order, and that looking
/// hosts up in it names only those lines.
fn check(text: &str) -> Result<(), TestCaseError> {
    let parsed = known_hosts::parse(text);
    let lines = text.split('\n').count();
    let mut taken: Vec<usize> =
        parsed.entries.iter().map(|e| e.line).chain(parsed.warnings.iter().map(|w| w.line)).collect();
    prop_assert!(parsed.entries.windows(2).all(|w| w[0].line < w[1].line), "{text:?}");
    prop_assert!(parsed.warnings.windows(2).all(|w| w[0].line < w[1].line), "{text:?}");
    taken.sort_unstable();
    taken.dedup();
    prop_assert_eq!(
        taken.len(),
        parsed.entries.len() + parsed.warnings.len(),
        "two results on one line of {:?}",
        text
    );
    prop_assert!(taken.iter().all(|line| (1..=lines).contains(line)), "{taken:?} of {lines} lines: {text:?}");
    let files = [(PathBuf::from("known_hosts"), parsed)];
    for host in
        ["host.example", "10.0.0.1", "x.example", "bastion.example.org", "cert.example", "127.0.5.1", "odd"]
    {
        let _ = known_hosts::recorded_algorithms(&files, host);
        for (port, index) in [(22, 0), (2222, 4), (22, 2)] {
            let line = match known_hosts::check(&files, host, port, &key(index)) {
                Verdict::Known { line, .. }
                | Verdict::Revoked { line, .. }
                | Verdict::Changed { line, .. }
                | Verdict::OtherTypes { line, .. }
                | Verdict::CertAuthorityOnly { line, .. } => line,
                Verdict::Unknown => continue,
            };
            prop_assert!(
                files[0].1.entries.iter().any(|entry| entry.line == line),
                "line {line} is no entry of {text:?}"
            );
        }
    }
    let _ = known_hosts::is_hashed(&files[0].1);
    Ok(())
}

#[test]
fn the_sample_reads_with_the_warning_it_should_have() {
    let parsed = known_hosts::parse(&samples()[0]);
    // Every line with a key is an entry but the one whose key type OpenSSH does not know.
    assert_eq!(parsed.entries.len(), 7, "{parsed:?}");
    assert_eq!(parsed.warnings.iter().map(|w| w.line).collect::<Vec<_>>(), [10]);
}

/// A host name accept-new would record (OpenSSH refuses to write some).
fn recordable() -> impl Strategy<Value = String> {
    prop_oneof!["[a-zA-Z0-9.:_-]{1,30}", "\\PC{1,12}"]
        .prop_filter("a name OpenSSH would record", |h| known_hosts::is_recordable(h))
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn spliced_files_place_every_line_on_a_line_of_theirs(text in spliced()) {
        check(&text)?;
    }

    #[test]
    fn any_text_places_every_line_on_a_line_of_its(
        text in prop_oneof![
            "\\PC{0,200}",
            prop::collection::vec(any::<u8>(), 0..200).prop_map(|b| String::from_utf8_lossy(&b).into_owned()),
        ]
    ) {
        check(&text)?;
    }

    /// The line accept-new appends, plain or hashed, reads back as one entry with the key, which the host it
    /// was written for is then known by.
    #[test]
    fn a_recorded_line_reads_back_and_knows_its_host(
        host in recordable(),
        port in prop_oneof![Just(22u16), any::<u16>()],
        index in 0..KEYS.len(),
        hashed in any::<bool>(),
    ) {
        let key = key(index);
        let name = known_hosts::lookup_name(&host, port);
        let line = known_hosts::entry_line(&name, &key, hashed).map_err(|e| TestCaseError::fail(format!("{name:?}: {e}")))?;
        let parsed = known_hosts::parse(&format!("{line}\n"));
        prop_assert_eq!(&parsed.warnings, &vec![], "{:?}", line);
        prop_assert_eq!(parsed.entries.len(), 1, "{:?}", line);
        let entry = &parsed.entries[0];
        prop_assert_eq!((entry.line, entry.marker), (1, None));
        prop_assert_eq!(entry.key.key_data(), key.key_data());
        match &entry.hosts {
            Hosts::Patterns(list) => prop_assert!(!hashed && *list == name.to_ascii_lowercase(), "{:?}", line),
            Hosts::Hashed { .. } => prop_assert!(hashed, "{:?}", line),
        }
        prop_assert!(known_hosts::matches(&entry.hosts, &name), "{:?} does not match {:?}", line, name);
        let files: [(PathBuf, Parsed); 1] = [(PathBuf::from("known_hosts"), parsed)];
        let verdict = known_hosts::check(&files, &host, port, &key);
        prop_assert_eq!(verdict, Verdict::Known { file: PathBuf::from("known_hosts"), line: 1 }, "{:?}", line);
    }
}
