-- Embeddings of account-data facts (a context item or a trait, as "label: fact"), cached by
-- a hash of the embedding model and the text: a chat turn embeds only the facts it has not
-- seen before. Rows are small and shared by every user with the same fact.
CREATE TABLE fact_vectors (
  org_id     TEXT NOT NULL,
  hash       TEXT NOT NULL,          -- hex SHA-256 of "<model>\n<text>"
  vector     TEXT NOT NULL,          -- halo_shared::vectors::encode of a unit vector
  created_at INTEGER NOT NULL,
  PRIMARY KEY (org_id, hash)
);
