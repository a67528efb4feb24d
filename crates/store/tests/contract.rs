//! The store contract: the same stories against SQLite, and against PostgreSQL when
//! `QUITTANCE_TEST_POSTGRES_URL` is set.

use chrono::{DateTime, Utc};
use quittance_domain::ids::{CredentialId, OrganizationId};
use quittance_domain::import::{ClientRef, ImportDocument, SubAccountImport};
use quittance_domain::receivables::{AccountHolder, AccountStatus};
use quittance_domain::{Currency, FieldError, MinorUnits};
use quittance_store::repo::accounts::{self, AccountFilter};
use quittance_store::repo::imports::{self, Change, ClientCache, ImportError};
use quittance_store::repo::{PageRequest, access, clients};
use quittance_store::testing::TestDatabase;
use quittance_store::{StoreError, Tx, params};

fn now() -> DateTime<Utc> {
    DateTime::from_timestamp(1_750_000_000, 0).expect("valid")
}

async fn organization(t: &TestDatabase, name: &'static str) -> OrganizationId {
    t.db.write(move |tx| Box::pin(access::ensure_organization(tx, name, now())))
        .await
        .expect("organization")
}

fn doc(number: &str, subs: &[(&str, &str)]) -> ImportDocument {
    ImportDocument {
        account_number: number.to_owned(),
        status: None,
        holder: AccountHolder {
            first_name: Some("Ann".into()),
            last_name: Some("Lee".into()),
            ..AccountHolder::default()
        },
        currency: Currency::USD,
        sub_accounts: subs
            .iter()
            .map(|(reference, amount)| SubAccountImport {
                reference: (*reference).to_owned(),
                client: Some(ClientRef {
                    client_number: "C-1".into(),
                    name: Some("Mercy Hospital".into()),
                }),
                original_balance: MinorUnits::parse(amount, Currency::USD).expect("amount"),
                balance: None,
                service_date: None,
                placement_date: None,
                description: None,
                status: None,
            })
            .collect(),
    }
}

async fn import(
    t: &TestDatabase,
    org: &OrganizationId,
    d: ImportDocument,
) -> Result<imports::DocumentOutcome, ImportError> {
    let org = org.clone();
    t.db.write(move |tx| {
        Box::pin(async move {
            imports::apply_document(tx, &org, &d, now(), &mut ClientCache::default()).await
        })
    })
    .await
}

#[tokio::test]
async fn organizations_are_created_once_by_name() {
    let t = TestDatabase::new().await;
    let a = organization(&t, "acme").await;
    assert_eq!(organization(&t, "acme").await, a);
    assert_ne!(organization(&t, "globex").await, a);
}

#[tokio::test]
async fn credentials_tokens_and_revocation() {
    let t = TestDatabase::new().await;
    let org = organization(&t, "acme").await;
    let cred = access::NewCredential {
        id: CredentialId::generate(),
        client_id: "qc_1".into(),
        client_secret_hash: "secret-hash".into(),
        api_key_hash: "key-hash".into(),
        api_key_hint: "qk_abcd".into(),
    };
    let (o, c) = (org.clone(), cred.clone());
    t.db.write(move |tx| {
        Box::pin(async move { access::insert_credential(tx, &o, &c, now()).await })
    })
    .await
    .expect("insert");

    let found =
        t.db.read(|tx| Box::pin(access::find_oauth_client(tx, "qc_1")))
            .await
            .expect("read")
            .expect("found");
    assert_eq!(found.client_secret_hash, "secret-hash");
    assert!(!found.revoked && found.locked_until.is_none());

    let id = cred.id.clone();
    t.db.write(move |tx| {
        Box::pin(async move {
            access::insert_token(
                tx,
                &id,
                "tok-hash",
                now(),
                now() + chrono::Duration::hours(1),
            )
            .await
        })
    })
    .await
    .expect("token");
    let p =
        t.db.read(|tx| Box::pin(access::authenticate_token(tx, "tok-hash", now())))
            .await
            .expect("read")
            .expect("valid");
    assert_eq!(p.organization_id, org);
    assert_eq!(p.organization_name, "acme");
    let later = now() + chrono::Duration::hours(2);
    let expired =
        t.db.read(move |tx| Box::pin(access::authenticate_token(tx, "tok-hash", later)))
            .await
            .expect("read");
    assert!(expired.is_none(), "an expired token authenticates nobody");
    assert!(
        t.db.read(|tx| Box::pin(access::authenticate_api_key(tx, "key-hash")))
            .await
            .expect("read")
            .is_some()
    );

    let id = cred.id.clone();
    t.db.write(move |tx| Box::pin(async move { access::revoke_credential(tx, &id, now()).await }))
        .await
        .expect("revoke");
    assert!(
        t.db.read(|tx| Box::pin(access::authenticate_api_key(tx, "key-hash")))
            .await
            .expect("read")
            .is_none()
    );
    assert!(
        t.db.read(|tx| Box::pin(access::authenticate_token(tx, "tok-hash", now())))
            .await
            .expect("read")
            .is_none()
    );
    let listed =
        t.db.read(|tx| Box::pin(access::list_credentials(tx)))
            .await
            .expect("list");
    assert_eq!(listed.len(), 1);
    assert!(listed[0].revoked_at.is_some());
    let unknown = CredentialId::generate();
    let missing =
        t.db.write(move |tx| {
            Box::pin(async move { access::revoke_credential(tx, &unknown, now()).await })
        })
        .await;
    assert!(matches!(missing, Err(StoreError::NotFound)));
}

#[tokio::test]
async fn ten_failures_in_the_window_lock_the_client() {
    let t = TestDatabase::new().await;
    let org = organization(&t, "acme").await;
    let cred = access::NewCredential {
        id: CredentialId::generate(),
        client_id: "qc_lock".into(),
        client_secret_hash: "h".into(),
        api_key_hash: "k".into(),
        api_key_hint: "qk_".into(),
    };
    let c = cred.clone();
    t.db.write(move |tx| {
        Box::pin(async move { access::insert_credential(tx, &org, &c, now()).await })
    })
    .await
    .expect("insert");
    let policy = access::LockoutPolicy {
        max_failures: 10,
        window: chrono::Duration::minutes(30),
        lock_for: chrono::Duration::minutes(30),
    };
    for attempt in 1..=10 {
        let id = cred.id.clone();
        let at = now() + chrono::Duration::seconds(attempt);
        let locked =
            t.db.write(move |tx| {
                Box::pin(async move { access::record_auth_failure(tx, &id, at, policy).await })
            })
            .await
            .expect("failure");
        assert_eq!(locked.is_some(), attempt == 10, "attempt {attempt}");
    }
    let found =
        t.db.read(|tx| Box::pin(access::find_oauth_client(tx, "qc_lock")))
            .await
            .expect("read")
            .expect("found");
    assert_eq!(
        found.locked_until,
        Some(now() + chrono::Duration::seconds(10) + chrono::Duration::minutes(30))
    );
}

#[tokio::test]
async fn failures_outside_the_window_do_not_count() {
    let t = TestDatabase::new().await;
    let org = organization(&t, "acme").await;
    let id = CredentialId::generate();
    let cred = access::NewCredential {
        id: id.clone(),
        client_id: "qc_w".into(),
        client_secret_hash: "h".into(),
        api_key_hash: "k".into(),
        api_key_hint: "qk_".into(),
    };
    t.db.write(move |tx| {
        Box::pin(async move { access::insert_credential(tx, &org, &cred, now()).await })
    })
    .await
    .expect("insert");
    let policy = access::LockoutPolicy {
        max_failures: 10,
        window: chrono::Duration::minutes(30),
        lock_for: chrono::Duration::minutes(30),
    };
    for attempt in 0..20 {
        let id = id.clone();
        // One failure every four minutes: never ten within thirty minutes.
        let at = now() + chrono::Duration::minutes(4 * attempt);
        let locked =
            t.db.write(move |tx| {
                Box::pin(async move { access::record_auth_failure(tx, &id, at, policy).await })
            })
            .await
            .expect("failure");
        assert!(locked.is_none(), "attempt {attempt}");
    }
}

#[tokio::test]
async fn import_creates_then_is_a_no_op_then_updates() {
    let t = TestDatabase::new().await;
    let org = organization(&t, "acme").await;
    let first = import(&t, &org, doc("A-1", &[("V1", "100.25"), ("V2", "50")]))
        .await
        .expect("import");
    assert_eq!(first.account, Change::Created);
    assert_eq!(first.sub_accounts_with(Change::Created), 2);

    let again = import(&t, &org, doc("A-1", &[("V1", "100.25"), ("V2", "50")]))
        .await
        .expect("re-import");
    assert!(again.is_unchanged(), "{again:?}");
    assert_eq!(again.account_id, first.account_id);

    let mut changed = doc("A-1", &[("V2", "60"), ("V3", "1")]);
    changed.holder.last_name = Some("Park".into());
    let third = import(&t, &org, changed).await.expect("update");
    assert_eq!(third.account, Change::Updated);
    assert_eq!(
        third.sub_accounts,
        vec![
            (third.sub_accounts[0].0.clone(), Change::Updated),
            (third.sub_accounts[1].0.clone(), Change::Created)
        ]
    );

    let (o, id) = (org.clone(), first.account_id.clone());
    let account =
        t.db.read(move |tx| Box::pin(async move { accounts::get_account(tx, &o, &id).await }))
            .await
            .expect("get");
    // V2's original balance moved to 60.00, but with no `balance` given its current balance
    // (which payments may already have lowered) stays at 50.00.
    assert_eq!(
        account.balance,
        MinorUnits::new(10025 + 5000 + 100),
        "balance is the sum of the sub-accounts"
    );
    let (o, sub) = (org.clone(), third.sub_accounts[0].0.clone());
    let v2 =
        t.db.read(move |tx| Box::pin(async move { accounts::get_sub_account(tx, &o, &sub).await }))
            .await
            .expect("get");
    assert_eq!(
        (v2.original_balance, v2.balance),
        (MinorUnits::new(6000), MinorUnits::new(5000))
    );
    assert_eq!(account.holder.last_name.as_deref(), Some("Park"));
    assert_eq!(
        account.holder.first_name.as_deref(),
        Some("Ann"),
        "fields left out are kept"
    );

    let o = org.clone();
    let found =
        t.db.read(move |tx| {
            Box::pin(async move { clients::find_client_by_number(tx, &o, "C-1").await })
        })
        .await
        .expect("read");
    assert_eq!(
        found.map(|c| c.name),
        Some("Mercy Hospital".to_owned()),
        "the client was created once by number"
    );
}

#[tokio::test]
async fn a_failing_document_leaves_nothing_behind() {
    let t = TestDatabase::new().await;
    let org = organization(&t, "acme").await;
    import(&t, &org, doc("A-1", &[("V1", "10")]))
        .await
        .expect("import");
    let mut euro = doc("A-1", &[("V9", "5")]);
    euro.currency = Currency::from_code("EUR").expect("known");
    euro.sub_accounts[0].client = Some(ClientRef {
        client_number: "NEW".into(),
        name: None,
    });
    let err = import(&t, &org, euro).await.expect_err("currency mismatch");
    assert!(
        matches!(&err, ImportError::Field(FieldError { field, .. }) if field == "currency"),
        "{err:?}"
    );
    let o = org.clone();
    let client =
        t.db.read(move |tx| {
            Box::pin(async move { clients::find_client_by_number(tx, &o, "NEW").await })
        })
        .await
        .expect("read");
    assert!(
        client.is_none(),
        "nothing of the refused document was written"
    );
}

#[tokio::test]
async fn listing_filters_paginates_and_counts() {
    let t = TestDatabase::new().await;
    let org = organization(&t, "acme").await;
    let other = organization(&t, "globex").await;
    for i in 0..7 {
        let mut d = doc(&format!("A-{i}"), &[("V1", "1")]);
        d.holder.last_name = Some(if i % 2 == 0 {
            "Smith".into()
        } else {
            "Jones".into()
        });
        import(&t, &org, d).await.expect("import");
    }
    import(&t, &other, doc("B-1", &[("V1", "1")]))
        .await
        .expect("import");

    let list = |filter: AccountFilter, number: i64| {
        let org = org.clone();
        let db = t.db.clone();
        async move {
            db.read(move |tx| {
                Box::pin(async move {
                    accounts::list_accounts(
                        tx,
                        &org,
                        &filter,
                        PageRequest {
                            number,
                            per_page: 3,
                        },
                    )
                    .await
                })
            })
            .await
            .expect("list")
        }
    };
    let page1 = list(AccountFilter::default(), 1).await;
    assert_eq!(
        page1.total, 7,
        "the other organization's account is not counted"
    );
    assert_eq!(
        page1
            .items
            .iter()
            .map(|a| a.account_number.as_str())
            .collect::<Vec<_>>(),
        ["A-0", "A-1", "A-2"]
    );
    let page3 = list(AccountFilter::default(), 3).await;
    assert_eq!(page3.items.len(), 1);
    let smiths = list(
        AccountFilter {
            last_name: Some("sMiTh".into()),
            ..AccountFilter::default()
        },
        1,
    )
    .await;
    assert_eq!(smiths.total, 4, "last name matches without regard to case");
    let one = list(
        AccountFilter {
            account_number: Some("A-3".into()),
            ..AccountFilter::default()
        },
        1,
    )
    .await;
    assert_eq!(one.total, 1);
    let closed = list(
        AccountFilter {
            status: Some(AccountStatus::Closed),
            ..AccountFilter::default()
        },
        1,
    )
    .await;
    assert_eq!(closed.total, 0);
    let o = org.clone();
    let client =
        t.db.read(move |tx| {
            Box::pin(async move { clients::find_client_by_number(tx, &o, "C-1").await })
        })
        .await
        .expect("read")
        .expect("client");
    let by_client = list(
        AccountFilter {
            client_id: Some(client.id),
            ..AccountFilter::default()
        },
        1,
    )
    .await;
    assert_eq!(by_client.total, 7);
}

#[tokio::test]
async fn another_organizations_records_are_not_found() {
    let t = TestDatabase::new().await;
    let org = organization(&t, "acme").await;
    let other = organization(&t, "globex").await;
    let outcome = import(&t, &org, doc("A-1", &[("V1", "1")]))
        .await
        .expect("import");
    let (o, id) = (other.clone(), outcome.account_id.clone());
    let err =
        t.db.read(move |tx| Box::pin(async move { accounts::get_account(tx, &o, &id).await }))
            .await;
    assert!(matches!(err, Err(StoreError::NotFound)));
    let (o, sub) = (other.clone(), outcome.sub_accounts[0].0.clone());
    let err =
        t.db.read(move |tx| Box::pin(async move { accounts::get_sub_account(tx, &o, &sub).await }))
            .await;
    assert!(matches!(err, Err(StoreError::NotFound)));
    let (o, id) = (other.clone(), outcome.account_id.clone());
    let err =
        t.db.write(move |tx| Box::pin(async move { accounts::delete_account(tx, &o, &id).await }))
            .await;
    assert!(matches!(err, Err(StoreError::NotFound)));
}

#[tokio::test]
async fn deleting_an_account_removes_its_sub_accounts_and_count() {
    let t = TestDatabase::new().await;
    let org = organization(&t, "acme").await;
    let outcome = import(&t, &org, doc("A-1", &[("V1", "1"), ("V2", "2")]))
        .await
        .expect("import");
    let (o, id) = (org.clone(), outcome.account_id.clone());
    t.db.write(move |tx| Box::pin(async move { accounts::delete_account(tx, &o, &id).await }))
        .await
        .expect("delete");
    let o = org.clone();
    let page =
        t.db.read(move |tx| {
            Box::pin(async move {
                accounts::list_accounts(
                    tx,
                    &o,
                    &AccountFilter::default(),
                    PageRequest {
                        number: 1,
                        per_page: 50,
                    },
                )
                .await
            })
        })
        .await
        .expect("list");
    assert_eq!((page.total, page.items.len()), (0, 0));
    let (o, sub) = (org.clone(), outcome.sub_accounts[0].0.clone());
    let gone =
        t.db.read(move |tx| Box::pin(async move { accounts::get_sub_account(tx, &o, &sub).await }))
            .await;
    assert!(matches!(gone, Err(StoreError::NotFound)));
}

#[tokio::test]
async fn a_taken_unique_key_is_a_conflict() {
    let t = TestDatabase::new().await;
    let org = organization(&t, "acme").await;
    let o = org.clone();
    t.db.write(move |tx| Box::pin(insert_client_c9(tx, o)))
        .await
        .expect("first");
    let o = org.clone();
    assert!(matches!(
        t.db.write(move |tx| Box::pin(insert_client_c9(tx, o)))
            .await,
        Err(StoreError::Conflict(_))
    ));
}

async fn insert_client_c9(
    tx: &mut dyn Tx,
    organization_id: OrganizationId,
) -> Result<(), StoreError> {
    let c = quittance_domain::receivables::Client {
        id: quittance_domain::ids::ClientId::generate(),
        organization_id,
        client_number: "C-9".into(),
        name: "x".into(),
        email: None,
        phone: None,
        status: quittance_domain::receivables::ClientStatus::Active,
        created_at: now(),
        updated_at: now(),
    };
    clients::insert_client(tx, &c).await
}

#[tokio::test]
async fn concurrent_writes_all_commit_and_a_failing_one_rolls_back_alone() {
    let t = TestDatabase::new().await;
    let org = organization(&t, "acme").await;
    let mut tasks = Vec::new();
    for i in 0..64 {
        let db = t.db.clone();
        let org = org.clone();
        tasks.push(tokio::spawn(async move {
            db.write(move |tx| {
                Box::pin(async move {
                    let outcome = imports::apply_document(
                        tx,
                        &org,
                        &doc(&format!("P-{i}"), &[("V", "1")]),
                        now(),
                        &mut ClientCache::default(),
                    )
                    .await?;
                    if i % 8 == 0 {
                        // Fails after writing: its writes must vanish, its neighbours' must not.
                        return Err(ImportError::Field(FieldError::new("x", "refused")));
                    }
                    Ok(outcome)
                })
            })
            .await
        }));
    }
    let mut ok = 0;
    for task in tasks {
        if task.await.expect("task").is_ok() {
            ok += 1;
        }
    }
    assert_eq!(ok, 56);
    let o = org.clone();
    let page =
        t.db.read(move |tx| {
            Box::pin(async move {
                accounts::list_accounts(
                    tx,
                    &o,
                    &AccountFilter::default(),
                    PageRequest {
                        number: 1,
                        per_page: 100,
                    },
                )
                .await
            })
        })
        .await
        .expect("list");
    assert_eq!(page.total, 56);
    assert_eq!(page.items.len(), 56);
    assert!(
        page.items
            .iter()
            .all(|a| !a.account_number.ends_with("-0") && a.account_number != "P-8")
    );
}

#[tokio::test]
async fn a_stored_value_that_cannot_be_decoded_is_an_error_not_absence() {
    let t = TestDatabase::new().await;
    let org = organization(&t, "acme").await;
    let outcome = import(&t, &org, doc("A-1", &[("V1", "1")]))
        .await
        .expect("import");
    let id = outcome.account_id.clone();
    t.db.write(move |tx| {
        Box::pin(async move {
            tx.execute(
                "UPDATE accounts SET status = 'bogus' WHERE id = $1",
                &params![id.as_str()],
            )
            .await
        })
    })
    .await
    .expect("corrupt");
    let (o, id) = (org.clone(), outcome.account_id.clone());
    let err =
        t.db.read(move |tx| Box::pin(async move { accounts::get_account(tx, &o, &id).await }))
            .await;
    assert!(matches!(err, Err(StoreError::Decode(_))), "{err:?}");
}

#[tokio::test]
async fn migrating_twice_applies_nothing_the_second_time() {
    let t = TestDatabase::new().await;
    assert!(
        quittance_store::migrate(&t.db)
            .await
            .expect("migrate")
            .is_empty()
    );
    t.db.ping().await.expect("ping");
}

#[tokio::test]
async fn housekeeping_purges_expired_tokens_and_fails_stalled_imports_only() {
    let t = TestDatabase::new().await;
    let org = organization(&t, "acme").await;
    let cred = access::NewCredential {
        id: CredentialId::generate(),
        client_id: "qc_h".into(),
        client_secret_hash: "h".into(),
        api_key_hash: "k".into(),
        api_key_hint: "qk_".into(),
    };
    let (o, c) = (org.clone(), cred.clone());
    t.db.write(move |tx| {
        Box::pin(async move {
            access::insert_credential(tx, &o, &c, now()).await?;
            access::insert_token(
                tx,
                &c.id,
                "old",
                now(),
                now() + chrono::Duration::minutes(5),
            )
            .await?;
            access::insert_token(tx, &c.id, "new", now(), now() + chrono::Duration::hours(2)).await
        })
    })
    .await
    .expect("tokens");
    let later = now() + chrono::Duration::hours(1);
    let purged =
        t.db.write(move |tx| Box::pin(access::purge_expired_tokens(tx, later)))
            .await
            .expect("purge");
    assert_eq!(purged, 1);
    assert!(
        t.db.read(move |tx| Box::pin(access::authenticate_token(tx, "new", later)))
            .await
            .expect("read")
            .is_some()
    );

    use quittance_domain::ids::ImportId;
    use quittance_domain::import::{ImportFormat, ImportStatus};
    let (stalled, fresh) = (ImportId::generate(), ImportId::generate());
    let (o, s, f) = (org.clone(), stalled.clone(), fresh.clone());
    t.db.write(move |tx| {
        Box::pin(async move {
            imports::insert_import(tx, &o, &s, ImportFormat::Csv, now()).await?;
            imports::insert_import(
                tx,
                &o,
                &f,
                ImportFormat::Csv,
                now() + chrono::Duration::minutes(9),
            )
            .await
        })
    })
    .await
    .expect("jobs");
    let sweep_at = now() + chrono::Duration::minutes(10);
    let failed =
        t.db.write(move |tx| {
            Box::pin(imports::fail_interrupted_imports(
                tx,
                sweep_at - chrono::Duration::minutes(5),
                sweep_at,
            ))
        })
        .await
        .expect("sweep");
    assert_eq!(
        failed,
        vec![(stalled.clone(), ImportFormat::Csv)],
        "only the job silent for more than five minutes"
    );
    let (o, s, f) = (org.clone(), stalled.clone(), fresh.clone());
    let (a, b) =
        t.db.read(move |tx| {
            Box::pin(async move {
                Ok::<_, StoreError>((
                    imports::get_import(tx, &o, &s).await?,
                    imports::get_import(tx, &o, &f).await?,
                ))
            })
        })
        .await
        .expect("read");
    assert_eq!(
        (a.status, b.status),
        (ImportStatus::Failed, ImportStatus::Running)
    );
    assert!(a.error.is_some_and(|e| e.contains("idempotent")));
}

#[tokio::test]
async fn a_new_sqlite_data_directory_and_database_are_owner_only() {
    use quittance_store::{DatabaseLocation, Db, SQLITE_FILE_NAME};
    use std::os::unix::fs::PermissionsExt as _;
    let root = tempfile::tempdir().expect("dir");
    let data = root.path().join("quittance-data");
    let db = Db::open(&DatabaseLocation::Sqlite(data.join(SQLITE_FILE_NAME)))
        .await
        .expect("open");
    quittance_store::migrate(&db).await.expect("migrate");
    let mode =
        |p: &std::path::Path| std::fs::metadata(p).expect("exists").permissions().mode() & 0o777;
    assert_eq!(mode(&data), 0o700);
    assert_eq!(mode(&data.join(SQLITE_FILE_NAME)), 0o600);
    assert_eq!(
        mode(&data.join("quittance.db-wal")),
        0o600,
        "SQLite gives the WAL the database's mode"
    );
    db.close().await;
}

#[tokio::test]
async fn events_are_listed_oldest_first_with_a_cursor_and_filters() {
    use quittance_domain::events::EventType;
    use quittance_store::repo::events::{self, EventFilter};
    let t = TestDatabase::new().await;
    let org = organization(&t, "acme").await;
    let other = organization(&t, "globex").await;
    let (o, x) = (org.clone(), other.clone());
    t.db.write(move |tx| {
        Box::pin(async move {
            for minute in 0..5 {
                let kind = if minute == 4 {
                    EventType::MasterAccountDeleted
                } else {
                    EventType::MasterAccountChanged
                };
                events::insert_event(
                    tx,
                    &o,
                    kind,
                    &format!(r#"{{"n":{minute}}}"#),
                    now() + chrono::Duration::minutes(minute),
                )
                .await?;
            }
            events::insert_event(tx, &x, EventType::MasterAccountChanged, "{}", now())
                .await
                .map(drop)
        })
    })
    .await
    .expect("events");
    let list = |filter: EventFilter, limit: i64| {
        let (db, org) = (t.db.clone(), org.clone());
        async move {
            db.read(move |tx| {
                Box::pin(async move { events::list_events(tx, &org, &filter, limit).await })
            })
            .await
            .expect("list")
        }
    };
    let (first, more) = list(EventFilter::default(), 3).await;
    assert_eq!(
        (first.len(), more),
        (3, true),
        "another organization's event is not listed"
    );
    assert_eq!(first[0].data, r#"{"n":0}"#);
    let (rest, more) = list(
        EventFilter {
            after: Some(first[2].id.clone()),
            ..EventFilter::default()
        },
        3,
    )
    .await;
    assert_eq!((rest.len(), more), (2, false));
    assert_eq!(rest[0].data, r#"{"n":3}"#);
    let (deleted, _) = list(
        EventFilter {
            event_type: Some(EventType::MasterAccountDeleted),
            ..EventFilter::default()
        },
        10,
    )
    .await;
    assert_eq!(deleted.len(), 1);
    let window = EventFilter {
        since: Some(now() + chrono::Duration::minutes(1)),
        until: Some(now() + chrono::Duration::minutes(2)),
        ..EventFilter::default()
    };
    assert_eq!(list(window, 10).await.0.len(), 2);
    let (o, id) = (other.clone(), first[0].id.clone());
    let foreign =
        t.db.read(move |tx| Box::pin(async move { events::get_event(tx, &o, &id).await }))
            .await;
    assert!(matches!(foreign, Err(StoreError::NotFound)));
}

/// On PostgreSQL: a URL that requires TLS, or requires and verifies it against a CA, connects,
/// and the session really is encrypted. (SQLite has no connection to encrypt.)
#[tokio::test]
async fn postgres_urls_can_require_and_verify_tls() {
    use quittance_store::{DatabaseLocation, Db};
    let (Ok(url), Ok(ca)) = (
        std::env::var("QUITTANCE_TEST_POSTGRES_URL"),
        std::env::var("QUITTANCE_TEST_POSTGRES_CA"),
    ) else {
        eprintln!(
            "not on PostgreSQL with TLS (scripts/with-postgres sets it up): nothing to check"
        );
        return;
    };
    for query in [
        "sslmode=require".to_owned(),
        format!("sslmode=verify-full&sslrootcert={ca}"),
    ] {
        let db = Db::open(&DatabaseLocation::Postgres(format!("{url}?{query}")))
            .await
            .expect(&query);
        let encrypted = db
            .read(|tx| {
                Box::pin(async move {
                    tx.query_one(
                        "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
                        &[],
                    )
                    .await?
                    .bool(0)
                })
            })
            .await
            .expect("pg_stat_ssl");
        assert!(encrypted, "{query}: the session is not encrypted");
        db.close().await;
    }
}

#[tokio::test]
async fn webhook_numbers_given_before_they_were_per_organization_are_kept_and_counted_on() {
    use quittance_domain::ids::WebhookId;
    use quittance_domain::webhooks::{PayloadFormat, RequestMethod, RetryPolicy, WebhookApi};
    use quittance_store::repo::webhooks::{self, WebhookRecord};
    // The database as it was when one sequence numbered every organization's webhooks.
    let t = TestDatabase::migrated_to(9).await;
    let (acme, globex) = (
        organization(&t, "acme").await,
        organization(&t, "globex").await,
    );
    let webhook = |org: &OrganizationId, number: i64| WebhookRecord {
        id: WebhookId::generate(),
        number: Some(number),
        organization_id: org.clone(),
        api: WebhookApi::IsoAmp,
        url: format!("https://example.com/{number}"),
        method: RequestMethod::Post,
        format: PayloadFormat::Json,
        event_types: vec!["statement_analysis.completed".into()],
        access_setup_id: None,
        enabled: true,
        disabled_reason: None,
        retry: RetryPolicy::default(),
        sealed_secret: "k1:sealed".into(),
        sealed_previous_secret: None,
        previous_secret_expires_at: None,
        failing_since: None,
        expires_at: None,
        created_at: now(),
        updated_at: now(),
    };
    let old = [
        webhook(&acme, 1001),
        webhook(&globex, 1002),
        webhook(&acme, 1003),
    ];
    let stored = old.clone();
    t.db.write(move |tx| {
        Box::pin(async move {
            for w in &stored {
                webhooks::insert_webhook(tx, w, &[]).await?;
            }
            tx.execute(
                "UPDATE counters SET value = 1003 WHERE name = 'iso_amp_webhook'",
                &[],
            )
            .await?;
            Ok::<_, StoreError>(())
        })
    })
    .await
    .expect("old webhooks");

    let applied = quittance_store::migrate(&t.db).await.expect("migrate");
    assert!(
        applied.contains(&"0010_webhook_numbers_per_organization"),
        "{applied:?}"
    );
    let (a, g) = (acme.clone(), globex.clone());
    let (kept, next) =
        t.db.write(move |tx| {
            Box::pin(async move {
                let mut kept = Vec::new();
                for (org, number) in [(&a, 1001), (&g, 1002), (&a, 1003)] {
                    kept.push(webhooks::get_webhook_by_number(tx, org, number).await?);
                }
                let newcomer = access::ensure_organization(tx, "initech", now()).await?;
                let next = [
                    webhooks::next_iso_amp_number(tx, &a).await?,
                    webhooks::next_iso_amp_number(tx, &g).await?,
                    webhooks::next_iso_amp_number(tx, &newcomer).await?,
                    webhooks::next_iso_amp_number(tx, &newcomer).await?,
                ];
                Ok::<_, StoreError>((kept, next))
            })
        })
        .await
        .expect("after the migration");
    assert_eq!(
        kept,
        old.to_vec(),
        "every webhook kept whole, under its number"
    );
    assert_eq!(
        next,
        [1004, 1003, 1001, 1002],
        "each organization counts on from its own highest"
    );
    // The same number may now be given in two organizations, never twice in one.
    for (w, allowed) in [
        (webhook(&globex, 1001), true),
        (webhook(&acme, 1001), false),
    ] {
        let outcome = t
            .db
            .write(move |tx| Box::pin(async move { webhooks::insert_webhook(tx, &w, &[]).await }))
            .await;
        assert_eq!(outcome.is_ok(), allowed, "{outcome:?}");
    }
}

#[tokio::test]
async fn a_restore_checks_the_copy_and_never_writes_over_a_database() {
    use quittance_store::DatabaseLocation;
    use quittance_store::backup::{backup_sqlite, restore_sqlite};
    let t = TestDatabase::new().await;
    let DatabaseLocation::Sqlite(database) = t.location.clone() else {
        return; // PostgreSQL is backed up with its own tools.
    };
    let dir = t.dir.path();
    let copy = dir.join("copy.db");
    let copied = backup_sqlite(&database, &copy).expect("backup");
    assert_eq!(copied.migration, quittance_store::MIGRATIONS.len() as i64);
    assert!(
        !dir.join("copy.db.partial").exists(),
        "nothing left beside the copy"
    );

    let refused = restore_sqlite(&copy, &database).expect_err("over the live database");
    assert!(refused.to_string().contains("already exists"), "{refused}");
    let garbage = dir.join("garbage.db");
    std::fs::write(&garbage, b"not a database at all, just bytes").expect("write");
    let refused =
        restore_sqlite(&garbage, &dir.join("a").join("quittance.db")).expect_err("garbage");
    assert!(
        refused.to_string().contains("not a Quittance database"),
        "{refused}"
    );
    assert!(!dir.join("a").join("quittance.db").exists());

    // A copy made by a newer Quittance.
    t.db.write(|tx| {
        Box::pin(async move {
            tx.execute(
                "INSERT INTO quittance_migrations (version, name, applied_at) VALUES (999, 'future', 0)",
                &[],
            )
            .await
        })
    })
    .await
    .expect("future migration");
    let newer = dir.join("newer.db");
    backup_sqlite(&database, &newer).expect("backup");
    let refused = restore_sqlite(&newer, &dir.join("b").join("quittance.db")).expect_err("newer");
    assert!(refused.to_string().contains("newer Quittance"), "{refused}");

    let restored = dir.join("c").join("quittance.db");
    assert_eq!(restore_sqlite(&copy, &restored).expect("restore"), copied);
}
