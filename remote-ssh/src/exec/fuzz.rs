//! Property tests of the reader that takes the process-group line out of a command's stdout, which is
//! whatever a login prints before the command (banners, rc files' echoes) and then the command's own output:
//! it finds the line wherever that puts it, and what comes out does not depend on how the bytes were cut into
//! SSH packets.

use proptest::prelude::*;

use super::*;
use crate::fuzz::config;

/// The token of these tests' lines.
const TOKEN: u64 = 0xfeed;

/// Bytes a login or a command prints, with pieces of the line's start and other tokens' lines among them, and
/// with `lines` whole lines of ours too.
fn printed(lines: bool) -> impl Strategy<Value = Vec<u8>> {
    let mark = pgid_mark(TOKEN);
    let line = [mark.clone(), b"42\n".to_vec()].concat();
    let piece = prop_oneof![
        prop::collection::vec(any::<u8>(), 0..40),
        (1..mark.len()).prop_map(move |len| mark[..len].to_vec()),
        Just(pgid_mark(0xbeef)),
        Just(b"\n".to_vec()),
        "[0-9]{0,12}".prop_map(String::into_bytes),
        Just(if lines { line } else { Vec::new() }),
    ];
    prop::collection::vec(piece, 0..12).prop_map(|pieces| pieces.concat())
}

/// Where to cut `len` bytes into chunks, as packets would arrive: sorted points within.
fn cuts(len: usize, points: &[prop::sample::Index]) -> Vec<usize> {
    let mut cuts: Vec<usize> = points.iter().map(|at| at.index(len + 1)).collect();
    cuts.sort_unstable();
    cuts
}

/// What the reader gives for `bytes` cut at `cuts`: the output and the group.
fn read(bytes: &[u8], cuts: &[usize]) -> (Vec<u8>, Option<u32>) {
    let mut reader = StdoutReader::new(TOKEN);
    let mut out = Vec::new();
    let mut start = 0;
    for &cut in cuts.iter().chain([&bytes.len()]) {
        out.extend(reader.strip_preamble(&bytes[start..cut]));
        start = cut;
    }
    out.extend(reader.finish());
    (out, reader.process_group)
}

/// Whether `needle` occurs in `haystack`.
fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|window| window == needle)
}

proptest! {
    #![proptest_config(config(256))]

    /// The line after any preamble is taken out whole, and its group read, however the bytes arrive.
    #[test]
    fn the_line_is_found_after_any_preamble_in_any_packets(
        preamble in printed(false).prop_filter("the preamble has no line of ours", |p| !contains(p, &pgid_mark(TOKEN))),
        group in 2..=u32::MAX,
        rest in printed(true),
        points in prop::collection::vec(any::<prop::sample::Index>(), 0..8),
    ) {
        let bytes = [preamble.clone(), pgid_mark(TOKEN), format!("{group}\n").into_bytes(), rest.clone()].concat();
        prop_assert_eq!(read(&bytes, &cuts(bytes.len(), &points)), ([preamble, rest].concat(), Some(group)));
    }

    /// Any output, with or without a line, comes out the same whether it arrives at once or in pieces.
    #[test]
    fn the_output_does_not_depend_on_the_packets(
        bytes in printed(true),
        points in prop::collection::vec(any::<prop::sample::Index>(), 0..8),
    ) {
        prop_assert_eq!(read(&bytes, &cuts(bytes.len(), &points)), read(&bytes, &[]));
    }
}
