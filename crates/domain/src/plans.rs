//! Payment plans: an agreement to pay sub-accounts over time. The schedule math (integer
//! cents, the remainder on the last installment, month ends), the plan's status machine, and
//! what a missed or paid installment does to it.

use crate::{FieldError, MinorUnits};
use chrono::{Datelike, Days, Months, NaiveDate};

status_enum!(
    /// How often installments fall due.
    Frequency {
        Weekly => "weekly",
        Biweekly => "biweekly",
        Semimonthly => "semimonthly",
        Monthly => "monthly",
    }
);

status_enum!(
    /// Where a plan stands. A plan is created `inactive`; only activation starts it.
    PlanStatus {
        Inactive => "inactive",
        Active => "active",
        Completed => "completed",
        Defaulted => "defaulted",
        Canceled => "canceled",
    }
);

status_enum!(
    /// Where one installment stands: `scheduled` (waiting for its due date),
    /// `retry_scheduled` (declined; tried again on its due date), `processing` (charged, the
    /// processor's answer unknown), `paid`, `missed` (declined and out of retries) or
    /// `canceled` (the plan ended first).
    InstallmentStatus {
        Scheduled => "scheduled",
        RetryScheduled => "retry_scheduled",
        Processing => "processing",
        Paid => "paid",
        Missed => "missed",
        Canceled => "canceled",
    }
);

impl InstallmentStatus {
    /// Still to be charged (or being charged).
    pub fn is_open(self) -> bool {
        matches!(
            self,
            InstallmentStatus::Scheduled
                | InstallmentStatus::RetryScheduled
                | InstallmentStatus::Processing
        )
    }
}

/// What can happen to a plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlanAction {
    Activate,
    Change,
    Cancel,
    /// The covered sub-accounts reached zero.
    Complete,
    /// Too many installments were missed.
    Default,
}

impl PlanAction {
    fn verb(self) -> &'static str {
        match self {
            PlanAction::Activate => "activate",
            PlanAction::Change => "change",
            PlanAction::Cancel => "cancel",
            PlanAction::Complete => "complete",
            PlanAction::Default => "default",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("cannot {} a payment plan that is {}", action.verb(), from.as_str())]
pub struct InvalidPlanTransition {
    pub from: PlanStatus,
    pub action: PlanAction,
}

impl PlanStatus {
    /// Every allowed transition; anything else is refused.
    pub fn apply(self, action: PlanAction) -> Result<PlanStatus, InvalidPlanTransition> {
        use PlanAction as A;
        use PlanStatus as S;
        Ok(match (self, action) {
            (S::Inactive, A::Activate) => S::Active,
            (S::Inactive | S::Active, A::Change) => self,
            (S::Inactive | S::Active, A::Cancel) => S::Canceled,
            (S::Active, A::Complete) => S::Completed,
            (S::Active, A::Default) => S::Defaulted,
            _ => return Err(InvalidPlanTransition { from: self, action }),
        })
    }
}

/// How the installments are sized: a fixed amount (the count follows), or a count (the
/// amount follows).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sizing {
    Amount(MinorUnits),
    Count(u32),
}

/// One installment of a schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Due {
    pub date: NaiveDate,
    pub amount: MinorUnits,
}

/// The `n`th due date (from 0) after `start`. Monthly dates keep the start's day of the
/// month, on the last day of shorter months (a plan starting on the 31st pays on 30 April and
/// 28 or 29 February, and on the 31st again in May). Semimonthly: that day and 15 days after
/// it, each month.
pub fn due_date(start: NaiveDate, frequency: Frequency, n: u32) -> Option<NaiveDate> {
    match frequency {
        Frequency::Weekly => start.checked_add_days(Days::new(7 * u64::from(n))),
        Frequency::Biweekly => start.checked_add_days(Days::new(14 * u64::from(n))),
        Frequency::Monthly => start.checked_add_months(Months::new(n)),
        Frequency::Semimonthly => {
            let month = start.checked_add_months(Months::new(n / 2))?;
            if n.is_multiple_of(2) {
                Some(month)
            } else {
                month.checked_add_days(Days::new(15))
            }
        }
    }
}

/// The whole schedule: installments summing exactly to `total`, equal but for the last,
/// which takes the remainder. `max_count` bounds the number of installments.
pub fn schedule(
    total: MinorUnits,
    sizing: Sizing,
    frequency: Frequency,
    start: NaiveDate,
    max_count: u32,
) -> Result<Vec<Due>, FieldError> {
    let total = total.get();
    if total <= 0 {
        return Err(FieldError::new("total_amount", "must be greater than zero"));
    }
    let (count, each) = match sizing {
        Sizing::Amount(amount) => {
            let amount = amount.get();
            if amount <= 0 {
                return Err(FieldError::new(
                    "installment_amount",
                    "must be greater than zero",
                ));
            }
            let count = (total + amount - 1) / amount;
            if count > i64::from(max_count) {
                return Err(FieldError::new(
                    "installment_amount",
                    format!("makes {count} installments; at most {max_count} are allowed"),
                ));
            }
            (count, amount.min(total))
        }
        Sizing::Count(count) => {
            if count == 0 {
                return Err(FieldError::new(
                    "installment_count",
                    "must be greater than zero",
                ));
            }
            if count > max_count {
                return Err(FieldError::new(
                    "installment_count",
                    format!("must be at most {max_count}"),
                ));
            }
            let count = i64::from(count);
            if count > total {
                return Err(FieldError::new(
                    "installment_count",
                    "is more than the total in cents: an installment would be zero",
                ));
            }
            (count, total / count)
        }
    };
    let mut out = Vec::with_capacity(usize::try_from(count).unwrap_or(0));
    for n in 0..count {
        let n32 =
            u32::try_from(n).map_err(|_| FieldError::new("installment_count", "is too large"))?;
        let date = due_date(start, frequency, n32).ok_or_else(|| {
            FieldError::new("start_date", "puts installments beyond the calendar")
        })?;
        let amount = if n == count - 1 {
            total - each * (count - 1)
        } else {
            each
        };
        out.push(Due {
            date,
            amount: MinorUnits::new(amount),
        });
    }
    Ok(out)
}

/// Shrinks the still-open installments so that they sum to no more than `balance`: the last
/// ones give way first (the last remaining one absorbs the difference). Returns the new
/// amounts, in order; a zero means the installment is no longer needed.
pub fn fit_to_balance(open: &[MinorUnits], balance: MinorUnits) -> Vec<MinorUnits> {
    let mut left = balance.get().max(0);
    open.iter()
        .map(|a| {
            let take = a.get().min(left);
            left -= take;
            MinorUnits::new(take)
        })
        .collect()
}

/// The date a declined installment is tried again: `days_apart` after `today`.
pub fn retry_date(today: NaiveDate, days_apart: u32) -> NaiveDate {
    today
        .checked_add_days(Days::new(u64::from(days_apart)))
        .unwrap_or(today)
}

/// True when `date` is the last day of its month (for tests and docs of month-end clamping).
pub fn is_month_end(date: NaiveDate) -> bool {
    date.checked_add_days(Days::new(1))
        .is_none_or(|next| next.month() != date.month())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).expect("date")
    }

    #[test]
    fn a_monthly_plan_from_the_31st_uses_month_ends() {
        let s = schedule(
            MinorUnits::new(10_000),
            Sizing::Count(4),
            Frequency::Monthly,
            d(2027, 1, 31),
            120,
        )
        .expect("schedule");
        let dates: Vec<NaiveDate> = s.iter().map(|x| x.date).collect();
        assert_eq!(
            dates,
            vec![
                d(2027, 1, 31),
                d(2027, 2, 28),
                d(2027, 3, 31),
                d(2027, 4, 30)
            ]
        );
        assert_eq!(
            due_date(d(2028, 1, 31), Frequency::Monthly, 1),
            Some(d(2028, 2, 29)),
            "leap year"
        );
    }

    #[test]
    fn the_remainder_goes_on_the_last_installment() {
        let s = schedule(
            MinorUnits::new(10_000),
            Sizing::Count(3),
            Frequency::Weekly,
            d(2027, 1, 1),
            120,
        )
        .expect("schedule");
        let amounts: Vec<i64> = s.iter().map(|x| x.amount.get()).collect();
        assert_eq!(amounts, vec![3333, 3333, 3334]);
        let s = schedule(
            MinorUnits::new(10_000),
            Sizing::Amount(MinorUnits::new(3000)),
            Frequency::Biweekly,
            d(2027, 1, 1),
            120,
        )
        .expect("schedule");
        let amounts: Vec<i64> = s.iter().map(|x| x.amount.get()).collect();
        assert_eq!(amounts, vec![3000, 3000, 3000, 1000]);
        assert_eq!(s[3].date, d(2027, 2, 12));
    }

    #[test]
    fn semimonthly_is_the_start_day_and_fifteen_days_later() {
        let dates: Vec<NaiveDate> = (0..4)
            .map(|n| due_date(d(2027, 1, 1), Frequency::Semimonthly, n).expect("date"))
            .collect();
        assert_eq!(
            dates,
            vec![d(2027, 1, 1), d(2027, 1, 16), d(2027, 2, 1), d(2027, 2, 16)]
        );
    }

    #[test]
    fn bad_sizes_name_their_field() {
        let start = d(2027, 1, 1);
        let field = |total: i64, sizing| {
            schedule(
                MinorUnits::new(total),
                sizing,
                Frequency::Monthly,
                start,
                12,
            )
            .expect_err("refused")
            .field
        };
        assert_eq!(field(0, Sizing::Count(1)), "total_amount");
        assert_eq!(field(100, Sizing::Count(0)), "installment_count");
        assert_eq!(field(100, Sizing::Count(13)), "installment_count");
        assert_eq!(
            field(1000, Sizing::Amount(MinorUnits::new(1))),
            "installment_amount"
        );
        assert_eq!(
            field(1000, Sizing::Amount(MinorUnits::new(-5))),
            "installment_amount"
        );
    }

    #[test]
    fn plan_transitions_are_explicit() {
        use PlanAction as A;
        use PlanStatus as S;
        assert_eq!(S::Inactive.apply(A::Activate), Ok(S::Active));
        assert_eq!(S::Active.apply(A::Complete), Ok(S::Completed));
        assert_eq!(S::Active.apply(A::Default), Ok(S::Defaulted));
        assert_eq!(S::Inactive.apply(A::Cancel), Ok(S::Canceled));
        let e = S::Canceled.apply(A::Activate).expect_err("refused");
        assert_eq!(
            e.to_string(),
            "cannot activate a payment plan that is canceled"
        );
        assert!(S::Active.apply(A::Activate).is_err());
        assert!(S::Inactive.apply(A::Complete).is_err());
        assert!(S::Completed.apply(A::Change).is_err());
    }

    #[test]
    fn a_smaller_balance_shrinks_the_last_installments() {
        let open = [
            MinorUnits::new(100),
            MinorUnits::new(100),
            MinorUnits::new(100),
        ];
        let fit = |b| {
            fit_to_balance(&open, MinorUnits::new(b))
                .iter()
                .map(|a| a.get())
                .collect::<Vec<_>>()
        };
        assert_eq!(fit(250), vec![100, 100, 50]);
        assert_eq!(fit(150), vec![100, 50, 0]);
        assert_eq!(fit(500), vec![100, 100, 100]);
    }

    proptest! {
        #[test]
        fn schedules_sum_to_the_total_and_keep_their_order(
            total in 1i64..10_000_000,
            count in 1u32..120,
            amount in 1i64..1_000_000,
            by_count in any::<bool>(),
            freq in 0usize..4,
            day in 1u32..=31,
            month in 1u32..=12,
        ) {
            let start = NaiveDate::from_ymd_opt(2027, month, day)
                .unwrap_or_else(|| NaiveDate::from_ymd_opt(2027, month, 28).expect("date"));
            let frequency = Frequency::ALL[freq];
            let sizing = if by_count { Sizing::Count(count) } else { Sizing::Amount(MinorUnits::new(amount)) };
            if let Ok(s) = schedule(MinorUnits::new(total), sizing, frequency, start, 120) {
                prop_assert_eq!(s.iter().map(|x| x.amount.get()).sum::<i64>(), total);
                prop_assert!(s.iter().all(|x| x.amount.get() > 0));
                prop_assert!(s.windows(2).all(|w| w[0].date < w[1].date));
                // All but the last are equal; the last is within one installment of them.
                let first = s[0].amount.get();
                prop_assert!(s[..s.len() - 1].iter().all(|x| x.amount.get() == first));
                if frequency == Frequency::Monthly {
                    for x in &s {
                        // The start's day, or the month's last day when the month is shorter.
                        prop_assert!(x.date.day() == start.day() || (x.date.day() < start.day() && is_month_end(x.date)));
                    }
                }
            }
        }

        #[test]
        fn fitting_never_exceeds_the_balance_or_grows_an_installment(
            open in proptest::collection::vec(1i64..100_000, 0..24),
            balance in 0i64..2_000_000,
        ) {
            let open: Vec<MinorUnits> = open.into_iter().map(MinorUnits::new).collect();
            let fit = fit_to_balance(&open, MinorUnits::new(balance));
            let sum: i64 = fit.iter().map(|a| a.get()).sum();
            let full: i64 = open.iter().map(|a| a.get()).sum();
            prop_assert_eq!(sum, full.min(balance));
            prop_assert!(fit.iter().zip(&open).all(|(f, o)| f <= o));
        }
    }
}
