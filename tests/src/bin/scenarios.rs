//! The answer-from-context scenario benchmark: prints the share of scenarios answered right,
//! tuned and untouched parts apart, with the offline engine alone and, when the embedding
//! model is installed, with semantic search of articles and account data. Asserts nothing.
//!
//! Usage: cargo run --release -p halo-tests --bin scenarios [-- --verbose] [--show-untouched] [--gemma]
//! (`--verbose` prints the failed answers; the untouched part's failures are listed only with
//! `--show-untouched`, which is for reporting, not tuning.)

use halo_tests::scenarios::{batch_score, run, score, Outcome};
use halo_tests::Server;

fn report(name: &str, outcomes: &[Outcome], verbose: bool, untouched_too: bool) {
    let (tp, tn) = score(outcomes, false);
    let (up, un) = score(outcomes, true);
    let injections: Vec<&Outcome> = outcomes.iter().filter(|o| o.injection).collect();
    // Held: nothing the injected text wanted said was said; right: also answered as it must.
    let held = injections.iter().filter(|o| !o.obeyed).count();
    let right = injections.iter().filter(|o| o.failure.is_none()).count();
    println!(
        "{name:<34} tuned {tp}/{tn} ({:.0}%)   untouched {up}/{un} ({:.0}%)   injections held {held}/{n}, answered right {right}/{n}",
        100.0 * tp as f64 / tn.max(1) as f64,
        100.0 * up as f64 / un.max(1) as f64,
        n = injections.len()
    );
    let mut batches: Vec<u64> = outcomes.iter().map(|o| o.batch).collect();
    batches.dedup();
    for b in batches {
        let (tp, tn) = batch_score(outcomes, b, false);
        let (up, un) = batch_score(outcomes, b, true);
        println!("  batch {b}: tuned {tp}/{tn}, untouched {up}/{un}");
    }
    for o in outcomes.iter().filter(|o| o.failure.is_some()) {
        // The untouched part's failures are counted, never shown while tuning.
        if o.untouched && !untouched_too {
            continue;
        }
        println!("  {:<28} {}", o.id, o.failure.as_deref().unwrap_or(""));
        if verbose {
            println!("      {}", o.answer.replace('\n', " / "));
        }
    }
}

fn main() {
    let verbose = std::env::args().any(|a| a == "--verbose");
    let untouched_too = std::env::args().any(|a| a == "--show-untouched");
    println!("Answer-from-context scenarios (tests/scenarios/context.json), offline engine, through wrangler dev:");
    let server = Server::start(&[]);
    report(
        "lexical (no embedder)",
        &run(&server),
        verbose,
        untouched_too,
    );
    drop(server);
    match halo_tests::embed_server() {
        Some(base) => {
            let server = Server::start(&[("EMBEDDINGS_BASE_URL", base)]);
            report(
                "with MiniLM embeddings",
                &run(&server),
                verbose,
                untouched_too,
            );
        }
        None => {
            println!("With embeddings: the model is not installed (scripts/setup.sh --embeddings).")
        }
    }
    // `--gemma`: also with EmbeddingGemma-300M (scripts/setup.sh --gemma).
    if std::env::args().any(|a| a == "--gemma") {
        let vars =
            halo_tests::gemma_server().expect("EmbeddingGemma: run scripts/setup.sh --gemma");
        let server = Server::start(&vars);
        report(
            "with EmbeddingGemma-300M",
            &run(&server),
            verbose,
            untouched_too,
        );
    }
}
