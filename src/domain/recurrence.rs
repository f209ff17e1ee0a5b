//! Recurring tasks: the rule, and the due date of the next occurrence.
//!
//! Dates move in the calendar of the offset the due date was given in (`2026-01-31T09:00:00+01:00`
//! repeats at 09:00 in UTC+1), and month ends stick: a series anchored on the 31st goes
//! Jan 31 → Feb 28 (29 in leap years) → Mar 31.

use chrono::{DateTime, Datelike, Days, FixedOffset, Months, NaiveDate, TimeZone, Utc};
use serde::{Deserialize, Serialize};

use super::Timestamp;

// The one spelling of the values: the API's `Frequency` schema derives from this enum, so its
// doc comment is the schema's description, word for word (hence this note is not a doc comment).
/// How often a task repeats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, poem_openapi::Enum)]
#[serde(rename_all = "lowercase")]
#[oai(rename = "Frequency", rename_all = "lowercase")]
pub(crate) enum Frequency {
    /// Every `interval` days.
    Daily,
    /// Every `interval` weeks.
    Weekly,
    /// Every `interval` months (month ends stick: Jan 31 → Feb 28/29 → Mar 31).
    Monthly,
    /// Every `interval` years.
    Yearly,
}

/// A repetition rule.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Recurrence {
    /// The unit.
    pub frequency: Frequency,
    /// How many units between occurrences (at least 1).
    pub interval: u32,
    /// No occurrence is due after this instant (with `count`: whichever ends the series first).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<DateTime<Utc>>,
    /// The total number of occurrences, the first included.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u32>,
}

impl Recurrence {
    /// The largest interval accepted.
    pub(crate) const MAX_INTERVAL: u32 = 1000;
    /// The largest count accepted.
    pub(crate) const MAX_COUNT: u32 = 10_000;

    /// Checks the interval and count. `until` and `count` may both be given: the series ends
    /// at whichever comes first.
    pub(crate) fn validate(&self) -> Result<(), &'static str> {
        if self.interval == 0 || self.interval > Self::MAX_INTERVAL {
            return Err("interval must be 1 to 1000");
        }
        if matches!(self.count, Some(0)) || self.count.is_some_and(|c| c > Self::MAX_COUNT) {
            return Err("count must be 1 to 10000");
        }
        Ok(())
    }

    /// The due date of occurrence `occurrence + 1`, given occurrence `occurrence` (1-based) is
    /// due at `due`. `anchor_day` is the day of the month the series started on. `None` when
    /// the series is over: after `count` occurrences or past `until`, whichever comes first, or
    /// when the next due date would fall outside what [`Timestamp`] accepts.
    pub(crate) fn next_due(
        &self,
        due: DateTime<FixedOffset>,
        anchor_day: u32,
        occurrence: u32,
    ) -> Option<DateTime<FixedOffset>> {
        if self.count.is_some_and(|count| occurrence >= count) {
            return None;
        }
        let local = due.naive_local();
        let date = local.date();
        let next_date = match self.frequency {
            Frequency::Daily => date.checked_add_days(Days::new(u64::from(self.interval)))?,
            Frequency::Weekly => date.checked_add_days(Days::new(7 * u64::from(self.interval)))?,
            Frequency::Monthly => add_months(date, self.interval, anchor_day)?,
            Frequency::Yearly => add_months(date, self.interval.checked_mul(12)?, anchor_day)?,
        };
        let next = due
            .offset()
            .from_local_datetime(&next_date.and_time(local.time()))
            .single()?;
        // A series ends rather than produce an occurrence no store or client can represent.
        Timestamp::check(next).ok()?;
        match self.until {
            Some(until) if next.to_utc() > until => None,
            _ => Some(next),
        }
    }
}

/// `date` plus `months`, on `anchor_day` or the month's last day if it is shorter.
fn add_months(date: NaiveDate, months: u32, anchor_day: u32) -> Option<NaiveDate> {
    let first = date.with_day(1)?.checked_add_months(Months::new(months))?;
    let last_day = first.checked_add_months(Months::new(1))?.pred_opt()?.day();
    first.with_day(anchor_day.clamp(1, last_day))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339(s).expect("valid timestamp")
    }

    fn monthly() -> Recurrence {
        Recurrence {
            frequency: Frequency::Monthly,
            interval: 1,
            until: None,
            count: None,
        }
    }

    #[test]
    fn month_ends_stick_to_the_anchor_day() {
        let rule = monthly();
        let jan = at("2027-01-31T09:00:00+01:00");
        let feb = rule.next_due(jan, 31, 1).expect("feb");
        assert_eq!(feb, at("2027-02-28T09:00:00+01:00"));
        let mar = rule.next_due(feb, 31, 2).expect("mar");
        assert_eq!(mar, at("2027-03-31T09:00:00+01:00"));
        let leap = rule
            .next_due(at("2028-01-31T09:00:00+01:00"), 31, 1)
            .expect("leap");
        assert_eq!(leap, at("2028-02-29T09:00:00+01:00"));
    }

    #[test]
    fn a_series_ends_before_year_10000() {
        let daily = Recurrence {
            frequency: Frequency::Daily,
            ..monthly()
        };
        assert_eq!(daily.next_due(at("9999-12-31T00:00:00Z"), 31, 1), None);
        assert_eq!(
            daily.next_due(at("9999-12-30T12:00:00-12:00"), 30, 1),
            None,
            "9999-12-31T12:00-12:00 is year 10000 in UTC"
        );
        assert!(daily.next_due(at("9999-12-30T00:00:00Z"), 30, 1).is_some());
    }

    #[test]
    fn yearly_from_a_leap_day() {
        let rule = Recurrence {
            frequency: Frequency::Yearly,
            ..monthly()
        };
        let next = rule
            .next_due(at("2028-02-29T00:00:00Z"), 29, 1)
            .expect("next");
        assert_eq!(next, at("2029-02-28T00:00:00Z"));
    }

    #[test]
    fn count_and_until_end_the_series() {
        let rule = Recurrence {
            count: Some(2),
            ..monthly()
        };
        assert!(rule.next_due(at("2027-01-01T00:00:00Z"), 1, 1).is_some());
        assert!(rule.next_due(at("2027-02-01T00:00:00Z"), 1, 2).is_none());
        let rule = Recurrence {
            until: Some(at("2027-02-01T00:00:00Z").to_utc()),
            ..monthly()
        };
        assert!(rule.next_due(at("2027-01-01T00:00:00Z"), 1, 1).is_some());
        assert!(rule.next_due(at("2027-02-01T00:00:00Z"), 1, 2).is_none());
    }

    #[test]
    fn until_and_count_together_end_at_whichever_comes_first() {
        let rule = Recurrence {
            count: Some(2),
            until: Some(at("2027-06-01T00:00:00Z").to_utc()),
            ..monthly()
        };
        assert_eq!(rule.validate(), Ok(()));
        assert!(rule.next_due(at("2027-01-01T00:00:00Z"), 1, 1).is_some());
        assert!(
            rule.next_due(at("2027-02-01T00:00:00Z"), 1, 2).is_none(),
            "the count ends it before the until"
        );
        let rule = Recurrence {
            count: Some(10),
            until: Some(at("2027-02-01T00:00:00Z").to_utc()),
            ..monthly()
        };
        assert_eq!(rule.validate(), Ok(()));
        assert!(rule.next_due(at("2027-01-01T00:00:00Z"), 1, 1).is_some());
        assert!(
            rule.next_due(at("2027-02-01T00:00:00Z"), 1, 2).is_none(),
            "the until ends it before the count"
        );
    }
}
