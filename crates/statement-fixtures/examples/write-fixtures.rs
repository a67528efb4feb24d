//! Writes synthetic statements for people to open:
//! `cargo run -p quittance-statement-fixtures --example write-fixtures -- DIR [N]` writes N
//! (default 3) statements per layout as DIR/<layout>-<seed>.pdf, each with the extraction it
//! must give beside it as DIR/<layout>-<seed>.json.

use std::path::PathBuf;
use std::process::ExitCode;

use quittance_statement_fixtures::{Layout, Options, render};

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let Some(dir) = args.next().map(PathBuf::from) else {
        eprintln!("usage: write-fixtures DIR [N]");
        return ExitCode::from(2);
    };
    let count: u64 = match args.next().map(|n| n.parse()) {
        None => 3,
        Some(Ok(n)) => n,
        Some(Err(_)) => {
            eprintln!("N must be a whole number");
            return ExitCode::from(2);
        }
    };
    if let Err(e) = std::fs::create_dir_all(&dir) {
        eprintln!("cannot create {}: {e}", dir.display());
        return ExitCode::FAILURE;
    }
    for layout in Layout::ALL {
        for seed in 1..=count {
            let fixture = render(*layout, seed, &Options::default());
            let stem = dir.join(format!("{}-{seed}", layout.as_str()));
            let written = fixture
                .expected_json()
                .map_err(|e| e.to_string())
                .and_then(|json| {
                    std::fs::write(stem.with_extension("pdf"), &fixture.pdf)
                        .and_then(|()| std::fs::write(stem.with_extension("json"), json + "\n"))
                        .map_err(|e| e.to_string())
                });
            match written {
                Ok(()) => println!(
                    "{} ({} pages)",
                    stem.with_extension("pdf").display(),
                    fixture.pages
                ),
                Err(e) => {
                    eprintln!("cannot write {}: {e}", stem.display());
                    return ExitCode::FAILURE;
                }
            }
        }
    }
    ExitCode::SUCCESS
}
