//! [`Timestamp`]: the one rule about instants the API takes (in bodies, in query parameters, from
//! MCP tools) or produces (the next occurrence of a recurring task).
//!
//! An instant is accepted when both stores keep it exactly and every client can read it back:
//! its UTC value falls within years 0001–9999 (what RFC 3339 can write, what PostgreSQL and
//! SQLite's text compare alike), and it has at most microsecond precision (PostgreSQL keeps
//! microseconds: a nanosecond would be rounded there and kept on SQLite).

use chrono::{DateTime, FixedOffset, NaiveDate, Timelike as _, Utc};

/// The rule on instants; its functions return the instant unchanged when it is acceptable.
pub(crate) struct Timestamp;

impl Timestamp {
    /// What a refused instant is told, in words a frontend developer reads.
    pub(crate) const OUT_OF_RANGE: &'static str =
        "must fall within years 0001 to 9999 once converted to UTC";
    /// A timestamp with a sub-microsecond part.
    pub(crate) const TOO_PRECISE: &'static str =
        "must have at most 6 fractional digits (microseconds)";
    /// Not an RFC 3339 timestamp at all.
    pub(crate) const NOT_RFC3339: &'static str =
        "must be an RFC 3339 timestamp, e.g. 2030-01-31T09:00:00Z";

    /// The earliest instant accepted: 0001-01-01T00:00:00Z.
    pub(crate) fn min() -> DateTime<Utc> {
        NaiveDate::from_ymd_opt(1, 1, 1)
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map_or(DateTime::<Utc>::MIN_UTC, |at| at.and_utc())
    }

    /// The latest instant accepted: 9999-12-31T23:59:59.999999Z.
    pub(crate) fn max() -> DateTime<Utc> {
        NaiveDate::from_ymd_opt(9999, 12, 31)
            .and_then(|d| d.and_hms_micro_opt(23, 59, 59, 999_999))
            .map_or(DateTime::<Utc>::MAX_UTC, |at| at.and_utc())
    }

    /// Parses an RFC 3339 timestamp (its offset kept) and checks it.
    pub(crate) fn parse(raw: &str) -> Result<DateTime<FixedOffset>, &'static str> {
        let at = DateTime::parse_from_rfc3339(raw).map_err(|_| Self::NOT_RFC3339)?;
        Self::check(at)
    }

    /// Checks an instant given with an offset.
    pub(crate) fn check(at: DateTime<FixedOffset>) -> Result<DateTime<FixedOffset>, &'static str> {
        Self::check_utc(at.to_utc())?;
        Ok(at)
    }

    /// Checks an instant in UTC.
    pub(crate) fn check_utc(at: DateTime<Utc>) -> Result<DateTime<Utc>, &'static str> {
        if at < Self::min() || at > Self::max() {
            return Err(Self::OUT_OF_RANGE);
        }
        if !at.nanosecond().is_multiple_of(1000) {
            return Err(Self::TOO_PRECISE);
        }
        Ok(at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_utc_value_must_fall_within_years_1_to_9999() {
        assert!(Timestamp::parse("0001-01-01T00:00:00Z").is_ok());
        assert!(Timestamp::parse("9999-12-31T23:59:59.999999Z").is_ok());
        assert!(Timestamp::parse("0001-01-01T00:30:00+01:00").is_err());
        assert!(Timestamp::parse("9999-12-31T23:00:00-05:00").is_err());
        assert!(Timestamp::parse("0001-01-01T00:30:00-01:00").is_ok());
    }

    #[test]
    fn at_most_microseconds() {
        assert!(Timestamp::parse("2030-01-01T00:00:00.123456Z").is_ok());
        assert_eq!(
            Timestamp::parse("2030-01-01T00:00:00.1234567Z"),
            Err(Timestamp::TOO_PRECISE)
        );
        assert_eq!(Timestamp::parse("tomorrow"), Err(Timestamp::NOT_RFC3339));
    }
}
