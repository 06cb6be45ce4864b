-- Chunk embeddings for the local vector index (production uses Vectorize). A chunk's vector
-- goes when the chunk goes.
CREATE TABLE knowledge_vectors (
  chunk_id INTEGER PRIMARY KEY REFERENCES knowledge_chunks(id) ON DELETE CASCADE,
  org_id   TEXT NOT NULL,
  vector   TEXT NOT NULL            -- JSON array of floats, unit length
);
CREATE INDEX knowledge_vectors_by_org ON knowledge_vectors(org_id);
