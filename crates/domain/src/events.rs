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
        StatementAnalysisRequested => "statement_analysis.requested",
        StatementAnalysisCompleted => "statement_analysis.completed",
        StatementAnalysisRejected => "statement_analysis.rejected",
        /// IngoPay hosted sessions (seed 003): made, and how the recipient's visit ended.
        SessionCreated => "session.created",
        SessionTokenSuccess => "session.token_success",
        SessionFundingCanceled => "session.funding_canceled",
        SessionTerminalFailure => "session.terminal_failure",
        SessionMaxVerificationAttemptsExceeded => "session.max_verification_attempts_exceeded",
        /// IngoPay funding: money pushed to a `customer_account_token`.
        DisbursementSucceeded => "disbursement.succeeded",
        DisbursementFailed => "disbursement.failed",
        DisbursementReturned => "disbursement.returned",
        /// An endpoint was turned off: it answered 410 Gone, or failed for days on end.
        WebhookDisabled => "webhook.disabled",
    }
);

impl EventType {
    /// The type a subscription names: seed 001's definitions call the statement analysis
    /// events `analysis.*` where its examples say `statement_analysis.*`; both are accepted.
    pub fn parse_subscription(text: &str) -> Option<EventType> {
        match text.strip_prefix("analysis.") {
            Some(rest) => EventType::parse(&format!("statement_analysis.{rest}")),
            None => EventType::parse(text),
        }
    }
}

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

    #[test]
    fn subscriptions_accept_the_analysis_aliases() {
        assert_eq!(
            EventType::parse_subscription("analysis.completed"),
            Some(EventType::StatementAnalysisCompleted)
        );
        assert_eq!(
            EventType::parse_subscription("statement_analysis.rejected"),
            Some(EventType::StatementAnalysisRejected)
        );
        assert_eq!(EventType::parse_subscription("analysis.finished"), None);
        assert_eq!(EventType::parse("analysis.completed"), None);
    }
}
