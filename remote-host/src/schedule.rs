//! When a job runs: `every DURATION`, `in DURATION`, `daily HH:MM`, `weekdays HH:MM`, `on DAY HH:MM`, parsed
//! from the words of a `watch` line and turned into due times in local time with jiff.
//!
//! Times of day follow the time zone's rules through daylight-saving changes: a time that does not exist
//! that day (the clock jumps from 02:00 to 03:00) runs at the same offset later (03:30 for 02:30), and a time
//! that happens twice (the clock falls back) runs once, at its first occurrence.

use std::fmt;
use std::time::Duration;

use jiff::ZonedDateTime;
use jiff::civil::{Time, Weekday};

/// A job's schedule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Schedule {
    /// Every period, the first run one period from now.
    Every(Duration),
    /// Once, after a delay.
    In(Duration),
    /// Every day at a local time.
    Daily(Time),
    /// Monday to Friday at a local time.
    Weekdays(Time),
    /// Once a week, on a day at a local time.
    On(Weekday, Time),
}

/// The shortest period `every` takes: shorter ones would spend the hosts on scheduling.
const SHORTEST: Duration = Duration::from_millis(100);

impl Schedule {
    /// Reads a schedule from the start of `words`; returns it and how many words it took.
    pub fn parse(words: &[&str]) -> Result<(Schedule, usize), String> {
        let word = |n: usize, what: &str| {
            words.get(n).copied().ok_or_else(|| format!("`{}` needs {what}", words[..n].join(" ")))
        };
        let Some(&kind) = words.first() else {
            return Err(format!("a schedule is missing; {FORMS}"));
        };
        let parsed = match kind {
            "every" => {
                let period = duration(word(1, "a duration, e.g. `every 5s`")?)?;
                if period < SHORTEST {
                    return Err(format!("`every {}` is too often; the shortest period is 100ms", words[1]));
                }
                (Schedule::Every(period), 2)
            }
            "in" => (Schedule::In(duration(word(1, "a duration, e.g. `in 10m`")?)?), 2),
            "daily" => (Schedule::Daily(time_of_day(word(1, "a time of day, e.g. `daily 07:30`")?)?), 2),
            "weekdays" => {
                (Schedule::Weekdays(time_of_day(word(1, "a time of day, e.g. `weekdays 09:00`")?)?), 2)
            }
            "on" => {
                let day = weekday(word(1, "a day and a time, e.g. `on mon 06:00`")?)?;
                (
                    Schedule::On(
                        day,
                        time_of_day(word(2, "a time of day after the day, e.g. `on mon 06:00`")?)?,
                    ),
                    3,
                )
            }
            other => return Err(format!("`{other}` is not a schedule; {FORMS}")),
        };
        Ok(parsed)
    }

    /// The first time the job is due, seen from `now`.
    pub fn first(&self, now: &ZonedDateTime) -> ZonedDateTime {
        match self {
            Schedule::Every(period) | Schedule::In(period) => now.saturating_add(*period),
            _ => self.calendar_after(now),
        }
    }

    /// When the job is due after it was due at `due`: `None` for a job that runs once.
    pub fn after(&self, due: &ZonedDateTime) -> Option<ZonedDateTime> {
        match self {
            Schedule::Every(period) => Some(due.saturating_add(*period)),
            Schedule::In(_) => None,
            _ => Some(self.calendar_after(due)),
        }
    }

    /// The first local time of this calendar schedule strictly after `after`.
    fn calendar_after(&self, after: &ZonedDateTime) -> ZonedDateTime {
        let (time, runs_on): (Time, &dyn Fn(Weekday) -> bool) = match self {
            Schedule::Daily(time) => (*time, &|_| true),
            Schedule::Weekdays(time) => (*time, &|day| !matches!(day, Weekday::Saturday | Weekday::Sunday)),
            Schedule::On(wanted, time) => (*time, &move |day| day == *wanted),
            Schedule::Every(_) | Schedule::In(_) => unreachable!("not a calendar schedule"),
        };
        let zone = after.time_zone().clone();
        let mut date = after.date();
        // Eight days always reach the next wanted weekday after today's time has passed.
        for _ in 0..8 {
            if runs_on(date.weekday()) {
                // Compatible disambiguation: a time in a gap moves forward by the gap, a time that repeats
                // is its first occurrence; either way one run that day.
                if let Ok(candidate) = date.to_datetime(time).to_zoned_datetime(zone.clone())
                    && candidate > *after
                {
                    return candidate;
                }
            }
            match date.tomorrow() {
                Ok(next) => date = next,
                Err(_) => break,
            }
        }
        // Only at the end of jiff's calendar (year 9999).
        after.saturating_add(Duration::from_secs(86_400))
    }
}

const FORMS: &str =
    "write `every DURATION`, `in DURATION`, `daily HH:MM`, `weekdays HH:MM` or `on DAY HH:MM`";

/// `500ms`, `5s`, `2m`, `1h` (and what humantime reads, e.g. `1h30m`).
fn duration(text: &str) -> Result<Duration, String> {
    let parsed = humantime::parse_duration(text)
        .map_err(|err| format!("`{text}` is not a duration ({err}); write e.g. 500ms, 5s, 2m, 1h"))?;
    if parsed.is_zero() {
        return Err(format!("`{text}` is no time at all; write e.g. 500ms, 5s, 2m, 1h"));
    }
    Ok(parsed)
}

/// `HH:MM`, 24-hour.
fn time_of_day(text: &str) -> Result<Time, String> {
    let wrong = || format!("`{text}` is not a time of day; write HH:MM on a 24-hour clock, e.g. 07:30");
    let (hour, minute) = text.split_once(':').ok_or_else(wrong)?;
    let digits = |part: &str| part.bytes().all(|b| b.is_ascii_digit());
    if hour.is_empty() || hour.len() > 2 || minute.len() != 2 || !digits(hour) || !digits(minute) {
        return Err(wrong());
    }
    let hour: i8 = hour.parse().map_err(|_| wrong())?;
    let minute: i8 = minute.parse().map_err(|_| wrong())?;
    Time::new(hour, minute, 0, 0).map_err(|_| wrong())
}

/// `mon` … `sun` (full names too).
fn weekday(text: &str) -> Result<Weekday, String> {
    let days = [
        ("mon", Weekday::Monday),
        ("tue", Weekday::Tuesday),
        ("wed", Weekday::Wednesday),
        ("thu", Weekday::Thursday),
        ("fri", Weekday::Friday),
        ("sat", Weekday::Saturday),
        ("sun", Weekday::Sunday),
    ];
    let lower = text.to_lowercase();
    days.iter()
        .find(|(short, day)| lower == *short || lower == format!("{day:?}").to_lowercase())
        .map(|(_, day)| *day)
        .ok_or_else(|| format!("`{text}` is not a day; write mon, tue, wed, thu, fri, sat or sun"))
}

/// `duration` as one word (`1m30s`, not humantime's `1m 30s`), so that a schedule shown in `jobs`, in a
/// notice or in `--json` reads back as the same schedule when pasted into `watch`.
fn one_word(duration: Duration) -> String {
    humantime::format_duration(duration).to_string().replace(' ', "")
}

impl fmt::Display for Schedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let hm = |t: &Time| format!("{:02}:{:02}", t.hour(), t.minute());
        match self {
            Schedule::Every(period) => write!(f, "every {}", one_word(*period)),
            Schedule::In(delay) => write!(f, "in {}", one_word(*delay)),
            Schedule::Daily(time) => write!(f, "daily {}", hm(time)),
            Schedule::Weekdays(time) => write!(f, "weekdays {}", hm(time)),
            Schedule::On(day, time) => {
                write!(f, "on {} {}", format!("{day:?}")[..3].to_lowercase(), hm(time))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use jiff::tz::TimeZone;

    use super::*;

    /// Central European time, with its daylight-saving rules, independent of the machine's tz database.
    fn berlin() -> TimeZone {
        TimeZone::posix("CET-1CEST,M3.5.0,M10.5.0/3").unwrap()
    }

    fn at(text: &str) -> ZonedDateTime {
        let datetime: jiff::civil::DateTime = text.parse().unwrap();
        datetime.to_zoned_datetime(berlin()).unwrap()
    }

    fn check(words: &str, now: &str, expected: &[&str]) {
        let words: Vec<&str> = words.split_whitespace().collect();
        let (schedule, used) = Schedule::parse(&words).unwrap_or_else(|e| panic!("{words:?}: {e}"));
        assert_eq!(used, words.len(), "{words:?}");
        let mut due = Some(schedule.first(&at(now)));
        let mut got = Vec::new();
        for _ in expected {
            let Some(this) = due else { break };
            got.push(this.strftime("%a %Y-%m-%d %H:%M:%S %z").to_string());
            due = schedule.after(&this);
        }
        assert_eq!(got, expected, "{words:?} from {now}");
    }

    #[test]
    fn due_times() {
        check(
            "every 5s",
            "2026-11-26T10:00:00",
            &["Thu 2026-11-26 10:00:05 +0100", "Thu 2026-11-26 10:00:10 +0100"],
        );
        check(
            "every 500ms",
            "2026-11-26T10:00:00",
            &["Thu 2026-11-26 10:00:00 +0100", "Thu 2026-11-26 10:00:01 +0100"],
        );
        check("in 2m", "2026-11-26T10:00:00", &["Thu 2026-11-26 10:02:00 +0100"]);
        check(
            "daily 07:30",
            "2026-11-26T10:00:00",
            &["Fri 2026-11-27 07:30:00 +0100", "Sat 2026-11-28 07:30:00 +0100"],
        );
        check("daily 10:00", "2026-11-26T09:59:59", &["Thu 2026-11-26 10:00:00 +0100"]);
        // Exactly at the time: the next one, so a run is never repeated.
        check("daily 10:00", "2026-11-26T10:00:00", &["Fri 2026-11-27 10:00:00 +0100"]);
        check(
            "weekdays 09:00",
            "2026-11-27T10:00:00",
            &["Mon 2026-11-30 09:00:00 +0100", "Tue 2026-12-01 09:00:00 +0100"],
        );
        check(
            "on mon 06:00",
            "2026-11-30T05:00:00",
            &["Mon 2026-11-30 06:00:00 +0100", "Mon 2026-12-07 06:00:00 +0100"],
        );
        check("on sunday 23:59", "2026-11-26T10:00:00", &["Sun 2026-11-29 23:59:00 +0100"]);
    }

    #[test]
    fn daylight_saving_changes() {
        // 29 March 2026: 02:00 CET becomes 03:00 CEST; 02:30 does not exist and runs at 03:30, once.
        check(
            "daily 02:30",
            "2026-03-28T12:00:00",
            &["Sun 2026-03-29 03:30:00 +0200", "Mon 2026-03-30 02:30:00 +0200"],
        );
        // 25 October 2026: 03:00 CEST falls back to 02:00 CET; 02:30 happens twice and runs once.
        check(
            "daily 02:30",
            "2026-10-24T12:00:00",
            &["Sun 2026-10-25 02:30:00 +0200", "Mon 2026-10-26 02:30:00 +0100"],
        );
        // A period is real time: across the change, ticks stay one hour apart.
        check(
            "every 1h",
            "2026-10-25T01:30:00",
            &["Sun 2026-10-25 02:30:00 +0200", "Sun 2026-10-25 02:30:00 +0100"],
        );
        // The times of day stay put on either side of the change.
        check(
            "daily 09:00",
            "2026-03-28T12:00:00",
            &["Sun 2026-03-29 09:00:00 +0200", "Mon 2026-03-30 09:00:00 +0200"],
        );
    }

    #[test]
    fn mistakes_say_what_to_write() {
        let cases = [
            ("", "a schedule is missing"),
            ("hourly", "`hourly` is not a schedule; write `every DURATION`"),
            ("every", "`every` needs a duration"),
            ("every 5", "`5` is not a duration"),
            ("every 10ms", "`every 10ms` is too often; the shortest period is 100ms"),
            ("every 0s", "`0s` is no time at all"),
            ("daily 7", "`7` is not a time of day; write HH:MM"),
            ("daily 25:00", "`25:00` is not a time of day"),
            ("daily 7:5", "`7:5` is not a time of day"),
            ("daily +7:+5", "`+7:+5` is not a time of day"),
            ("on funday 06:00", "`funday` is not a day; write mon"),
            ("on mon", "`on mon` needs a time of day after the day"),
        ];
        for (words, expected) in cases {
            let words: Vec<&str> = words.split_whitespace().collect();
            let err = Schedule::parse(&words).unwrap_err();
            assert!(err.contains(expected), "{words:?}: {err}");
        }
    }

    #[test]
    fn shown_as_written() {
        for text in ["every 5s", "in 2m", "daily 07:30", "weekdays 09:00", "on mon 06:00", "every 500ms"] {
            let words: Vec<&str> = text.split_whitespace().collect();
            assert_eq!(Schedule::parse(&words).unwrap().0.to_string(), text);
        }
    }
}

#[cfg(test)]
mod fuzz {
    //! Property tests of the schedule parser, which reads the words a person types after `watch NAME`: any
    //! words give a schedule or an error, a schedule's due times are found from any moment jiff can hold, and
    //! a schedule shown reads back as itself.

    use jiff::Timestamp;
    use jiff::tz::TimeZone;
    use proptest::prelude::*;
    use remote_fuzz::config;

    use super::*;

    /// Words of schedules, and words near them.
    const WORDS: &[&str] = &[
        "every",
        "in",
        "daily",
        "weekdays",
        "on",
        "mon",
        "Sunday",
        "funday",
        "5s",
        "500ms",
        "10ms",
        "0s",
        "1h30m",
        "2days",
        "99999999999y",
        "500000000years",
        "18446744073709551615s",
        "18446744073709551615ns",
        "1ns",
        "07:30",
        "7:5",
        "24:00",
        "23:59",
        "+7:+5",
        "-1:00",
        "00:00",
        "",
        " ",
        "é",
        "１２:３０",
    ];

    /// Words of a schedule (`every`, `on mon`…) followed by anything, or anything.
    fn words() -> impl Strategy<Value = Vec<String>> {
        let word =
            prop_oneof![prop::sample::select(WORDS).prop_map(str::to_string), "\\PC{0,8}", "[0-9:]{0,6}"];
        let kind = prop::sample::select(vec![
            vec!["every"],
            vec!["in"],
            vec!["daily"],
            vec!["weekdays"],
            vec!["on", "mon"],
            vec![],
        ]);
        (kind, prop::collection::vec(word, 0..4))
            .prop_map(|(kind, rest)| kind.into_iter().map(str::to_string).chain(rest).collect())
    }

    /// Central European time, with daylight-saving changes, and UTC.
    fn zone() -> impl Strategy<Value = TimeZone> {
        prop_oneof![
            Just(TimeZone::posix("CET-1CEST,M3.5.0,M10.5.0/3").unwrap_or(TimeZone::UTC)),
            Just(TimeZone::UTC)
        ]
    }

    /// Any moment jiff can hold, the ends of its calendar included.
    fn moment() -> impl Strategy<Value = Timestamp> {
        let (min, max) = (Timestamp::MIN.as_second(), Timestamp::MAX.as_second());
        prop_oneof![
            (min..=max).prop_map(|s| Timestamp::from_second(s).unwrap_or(Timestamp::UNIX_EPOCH)),
            prop::sample::select(vec![Timestamp::MIN, Timestamp::MAX, Timestamp::UNIX_EPOCH]),
        ]
    }

    /// Any duration of up to a year, in whole nanoseconds: shown in several parts (`1m30s`) as often as in
    /// one.
    fn duration() -> impl Strategy<Value = Duration> {
        prop_oneof![
            (1..1000u64).prop_map(Duration::from_millis),
            (1..86_400u64).prop_map(Duration::from_secs),
            (1..365 * 86_400_000u64).prop_map(Duration::from_millis),
            (1..365 * 86_400_000_000_000u64).prop_map(Duration::from_nanos),
        ]
    }

    fn schedule() -> impl Strategy<Value = Schedule> {
        let time = (0..24i8, 0..60i8).prop_map(|(h, m)| Time::new(h, m, 0, 0).unwrap_or(Time::midnight()));
        let day = prop::sample::select(vec![
            Weekday::Monday,
            Weekday::Tuesday,
            Weekday::Wednesday,
            Weekday::Thursday,
            Weekday::Friday,
            Weekday::Saturday,
            Weekday::Sunday,
        ]);
        prop_oneof![
            duration()
                .prop_filter("`every` takes 100ms or more", |d| *d >= SHORTEST)
                .prop_map(Schedule::Every),
            duration().prop_map(Schedule::In),
            time.clone().prop_map(Schedule::Daily),
            time.clone().prop_map(Schedule::Weekdays),
            (day, time).prop_map(|(day, time)| Schedule::On(day, time)),
        ]
    }

    proptest! {
        #![proptest_config(config(256))]

        /// Any words give a schedule that took its own words, or an error; and whatever parses has due times
        /// from any moment, later than it.
        #[test]
        fn any_words_give_a_schedule_with_due_times_or_an_error(words in words(), zone in zone(), now in moment()) {
            let words: Vec<&str> = words.iter().map(String::as_str).collect();
            if let Ok((schedule, used)) = Schedule::parse(&words) {
                prop_assert!((2..=3).contains(&used) && used <= words.len(), "{words:?} took {used}");
                let now = now.to_zoned_datetime(zone);
                let first = schedule.first(&now);
                prop_assert!(first >= now, "{schedule} from {now}: {first}");
                if let Some(next) = schedule.after(&first) {
                    prop_assert!(next >= first, "{schedule} after {first}: {next}");
                }
            }
        }

        #[test]
        fn a_schedule_shown_reads_back_as_itself(schedule in schedule()) {
            let shown = schedule.to_string();
            let words: Vec<&str> = shown.split_whitespace().collect();
            prop_assert_eq!(Schedule::parse(&words), Ok((schedule, words.len())), "{}", shown);
        }
    }
}
