//! The event log's types. Names follow seed 001's examples (`statement_analysis.completed`);
//! types are added here as the parts that emit them arrive.

status_enum!(
    /// What happened.
    EventType {
        MasterAccountChanged => "master_account.changed",
        MasterAccountDeleted => "master_account.deleted",
        PaymentInitiated => "payment.initiated",
        PaymentApproved => "payment.approved",
        PaymentDeclined => "payment.declined",
        PaymentVoided => "payment.voided",
        PaymentRefunded => "payment.refunded",
        PaymentReturned => "payment.returned",
        PaymentChargeback => "payment.chargeback",
        PaymentSettled => "payment.settled",
        PaymentError => "payment.error",
        PaymentPlanCreated => "payment_plan.created",
        PaymentPlanActivated => "payment_plan.activated",
        PaymentPlanChanged => "payment_plan.changed",
        PaymentPlanCanceled => "payment_plan.canceled",
        PaymentPlanCompleted => "payment_plan.completed",
        PaymentPlanDefaulted => "payment_plan.defaulted",
        PaymentPlanInstallmentPaid => "payment_plan.installment_paid",
        PaymentPlanInstallmentFailed => "payment_plan.installment_failed",
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_types_use_the_dotted_names() {
        assert_eq!(
            EventType::MasterAccountChanged.as_str(),
            "master_account.changed"
        );
        assert_eq!(
            EventType::parse("master_account.deleted"),
            Some(EventType::MasterAccountDeleted)
        );
        assert_eq!(EventType::parse("master_account"), None);
    }
}
