//! Payments: the status machine, how an amount is spread over sub-accounts, and the ledger
//! postings each movement of money makes.

use crate::ids::SubAccountId;
use crate::{FieldError, MinorUnits};

status_enum!(
    /// Where a payment stands. `unknown` means the processor was asked and did not answer: the
    /// reconciler asks again and moves it on.
    PaymentStatus {
        Pending => "pending",
        Authorized => "authorized",
        Captured => "captured",
        Declined => "declined",
        Voided => "voided",
        Refunded => "refunded",
        PartiallyRefunded => "partially_refunded",
        Returned => "returned",
        ChargedBack => "charged_back",
        Settled => "settled",
        Error => "error",
        Unknown => "unknown",
    }
);

/// What can happen to a payment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaymentAction {
    /// The processor approved an authorization only.
    Authorize,
    /// The processor approved and captured (a sale).
    AuthorizeAndCapture,
    Decline,
    /// The processor reported a processing error: nothing was charged.
    Fail,
    /// The processor did not answer: the outcome is unknown until asked again.
    LoseTrack,
    Capture,
    Void,
    /// A refund; `leaves_nothing` when it brings the refunded total up to the captured amount.
    Refund {
        leaves_nothing: bool,
    },
    Settle,
    /// An ACH return.
    Return,
    Chargeback,
}

impl PaymentAction {
    pub fn verb(self) -> &'static str {
        match self {
            PaymentAction::Authorize | PaymentAction::AuthorizeAndCapture => "approve",
            PaymentAction::Decline => "decline",
            PaymentAction::Fail => "fail",
            PaymentAction::LoseTrack => "lose track of",
            PaymentAction::Capture => "capture",
            PaymentAction::Void => "void",
            PaymentAction::Refund { .. } => "refund",
            PaymentAction::Settle => "settle",
            PaymentAction::Return => "return",
            PaymentAction::Chargeback => "charge back",
        }
    }
}

/// An action the payment's status does not allow; the message names both.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("cannot {} a payment that is {}", action.verb(), from.as_str())]
pub struct InvalidTransition {
    pub from: PaymentStatus,
    pub action: PaymentAction,
}

impl PaymentStatus {
    /// Every allowed transition, spelled out; anything else is an [`InvalidTransition`].
    pub fn apply(self, action: PaymentAction) -> Result<PaymentStatus, InvalidTransition> {
        use PaymentAction as A;
        use PaymentStatus as S;
        let refund = |leaves_nothing: bool| {
            if leaves_nothing {
                S::Refunded
            } else {
                S::PartiallyRefunded
            }
        };
        let next = match (self, action) {
            (S::Pending | S::Unknown, A::Authorize) => S::Authorized,
            (S::Pending | S::Unknown, A::AuthorizeAndCapture) => S::Captured,
            (S::Pending | S::Unknown, A::Decline) => S::Declined,
            (S::Pending | S::Unknown, A::Fail) => S::Error,
            (S::Pending | S::Unknown, A::LoseTrack) => S::Unknown,
            (S::Authorized, A::Capture) => S::Captured,
            (S::Authorized | S::Captured, A::Void) => S::Voided,
            (S::Captured | S::PartiallyRefunded | S::Settled, A::Refund { leaves_nothing }) => {
                refund(leaves_nothing)
            }
            (S::Captured | S::PartiallyRefunded, A::Settle) => S::Settled,
            (S::Captured | S::PartiallyRefunded | S::Settled, A::Return) => S::Returned,
            (S::Captured | S::PartiallyRefunded | S::Settled, A::Chargeback) => S::ChargedBack,
            _ => return Err(InvalidTransition { from: self, action }),
        };
        Ok(next)
    }

    /// Money is held against the sub-accounts while the outcome is open.
    pub fn holds_funds(self) -> bool {
        matches!(
            self,
            PaymentStatus::Pending | PaymentStatus::Authorized | PaymentStatus::Unknown
        )
    }
}

/// One sub-account's share of a payment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Allocation {
    pub sub_account_id: SubAccountId,
    pub amount: MinorUnits,
}

/// A sub-account a payment may pay, with what is still payable on it (its balance less what
/// open payments already hold).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payable {
    pub sub_account_id: SubAccountId,
    pub available: MinorUnits,
}

/// The default spread: oldest open sub-account first, each paid up to what is available.
/// `payables` must be oldest first. An amount larger than everything available is refused.
pub fn allocate_oldest_first(
    amount: MinorUnits,
    payables: &[Payable],
) -> Result<Vec<Allocation>, FieldError> {
    let mut left = amount.get();
    let mut out = Vec::new();
    for p in payables {
        if left == 0 {
            break;
        }
        let take = left.min(p.available.get());
        if take > 0 {
            out.push(Allocation {
                sub_account_id: p.sub_account_id.clone(),
                amount: MinorUnits::new(take),
            });
            left -= take;
        }
    }
    if left > 0 {
        return Err(FieldError::new(
            "amount",
            "is more than the account's open sub-accounts owe",
        ));
    }
    Ok(out)
}

/// Checks explicit allocations: each positive, no sub-account twice, and the sum equal to
/// the payment's amount. (That none pays a sub-account below zero is checked against the
/// stored balances, in the transaction that holds the funds.)
pub fn check_allocations(amount: MinorUnits, allocations: &[Allocation]) -> Result<(), FieldError> {
    if allocations.is_empty() {
        return Err(FieldError::new(
            "allocations",
            "must name at least one sub-account",
        ));
    }
    let mut sum = 0i64;
    for (i, a) in allocations.iter().enumerate() {
        if a.amount.get() <= 0 {
            return Err(FieldError::new(
                format!("allocations[{i}].amount"),
                "must be greater than zero",
            ));
        }
        if allocations[..i]
            .iter()
            .any(|b| b.sub_account_id == a.sub_account_id)
        {
            return Err(FieldError::new(
                format!("allocations[{i}].sub_account_id"),
                "names a sub-account already allocated",
            ));
        }
        sum = sum.saturating_add(a.amount.get());
    }
    if sum != amount.get() {
        return Err(FieldError::new(
            "allocations",
            "must add up to the payment's amount",
        ));
    }
    Ok(())
}

/// Spreads `total` over shares in order, each up to its limit: a partial capture pays the
/// allocations in the order given; a refund gives back from the last allocation first (pass
/// them reversed). Returns one amount per share; the caller ensures `total` fits.
pub fn spread_in_order(total: MinorUnits, limits: &[MinorUnits]) -> Vec<MinorUnits> {
    let mut left = total.get();
    limits
        .iter()
        .map(|limit| {
            let take = left.min(limit.get()).max(0);
            left -= take;
            MinorUnits::new(take)
        })
        .collect()
}

/// The ledger's accounts. Receivables are per sub-account: the cached total of a
/// sub-account's entries is kept on the sub-account row, in the same transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LedgerAccount {
    /// Money the processor owes the organization: captured, not yet settled.
    ProcessorClearing,
    /// Money settled to the organization's bank.
    SettledFunds,
    /// What a sub-account's debtor owes; payments credit it (negative entries).
    Receivable(SubAccountId),
    /// Money pushed to recipients (IngoPay funding): debited when the processor pays out,
    /// credited back when the payout is returned.
    Disbursements,
}

impl LedgerAccount {
    pub fn code(&self) -> String {
        match self {
            LedgerAccount::ProcessorClearing => "processor_clearing".to_owned(),
            LedgerAccount::SettledFunds => "settled_funds".to_owned(),
            LedgerAccount::Receivable(sub) => format!("receivable:{sub}"),
            LedgerAccount::Disbursements => "disbursements".to_owned(),
        }
    }
}

/// One entry: positive is a debit, negative a credit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Posting {
    pub account: LedgerAccount,
    pub amount: MinorUnits,
}

/// Money collected (a capture): debit processor clearing, credit each sub-account paid.
pub fn collection_postings(shares: &[(SubAccountId, MinorUnits)]) -> Vec<Posting> {
    movement(shares, LedgerAccount::ProcessorClearing, -1)
}

/// Money given back (refund, void after capture, return, chargeback): the reverse.
pub fn reversal_postings(shares: &[(SubAccountId, MinorUnits)]) -> Vec<Posting> {
    movement(shares, LedgerAccount::ProcessorClearing, 1)
}

fn movement(
    shares: &[(SubAccountId, MinorUnits)],
    counter: LedgerAccount,
    receivable_sign: i64,
) -> Vec<Posting> {
    let total: i64 = shares.iter().map(|(_, a)| a.get()).sum();
    let mut postings = vec![Posting {
        account: counter,
        amount: MinorUnits::new(-receivable_sign * total),
    }];
    postings.extend(
        shares
            .iter()
            .filter(|(_, a)| a.get() != 0)
            .map(|(sub, a)| Posting {
                account: LedgerAccount::Receivable(sub.clone()),
                amount: MinorUnits::new(receivable_sign * a.get()),
            }),
    );
    postings
}

/// A settlement: processor clearing pays out to settled funds.
pub fn settlement_postings(amount: MinorUnits) -> Vec<Posting> {
    vec![
        Posting {
            account: LedgerAccount::ProcessorClearing,
            amount: MinorUnits::new(-amount.get()),
        },
        Posting {
            account: LedgerAccount::SettledFunds,
            amount,
        },
    ]
}

/// A disbursement paid out: the processor pays the recipient from what it holds for the
/// organization (processor clearing). `returned` gives the reverse: the payout came back.
pub fn disbursement_postings(amount: MinorUnits, returned: bool) -> Vec<Posting> {
    let sign = if returned { -1 } else { 1 };
    vec![
        Posting {
            account: LedgerAccount::Disbursements,
            amount: MinorUnits::new(sign * amount.get()),
        },
        Posting {
            account: LedgerAccount::ProcessorClearing,
            amount: MinorUnits::new(-sign * amount.get()),
        },
    ]
}

/// True when the postings sum to zero, as every ledger transaction must.
pub fn balanced(postings: &[Posting]) -> bool {
    postings
        .iter()
        .map(|p| i128::from(p.amount.get()))
        .sum::<i128>()
        == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use PaymentAction as A;
    use PaymentStatus as S;

    #[test]
    fn the_lifecycle_of_a_sale_and_its_refunds() {
        let s = S::Pending.apply(A::AuthorizeAndCapture).expect("sale");
        assert_eq!(s, S::Captured);
        let s = s
            .apply(A::Refund {
                leaves_nothing: false,
            })
            .expect("partial");
        assert_eq!(s, S::PartiallyRefunded);
        let s = s.apply(A::Settle).expect("settle");
        let s = s
            .apply(A::Refund {
                leaves_nothing: true,
            })
            .expect("rest");
        assert_eq!(s, S::Refunded);
    }

    #[test]
    fn impossible_transitions_name_both_states() {
        let e = S::Declined.apply(A::Capture).expect_err("refused");
        assert_eq!(e.to_string(), "cannot capture a payment that is declined");
        assert!(
            S::Settled.apply(A::Void).is_err(),
            "no void after settlement"
        );
        assert!(
            S::Authorized
                .apply(A::Refund {
                    leaves_nothing: true
                })
                .is_err()
        );
        assert!(
            S::Refunded
                .apply(A::Refund {
                    leaves_nothing: true
                })
                .is_err()
        );
        assert!(S::Voided.apply(A::Capture).is_err());
        // An unknown outcome can still be learned.
        assert_eq!(S::Unknown.apply(A::Decline), Ok(S::Declined));
    }

    #[test]
    fn every_status_has_a_way_in_or_is_the_start() {
        let actions = [
            A::Authorize,
            A::AuthorizeAndCapture,
            A::Decline,
            A::Fail,
            A::LoseTrack,
            A::Capture,
            A::Void,
            A::Refund {
                leaves_nothing: true,
            },
            A::Refund {
                leaves_nothing: false,
            },
            A::Settle,
            A::Return,
            A::Chargeback,
        ];
        for target in S::ALL.iter().filter(|s| **s != S::Pending) {
            let reachable = S::ALL
                .iter()
                .any(|from| actions.iter().any(|a| from.apply(*a) == Ok(*target)));
            assert!(reachable, "{target:?}");
        }
    }

    fn sub(n: u8) -> SubAccountId {
        SubAccountId::parse(&format!("sub_{:032x}", n)).expect("id")
    }

    #[test]
    fn oldest_first_fills_each_before_the_next() {
        let payables = [
            Payable {
                sub_account_id: sub(1),
                available: MinorUnits::new(500),
            },
            Payable {
                sub_account_id: sub(2),
                available: MinorUnits::new(0),
            },
            Payable {
                sub_account_id: sub(3),
                available: MinorUnits::new(1000),
            },
        ];
        let a = allocate_oldest_first(MinorUnits::new(700), &payables).expect("fits");
        assert_eq!(
            a,
            vec![
                Allocation {
                    sub_account_id: sub(1),
                    amount: MinorUnits::new(500)
                },
                Allocation {
                    sub_account_id: sub(3),
                    amount: MinorUnits::new(200)
                },
            ]
        );
        let e = allocate_oldest_first(MinorUnits::new(1501), &payables).expect_err("too much");
        assert_eq!(e.field, "amount");
    }

    #[test]
    fn allocations_must_add_up_and_be_positive_and_distinct() {
        let a = |n, amount| Allocation {
            sub_account_id: sub(n),
            amount: MinorUnits::new(amount),
        };
        assert!(check_allocations(MinorUnits::new(300), &[a(1, 100), a(2, 200)]).is_ok());
        assert_eq!(
            check_allocations(MinorUnits::new(300), &[a(1, 100), a(2, 100)])
                .expect_err("sum")
                .field,
            "allocations"
        );
        assert_eq!(
            check_allocations(MinorUnits::new(100), &[a(1, 100), a(2, 0)])
                .expect_err("zero")
                .field,
            "allocations[1].amount"
        );
        assert_eq!(
            check_allocations(MinorUnits::new(200), &[a(1, 100), a(1, 100)])
                .expect_err("twice")
                .field,
            "allocations[1].sub_account_id"
        );
    }

    #[test]
    fn spreading_fills_in_order_and_postings_balance() {
        let limits = [MinorUnits::new(300), MinorUnits::new(200)];
        assert_eq!(
            spread_in_order(MinorUnits::new(350), &limits),
            vec![MinorUnits::new(300), MinorUnits::new(50)]
        );
        let shares = [
            (sub(1), MinorUnits::new(300)),
            (sub(2), MinorUnits::new(50)),
        ];
        let p = collection_postings(&shares);
        assert!(balanced(&p));
        assert_eq!(p[0].account, LedgerAccount::ProcessorClearing);
        assert_eq!(p[0].amount, MinorUnits::new(350));
        assert_eq!(p[1].amount, MinorUnits::new(-300));
        assert!(balanced(&reversal_postings(&shares)));
        assert!(balanced(&settlement_postings(MinorUnits::new(350))));
        assert_eq!(
            LedgerAccount::Receivable(sub(1)).code(),
            format!("receivable:{}", sub(1))
        );
    }

    #[test]
    fn a_disbursement_and_its_return_balance_and_cancel_out() {
        let paid = disbursement_postings(MinorUnits::new(2_500), false);
        let back = disbursement_postings(MinorUnits::new(2_500), true);
        assert!(balanced(&paid) && balanced(&back));
        assert_eq!(paid[0].account, LedgerAccount::Disbursements);
        assert_eq!(paid[0].amount, MinorUnits::new(2_500));
        assert_eq!(back[0].amount, MinorUnits::new(-2_500));
        assert_eq!(paid[1].amount, MinorUnits::new(-2_500));
        assert_eq!(LedgerAccount::Disbursements.code(), "disbursements");
    }
}
