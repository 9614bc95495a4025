//! The time axis of a cube: dates read from CF time coordinates or per-band dates, never assumed.

use chrono::{Duration, NaiveDate, NaiveDateTime};

/// One day of a daily record (the resolution of every product the seeds use).
pub type Date = NaiveDate;

/// A CF time coordinate's `units`: `UNIT since REFERENCE`, in the standard (Gregorian) calendar.
#[derive(Clone, Debug, PartialEq)]
pub struct CfUnits {
    pub seconds_per_unit: f64,
    pub reference: NaiveDateTime,
}

/// The calendars whose dates are the proleptic Gregorian ones chrono counts (CF's `standard` is
/// Julian before 1582, which no satellite record reaches).
const GREGORIAN: &[&str] = &["standard", "gregorian", "proleptic_gregorian"];

impl CfUnits {
    /// Parses `days since 1970-01-01`, `hours since 2015-01-01 00:00:00`, `seconds since
    /// 1981-01-01T00:00:00Z`...; `calendar` as in the CF attribute (empty: standard).
    pub fn parse(units: &str, calendar: &str) -> Result<CfUnits, String> {
        let calendar = calendar.trim().to_ascii_lowercase();
        if !calendar.is_empty() && !GREGORIAN.contains(&calendar.as_str()) {
            return Err(format!(
                "the time axis uses the '{calendar}' calendar: terrapix reads the standard (Gregorian) calendar only; \
                 convert the file (e.g. with CDO's setcalendar) first"
            ));
        }
        let bad = || format!("time units '{units}' are not CF's 'UNIT since DATE' (e.g. 'days since 1970-01-01')");
        let (unit, since) = units.trim().split_once(" since ").ok_or_else(bad)?;
        let seconds_per_unit = match unit.trim().to_ascii_lowercase().as_str() {
            "days" | "day" | "d" => 86400.0,
            "hours" | "hour" | "h" | "hr" => 3600.0,
            "minutes" | "minute" | "min" => 60.0,
            "seconds" | "second" | "s" | "sec" => 1.0,
            _ => return Err(bad()),
        };
        let reference = parse_datetime(since.trim()).ok_or_else(bad)?;
        Ok(CfUnits { seconds_per_unit, reference })
    }

    /// The day of the coordinate value `v`.
    pub fn date(&self, v: f64) -> Option<Date> {
        if !v.is_finite() {
            return None;
        }
        let seconds = (v * self.seconds_per_unit).round();
        if seconds.abs() > 1e13 {
            return None;
        }
        // Dates beyond chrono's range (about 262,000 years either way) have none.
        self.reference.checked_add_signed(Duration::try_seconds(seconds as i64)?).map(|d| d.date())
    }
}

/// An ISO date or date-time (`2015-04-01`, `2015-04-01 00:00:00`, `2015-04-01T00:00:00Z`,
/// `20150401`); a time zone suffix of UTC is accepted.
pub fn parse_datetime(text: &str) -> Option<NaiveDateTime> {
    let t = text.trim().trim_end_matches('Z').trim_end_matches(" UTC").trim_end_matches("+00:00");
    for f in ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M"] {
        if let Ok(d) = NaiveDateTime::parse_from_str(t, f) {
            return Some(d);
        }
    }
    // CF allows unpadded dates ("1970-1-1").
    for f in ["%Y-%m-%d", "%Y%m%d"] {
        if let Ok(d) = NaiveDate::parse_from_str(t, f) {
            return d.and_hms_opt(0, 0, 0);
        }
    }
    None
}

/// A date on its own (`2015-04-01`, `20150401`, or a date-time whose day is taken).
pub fn parse_date(text: &str) -> Option<Date> {
    parse_datetime(text).map(|d| d.date())
}

/// The dates of several products on one axis: the dates every product has, and what each lacks.
#[derive(Clone, Debug, PartialEq)]
pub struct Alignment {
    /// Dates present in every product, ascending.
    pub common: Vec<Date>,
    /// For each product, the index of each common date on its own axis.
    pub indices: Vec<Vec<usize>>,
    /// For each product, the dates of the union it does not have (within the union's span).
    pub missing: Vec<Vec<Date>>,
}

/// Aligns products on their common dates. Duplicate dates within one product are an error (a
/// cube has one value per pixel and day).
pub fn align(axes: &[(&str, &[Date])]) -> Result<Alignment, String> {
    use std::collections::{BTreeMap, BTreeSet};
    let mut maps = Vec::new();
    for (name, dates) in axes {
        let mut m = BTreeMap::new();
        for (i, d) in dates.iter().enumerate() {
            if m.insert(*d, i).is_some() {
                return Err(format!("{name} has the date {d} twice: a cube needs one step per date"));
            }
        }
        maps.push(m);
    }
    let union: BTreeSet<Date> = maps.iter().flat_map(|m| m.keys().copied()).collect();
    let common: Vec<Date> = union.iter().copied().filter(|d| maps.iter().all(|m| m.contains_key(d))).collect();
    let indices = maps.iter().map(|m| common.iter().map(|d| m[d]).collect()).collect();
    let missing = maps.iter().map(|m| union.iter().copied().filter(|d| !m.contains_key(d)).collect()).collect();
    Ok(Alignment { common, indices, missing })
}

/// "2015-01-03, 2015-01-04 and 7 more dates" for messages.
pub fn summarise(dates: &[Date], shown: usize) -> String {
    let head: Vec<String> = dates.iter().take(shown).map(|d| d.to_string()).collect();
    match dates.len() {
        0 => "none".into(),
        n if n <= shown => head.join(", "),
        n => format!("{} and {} more", head.join(", "), n - shown),
    }
}

/// The calendar month (1-12) of a date.
pub fn month(d: Date) -> u32 {
    chrono::Datelike::month(&d)
}

/// Days since 1970-01-01: the time coordinate terrapix writes.
pub fn days_since_epoch(d: Date) -> f64 {
    (d - NaiveDate::from_ymd_opt(1970, 1, 1).expect("valid")).num_days() as f64
}

pub const EPOCH_UNITS: &str = "days since 1970-01-01 00:00:00";

/// The first `shown` days without a step between the first and last of `dates` (ascending,
/// distinct), and how many there are in all, without listing every day of the span.
pub fn missing_days(dates: &[Date], shown: usize) -> (Vec<Date>, usize) {
    let (mut first, mut count) = (Vec::new(), 0usize);
    for pair in dates.windows(2) {
        let gap = (pair[1] - pair[0]).num_days().max(1) as usize - 1;
        let mut day = pair[0];
        for _ in 0..gap.min(shown.saturating_sub(first.len())) {
            day = day.succ_opt().unwrap_or(day);
            first.push(day);
        }
        count += gap;
    }
    (first, count)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Date {
        parse_date(s).unwrap()
    }

    #[test]
    fn cf_units_in_every_unit() {
        let u = CfUnits::parse("days since 2015-01-01", "standard").unwrap();
        assert_eq!(u.date(31.0), Some(d("2015-02-01")));
        let u = CfUnits::parse("hours since 1981-1-1 00:00:00", "").unwrap();
        assert_eq!(u.date(48.0), Some(d("1981-01-03")));
        let u = CfUnits::parse("seconds since 1970-01-01T00:00:00Z", "proleptic_gregorian").unwrap();
        assert_eq!(u.date(86400.0 * 365.0), Some(d("1971-01-01")));
        assert!(CfUnits::parse("days since 2015-01-01", "360_day").unwrap_err().contains("360_day"));
        assert!(CfUnits::parse("fortnights since 2015-01-01", "").is_err());
        assert!(CfUnits::parse("days", "").is_err());
    }

    #[test]
    fn alignment_reports_missing_dates() {
        let a = [d("2015-01-01"), d("2015-01-02"), d("2015-01-03")];
        let b = [d("2015-01-03"), d("2015-01-01")];
        let al = align(&[("a", &a), ("b", &b)]).unwrap();
        assert_eq!(al.common, vec![d("2015-01-01"), d("2015-01-03")]);
        assert_eq!(al.indices, vec![vec![0, 2], vec![1, 0]]);
        assert_eq!(al.missing[1], vec![d("2015-01-02")]);
        assert!(align(&[("c", &[d("2015-01-01"), d("2015-01-01")])]).unwrap_err().contains("twice"));
    }
}
