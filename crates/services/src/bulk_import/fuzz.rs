//! Fuzzing of the import rows (see `crate::fuzzing`): CSV and NDJSON files built from the
//! columns, values and delimiters the readers look for, and arbitrary bytes. Neither reader
//! panics, every line is counted once (read as a document or rejected), and no rejection
//! repeats a value from the file.

use super::*;
use crate::fuzzing::{for_a_while, text_of};
use proptest::prelude::*;
use proptest::test_runner::TestCaseResult;

/// Long digit runs in the cells, as card and bank account numbers would be.
const SECRETS: &[&str] = &["86420975318642", "5555555555554444", "73198246"];

const CELL_TOKENS: &[&str] = &[
    "86420975318642",
    "5555555555554444",
    "73198246",
    "A-1",
    "A-2",
    "V-1",
    "125.50",
    "-1",
    "1e3",
    "0.001",
    "2026-01-31",
    "2026-02-30",
    "x@example.com",
    "not-an-email",
    "USD",
    "JPY",
    "ZZZ",
    "open",
    "closed",
    "\"",
    "\"\"",
    ",",
    "\n",
    "\r\n",
    " ",
    "\u{feff}",
];

type Reader = fn(&[u8], &mpsc::Sender<Result<Chunk, String>>) -> Result<(), String>;

/// Reads `input` with `parse` and gathers its chunks: (rows read, documents' rows,
/// rejections), or the file's error.
fn read_all(input: &[u8], parse: Reader) -> Result<(i64, i64, Vec<Rejection>), String> {
    let (sender, mut receiver) = mpsc::channel(1024);
    parse(input, &sender)?;
    drop(sender);
    let (mut rows, mut documents, mut rejections) = (0, 0, Vec::new());
    while let Ok(chunk) = receiver.try_recv() {
        let chunk = chunk?;
        rows += chunk.rows_read;
        documents += chunk
            .documents
            .iter()
            .map(|d| i64::try_from(d.row_numbers.len()).unwrap_or(0))
            .sum::<i64>();
        rejections.extend(chunk.rejections);
    }
    Ok((rows, documents, rejections))
}

fn nothing_echoed(rejections: &[Rejection], error: Option<&str>) -> TestCaseResult {
    let texts = rejections
        .iter()
        .flat_map(|r| [Some(r.reason.as_str()), r.field.as_deref()])
        .chain([error])
        .flatten();
    for text in texts {
        for secret in SECRETS {
            prop_assert!(!text.contains(secret), "{:?} echoed in {:?}", secret, text);
        }
    }
    Ok(())
}

/// A value the column accepts, most of the time; otherwise anything near one.
fn cell(column: &str) -> impl Strategy<Value = String> + use<> {
    let valid: &'static [&'static str] = match column {
        "account_number" => &["A-1", "A-2", "86420975318642"],
        "reference" => &["V-1", "V-2", "5555555555554444"],
        "original_balance" | "balance" => &["125.50", "1", "0.01", "73198246"],
        "currency" => &["USD", "JPY"],
        "date_of_birth" | "service_date" | "placement_date" => &["2026-01-31", "1970-01-01"],
        "email" => &["x@example.com"],
        "last_name" | "first_name" | "city" | "description" => &["Doe", "\"Doe, Jane\""],
        _ => &[""],
    };
    prop_oneof![
        4 => proptest::sample::select(valid).prop_map(str::to_owned),
        1 => text_of(CELL_TOKENS, 3),
    ]
}

fn csv_file() -> impl Strategy<Value = Vec<u8>> {
    // Mostly the required columns and some others, in any order; sometimes any columns.
    let header = (
        any::<bool>(),
        proptest::sample::subsequence(CSV_COLUMNS, 0..CSV_COLUMNS.len()),
    )
        .prop_map(|(required, mut columns)| {
            if required {
                columns.retain(|c| !REQUIRED_CSV_COLUMNS.contains(c));
                columns.extend(REQUIRED_CSV_COLUMNS);
            }
            columns
        })
        .prop_shuffle()
        .prop_map(|columns| columns.join(","));
    let file = header.prop_flat_map(|header| {
        let columns: Vec<&'static str> = header
            .split(',')
            .filter_map(|h| CSV_COLUMNS.iter().find(|c| **c == h).copied())
            .collect();
        let row = columns
            .into_iter()
            .map(|c| cell(c).boxed())
            .collect::<Vec<_>>()
            .prop_map(|cells| cells.join(","));
        (Just(header), proptest::collection::vec(row, 0..12))
    });
    prop_oneof![
        4 => file.prop_map(|(header, rows)| {
            let mut file = header;
            for row in rows {
                file.push('\n');
                file.push_str(&row);
            }
            file.into_bytes()
        }),
        1 => proptest::collection::vec(any::<u8>(), 0..512),
    ]
}

#[test]
fn fuzz_csv_import_rows() {
    for_a_while("CSV import rows", csv_file(), |file| {
        match read_all(&file, |input, sender| parse_csv(input, sender)) {
            Ok((rows, documents, rejections)) => {
                let rejected = i64::try_from(rejections.len()).unwrap_or(0);
                prop_assert_eq!(rows, documents + rejected, "each row is read or rejected");
                nothing_echoed(&rejections, None)?;
            }
            Err(error) => nothing_echoed(&[], Some(&error))?,
        }
        Ok(())
    });
}

fn json_value() -> impl Strategy<Value = serde_json::Value> {
    use serde_json::{Value, json};
    let leaf = prop_oneof![
        proptest::sample::select(CELL_TOKENS).prop_map(|t| json!(t)),
        proptest::sample::select(SECRETS).prop_map(|t| json!(t.parse::<u64>().unwrap_or(0))),
        any::<i64>().prop_map(|n| json!(n)),
        any::<bool>().prop_map(|b| json!(b)),
        Just(Value::Null),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        let key = proptest::sample::select(
            &[
                "account_number",
                "last_name",
                "currency",
                "sub_accounts",
                "reference",
                "original_balance",
                "balance",
                "status",
                "address",
                "city",
                "email",
                "extra",
            ][..],
        );
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..3).prop_map(Value::Array),
            proptest::collection::btree_map(key, inner, 0..6).prop_map(|m| {
                Value::Object(m.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
            }),
        ]
    })
}

/// An import document, its fields sometimes dropped, replaced or joined by others.
fn document() -> impl Strategy<Value = serde_json::Value> {
    let field = |name: &'static str| {
        prop_oneof![
            6 => cell(name).prop_map(serde_json::Value::String),
            1 => json_value(),
        ]
    };
    let sub_account = (
        field("reference"),
        field("original_balance"),
        field("balance"),
    )
        .prop_map(
            |(r, o, b)| serde_json::json!({"reference": r, "original_balance": o, "balance": b}),
        );
    (
        field("account_number"),
        field("last_name"),
        field("currency"),
        proptest::collection::vec(sub_account, 0..3),
        proptest::sample::select(&["", "account_number", "currency", "balance", "extra"][..]),
        json_value(),
    )
        .prop_map(|(number, name, currency, subs, change, other)| {
            let mut doc = serde_json::json!({"account_number": number, "last_name": name,
                "currency": currency, "sub_accounts": subs});
            let object = doc.as_object_mut().expect("object");
            match change {
                "" => {}
                "extra" => {
                    object.insert("extra".to_owned(), other);
                }
                "balance" => {
                    for sub in object["sub_accounts"].as_array_mut().into_iter().flatten() {
                        sub.as_object_mut().map(|s| s.remove("balance"));
                    }
                }
                name => {
                    object.remove(name);
                }
            }
            doc
        })
}

fn ndjson_file() -> impl Strategy<Value = Vec<u8>> {
    let line = prop_oneof![
        4 => document().prop_map(|v| v.to_string()),
        1 => json_value().prop_map(|v| v.to_string()),
        1 => text_of(CELL_TOKENS, 6),
    ];
    proptest::collection::vec(line, 0..10).prop_map(|lines| lines.join("\n").into_bytes())
}

#[test]
fn fuzz_ndjson_import_rows() {
    for_a_while("NDJSON import rows", ndjson_file(), |file| {
        let (rows, documents, rejections) =
            read_all(&file, |input, sender| parse_ndjson(input, sender))
                .map_err(|e| TestCaseError::fail(format!("a readable stream failed: {e}")))?;
        let lines = file
            .split(|b| *b == b'\n')
            .filter(|l| !l.iter().all(u8::is_ascii_whitespace))
            .count();
        prop_assert_eq!(
            rows,
            i64::try_from(lines).unwrap_or(0),
            "each line is counted"
        );
        let rejected = i64::try_from(rejections.len()).unwrap_or(0);
        prop_assert_eq!(rows, documents + rejected, "each line is read or rejected");
        nothing_echoed(&rejections, None)
    });
}
