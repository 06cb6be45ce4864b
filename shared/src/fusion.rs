//! Hybrid search: the full-text list and the semantic list of one question, fused into one
//! ranking that is never worse than the better of the two.
//!
//! Reciprocal rank fusion with a fixed weight let a weak full-text list (a paraphrase that
//! shares one common word with many chunks) push good semantic hits down. Here the lists'
//! scores are combined instead: a chunk's cosine similarity, plus its full-text score scaled
//! to the list's best, weighted by how much of the question the chunk itself holds (nothing
//! at half the question's words or less). A question asked in the documents' own words lifts
//! the chunks that have them; a paraphrase that shares a word or two by chance leaves the
//! semantic order as it is.
//!
//! How much the full-text list may add depends on the embedder: it is calibrated per model on
//! the retrieval benchmark (`lexical_weight`). A weak small embedder gains from words that
//! match exactly; a strong one is only pulled off its right answer by them.

use std::collections::HashMap;

/// What the full-text list adds at most to a cosine similarity (similarities of relevant
/// chunks differ by a few hundredths; an exact match of every word is worth that much), for
/// an embedder it was not calibrated on.
pub const LEXICAL_WEIGHT: f64 = 0.06;

/// The weights calibrated on the retrieval benchmark's questions and paraphrases
/// (`cargo run --release -p halo-tests --bin retrieval`, the casual paraphrases left out), by
/// the embedder's model name: the weight with the most right first answers over those splits
/// that is never below semantic search on any of them. MiniLM gains two to four first answers
/// a split from exact words; every weight above 0 costs EmbeddingGemma one to three.
const CALIBRATED: &[(&str, f64)] = &[("all-MiniLM-L6-v2", 0.06), ("embeddinggemma-300m", 0.0)];

/// The full-text list's weight beside the embedder `model` (its name as configured, any case):
/// `configured` (`SEARCH_LEXICAL_WEIGHT`) when it is a number from 0 to 1, else the model's
/// calibrated weight, else [`LEXICAL_WEIGHT`].
pub fn weight_for(model: &str, configured: Option<&str>) -> f64 {
    configured
        .and_then(|c| c.trim().parse::<f64>().ok())
        .filter(|w| (0.0..=1.0).contains(w))
        .unwrap_or_else(|| lexical_weight(model))
}

/// The calibrated weight of the embedder `model`, else [`LEXICAL_WEIGHT`].
fn lexical_weight(model: &str) -> f64 {
    let name = model.rsplit('/').next().unwrap_or(model);
    CALIBRATED
        .iter()
        .find(|(m, _)| m.eq_ignore_ascii_case(name))
        .map_or(LEXICAL_WEIGHT, |(_, w)| *w)
}

/// One full-text hit: its id, its bm25 score (FTS5's: negative, lower is better), and the
/// share of the question's topic words it holds (`answer::coverage`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LexicalHit {
    pub id: i64,
    pub bm25: f64,
    pub coverage: f64,
}

/// How much a hit's words count: nothing at half the question's words or less, a quarter at
/// three quarters of them, all of its weight when it holds every one.
fn strength(coverage: f64) -> f64 {
    ((coverage - 0.5) / 0.5).clamp(0.0, 1.0).powi(2)
}

/// Fuses the lists (each best first) into at most `limit` ids, best first, the full-text
/// list adding at most `weight` to a similarity. Without a semantic list the full-text order
/// stands, and the reverse.
pub fn fuse(
    lexical: &[LexicalHit],
    semantic: &[(i64, f32)],
    weight: f64,
    limit: usize,
) -> Vec<i64> {
    if semantic.is_empty() {
        return lexical.iter().take(limit).map(|h| h.id).collect();
    }
    // The index also scores the full-text hits; one it could not score is taken to be a
    // little less similar than the least similar chunk it did.
    let floor = semantic
        .iter()
        .map(|(_, s)| f64::from(*s))
        .fold(f64::MAX, f64::min)
        - 0.02;
    let best = lexical.iter().map(|h| -h.bm25).fold(0.0, f64::max);
    let mut scores: HashMap<i64, f64> = semantic
        .iter()
        .map(|(id, s)| (*id, f64::from(*s)))
        .collect();
    for h in lexical {
        let scaled = if best > 0.0 {
            (-h.bm25 / best).max(0.0)
        } else {
            0.0
        };
        *scores.entry(h.id).or_insert(floor) += weight * strength(h.coverage) * scaled;
    }
    let mut ranked: Vec<(i64, f64)> = scores.into_iter().collect();
    // Ties keep the semantic list's order, then the full-text list's.
    let position = |id: i64| {
        semantic
            .iter()
            .position(|(x, _)| *x == id)
            .or_else(|| {
                lexical
                    .iter()
                    .position(|h| h.id == id)
                    .map(|p| p + semantic.len())
            })
            .unwrap_or(usize::MAX)
    };
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(position(a.0).cmp(&position(b.0))));
    ranked.into_iter().take(limit).map(|(id, _)| id).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lex(ids: &[(i64, f64, f64)]) -> Vec<LexicalHit> {
        ids.iter()
            .map(|&(id, bm25, coverage)| LexicalHit { id, bm25, coverage })
            .collect()
    }

    #[test]
    fn hits_sharing_a_word_or_two_by_chance_leave_the_semantic_order_alone() {
        let semantic = [(1, 0.62), (2, 0.60), (3, 0.55)];
        let lexical = lex(&[(3, -9.0, 0.5), (4, -8.0, 0.34)]);
        assert_eq!(fuse(&lexical, &semantic, LEXICAL_WEIGHT, 4), [1, 2, 3, 4]);
    }

    #[test]
    fn a_hit_with_all_the_question_words_lifts_a_close_semantic_second() {
        let semantic = [(1, 0.62), (2, 0.60), (3, 0.40)];
        let lexical = lex(&[(2, -12.0, 1.0), (3, -2.0, 1.0)]);
        assert_eq!(fuse(&lexical, &semantic, LEXICAL_WEIGHT, 3), [2, 1, 3]);
        // It cannot lift a chunk far less similar in meaning.
        let far = lex(&[(3, -12.0, 1.0)]);
        assert_eq!(fuse(&far, &semantic, LEXICAL_WEIGHT, 3)[0], 1);
    }

    #[test]
    fn one_list_alone_is_returned_as_it_is() {
        assert_eq!(
            fuse(
                &lex(&[(5, -3.0, 0.0), (6, -1.0, 0.0)]),
                &[],
                LEXICAL_WEIGHT,
                5
            ),
            [5, 6]
        );
        assert_eq!(fuse(&[], &[(7, 0.5), (8, 0.4)], LEXICAL_WEIGHT, 1), [7]);
    }

    #[test]
    fn each_embedder_gets_its_calibrated_weight_and_an_unknown_one_the_default() {
        assert_eq!(lexical_weight("all-MiniLM-L6-v2"), 0.06);
        assert_eq!(
            lexical_weight("sentence-transformers/all-minilm-l6-v2"),
            0.06
        );
        assert_eq!(lexical_weight("EmbeddingGemma-300M"), 0.0);
        assert_eq!(lexical_weight("@cf/baai/bge-base-en-v1.5"), LEXICAL_WEIGHT);
    }

    #[test]
    fn a_configured_weight_from_0_to_1_wins_and_anything_else_is_ignored() {
        assert_eq!(weight_for("all-MiniLM-L6-v2", Some(" 0.2 ")), 0.2);
        assert_eq!(weight_for("all-MiniLM-L6-v2", Some("0")), 0.0);
        for bad in ["-0.1", "1.5", "heavy", "NaN", ""] {
            assert_eq!(weight_for("all-MiniLM-L6-v2", Some(bad)), 0.06, "{bad}");
        }
        assert_eq!(weight_for("unknown-model", None), LEXICAL_WEIGHT);
    }

    #[test]
    fn without_weight_the_words_only_add_what_meaning_missed() {
        let semantic = [(1, 0.62), (2, 0.60)];
        let lexical = lex(&[(2, -12.0, 1.0), (3, -9.0, 1.0)]);
        assert_eq!(fuse(&lexical, &semantic, 0.0, 3), [1, 2, 3]);
    }
}
