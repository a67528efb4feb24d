//! `plans`: one scheduler round on 100,000 due installments, beside `POST /v1/payments`.

use crate::Options;
use crate::import::generate_csv;
use crate::payments::{drive_payments, payment_targets};
use crate::support::{backend_name, bench_database, serve_on};
use quittance_domain::ids::ImportId;
use quittance_domain::import::ImportFormat;
use quittance_domain::{Clock, SystemClock};
use quittance_services::bulk_import::{self, Progress};
use quittance_services::credentials::issue_credentials;
use quittance_store::repo::imports;
use std::sync::Arc;
use std::time::Instant;

/// `plans` active payment plans, each with one installment due now, written straight to the
/// store (accounts through the bulk import); then one scheduler round charges them all,
/// through the same payment path as the API. Beside it, in the same run, `POST /v1/payments`
/// for `--seconds` with 64 connections.
pub async fn plans_bench(options: &Options) -> Result<(), String> {
    use quittance_domain::ids::{InstallmentId, PaymentMethodId, PaymentPlanId, SubAccountId};
    use quittance_domain::instruments::{CardBrand, MethodType};
    use quittance_domain::plans::{Frequency, InstallmentStatus, PlanStatus};
    use quittance_domain::{Currency, MinorUnits};
    use quittance_store::repo::payment_methods::{StoredPaymentMethod, insert_payment_method};
    use quittance_store::repo::plans::{
        InstallmentRecord, PlanRecord, hold_sub_accounts, insert_plan,
    };
    let plans = if options.accounts == 0 {
        100_000
    } else {
        options.accounts
    };
    let work = tempfile::tempdir().map_err(|e| e.to_string())?;
    let (db, _keep) = bench_database(work.path()).await?;
    println!(
        "\n## Plan scheduler: {plans} active plans with an installment due now ({})",
        backend_name(&db)
    );
    let csv = work.path().join("plans.csv");
    generate_csv(&csv, plans, 1)?;
    let (served, state) = serve_on(db.clone(), work.path()).await?;
    let issued = issue_credentials(&db, &state.hasher, "bench", SystemClock.now())
        .await
        .map_err(|e| e.to_string())?;
    let org = issued.organization_id.clone();
    let id = ImportId::generate();
    let (job, job_org, now) = (id.clone(), org.clone(), SystemClock.now());
    db.write(move |tx| {
        Box::pin(
            async move { imports::insert_import(tx, &job_org, &job, ImportFormat::Csv, now).await },
        )
    })
    .await
    .map_err(|e| e.to_string())?;
    bulk_import::run(
        &db,
        &org,
        &id,
        &csv,
        ImportFormat::Csv,
        Arc::new(SystemClock),
        Arc::new(Progress::default()),
    )
    .await?;
    let o = org.clone();
    let rows = db
        .read(move |tx| {
            Box::pin(async move {
                tx.query(
                    "SELECT a.id, s.id, s.balance FROM accounts a JOIN sub_accounts s ON s.account_id = a.id
                     WHERE a.organization_id = $1 AND s.balance > 0",
                    &quittance_store::params![o.as_str()],
                )
                .await
            })
        })
        .await
        .map_err(|e| e.to_string())?;
    let started = Instant::now();
    let mut made = 0usize;
    for chunk in rows.chunks(1000) {
        let mut batch = Vec::with_capacity(chunk.len());
        for r in chunk {
            let account =
                quittance_domain::ids::AccountId::parse(r.str(0).map_err(|e| e.to_string())?)
                    .ok_or("bad account id")?;
            let sub =
                SubAccountId::parse(r.str(1).map_err(|e| e.to_string())?).ok_or("bad sub id")?;
            let amount = MinorUnits::new((r.i64(2).map_err(|e| e.to_string())? / 2).clamp(1, 1000));
            let method_id = PaymentMethodId::generate();
            let method = StoredPaymentMethod {
                id: method_id.clone(),
                organization_id: org.clone(),
                account_id: account.clone(),
                method_type: MethodType::Card,
                brand: Some(CardBrand::Visa),
                last4: "4242".into(),
                exp_month: Some(12),
                exp_year: Some(2035),
                holder_name: "Bench".into(),
                billing_zip: None,
                routing_number: None,
                account_type: None,
                number: state.vault.seal(method_id.as_str(), "4242424242424242"),
                created_at: now,
            };
            let plan_id = PaymentPlanId::generate();
            let plan = PlanRecord {
                id: plan_id.clone(),
                organization_id: org.clone(),
                account_id: account,
                payment_method_id: method_id,
                status: PlanStatus::Active,
                currency: Currency::from_code("USD").ok_or("currency")?,
                total_amount: MinorUnits::new(amount.get() * 2),
                installment_amount: None,
                installment_count: Some(2),
                frequency: Frequency::Monthly,
                start_date: now.date_naive(),
                down_payment: None,
                missed: 0,
                sub_account_ids: vec![sub],
                created_at: now,
                updated_at: now,
            };
            // Two installments: one due now, the next in a month (the plan goes on).
            let due = |seq: i64, days: i64| InstallmentRecord {
                id: InstallmentId::generate(),
                plan_id: plan_id.clone(),
                seq,
                kind: "installment".into(),
                due_date: (now + chrono::Duration::days(days)).date_naive(),
                due_at: now + chrono::Duration::days(days),
                amount,
                status: InstallmentStatus::Scheduled,
                attempts: 0,
                payment_id: None,
                updated_at: now,
            };
            let installments = vec![due(1, 0), due(2, 30)];
            batch.push((method, plan, installments));
        }
        made += batch.len();
        db.write(move |tx| {
            Box::pin(async move {
                for (method, plan, installments) in &batch {
                    insert_payment_method(tx, method).await?;
                    insert_plan(tx, plan, installments).await?;
                    hold_sub_accounts(tx, plan).await?;
                }
                Ok::<_, quittance_store::StoreError>(())
            })
        })
        .await
        .map_err(|e| e.to_string())?;
    }
    println!(
        "set up {made} plans in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let started = Instant::now();
    let round = quittance_services::scheduler::run_due(&state, None)
        .await
        .map_err(|e| e.message().to_owned())?;
    let elapsed = started.elapsed();
    let key = issued.api_key.expose().to_owned();
    let targets = Arc::new(payment_targets(&served.base, &key, options.concurrency).await?);
    let (api_rate, _) = drive_payments(
        &served.base,
        &key,
        targets,
        options.concurrency,
        options.seconds,
        None,
        "api",
    )
    .await?;
    let rate = round.paid as f64 / elapsed.as_secs_f64();
    if round.paid < made {
        return Err(format!(
            "only {} of {made} installments were paid: {round:?}",
            round.paid
        ));
    }
    println!(
        "scheduler: {} of {made} installments paid in {:.1} s = {rate:.0} installments/s (goal ≥ POST /v1/payments in the same run: {api_rate:.0}/s; measured {:.2}×)",
        round.paid,
        elapsed.as_secs_f64(),
        rate / api_rate
    );
    Ok(())
}
