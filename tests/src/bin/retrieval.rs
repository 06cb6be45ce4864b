//! Retrieval benchmark on real FAQ corpora nobody here wrote: the Python FAQ (python3.11-doc)
//! and the Debian FAQ (debian-faq). Each answer is ingested as a document through the real
//! knowledge API; each question is then searched through the real search API, and so is each
//! paraphrase in tests/retrieval/paraphrases.tsv (written to share few words with its
//! question). Prints recall@1, recall@5, MRR and p50 search latency. Asserts nothing.
//!
//! Usage: cargo run --release -p halo-tests --bin retrieval

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
    let path = format!(
        "/api/sdk/knowledge/search?q={}&limit={DEPTH}&mode={mode}",
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

fn main() {
    let paraphrases = std::fs::read_to_string(root().join("tests/retrieval/paraphrases.tsv"))
        .expect("paraphrases");
    let embedder = halo_tests::embed_server();
    let server = match embedder {
        Some(base) => Server::start(&[("EMBEDDINGS_BASE_URL", base)]),
        None => Server::start(&[]),
    };
    let modes: &[&str] = if embedder.is_some() {
        &["lexical", "semantic", "hybrid"]
    } else {
        &["lexical"]
    };
    println!("Retrieval through the knowledge API of wrangler dev (lexical: D1 FTS5 bm25; semantic: MiniLM int8,");
    println!("exact cosine over vectors in D1; hybrid: reciprocal rank fusion of both):");
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
        let paraphrased: Vec<(&str, &str)> = paraphrases
            .lines()
            .filter(|l| !l.starts_with('#'))
            .filter_map(|l| {
                let mut cols = l.split('\t');
                match (cols.next(), cols.next(), cols.next()) {
                    (Some(corpus), Some(question), Some(text)) if corpus == name => {
                        Some((question, text))
                    }
                    _ => None,
                }
            })
            .collect();
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
            let mut para = Scores::new();
            for (question, text) in &paraphrased {
                let correct = by_question.get(question).unwrap_or_else(|| {
                    panic!("paraphrased question not in the corpus: {question}")
                });
                let (r, ms) = rank(&server, &ws, mode, text, correct);
                para.add(r, ms);
            }
            println!(
                "{}",
                originals.line(&format!("{name} FAQ, questions, {mode}"))
            );
            println!("{}", para.line(&format!("{name} FAQ, paraphrases, {mode}")));
        }
    }
    if embedder.is_none() {
        println!("Semantic and hybrid: the embedding model is not installed (scripts/setup.sh --embeddings).");
    }
}
