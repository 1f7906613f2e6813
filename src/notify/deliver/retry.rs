//! What a delivery pass does with a failed attempt: try again later (and when), or give up.
//! Pure: the attempt count, the row's past and the settings in, a decision out.

use chrono::TimeDelta;

use super::smtp::Failure;
use crate::notify::RetrySettings;
use crate::notify::settings::{RETRY_FIRST_SECS, RETRY_MAX_SECS};
use crate::store::OutboxStatus;

/// What becomes of a row after a failed attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    /// Stay pending, not tried again for this long; `ambiguous` if this attempt was.
    Retry { after: TimeDelta, ambiguous: bool },
    /// Given up, with this final status (failed, or ambiguous if it may have arrived).
    GiveUp(OutboxStatus),
}

/// `attempts` counts this one; `was_ambiguous` says an earlier attempt ended with no answer
/// after the message was sent. After such an attempt one more send of the content is made
/// (the retry), and whatever it ends in but a 250 or a 5xx, the row is given up as ambiguous:
/// at most one extra copy. Attempts that did not get as far as the content do not spend it.
pub fn next(
    failure: &Failure,
    attempts: u32,
    was_ambiguous: bool,
    retry: &RetrySettings,
    seed: u64,
) -> Next {
    let given_up = if was_ambiguous {
        OutboxStatus::Ambiguous
    } else {
        OutboxStatus::Failed
    };
    let out_of_attempts = attempts >= retry.attempts;
    let after = backoff(retry, attempts, seed);
    match failure {
        Failure::NotSent {
            permanent: true, ..
        } => Next::GiveUp(given_up),
        Failure::NotSent { of_content, .. } => {
            if out_of_attempts || (was_ambiguous && *of_content) {
                Next::GiveUp(given_up)
            } else {
                Next::Retry {
                    after,
                    ambiguous: false,
                }
            }
        }
        Failure::Ambiguous { .. } => {
            if was_ambiguous || out_of_attempts {
                Next::GiveUp(OutboxStatus::Ambiguous)
            } else {
                Next::Retry {
                    after,
                    ambiguous: true,
                }
            }
        }
    }
}

/// The wait after `attempts` failed attempts: `first_secs` doubled for each after the first,
/// at most `max_secs`, then a jitter drawn from `seed` takes it to between half and all of
/// that (never under a second), so rows that failed together do not all come back together.
pub fn backoff(retry: &RetrySettings, attempts: u32, seed: u64) -> TimeDelta {
    let doublings = attempts.saturating_sub(1).min(40);
    // Within their ranges whatever was configured: the wait is added to now.
    let first = RETRY_FIRST_SECS.clamp(retry.first_secs);
    let full = first
        .saturating_mul(1u64 << doublings)
        .min(RETRY_MAX_SECS.clamp(retry.max_secs))
        .max(1);
    let ms = full.saturating_mul(1000);
    let jitter = splitmix(seed) % (ms / 2 + 1);
    let wait = (ms - ms / 2 + jitter).max(1000);
    TimeDelta::milliseconds(i64::try_from(wait).unwrap_or(i64::MAX / 2))
}

/// A well-mixed 64-bit hash (SplitMix64's finaliser): enough spread for a jitter.
fn splitmix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> RetrySettings {
        RetrySettings {
            first_secs: 60,
            max_secs: 6 * 3600,
            attempts: 8,
        }
    }

    fn not_sent(permanent: bool, of_content: bool) -> Failure {
        Failure::NotSent {
            message: "x".into(),
            permanent,
            of_content,
        }
    }

    #[test]
    fn the_wait_doubles_with_jitter_and_is_capped() {
        let s = settings();
        for seed in 0..200u64 {
            for attempts in 1..=12u32 {
                let full = (60u64 << (attempts - 1)).min(6 * 3600) as i64;
                let w = backoff(&s, attempts, seed).num_milliseconds();
                assert!(
                    w >= full * 500 && w <= full * 1000,
                    "{attempts}: {w} ms against {full} s"
                );
            }
        }
        let spread: std::collections::BTreeSet<i64> = (0..50u64)
            .map(|seed| backoff(&s, 3, seed).num_milliseconds())
            .collect();
        assert!(spread.len() > 40, "jitter spreads the waits: {spread:?}");
        let tiny = RetrySettings {
            first_secs: 1,
            max_secs: 1,
            attempts: 3,
        };
        assert!(backoff(&tiny, 1, 7) >= TimeDelta::seconds(1));
    }

    #[test]
    fn a_5xx_gives_up_at_once_and_a_4xx_retries_until_the_attempts_run_out() {
        let s = settings();
        assert_eq!(
            next(&not_sent(true, false), 1, false, &s, 1),
            Next::GiveUp(OutboxStatus::Failed)
        );
        assert!(matches!(
            next(&not_sent(false, false), 7, false, &s, 1),
            Next::Retry {
                ambiguous: false,
                ..
            }
        ));
        assert_eq!(
            next(&not_sent(false, true), 8, false, &s, 1),
            Next::GiveUp(OutboxStatus::Failed)
        );
    }

    #[test]
    fn an_ambiguous_attempt_has_one_later_retry_and_no_more() {
        let s = settings();
        let amb = Failure::Ambiguous {
            message: "x".into(),
        };
        assert!(matches!(
            next(&amb, 1, false, &s, 1),
            Next::Retry {
                ambiguous: true,
                ..
            }
        ));
        // The retry got no answer either, or a refusal of its content: given up.
        assert_eq!(
            next(&amb, 2, true, &s, 1),
            Next::GiveUp(OutboxStatus::Ambiguous)
        );
        assert_eq!(
            next(&not_sent(false, true), 2, true, &s, 1),
            Next::GiveUp(OutboxStatus::Ambiguous)
        );
        // It never reached the content (the server was down): the retry is still to come.
        assert!(matches!(
            next(&not_sent(false, false), 2, true, &s, 1),
            Next::Retry {
                ambiguous: false,
                ..
            }
        ));
        assert_eq!(
            next(&not_sent(true, false), 2, true, &s, 1),
            Next::GiveUp(OutboxStatus::Ambiguous)
        );
    }
}
