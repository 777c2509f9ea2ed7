//! Property tests of the parsers that read text a person wrote (the inventory, `--shard`): recorded samples
//! with text spliced in, cut out or duplicated never panic, and every error that names a line names one of
//! the input's. The splicing is shared with the property tests of ssh_config (`ssh_config/fuzz.rs`).

use std::path::Path;

use proptest::prelude::*;
use proptest::sample::Index;

pub(crate) use remote_fuzz::{any_text, config, line_of, number_after, owned, spliced};

mod inventory {
    use super::*;
    use crate::inventory::{Inventory, InventoryError};

    /// Inventories as the README and the inventory's tests write them. None names a real ssh_config: a
    /// relative file is looked for beside [`PATH`], where there is none.
    const SAMPLES: &[&str] = &[
        r#"
[defaults]
user = "deploy"
key = "keys/id"
port = 2200

[groups.web]
hosts = ["10.0.0.1", "10.0.0.2:22", "admin@[::1]:2222", "::1"]
host_key_checking = "accept-new"
known_hosts = "/tmp/kh"
"#,
        "[defaults]\nbecome = true\nglobal_known_hosts = [\"/etc/ssh/ssh_known_hosts\"]\n[groups.a]\nhosts = [\"h\"]\n\
         [groups.b]\nhosts = [\"h\", \"ops@db-1.example.org:2222\"]\nbecome = false\n[groups.c]\nhosts = [\"h\"]\n\
         ssh_config = \"none\"\n",
        r#"# The sandbox, and where the email step sends its summary.
[groups.sandbox]
hosts = ["127.0.0.1:2201", "127.0.0.1:2202"]
user = "remote"
key = "~/.cache/remote/sandbox/id_ed25519"
host_key_checking = "off"
ssh_config = "cfg"
system_ssh_config = "none"

[notify]
smtp = "mail.example.org:587"
from = "remote@example.org"
user = "remote"
to = ["ops@example.org", "oncall@example.org"]

[webhooks]
chat = "https://hooks.example.org/T000/B000/XXXX"
"#,
        "[groups.local]\nhosts = [\"localhost\"]\n[notify]\nsmtp = \"127.0.0.1:2525\"\nfrom = \"r@localhost\"\ntls = \"none\"\n",
    ];

    /// What TOML, the host entries and the settings give a meaning to.
    const SPECIAL: &[&str] = &[
        "[",
        "]",
        "[[",
        "]]",
        "{",
        "}",
        "\"",
        "'",
        "'''",
        "\"\"\"",
        "\\",
        "\\u00e9",
        "=",
        ",",
        ".",
        "#",
        "\n",
        "\r\n",
        "\t",
        "@",
        ":",
        ":0",
        ":65536",
        "[::1]",
        "groups",
        "[groups.x]",
        "hosts = []",
        "port = 0",
        "port = -1",
        "user = \"\"",
        "become = \"yes\"",
        "tls = \"ssl\"",
        "é",
        "\u{feff}",
        "\u{0}",
    ];

    /// Where the samples claim to come from: no file beside it exists.
    const PATH: &str = "/nonexistent/remote.toml";

    fn parse(text: &str) -> Result<Inventory, InventoryError> {
        Inventory::parse_with_ssh_config(text, Path::new(PATH), None)
    }

    /// Checks that an error names a line of `text` and a column of that line (up to just after its last
    /// character).
    fn check(text: &str) -> Result<(), TestCaseError> {
        match parse(text) {
            Ok(inventory) => {
                for group in inventory.groups() {
                    prop_assert!(!group.hosts.is_empty(), "group {} of {text:?}", group.name);
                    prop_assert!(
                        group.hosts.iter().all(|host| host.port != 0),
                        "group {} of {text:?}",
                        group.name
                    );
                }
            }
            Err(
                InventoryError::Syntax { line, column, .. } | InventoryError::Invalid { line, column, .. },
            ) => {
                prop_assert!(line_of(text, line), "line {line} of {text:?}");
                let length = text.split('\n').nth(line - 1).map_or(0, |l| l.chars().count());
                prop_assert!(
                    (1..=length + 1).contains(&column),
                    "column {column} of line {line} of {text:?}"
                );
            }
            Err(_) => {}
        }
        Ok(())
    }

    #[test]
    fn the_samples_parse() {
        for sample in SAMPLES {
            assert!(parse(sample).is_ok(), "{sample}: {:?}", parse(sample).err());
        }
    }

    proptest! {
        #![proptest_config(config(256))]

        #[test]
        fn spliced_inventories_are_read_or_refused_at_a_line_of_theirs(text in spliced(owned(SAMPLES), SPECIAL)) {
            check(&text)?;
        }

        #[test]
        fn any_text_is_read_or_refused_at_a_line_of_its(text in any_text()) {
            check(&text)?;
        }
    }

    proptest! {
        #![proptest_config(config(64))]

        /// A file is read as bytes: one that is not UTF-8 is refused at the line and byte column of its first
        /// bad byte.
        #[test]
        fn a_file_that_is_not_utf8_is_refused_where_it_stops_being(
            sample in prop::sample::select(SAMPLES),
            at in any::<Index>(),
            bad in prop::collection::vec(0x80..=0xffu8, 1..4),
        ) {
            let mut bytes = sample.as_bytes().to_vec();
            let at = at.index(bytes.len() + 1);
            bytes.splice(at..at, bad);
            let dir = tempfile::tempdir().map_err(|e| TestCaseError::fail(e.to_string()))?;
            let path = dir.path().join("remote.toml");
            std::fs::write(&path, &bytes).map_err(|e| TestCaseError::fail(e.to_string()))?;
            let Err(utf8) = std::str::from_utf8(&bytes) else {
                // Bad bytes that complete a character of the sample's leave it UTF-8: it is read as text.
                return Ok(());
            };
            let before = &bytes[..utf8.valid_up_to()];
            let line_start = before.iter().rposition(|b| *b == b'\n').map_or(0, |n| n + 1);
            let expected = (before.iter().filter(|b| **b == b'\n').count() + 1, before.len() - line_start + 1);
            match Inventory::load(&path) {
                Err(InventoryError::Syntax { line, column, .. }) => prop_assert_eq!((line, column), expected),
                other => prop_assert!(false, "{:?}", other.err()),
            }
        }
    }
}

mod shard {
    use super::*;
    use crate::shard::{MAX_SHARDS, Shard};

    proptest! {
        #![proptest_config(config(256))]

        /// `--shard K/N` as shown reads back as itself.
        #[test]
        fn a_shard_prints_as_it_parses((count, index) in (1..=MAX_SHARDS).prop_flat_map(|count| (Just(count), 1..=count))) {
            let shard = Shard { index, count };
            prop_assert_eq!(shard.to_string().parse::<Shard>(), Ok(shard));
        }

        /// What reads as a shard is one (1 ≤ K ≤ N), and shows as text that reads back as it.
        #[test]
        fn what_parses_as_a_shard_prints_back_to_it(text in prop_oneof![any_text(), "[ 0-9/+-]{0,12}"]) {
            if let Ok(shard) = text.parse::<Shard>() {
                prop_assert!(1 <= shard.index && shard.index <= shard.count && shard.count <= MAX_SHARDS, "{text:?}");
                prop_assert_eq!(shard.to_string().parse::<Shard>(), Ok(shard));
            }
        }
    }
}
