//! Wall-clock time as a value.
//!
//! The core never reads a clock. Every entry point that needs the time takes a
//! [`UnixTime`] from the driver. OAuth's deadlines are wall-clock deadlines
//! (`expires_in`, `Retry-After` dates, persisted token sets that must survive a
//! restart), so the value is seconds since the Unix epoch, not a monotonic instant.
//!
//! All arithmetic saturates: a clock that jumps backwards or a server that sends an
//! absurd lifetime can never overflow or panic.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::time::{Duration, SystemTime};

/// Seconds since 1970-01-01T00:00:00Z, as told by the driver.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct UnixTime(u64);

impl UnixTime {
    /// The epoch itself.
    pub const EPOCH: UnixTime = UnixTime(0);

    /// A time `secs` seconds after the epoch.
    pub const fn from_secs(secs: u64) -> Self {
        UnixTime(secs)
    }

    /// Seconds since the epoch.
    pub const fn as_secs(self) -> u64 {
        self.0
    }

    /// Converts a [`SystemTime`] the driver read. Times before the epoch become the epoch.
    ///
    /// This does not read the clock; the caller passes a time it obtained itself.
    pub fn from_system_time(t: SystemTime) -> Self {
        UnixTime(
            t.duration_since(SystemTime::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
        )
    }

    /// The same instant as a [`SystemTime`].
    pub fn to_system_time(self) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(self.0)
    }

    /// `self + secs`, saturating at the end of representable time.
    #[must_use]
    pub const fn saturating_add(self, secs: u64) -> Self {
        UnixTime(self.0.saturating_add(secs))
    }

    /// `self - secs`, saturating at the epoch.
    #[must_use]
    pub const fn saturating_sub(self, secs: u64) -> Self {
        UnixTime(self.0.saturating_sub(secs))
    }

    /// Seconds from `self` until `later`; zero when `later` is not in the future.
    pub const fn secs_until(self, later: UnixTime) -> u64 {
        later.0.saturating_sub(self.0)
    }
}

impl fmt::Debug for UnixTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "UnixTime({})", self.0)
    }
}

impl fmt::Display for UnixTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// Parses an HTTP `Retry-After` value (RFC 9110 §10.2.3): either delay-seconds or an
/// IMF-fixdate. Returns the absolute time, computed from `now`.
///
/// Obsolete date formats (RFC 850, asctime) and anything malformed yield `None`:
/// a hint we cannot read is a hint we do not follow.
pub fn parse_retry_after(value: &str, now: UnixTime) -> Option<UnixTime> {
    let value = value.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        // Cap absurd delays at one day; the value is a hint, not a contract.
        let secs = value.parse::<u64>().unwrap_or(u64::MAX).min(86_400);
        return Some(now.saturating_add(secs));
    }
    parse_imf_fixdate(value).map(UnixTime::from_secs)
}

/// `Sun, 06 Nov 1994 08:49:37 GMT` → seconds since the epoch.
fn parse_imf_fixdate(s: &str) -> Option<u64> {
    let b = s.as_bytes();
    if b.len() != 29 || &b[3..5] != b", " || &b[25..] != b" GMT" {
        return None;
    }
    if !matches!(
        s.get(..3),
        Some("Mon" | "Tue" | "Wed" | "Thu" | "Fri" | "Sat" | "Sun")
    ) {
        return None;
    }
    let num = |range: std::ops::Range<usize>| -> Option<u64> {
        let part = s.get(range)?;
        if part.bytes().all(|c| c.is_ascii_digit()) {
            part.parse().ok()
        } else {
            None
        }
    };
    let day = num(5..7)?;
    let month = match s.get(8..11)? {
        "Jan" => 1,
        "Feb" => 2,
        "Mar" => 3,
        "Apr" => 4,
        "May" => 5,
        "Jun" => 6,
        "Jul" => 7,
        "Aug" => 8,
        "Sep" => 9,
        "Oct" => 10,
        "Nov" => 11,
        "Dec" => 12,
        _ => return None,
    };
    if b[7] != b' ' || b[11] != b' ' || b[16] != b' ' || b[19] != b':' || b[22] != b':' {
        return None;
    }
    let year = num(12..16)?;
    let (hour, min, sec) = (num(17..19)?, num(20..22)?, num(23..25)?);
    if year < 1970 || !(1..=31).contains(&day) || hour > 23 || min > 59 || sec > 60 {
        return None;
    }
    let days = days_from_civil(year, month, day);
    Some(days * 86_400 + hour * 3600 + min * 60 + sec)
}

/// Days since 1970-01-01 for a proleptic Gregorian date (Howard Hinnant's algorithm),
/// for years ≥ 1970.
fn days_from_civil(year: u64, month: u64, day: u64) -> u64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y / 400;
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saturating_arithmetic_never_overflows() {
        let t = UnixTime::from_secs(u64::MAX - 1);
        assert_eq!(t.saturating_add(10).as_secs(), u64::MAX);
        assert_eq!(UnixTime::from_secs(5).saturating_sub(10), UnixTime::EPOCH);
        assert_eq!(
            UnixTime::from_secs(10).secs_until(UnixTime::from_secs(4)),
            0
        );
        assert_eq!(
            UnixTime::from_secs(4).secs_until(UnixTime::from_secs(10)),
            6
        );
    }

    #[test]
    fn retry_after_delay_seconds() {
        let now = UnixTime::from_secs(1_000);
        assert_eq!(
            parse_retry_after("7", now),
            Some(UnixTime::from_secs(1_007))
        );
        assert_eq!(parse_retry_after(" 0 ", now), Some(now));
        assert_eq!(
            parse_retry_after("99999999999999999999999", now),
            Some(UnixTime::from_secs(1_000 + 86_400))
        );
        assert_eq!(parse_retry_after("-1", now), None);
        assert_eq!(parse_retry_after("", now), None);
    }

    #[test]
    fn retry_after_http_date() {
        // RFC 9110's example date.
        let t = parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", UnixTime::EPOCH);
        assert_eq!(t, Some(UnixTime::from_secs(784_111_777)));
        assert_eq!(
            parse_retry_after("Thu, 01 Jan 1970 00:00:00 GMT", UnixTime::EPOCH),
            Some(UnixTime::EPOCH)
        );
        assert_eq!(
            parse_retry_after("Sunday, 06-Nov-94 08:49:37 GMT", UnixTime::EPOCH),
            None
        );
        assert_eq!(
            parse_retry_after("Sun, 06 Foo 1994 08:49:37 GMT", UnixTime::EPOCH),
            None
        );
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:3€ GM", UnixTime::EPOCH),
            None
        );
        // 29 bytes with a multi-byte character where the weekday ends: no panic.
        assert_eq!(
            parse_retry_after("Su€ 06 Nov 1994 08:49:37 GMT", UnixTime::EPOCH),
            None
        );
    }

    #[test]
    fn system_time_round_trip() {
        let t = UnixTime::from_secs(1_700_000_000);
        assert_eq!(UnixTime::from_system_time(t.to_system_time()), t);
    }
}
