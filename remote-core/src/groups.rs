//! Hosts whose outcome is identical, found once per run: the summary shows each distinct output once under
//! its host set, and `--json` lists the sets for tools.
//!
//! Identity is everything a person would compare: success, the reason of a failure, exit status and signal,
//! stdout, stderr, whether the output was cut and whether the host was changed. Outputs are hashed once and
//! compared byte for byte only against the first host of a group with the same digest, so a run of 1,000
//! hosts costs one pass over what they printed.

use std::collections::HashMap;

use crate::report::{HostResult, Report};

/// Hosts of a run with the same outcome.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutputGroup {
    /// Positions of the hosts in the report's results, in inventory order.
    pub members: Vec<usize>,
    /// Whether these hosts succeeded.
    pub ok: bool,
    /// A digest of what they share (64-bit FNV-1a, the same in every process and release), for tools that
    /// compare runs.
    pub digest: u64,
}

impl OutputGroup {
    /// The digest as `--json` writes it: 16 hexadecimal digits.
    pub fn digest_hex(&self) -> String {
        format!("{:016x}", self.digest)
    }
}

impl Report {
    /// The hosts grouped by identical outcome: failures first, then the biggest group, groups of the same
    /// size in the order of their first host.
    pub fn groups(&self) -> Vec<OutputGroup> {
        let errors: Vec<Option<String>> = self.results.iter().map(HostResult::error_text).collect();
        let mut groups: Vec<OutputGroup> = Vec::new();
        let mut by_digest: HashMap<u64, Vec<usize>> = HashMap::new();
        for (at, result) in self.results.iter().enumerate() {
            let digest = digest(result, errors[at].as_deref());
            let candidates = by_digest.entry(digest).or_default();
            let found = candidates.iter().copied().find(|&g| {
                let first = groups[g].members[0];
                same(&self.results[first], errors[first].as_deref(), result, errors[at].as_deref())
            });
            match found {
                Some(g) => groups[g].members.push(at),
                None => {
                    candidates.push(groups.len());
                    groups.push(OutputGroup { members: vec![at], ok: result.ok(), digest });
                }
            }
        }
        groups.sort_by_key(|g| (g.ok, std::cmp::Reverse(g.members.len()), g.members[0]));
        groups
    }
}

/// Whether two hosts' outcomes are the same, as [`digest`] sees them.
fn same(a: &HostResult, a_error: Option<&str>, b: &HostResult, b_error: Option<&str>) -> bool {
    a.ok() == b.ok()
        && a_error == b_error
        && match (a.output(), b.output()) {
            (Some(a), Some(b)) => {
                a.exit == b.exit
                    && a.signal == b.signal
                    && a.truncated == b.truncated
                    && a.changed == b.changed
                    && a.stdout == b.stdout
                    && a.stderr == b.stderr
            }
            (None, None) => true,
            _ => false,
        }
}

/// The digest of a host's outcome: every field [`same`] compares, each with its length so that no two
/// different outcomes are one stream of bytes.
fn digest(result: &HostResult, error: Option<&str>) -> u64 {
    let mut hash = Fnv::default();
    hash.field(&[u8::from(result.ok())]);
    hash.field(error.unwrap_or_default().as_bytes());
    if let Some(output) = result.output() {
        hash.field(&output.exit.map_or(u64::MAX, u64::from).to_le_bytes());
        hash.field(output.signal.as_deref().unwrap_or_default().as_bytes());
        hash.field(&[u8::from(output.truncated), output.changed.map_or(2, u8::from)]);
        hash.field(&output.stdout);
        hash.field(&output.stderr);
    }
    hash.0
}

/// 64-bit FNV-1a: no dependency, stable across processes (std's hasher is seeded per process), and fast
/// enough that hashing what 1,000 hosts printed is a few milliseconds.
struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Self {
        Self(0xcbf2_9ce4_8422_2325)
    }
}

impl Fnv {
    fn write(&mut self, bytes: &[u8]) {
        for byte in bytes {
            self.0 = (self.0 ^ u64::from(*byte)).wrapping_mul(0x0000_0100_0000_01b3);
        }
    }

    fn field(&mut self, bytes: &[u8]) {
        self.write(&(bytes.len() as u64).to_le_bytes());
        self.write(bytes);
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::report::{HostError, Output};

    fn ok(host: &str, stdout: &str) -> HostResult {
        let output = Output { exit: Some(0), stdout: stdout.as_bytes().to_vec(), ..Output::default() };
        HostResult { host: host.into(), outcome: Ok(output), elapsed: Duration::ZERO }
    }

    fn exited(host: &str, code: u32, stderr: &str) -> HostResult {
        let output = Output { exit: Some(code), stderr: stderr.as_bytes().to_vec(), ..Output::default() };
        HostResult { host: host.into(), outcome: Ok(output), elapsed: Duration::ZERO }
    }

    fn refused(host: &str) -> HostResult {
        HostResult {
            host: host.into(),
            outcome: Err(HostError::ConnectRefused { port: 22 }),
            elapsed: Duration::ZERO,
        }
    }

    /// The groups as `hosts:ok` strings, in their order.
    fn check(results: Vec<HostResult>, expected: &[&str]) {
        let report = Report { label: "x".into(), group: "g".into(), results, elapsed: Duration::ZERO };
        let got: Vec<String> = report
            .groups()
            .iter()
            .map(|g| {
                let hosts: Vec<&str> = g.members.iter().map(|&m| report.results[m].host.as_str()).collect();
                format!("{}:{}", hosts.join(","), if g.ok { "ok" } else { "failed" })
            })
            .collect();
        assert_eq!(got, expected);
    }

    #[test]
    fn identical_outcomes_are_one_group_failures_first_then_the_biggest() {
        check(vec![], &[]);
        check(vec![ok("a", "x\n"), ok("b", "x\n"), ok("c", "x\n")], &["a,b,c:ok"]);
        check(vec![ok("a", "x\n"), ok("b", "y\n"), ok("c", "y\n")], &["b,c:ok", "a:ok"]);
        check(vec![ok("a", "x\n"), ok("b", "y\n"), ok("c", "z\n")], &["a:ok", "b:ok", "c:ok"]);
        check(
            vec![ok("a", "x\n"), refused("b"), exited("c", 2, "no\n"), refused("d"), ok("e", "x\n")],
            &["b,d:failed", "c:failed", "a,e:ok"],
        );
        check(vec![exited("a", 2, "no\n"), exited("b", 3, "no\n")], &["a:failed", "b:failed"]);
        check(vec![exited("a", 2, "no\n"), exited("b", 2, "no!\n")], &["a:failed", "b:failed"]);
        // The same bytes on the other stream are another output.
        check(vec![ok("a", "x\n"), exited("b", 0, "x\n")], &["a:ok", "b:ok"]);
    }

    #[test]
    fn digests_are_stable_and_tell_outputs_apart() {
        let report = Report {
            label: "x".into(),
            group: "g".into(),
            results: vec![ok("a", "x\n"), ok("b", "x\n"), ok("c", "")],
            elapsed: Duration::ZERO,
        };
        let groups = report.groups();
        assert_eq!(groups.len(), 2);
        assert_ne!(groups[0].digest, groups[1].digest);
        // Pinned: tools may keep digests across runs and releases.
        assert_eq!(groups[0].digest_hex(), "e6e8249bf00f1ea7");
    }
}
