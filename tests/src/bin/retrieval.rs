//! Retrieval benchmark on real FAQ corpora nobody here wrote: the Python FAQ (python3.11-doc)
//! and the Debian FAQ (debian-faq). Each answer is ingested as a document through the real
//! knowledge API; each question is then searched through the real search API, and so is each
//! paraphrase in tests/retrieval/paraphrases.tsv (written to share few words with its
//! question) and in tests/retrieval/paraphrases-casual.tsv (as people really ask: vague, wrong
//! terms, typos; never used to tune). Prints recall@1, recall@5, MRR and p50 search latency
//! for each mode and for the default (what the chat uses). Then, with `--scale N`, the search
//! latency of one workspace holding N synthetic chunks. Asserts nothing.
//!
//! Usage: cargo run --release -p halo-tests --bin retrieval [-- --scale 10000] [--gemma]

use std::collections::HashMap;
use std::time::Instant;

use halo_tests::corpora::{debian_faq, python_faq, Faq};
use halo_tests::{call, percent_encode, root, Server, Workspace};
use serde_json::json;

/// How deep results are read for MRR.
const DEPTH: u32 = 20;

struct Scores {
    n: usize,
    at1: usize,
    at5: usize,
    reciprocal: f64,
    latencies_ms: Vec<f64>,
}

impl Scores {
    fn new() -> Self {
        Scores {
            n: 0,
            at1: 0,
            at5: 0,
            reciprocal: 0.0,
            latencies_ms: Vec::new(),
        }
    }

    fn add(&mut self, rank: Option<usize>, ms: f64) {
        self.n += 1;
        self.latencies_ms.push(ms);
        if let Some(r) = rank {
            self.at1 += usize::from(r == 1);
            self.at5 += usize::from(r <= 5);
            self.reciprocal += 1.0 / r as f64;
        }
    }

    fn line(&mut self, label: &str) -> String {
        self.latencies_ms.sort_by(f64::total_cmp);
        let p50 = self
            .latencies_ms
            .get(self.latencies_ms.len() / 2)
            .copied()
            .unwrap_or(0.0);
        let n = self.n.max(1) as f64;
        format!(
            "{label:<44} n={:<4} recall@1 {:.2}   recall@5 {:.2}   MRR {:.2}   p50 search {:.1} ms",
            self.n,
            self.at1 as f64 / n,
            self.at5 as f64 / n,
            self.reciprocal / n,
            p50
        )
    }
}

/// Ingests the answers; returns the source id of each.
fn ingest(server: &Server, ws: &Workspace, faqs: &[Faq]) -> Vec<String> {
    faqs.iter()
        .enumerate()
        .map(|(i, f)| {
            let r = call(
                server,
                "POST",
                "/api/sdk/knowledge/sources",
                Some(&ws.secret_key),
                Some(json!({ "title": format!("Answer {}", i + 1), "kind": "markdown", "content": f.answer })),
            );
            assert_eq!(r.status, 201, "ingesting answer {i}: {}", r.body);
            // A document the embedder failed on is searchable by its words only: that would
            // be a different benchmark, so it is said, not averaged in.
            if r.body.get("embedding_error").is_some() {
                println!("  answer {}: not embedded ({})", i + 1, r.body["embedding_error"]);
            }
            r.body["id"].as_str().expect("id").to_owned()
        })
        .collect()
}

/// The rank (1-based) of the first result from `correct`, reading `DEPTH` chunks.
fn rank(
    server: &Server,
    ws: &Workspace,
    mode: &str,
    query: &str,
    correct: &[&str],
) -> (Option<usize>, f64) {
    let started = Instant::now();
    let mode = if mode == "default" {
        String::new()
    } else {
        format!("&mode={mode}")
    };
    let path = format!(
        "/api/sdk/knowledge/search?q={}&limit={DEPTH}{mode}",
        percent_encode(query)
    );
    let r = call(server, "GET", &path, Some(&ws.secret_key), None);
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    assert_eq!(r.status, 200, "{query}: {}", r.body);
    let mut seen: Vec<String> = Vec::new();
    for hit in r.body["results"].as_array().into_iter().flatten() {
        let id = hit["source_id"].as_str().unwrap_or("").to_owned();
        if !seen.contains(&id) {
            seen.push(id);
        }
    }
    (
        seen.iter()
            .position(|id| correct.contains(&id.as_str()))
            .map(|p| p + 1),
        ms,
    )
}

/// `(question, paraphrase)` pairs of `corpus` in a paraphrase file.
fn pairs<'a>(file: &'a str, corpus: &str) -> Vec<(&'a str, &'a str)> {
    file.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            let mut cols = l.split('\t');
            match (cols.next(), cols.next(), cols.next()) {
                (Some(c), Some(question), Some(text)) if c == corpus => Some((question, text)),
                _ => None,
            }
        })
        .collect()
}

/// Ingests `n` synthetic chunks (documents of 100 sections each, made of common words) into
/// a fresh workspace and prints the p50 search latency of each mode over 30 queries.
fn scale(server: &Server, n: usize, modes: &[&str]) {
    const WORDS: &[&str] = &[
        "account",
        "billing",
        "invoice",
        "export",
        "import",
        "password",
        "team",
        "project",
        "report",
        "sync",
        "webhook",
        "token",
        "plan",
        "seat",
        "storage",
        "refund",
        "order",
        "shipping",
        "delivery",
        "schedule",
        "calendar",
        "notification",
        "email",
        "mobile",
        "browser",
        "api",
        "limit",
        "error",
        "upgrade",
        "download",
        "upload",
        "integration",
    ];
    let ws = server.workspace();
    let mut seed: u64 = 7;
    let mut word = || {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        WORDS[(seed >> 33) as usize % WORDS.len()]
    };
    let started = Instant::now();
    for d in 0..n.div_ceil(100) {
        let sections: Vec<String> = (0..100.min(n - d * 100))
            .map(|i| {
                let body: Vec<&str> = (0..40).map(|_| word()).collect();
                format!(
                    "## Section {d}-{i} {} {}\n\n{}.",
                    word(),
                    word(),
                    body.join(" ")
                )
            })
            .collect();
        let r = call(
            server,
            "POST",
            "/api/sdk/knowledge/sources",
            Some(&ws.secret_key),
            Some(
                json!({ "title": format!("Synthetic {d}"), "kind": "markdown", "content": sections.join("\n\n") }),
            ),
        );
        assert_eq!(r.status, 201, "{}", r.body);
    }
    println!(
        "{n} synthetic chunks ingested in {:.0} s (embedded too when semantic search is on)",
        started.elapsed().as_secs_f64()
    );
    for mode in modes {
        let mut s = Scores::new();
        for q in 0..30 {
            let query = format!("how do I {} my {} {}", word(), word(), word());
            let (_, ms) = rank(server, &ws, mode, &query, &[]);
            if q >= 3 {
                s.add(None, ms); // the first queries warm the isolate up
            }
        }
        s.latencies_ms.sort_by(f64::total_cmp);
        let p50 = s.latencies_ms[s.latencies_ms.len() / 2];
        println!(
            "{n} chunks, {mode:<34} p50 search {p50:.1} ms over {} queries",
            s.n
        );
    }
}

fn main() {
    let paraphrases = std::fs::read_to_string(root().join("tests/retrieval/paraphrases.tsv"))
        .expect("paraphrases");
    let casual = std::fs::read_to_string(root().join("tests/retrieval/paraphrases-casual.tsv"))
        .expect("casual paraphrases");
    let scale_to: Option<usize> = std::env::args()
        .skip_while(|a| a != "--scale")
        .nth(1)
        .and_then(|n| n.parse().ok());
    // `--gemma`: EmbeddingGemma-300M (scripts/setup.sh --gemma) instead of MiniLM.
    let gemma = std::env::args().any(|a| a == "--gemma");
    let embedder: Option<Vec<(&str, &str)>> = if gemma {
        Some(halo_tests::gemma_server().expect("EmbeddingGemma: run scripts/setup.sh --gemma"))
    } else {
        halo_tests::embed_server().map(|base| vec![("EMBEDDINGS_BASE_URL", base)])
    };
    let server = Server::start(embedder.as_deref().unwrap_or_default());
    let model = if gemma {
        "EmbeddingGemma-300M"
    } else {
        "MiniLM int8"
    };
    let modes: &[&str] = if embedder.is_some() {
        &["lexical", "semantic", "hybrid", "default"]
    } else {
        &["lexical", "default"]
    };
    println!("Retrieval through the knowledge API of wrangler dev (lexical: D1 FTS5 bm25; semantic: {model},");
    println!("exact cosine over vectors in D1; hybrid: score fusion of both; default: no mode named, as the chat):");
    for (name, faqs) in [("python", python_faq()), ("debian", debian_faq())] {
        let faqs = faqs.unwrap_or_else(|e| {
            panic!("{name} FAQ not installed ({e}); run: scripts/setup.sh --corpora")
        });
        let ws = server.workspace();
        let ids = ingest(&server, &ws, &faqs);
        // A question may appear twice (the Python FAQ asks "What is Python?" in two files):
        // any of its answers is right.
        let mut by_question: HashMap<&str, Vec<&str>> = HashMap::new();
        for (f, id) in faqs.iter().zip(&ids) {
            by_question.entry(f.question.as_str()).or_default().push(id);
        }
        let sets = [
            ("paraphrases", pairs(&paraphrases, name)),
            ("casual paraphrases", pairs(&casual, name)),
        ];
        for mode in modes {
            let mut originals = Scores::new();
            for f in &faqs {
                let (r, ms) = rank(
                    &server,
                    &ws,
                    mode,
                    &f.question,
                    &by_question[f.question.as_str()],
                );
                originals.add(r, ms);
            }
            println!(
                "{}",
                originals.line(&format!("{name} FAQ, questions, {mode}"))
            );
            for (set, paraphrased) in &sets {
                let mut para = Scores::new();
                for (question, text) in paraphrased {
                    let correct = by_question.get(question).unwrap_or_else(|| {
                        panic!("paraphrased question not in the corpus: {question}")
                    });
                    let (r, ms) = rank(&server, &ws, mode, text, correct);
                    para.add(r, ms);
                }
                println!("{}", para.line(&format!("{name} FAQ, {set}, {mode}")));
            }
        }
    }
    if let Some(n) = scale_to {
        scale(&server, n, modes);
    }
    if embedder.is_none() {
        println!("Semantic and hybrid: the embedding model is not installed (scripts/setup.sh --embeddings).");
    }
}
