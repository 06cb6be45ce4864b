-- Which chunks have their embedding: a chunk ingested while the embedder was down has none,
-- and the cron job embeds it later (edge/src/knowledge.rs backfill_embeddings). Chunks
-- already in the local vector index are marked; with Vectorize the job embeds the others
-- once.
ALTER TABLE knowledge_chunks ADD COLUMN embedded_at INTEGER;
UPDATE knowledge_chunks SET embedded_at = CAST(strftime('%s', 'now') AS INTEGER) * 1000
  WHERE id IN (SELECT chunk_id FROM knowledge_vectors);
CREATE INDEX knowledge_chunks_unembedded ON knowledge_chunks(embedded_at) WHERE embedded_at IS NULL;
