//! `[accessLog.filters]`: a request is logged when no filter is set, or when any set filter
//! matches it (status code in a range, retried, slower than `minDuration`), as Traefik does.

use super::entry::Entry;
use crate::config::observability::AccessLogFilters;
use std::time::Duration;

/// The filters, parsed once.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    status_ranges: Vec<(u16, u16)>,
    retry_attempts: bool,
    min_duration: Option<Duration>,
}

impl Filter {
    /// From the config (validated beforehand: ranges are `200` or `500-599`).
    pub fn new(c: Option<&AccessLogFilters>) -> Filter {
        let Some(c) = c else {
            return Filter::default();
        };
        let status_ranges = c
            .status_codes
            .iter()
            .filter_map(|s| {
                let (lo, hi) = s.split_once('-').unwrap_or((s, s));
                Some((lo.trim().parse().ok()?, hi.trim().parse().ok()?))
            })
            .collect();
        Filter {
            status_ranges,
            retry_attempts: c.retry_attempts.unwrap_or(false),
            min_duration: c.min_duration.map(|d| d.get()).filter(|d| !d.is_zero()),
        }
    }

    /// Whether `e` is logged.
    pub fn keeps(&self, e: &Entry<'_>) -> bool {
        let any_set =
            !self.status_ranges.is_empty() || self.retry_attempts || self.min_duration.is_some();
        if !any_set {
            return true;
        }
        self.status_ranges
            .iter()
            .any(|(lo, hi)| (*lo..=*hi).contains(&e.status))
            || (self.retry_attempts && e.retries > 0)
            || self.min_duration.is_some_and(|min| e.duration >= min)
    }
}
