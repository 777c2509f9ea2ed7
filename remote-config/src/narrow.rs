//! `--limit SET` and `--exclude SET`: an inventory cut down to the hosts a person names with node sets
//! (`web-[01-40]`, `db-[1,3,5-7]`) and groups (`@canary`).
//!
//! A name that matches no host of the inventory is refused rather than ignored: `--exclude web-3` where the
//! host is `web-03` would otherwise run on the very host the user meant to spare.

use std::collections::HashSet;

use remote_core::{did_you_mean, nodeset};

use crate::inventory::{HostSpec, Inventory};

/// Why `--limit` or `--exclude` cannot narrow the inventory.
#[derive(Debug, thiserror::Error)]
pub enum NarrowError {
    /// The set is not a node set.
    #[error("--{option}: {source}")]
    Syntax {
        option: &'static str,
        #[source]
        source: nodeset::NodeSetError,
    },
    /// `@name` names no group.
    #[error("--{option}: there is no group `{group}` in {inventory}{hint}")]
    UnknownGroup { option: &'static str, group: String, inventory: String, hint: String },
    /// Names that are no host of the inventory.
    #[error("--{option}: {names} {verb} of {inventory}{hint}; `remote hosts GROUP` lists a group's hosts")]
    UnknownHosts { option: &'static str, names: String, verb: &'static str, inventory: String, hint: String },
}

/// A host set as `--limit` and `--exclude` take it: comma-separated node sets and `@group`s.
#[derive(Debug)]
struct HostSet {
    names: HashSet<String>,
}

impl HostSet {
    fn parse(option: &'static str, text: &str, inventory: &Inventory) -> Result<Self, NarrowError> {
        let expanded = nodeset::expand(text).map_err(|source| NarrowError::Syntax { option, source })?;
        let mut names = HashSet::new();
        let mut unknown = Vec::new();
        let known = known_names(inventory);
        for name in expanded {
            if let Some(group) = name.strip_prefix('@') {
                let found = inventory.group(group).map_err(|_| NarrowError::UnknownGroup {
                    option,
                    group: group.to_string(),
                    inventory: inventory.path().display().to_string(),
                    hint: did_you_mean(group, inventory.groups().map(|g| g.name.as_str()))
                        .map(|known| format!("; did you mean `@{known}`?"))
                        .unwrap_or_default(),
                })?;
                names.extend(found.hosts.iter().map(|h| h.name.clone()));
            } else if known.contains(name.as_str()) {
                names.insert(name);
            } else {
                unknown.push(name);
            }
        }
        if !unknown.is_empty() {
            let hint = match unknown.as_slice() {
                [one] => did_you_mean(one, known.iter().copied())
                    .map(|known| format!("; did you mean `{known}`?"))
                    .unwrap_or_default(),
                _ => String::new(),
            };
            return Err(NarrowError::UnknownHosts {
                option,
                verb: if unknown.len() == 1 { "is not a host" } else { "are not hosts" },
                names: nodeset::fold(&unknown),
                inventory: inventory.path().display().to_string(),
                hint,
            });
        }
        Ok(Self { names })
    }

    fn contains(&self, host: &HostSpec) -> bool {
        self.names.contains(&host.name) || self.names.contains(nodeset::host_part(&host.name))
    }
}

/// Every name a host answers to in a set: as written in the inventory, and without its `user@` and `:port`.
fn known_names(inventory: &Inventory) -> HashSet<&str> {
    inventory
        .groups()
        .flat_map(|g| g.hosts.iter())
        .flat_map(|h| [h.name.as_str(), nodeset::host_part(&h.name)])
        .collect()
}

impl Inventory {
    /// Every group cut to the hosts `limit` names, less those `exclude` names; a host is named by its
    /// inventory entry or by its host name alone. Inventory order is kept.
    pub fn narrow(mut self, limit: Option<&str>, exclude: Option<&str>) -> Result<Self, NarrowError> {
        let limit = limit.map(|text| HostSet::parse("limit", text, &self)).transpose()?;
        let exclude = exclude.map(|text| HostSet::parse("exclude", text, &self)).transpose()?;
        for group in self.groups_mut() {
            group.hosts.retain(|host| {
                limit.as_ref().is_none_or(|set| set.contains(host))
                    && !exclude.as_ref().is_some_and(|set| set.contains(host))
            });
        }
        Ok(self)
    }
}

impl Inventory {
    /// The inventory with group `name` made of the hosts called `names` (found in its groups, in that
    /// order), unless it has a group of that name already: a group the user wrote wins. Names that are no
    /// host any more are left out.
    pub fn with_group_of(mut self, name: &str, names: &[String]) -> Self {
        if self.group(name).is_ok() {
            return self;
        }
        let specs: std::collections::HashMap<&str, &HostSpec> =
            self.groups().flat_map(|g| g.hosts.iter()).map(|h| (h.name.as_str(), h)).collect();
        let hosts: Vec<HostSpec> =
            names.iter().filter_map(|n| specs.get(n.as_str()).map(|h| (*h).clone())).collect();
        self.insert_group(remote_core::Group { name: name.to_string(), hosts });
        self
    }

    /// Every group cut to the hosts called `names` (`--hosts-from`), in inventory order.
    pub fn keep_named(mut self, names: &[String]) -> Self {
        let names: HashSet<&str> = names.iter().map(String::as_str).collect();
        for group in self.groups_mut() {
            group.hosts.retain(|host| names.contains(host.name.as_str()));
        }
        self
    }

    /// Group `group` cut to `hosts` (a batch of a rolling run); the other groups as they are.
    pub fn only(mut self, group: &str, hosts: &[HostSpec]) -> Self {
        let names: HashSet<&str> = hosts.iter().map(|h| h.name.as_str()).collect();
        if let Some(group) = self.groups_mut().find(|g| g.name == group) {
            group.hosts.retain(|host| names.contains(host.name.as_str()));
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const INVENTORY: &str = r#"
[groups.web]
hosts = ["web-[01-05]", "deploy@web-06:2222"]
[groups.canary]
hosts = ["web-02", "web-04", "db-1"]
[groups.db]
hosts = ["db-[1-3]", "[::1]:2222"]
"#;

    fn narrowed(limit: Option<&str>, exclude: Option<&str>) -> Result<Inventory, String> {
        Inventory::parse_with_ssh_config(INVENTORY, std::path::Path::new("remote.toml"), None)
            .unwrap()
            .narrow(limit, exclude)
            .map_err(|e| e.to_string())
    }

    fn check(limit: Option<&str>, exclude: Option<&str>, group: &str, expected: &str) {
        let inventory = narrowed(limit, exclude).unwrap();
        let names: Vec<&str> =
            inventory.group(group).unwrap().hosts.iter().map(|h| h.name.as_str()).collect();
        assert_eq!(names.join(" "), expected, "--limit {limit:?} --exclude {exclude:?} on {group}");
    }

    fn check_error(limit: Option<&str>, exclude: Option<&str>, expected: &str) {
        assert_eq!(narrowed(limit, exclude).unwrap_err(), expected);
    }

    #[test]
    fn limits_and_exclusions_expand_exactly() {
        check(None, None, "web", "web-01 web-02 web-03 web-04 web-05 deploy@web-06:2222");
        check(Some("web-[01-03]"), None, "web", "web-01 web-02 web-03");
        check(None, Some("web-[03]"), "web", "web-01 web-02 web-04 web-05 deploy@web-06:2222");
        check(Some("web-[02-06]"), Some("web-04,web-05"), "web", "web-02 web-03 deploy@web-06:2222");
        check(Some("@canary"), None, "web", "web-02 web-04");
        check(None, Some("@canary"), "web", "web-01 web-03 web-05 deploy@web-06:2222");
        check(Some("@canary"), None, "db", "db-1");
        check(Some("web-06"), None, "web", "deploy@web-06:2222");
        check(Some("deploy@web-06:2222"), None, "web", "deploy@web-06:2222");
        check(Some("::1"), None, "db", "[::1]:2222");
        check(Some("web-01"), None, "db", "");
        check(Some(" web-01 , web-02 "), None, "web", "web-01 web-02");
    }

    #[test]
    fn names_that_match_no_host_are_refused_with_a_suggestion() {
        check_error(
            None,
            Some("web-3"),
            "--exclude: web-3 is not a host of remote.toml; did you mean `web-03`?; `remote hosts GROUP` lists a group's hosts",
        );
        check_error(
            Some("web-[05-09]"),
            None,
            "--limit: web-[07-09] are not hosts of remote.toml; `remote hosts GROUP` lists a group's hosts",
        );
        check_error(
            Some("@canery"),
            None,
            "--limit: there is no group `canery` in remote.toml; did you mean `@canary`?",
        );
        check_error(
            Some("web-[1-"),
            None,
            "--limit: `web-[1-`: the `[` at column 5 is never closed; write ranges as web-[01-40]",
        );
    }
}
