//! How long reading a statement takes: renders a five-page statement in each layout and times
//! `text_lines` (the PDF) and `read_statement` (the parse) over 20 runs each.
//! `cargo run --release -p quittance-statement-pdf --example time-extraction`

use std::time::{Duration, Instant};

use quittance_pricing::statements::read_statement;
use quittance_statement_fixtures::{Layout, Options, render};
use quittance_statement_pdf::{Limits, text_lines};

const RUNS: u32 = 20;

fn main() {
    let options = Options {
        pages_at_least: 5,
        ..Options::default()
    };
    println!("layout      pages  bytes   lines  fees  pdf→lines  lines→statement");
    for layout in Layout::ALL {
        let fixture = render(*layout, 7, &options);
        let (mut pdf_time, mut parse_time) = (Duration::ZERO, Duration::ZERO);
        let (mut lines_read, mut fees) = (0, 0);
        for _ in 0..RUNS {
            let start = Instant::now();
            let lines = match text_lines(&fixture.pdf, &Limits::default()) {
                Ok(lines) => lines,
                Err(e) => {
                    eprintln!("{layout}: {e}");
                    return;
                }
            };
            let middle = Instant::now();
            let statement = read_statement(&lines);
            parse_time += middle.elapsed();
            pdf_time += middle - start;
            lines_read = lines.len();
            fees = statement.map_or(0, |s| s.fees.len());
        }
        println!(
            "{:<11} {:>5} {:>6} {:>7} {:>5} {:>8.2} ms {:>11.3} ms",
            layout.as_str(),
            fixture.pages,
            fixture.pdf.len(),
            lines_read,
            fees,
            pdf_time.as_secs_f64() * 1000.0 / f64::from(RUNS),
            parse_time.as_secs_f64() * 1000.0 / f64::from(RUNS),
        );
    }
}
