//! `--shard K/N`: a stable, disjoint 1/N of a group's hosts, so a CI system's matrix of runners covers a
//! fleet too big for one runner, each host exactly once.
//!
//! A shard is chosen by host name, not by position in the inventory: the hosts are ordered by name and dealt
//! out in turn, the first to shard 1, the second to shard 2, and so on. Shards are therefore disjoint and
//! cover the group whatever order the inventory lists it in, and their sizes differ by at most one host.

use std::fmt;
use std::str::FromStr;

use crate::inventory::{HostSpec, Inventory};

/// Shard `index` of `count` (both counted from 1, as CI matrices write them).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Shard {
    /// Which shard, 1 to `count`.
    pub index: usize,
    /// How many shards the group is spread over.
    pub count: usize,
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// Most shards a group is split into: more runners than any CI matrix has (GitHub Actions allows 256 jobs). A
/// merge lists every shard without a report, so a report naming `1/18446744073709551615` must not be taken.
pub const MAX_SHARDS: usize = 10_000;

/// Text that is not `K/N` with 1 ≤ K ≤ N ≤ [`MAX_SHARDS`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("`{text}` is not a shard; write K/N with 1 ≤ K ≤ N ≤ 10000, e.g. 2/3 for the second of three")]
pub struct ShardError {
    /// The text given.
    pub text: String,
}

impl FromStr for Shard {
    type Err = ShardError;

    fn from_str(text: &str) -> Result<Self, ShardError> {
        let usage = || ShardError { text: text.to_string() };
        let (index, count) = text.trim().split_once('/').ok_or_else(usage)?;
        let index: usize = index.trim().parse().map_err(|_| usage())?;
        let count: usize = count.trim().parse().map_err(|_| usage())?;
        if count == 0 || index == 0 || index > count || count > MAX_SHARDS {
            return Err(usage());
        }
        Ok(Shard { index, count })
    }
}

impl Shard {
    /// The hosts of `hosts` in this shard, in their given order.
    pub fn of(self, hosts: &[HostSpec]) -> Vec<HostSpec> {
        let mut by_name: Vec<usize> = (0..hosts.len()).collect();
        // Ties (a name listed twice) keep inventory order; both entries are the same host anyway.
        by_name.sort_by(|&a, &b| hosts[a].name.cmp(&hosts[b].name));
        let mut kept = vec![false; hosts.len()];
        for (rank, &position) in by_name.iter().enumerate() {
            kept[position] = rank % self.count == self.index - 1;
        }
        hosts.iter().zip(kept).filter(|(_, keep)| *keep).map(|(host, _)| host.clone()).collect()
    }
}

impl Inventory {
    /// The inventory with every group cut down to its shard `shard`; jump hosts are untouched.
    pub fn shard(mut self, shard: Shard) -> Self {
        for group in self.groups_mut() {
            group.hosts = shard.of(&group.hosts);
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hosts(names: &[&str]) -> Vec<HostSpec> {
        let text = format!(
            "[groups.web]\nhosts = [{}]\n",
            names.iter().map(|name| format!("\"{name}\"")).collect::<Vec<_>>().join(", ")
        );
        Inventory::parse_with_ssh_config(&text, std::path::Path::new("remote.toml"), None)
            .expect("inventory")
            .group("web")
            .unwrap()
            .hosts
            .clone()
    }

    fn check(names: &[&str], shard: &str, expected: &[&str]) {
        let shard: Shard = shard.parse().unwrap();
        let kept: Vec<String> = shard.of(&hosts(names)).into_iter().map(|h| h.name).collect();
        assert_eq!(kept, expected, "{shard} of {names:?}");
    }

    #[test]
    fn shards_deal_hosts_out_by_name_and_keep_inventory_order() {
        check(&["c", "a", "b"], "1/3", &["a"]);
        check(&["c", "a", "b"], "2/3", &["b"]);
        check(&["c", "a", "b"], "3/3", &["c"]);
        check(&["d", "c", "b", "a", "e"], "1/2", &["c", "a", "e"]);
        check(&["d", "c", "b", "a", "e"], "2/2", &["d", "b"]);
        check(&["a", "b"], "3/3", &[]);
        check(&["a", "b"], "1/1", &["a", "b"]);
    }

    #[test]
    fn shards_cover_a_group_exactly_once_whatever_its_order() {
        let names: Vec<String> = (0..23).map(|n| format!("web-{n}.example.org")).collect();
        let mut reversed = names.clone();
        reversed.reverse();
        for count in 1..=7 {
            let mut seen: Vec<String> = Vec::new();
            for index in 1..=count {
                let shard = Shard { index, count };
                let forward: Vec<String> = shard
                    .of(&hosts(&names.iter().map(String::as_str).collect::<Vec<_>>()))
                    .into_iter()
                    .map(|h| h.name)
                    .collect();
                let mut backward: Vec<String> = shard
                    .of(&hosts(&reversed.iter().map(String::as_str).collect::<Vec<_>>()))
                    .into_iter()
                    .map(|h| h.name)
                    .collect();
                backward.reverse();
                assert_eq!(forward, backward, "shard {shard} depends on inventory order");
                assert!(
                    forward.len().abs_diff(names.len() / count) <= 1,
                    "shard {shard} is unbalanced: {forward:?}"
                );
                seen.extend(forward);
            }
            seen.sort();
            let mut all = names.clone();
            all.sort();
            assert_eq!(seen, all, "{count} shards");
        }
    }

    #[test]
    fn shard_syntax() {
        let check = |text: &str, expected: Result<(usize, usize), ()>| {
            let parsed = text.parse::<Shard>().map(|s| (s.index, s.count)).map_err(|_| ());
            assert_eq!(parsed, expected, "{text}");
        };
        check("1/3", Ok((1, 3)));
        check(" 3/3 ", Ok((3, 3)));
        check("1/1", Ok((1, 1)));
        check("0/3", Err(()));
        check("4/3", Err(()));
        check("1/0", Err(()));
        check("3", Err(()));
        check("a/b", Err(()));
        check("-1/3", Err(()));
        check("10000/10000", Ok((10000, 10000)));
        // A merge lists every shard without a report: a split that large would exhaust memory (property
        // tests).
        check("1/10001", Err(()));
        check("1/18446744073709551615", Err(()));
        assert_eq!(
            "4/3".parse::<Shard>().unwrap_err().to_string(),
            "`4/3` is not a shard; write K/N with 1 ≤ K ≤ N ≤ 10000, e.g. 2/3 for the second of three"
        );
    }
}
