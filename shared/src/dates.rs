//! Days as people say them and as apps print them, on one calendar: "tomorrow", "last month"
//! and "this week" in a question ([`relative_days`]), "Thu 11 Dec", "1 Dec 2026",
//! "2026-12-01" and "November 2026" in the user's data ([`dates_in`]). Each becomes concepts
//! a question and a fact can share: `@d` and the day (`@d2026-12-11`), `@m` and the month
//! (`@m2026-12`). A range ("2-7 Dec", "valid until 9 Dec") is each of its days. A weekday
//! asked about ("on Saturday") is `@w` and the coming day, met by the days the data prints
//! without a weekday or with the right one. Relative days are read against the turn's own
//! date (UTC), and a date without a year is the one nearest to it.

/// A day of the proleptic Gregorian calendar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Day {
    pub year: i32,
    pub month: u32,
    pub day: u32,
}

const MONTHS: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];

/// A month by its name, its first three letters, or "sept".
pub fn month_of(word: &str) -> Option<u32> {
    let w = word.to_lowercase();
    if w == "sept" {
        return Some(9);
    }
    MONTHS
        .iter()
        .position(|m| *m == w || (w.len() == 3 && m.starts_with(w.as_str())))
        .map(|i| i as u32 + 1)
}

impl Day {
    /// The day a Unix time in milliseconds falls on (UTC).
    pub fn from_unix_ms(ms: i64) -> Self {
        Self::from_days(ms.div_euclid(86_400_000))
    }

    /// The day `days` after 1970-01-01 (Howard Hinnant's civil-from-days).
    fn from_days(days: i64) -> Self {
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        let year = (yoe + era * 400 + i64::from(month <= 2)) as i32;
        Self { year, month, day }
    }

    /// Days since 1970-01-01.
    fn days(self) -> i64 {
        let y = i64::from(self.year) - i64::from(self.month <= 2);
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let m = i64::from(self.month);
        let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(self.day) - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146_097 + doe - 719_468
    }

    fn plus(self, days: i64) -> Self {
        Self::from_days(self.days() + days)
    }

    /// 0 for Monday … 6 for Sunday.
    fn weekday(self) -> i64 {
        (self.days() + 3).rem_euclid(7)
    }

    /// The month `n` months after this one, as (year, month).
    fn month_plus(self, n: i32) -> (i32, u32) {
        let index = self.year * 12 + self.month as i32 - 1 + n;
        (index.div_euclid(12), index.rem_euclid(12) as u32 + 1)
    }

    fn valid(year: i32, month: u32, day: u32) -> Option<Self> {
        let d = Self { year, month, day };
        ((1..=12).contains(&month) && (1..=31).contains(&day) && d.plus(0) == d).then_some(d)
    }

    /// The day's concept, `@dYYYY-MM-DD`: in the order of the days, as text.
    pub fn concept(self) -> String {
        format!("@d{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }

    /// The day as a weekday asked about meets it: only in data that prints no weekday or the
    /// right one (an app's "Sat 6 Dec" is met by "Saturday" alone when the 6th is a Sunday).
    fn weekday_concept(self) -> String {
        format!("@w{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

fn month_concept((year, month): (i32, u32)) -> String {
    format!("@m{year:04}-{month:02}")
}

/// The year that puts a month and day nearest to `today`.
fn nearest(today: Day, month: u32, day: u32) -> Option<Day> {
    (today.year - 1..=today.year + 1)
        .filter_map(|y| Day::valid(y, month, day))
        .min_by_key(|d| (d.days() - today.days()).abs())
}

/// Concepts in the order first read, each once (a range adds a few hundred).
#[derive(Default)]
struct Concepts {
    list: Vec<String>,
    seen: std::collections::HashSet<String>,
}

fn add(out: &mut Concepts, concept: String) {
    if !out.seen.contains(&concept) {
        out.seen.insert(concept.clone());
        out.list.push(concept);
    }
}

fn add_day(out: &mut Concepts, d: Day) {
    add(out, d.concept());
    add(out, month_concept((d.year, d.month)));
}

/// The days and months a text names, as concepts (see the module's notes).
pub fn dates_in(text: &str, today: Day) -> Vec<String> {
    read(text, today).0
}

/// [`dates_in`], and the days the text prints one by one ("Fri 11 Dec", "2026-12-03"), not
/// those a range or an "until" stands for: what "my next class" orders.
pub fn read(text: &str, today: Day) -> (Vec<String>, Vec<Day>) {
    let mut out = Concepts::default();
    // Tokens with where they end, so a day is read only from a number beside its month
    // ("11 Dec", not "Jan, 3 walks") that is not part of a time or an amount ("Dec 07:00",
    // "Nov 12.50").
    let mut tokens: Vec<(String, usize, usize)> = Vec::new();
    let mut start = None;
    for (at, c) in text
        .char_indices()
        .chain(std::iter::once((text.len(), ' ')))
    {
        let word = c.is_alphanumeric() || c == '-';
        match (word, start) {
            (true, None) => start = Some(at),
            (false, Some(from)) => {
                tokens.push((text[from..at].to_lowercase(), from, at));
                start = None;
            }
            _ => {}
        }
    }
    let number = |k: usize| -> Option<u32> {
        let (t, _, end) = tokens.get(k)?;
        let digits = t.trim_end_matches(|c: char| c.is_ascii_alphabetic());
        let suffix = &t[digits.len()..];
        let mut next = text[*end..].chars();
        let part_of_more = matches!(
            (next.next(), next.next()),
            (Some(':'), _) | (Some('.' | ','), Some('0'..='9'))
        );
        (!digits.is_empty()
            && digits.len() <= 2
            && digits.chars().all(|c| c.is_ascii_digit())
            && ["", "st", "nd", "rd", "th"].contains(&suffix)
            && !part_of_more)
            .then(|| digits.parse().ok())
            .flatten()
    };
    // Only spaces between two tokens.
    let beside = |a: usize, b: usize| text[tokens[a].2..tokens[b].1].chars().all(|c| c == ' ');
    let year_of = |k: usize| -> Option<i32> {
        let (t, _, _) = tokens.get(k)?;
        (t.len() == 4 && t.chars().all(|c| c.is_ascii_digit()))
            .then(|| t.parse().ok())
            .flatten()
            .filter(|y| (1900..=2200).contains(y))
    };
    // Each day read, with the tokens it spans, for the ranges between two of them.
    let mut found: Vec<(Day, usize, usize)> = Vec::new();
    for (i, (t, _, _)) in tokens.iter().enumerate() {
        // 2026-12-01 (and 2026-12-01T10:00).
        let parts: Vec<&str> = t.splitn(3, '-').collect();
        if parts.len() == 3 && parts[0].len() == 4 {
            let day: String = parts[2].chars().take_while(char::is_ascii_digit).collect();
            if let (Ok(y), Ok(m), Ok(d)) = (parts[0].parse(), parts[1].parse(), day.parse()) {
                if let Some(d) = Some(y)
                    .filter(|y: &i32| (1900..=2200).contains(y))
                    .and_then(|y| Day::valid(y, m, d))
                {
                    add_day(&mut out, d);
                    found.push((d, i, i));
                }
            }
            continue;
        }
        let Some(month) = month_of(t) else {
            continue;
        };
        let year_at = [i + 1, i + 2]
            .into_iter()
            .filter(|&j| j < tokens.len() && beside(j - 1, j))
            .find(|&j| year_of(j).is_some());
        let year = year_at.and_then(year_of);
        let before = i
            .checked_sub(1)
            .filter(|&j| beside(j, i))
            .and_then(number)
            // "May" is a word too: "up to 3 may be added" is no date, "Fri 3 May" is.
            .filter(|_| {
                t != "may"
                    || year.is_some()
                    || i.checked_sub(2).is_some_and(|j| {
                        crate::search::word_concepts(&tokens[j].0)
                            .iter()
                            .any(|c| WEEKDAYS.contains(&c.as_str()))
                    })
                    || tokens[i - 1].0.ends_with(|c: char| c.is_ascii_alphabetic())
            });
        let after = Some(i + 1)
            .filter(|&j| j < tokens.len() && beside(i, j))
            .and_then(number);
        let first = if before.is_some() { i - 1 } else { i };
        let last = year_at.unwrap_or(i + usize::from(before.is_none() && after.is_some()));
        let on = |d: u32| match year {
            Some(y) => Day::valid(y, month, d),
            None => nearest(today, month, d),
        };
        // "2-7 Dec", "Dec 2-7": every day between; never beside a day of its own ("Sat 6
        // Dec 2-4 players") nor for "may" without a year ("fees of 1-2 may apply").
        let alone = before.or(after).is_none() && (t != "may" || year.is_some());
        let span = [i.checked_sub(1), Some(i + 1)]
            .into_iter()
            .flatten()
            .filter(|&j| alone && j < tokens.len() && beside(j.min(i), j.max(i)))
            .find_map(|j| {
                let (a, b) = tokens[j].0.split_once('-')?;
                let short =
                    |x: &str| (1..=2).contains(&x.len()) && x.chars().all(|c| c.is_ascii_digit());
                (short(a) && short(b))
                    .then(|| Some((on(a.parse().ok()?)?, on(b.parse().ok()?)?)))
                    .flatten()
            });
        if let Some((from, to)) = span {
            add_days(&mut out, from, to);
            continue;
        }
        match (before.or(after), year) {
            (Some(d), Some(y)) => {
                if let Some(d) = Day::valid(y, month, d) {
                    add_day(&mut out, d);
                    found.push((d, first, last));
                }
            }
            (Some(d), None) => {
                if let Some(d) = nearest(today, month, d) {
                    add_day(&mut out, d);
                    found.push((d, first, last));
                }
            }
            (None, Some(y)) => add(&mut out, month_concept((y, month))),
            // A month alone, by its full name and not one that is also a name ("Stylist:
            // April"): the nearest such month.
            (None, None) if t.len() > 4 && !["april", "june", "august"].contains(&t.as_str()) => {
                let y = (today.year - 1..=today.year + 1)
                    .min_by_key(|y| {
                        ((y * 12 + month as i32) - (today.year * 12 + today.month as i32)).abs()
                    })
                    .unwrap_or(today.year);
                add(&mut out, month_concept((y, month)));
            }
            _ => {}
        }
    }
    // The weekday printed before a day, if any: a day printed with the wrong one ("Sat 6
    // Dec" in a year when the 6th is a Sunday) is met by that name only.
    let printed = |first: usize| first.checked_sub(1).and_then(|j| weekday_of(&tokens[j].0));
    for &(d, first, _) in &found {
        if printed(first).is_none_or(|w| w == d.weekday()) {
            add(&mut out, d.weekday_concept());
        }
    }
    // "2 Dec - 7 Dec", "1 Dec 2026 to 3 Jan 2027", "2 to 7 Dec", and "until 9 Dec" (from
    // today): the days between, so a day asked about meets the range that holds it.
    let between = |a: usize, b: usize| text[tokens[a].2..tokens[b].1].to_lowercase();
    let joins = |gap: &str| {
        let gap = gap.trim_matches(|c: char| c == ' ' || c == ',');
        [
            "-", "\u{2013}", "\u{2014}", "to", "until", "till", "through", "thru",
        ]
        .contains(&gap.trim())
    };
    for k in 0..found.len() {
        let (to, day_at, _) = found[k];
        // "Thu 3 Dec - Sat 5 Dec", "until Sat 9 Dec": the range reaches the weekday.
        let first = if printed(day_at).is_some() {
            day_at - 1
        } else {
            day_at
        };
        let earlier = k
            .checked_sub(1)
            .map(|p| found[p])
            .filter(|&(_, _, end)| end < first && joins(&between(end, first)));
        if let Some((from, _, _)) = earlier {
            add_days(&mut out, from, to);
        } else if let Some(n) = [first.checked_sub(1), first.checked_sub(2)]
            .into_iter()
            .flatten()
            .find(|&j| joins(&between(j, first)))
            .and_then(number)
        {
            if let Some(from) = Day::valid(to.year, to.month, n) {
                add_days(&mut out, from, to);
            }
        } else if first
            .checked_sub(1)
            .is_some_and(|j| UNTIL.contains(&tokens[j].0.as_str()))
            && to >= today
        {
            add_days(&mut out, today, to);
        }
    }
    (out.list, found.into_iter().map(|(d, _, _)| d).collect())
}

/// Words that end a range that starts today ("valid until 9 Dec").
const UNTIL: &[&str] = &["until", "till", "til", "through", "thru"];

/// Longest range read as its days; a longer one ("2020 to 2030") names its ends only.
const MAX_RANGE_DAYS: i64 = 92;

/// Every day from `from` to `to`, both included, when that is a range of a sensible length
/// (a longer one names its ends, a backwards one nothing: "Terminal 25 - 7 Dec").
fn add_days(out: &mut Concepts, from: Day, to: Day) {
    let n = to.days() - from.days();
    if n < 0 {
        return;
    }
    if n > MAX_RANGE_DAYS {
        add_day(out, from);
        add_day(out, to);
        return;
    }
    for k in 0..=n {
        let d = from.plus(k);
        add(out, d.concept());
        add(out, d.weekday_concept());
        if k == 0 || d.day == 1 {
            add(out, month_concept((d.year, d.month)));
        }
    }
}

/// 0 for Monday … 6 for Sunday, of a weekday's name or its first three letters.
fn weekday_of(word: &str) -> Option<i64> {
    let w = word.to_lowercase();
    WEEKDAYS
        .iter()
        .position(|d| *d == w || (w.len() == 3 && d.starts_with(w.as_str())))
        .map(|i| i as i64)
}

/// Days of the week, as [`crate::search::word_concepts`] folds them.
pub const WEEKDAYS: &[&str] = &[
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
];

/// What a question's relative days mean on `today`: each found phrase, with the concepts
/// (days or a month) it stands for. "This week" is the days left of it, "next week" the
/// seven of the next one.
pub fn relative_days(question: &str, today: Day) -> Vec<(&'static str, Vec<String>)> {
    let said = crate::search::Phrases::of(question);
    let days = |from: i64, n: i64| (from..from + n).map(|k| today.plus(k).concept()).collect();
    let to_sunday = 7 - today.weekday();
    let mut out: Vec<(&'static str, Vec<String>)> = Vec::new();
    for (phrase, concepts) in [
        ("today", days(0, 1)),
        ("tonight", days(0, 1)),
        ("tomorrow", days(1, 1)),
        ("yesterday", days(-1, 1)),
        ("this week", days(0, to_sunday)),
        ("next week", days(to_sunday, 7)),
        ("last week", days(to_sunday - 14, 7)),
        ("this month", vec![month_concept(today.month_plus(0))]),
        ("next month", vec![month_concept(today.month_plus(1))]),
        ("last month", vec![month_concept(today.month_plus(-1))]),
        // A year is met by its number, as apps write it ("2026 total", "tax year 2025-26").
        ("this year", vec![today.year.to_string()]),
        ("next year", vec![(today.year + 1).to_string()]),
        ("last year", vec![(today.year - 1).to_string()]),
    ] {
        if said.has(phrase) {
            out.push((phrase, concepts));
        }
    }
    // "On Saturday": the coming one (today, on a Saturday); "last Saturday" the one before,
    // "next Saturday" the coming one or the one after (people mean either).
    for (k, &name) in WEEKDAYS.iter().enumerate() {
        if !said.has(name) {
            continue;
        }
        let coming = today.plus((k as i64 - today.weekday()).rem_euclid(7));
        let days = if said.has(&format!("last {name}")) {
            vec![coming.plus(-7).weekday_concept()]
        } else if said.has(&format!("next {name}")) {
            vec![coming.weekday_concept(), coming.plus(7).weekday_concept()]
        } else {
            vec![coming.weekday_concept()]
        };
        out.push((name, days));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> Day {
        Day {
            year: y,
            month: m,
            day: d,
        }
    }

    #[test]
    fn unix_time_and_days_agree_with_the_calendar() {
        assert_eq!(Day::from_unix_ms(0), day(1970, 1, 1));
        // 2026-12-02T01:49:17Z.
        assert_eq!(Day::from_unix_ms(1_796_176_157_000), day(2026, 12, 2));
        assert_eq!(day(2024, 2, 28).plus(1), day(2024, 2, 29));
        assert_eq!(day(2026, 12, 31).plus(1), day(2027, 1, 1));
        assert_eq!(day(2026, 12, 2).weekday(), 2, "a Wednesday");
        assert!(Day::valid(2026, 2, 29).is_none());
    }

    #[test]
    fn dates_as_apps_print_them_are_days_and_months() {
        let today = day(2026, 12, 2);
        let d = |t: &str| -> Vec<String> {
            let mut c = dates_in(t, today);
            c.retain(|c| !c.starts_with("@w"));
            c
        };
        assert_eq!(
            d("FB-2207, Thu 11 Dec 07:00"),
            ["@d2026-12-11", "@m2026-12"]
        );
        assert_eq!(d("paid 1 Dec 2026"), ["@d2026-12-01", "@m2026-12"]);
        assert_eq!(d("due 2026-11-25T10:00"), ["@d2026-11-25", "@m2026-11"]);
        assert_eq!(d("Dec 3rd"), ["@d2026-12-03", "@m2026-12"]);
        assert_eq!(d("November 2026"), ["@m2026-11"]);
        // A date without a year is the nearest: January is next year's.
        assert_eq!(d("9 Jan"), ["@d2027-01-09", "@m2027-01"]);
        assert_eq!(d("planned for March"), ["@m2027-03"]);
        // "may" is a month only with a day or a year; numbers alone are not dates.
        assert!(d("you may pay 12 EUR for 3 months").is_empty());
        assert!(d("up to 3 may be added").is_empty());
        assert_eq!(d("4 May 2027"), ["@d2027-05-04", "@m2027-05"]);
        assert_eq!(d("Fri 4 May"), ["@d2027-05-04", "@m2027-05"]);
        assert_eq!(d("May 12"), ["@d2027-05-12", "@m2027-05"]);
        // A number beside a month that is a time or an amount is not its day; a name is not
        // a month, nor an abbreviation alone.
        assert!(d("Dec 07:00").is_empty());
        assert!(d("Nov 12.50 GBP").is_empty());
        assert!(d("Stylist: April").is_empty());
        assert!(d("Walker: Jan, 3 walks").is_empty());
        // A day printed without its weekday is also met by a weekday asked about (`@w`);
        // one printed with it, by that weekday's name alone.
        assert_eq!(
            dates_in("6 Dec", today),
            ["@d2026-12-06", "@m2026-12", "@w2026-12-06"]
        );
        assert_eq!(dates_in("Sat 6 Dec", today), ["@d2026-12-06", "@m2026-12"]);
        assert_eq!(
            dates_in("Sun 6 Dec", today),
            ["@d2026-12-06", "@m2026-12", "@w2026-12-06"]
        );
    }

    #[test]
    fn relative_days_are_read_against_today() {
        let today = day(2026, 12, 2);
        let r = |q: &str| relative_days(q, today);
        assert_eq!(
            r("is my boat tomorrow ok?"),
            [("tomorrow", vec!["@d2026-12-03".to_owned()])]
        );
        assert_eq!(
            r("what did work pay in last month"),
            [("last month", vec!["@m2026-11".to_owned()])]
        );
        assert_eq!(r("did you take the money this month?")[0].1, ["@m2026-12"]);
        // This week: Wednesday to Sunday.
        assert_eq!(r("anything this week?")[0].1.len(), 5);
        assert_eq!(r("next week")[0].1[0], "@d2026-12-07");
        assert!(r("what happened to my order").is_empty());
        // Days of the week: the coming one (today counts), the one before, or either next.
        assert_eq!(
            r("which pass works on Saturday?")[0],
            ("saturday", vec!["@w2026-12-05".to_owned()])
        );
        assert_eq!(r("open wednesday?")[0].1, ["@w2026-12-02"]);
        assert_eq!(r("what did I buy last monday")[0].1, ["@w2026-11-30"]);
        assert_eq!(r("next friday")[0].1, ["@w2026-12-04", "@w2026-12-11"]);
        // A year is its number.
        assert_eq!(
            r("how much did I give this year")[0],
            ("this year", vec!["2026".to_owned()])
        );
        assert_eq!(r("last year's statement")[0].1, ["2025"]);
    }

    #[test]
    fn a_range_is_every_day_it_holds() {
        let today = day(2026, 12, 2);
        let days = |t: &str| -> Vec<String> {
            let mut days: Vec<String> = dates_in(t, today)
                .into_iter()
                .filter(|c| c.starts_with("@d"))
                .collect();
            days.sort();
            days
        };
        let dec = |from: u32, to: u32| -> Vec<String> {
            (from..=to).map(|d| format!("@d2026-12-{d:02}")).collect()
        };
        assert_eq!(days("valid: 2-7 Dec"), dec(2, 7));
        assert_eq!(days("Dec 4-6"), dec(4, 6));
        assert_eq!(days("2 Dec - 7 Dec"), dec(2, 7));
        assert_eq!(days("from 2 to 7 Dec"), dec(2, 7));
        assert_eq!(days("2\u{2013}7 Dec"), dec(2, 7));
        assert_eq!(days("2026-12-03 to 2026-12-05"), dec(3, 5));
        assert_eq!(days("stay: 30 Dec 2026 - 2 Jan 2027").len(), 4);
        // Until a day: from today. A day past, or a range too long, is its ends alone.
        assert_eq!(days("valid until 4 Dec"), dec(2, 4));
        assert_eq!(days("free until 1 Dec"), ["@d2026-12-01"]);
        assert_eq!(days("1 Jan 2020 to 1 Jan 2030").len(), 2);
        // Two days side by side are no range, nor is a list.
        assert_eq!(
            days("Thu 3 Dec, Sat 5 Dec"),
            ["@d2026-12-03", "@d2026-12-05"]
        );
        assert_eq!(days("3 Dec 07:00 to Paris"), ["@d2026-12-03"]);
        assert_eq!(
            days("bins: 3 Dec and 17 Dec"),
            ["@d2026-12-03", "@d2026-12-17"]
        );
        // A printed weekday is part of the range's end; a number beside a day is no range.
        assert_eq!(days("Thu 3 Dec - Sat 5 Dec"), dec(3, 5));
        assert_eq!(days("valid until Fri 4 Dec"), dec(2, 4));
        assert_eq!(days("Sat 5 Dec 2-4 players"), ["@d2026-12-05"]);
        assert_eq!(days("fees of 1-2 may apply"), Vec::<String>::new());
        assert_eq!(days("Terminal 25 - 7 Dec"), ["@d2026-12-07"]);
        assert_eq!(days("call 0800-01-23"), Vec::<String>::new());
    }
}
