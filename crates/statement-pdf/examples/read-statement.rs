//! Reads a statement PDF and prints its text lines (page, y, then each span as x:"text") and
//! what `read_statement` makes of them, as JSON:
//! `cargo run -p quittance-statement-pdf --example read-statement -- statement.pdf`.

use std::process::ExitCode;

use quittance_pricing::statements::read_statement;
use quittance_statement_pdf::{Limits, text_lines};

fn main() -> ExitCode {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: read-statement FILE.pdf");
        return ExitCode::from(2);
    };
    let bytes = match std::fs::read(&path) {
        Ok(bytes) => bytes,
        Err(e) => {
            eprintln!("cannot read {path}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let lines = match text_lines(&bytes, &Limits::default()) {
        Ok(lines) => lines,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    for line in &lines {
        let spans: Vec<String> = line
            .spans
            .iter()
            .map(|s| format!("{:.0}:{:?}", s.x, s.text))
            .collect();
        println!("{} {:6.1}  {}", line.page, line.y, spans.join("  "));
    }
    match read_statement(&lines) {
        Ok(statement) => match serde_json::to_string_pretty(&statement) {
            Ok(json) => println!("{json}"),
            Err(e) => eprintln!("{e}"),
        },
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    }
    ExitCode::SUCCESS
}
