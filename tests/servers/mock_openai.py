#!/usr/bin/python3
"""mock_openai.py: a local OpenAI-compatible model server for Sluice's tests.

Serves /v1/chat/completions, /v1/embeddings and /health on 127.0.0.1 only,
with fault injection so tests can exercise the async model operator against
a real HTTP peer: fixed latency, a rate of 429 (with Retry-After), 500s,
hangs, truncated and non-JSON bodies. Standard library only; run it with
Debian's /usr/bin/python3. Prints "listening on 127.0.0.1:PORT" when ready.

Chat answers are deterministic: the reply content is "echo: " + the last user
message, unless --reply is given. Embeddings are derived from the input text
(a hash spread over --dimension floats), so tests can predict them.
Counters are served as JSON at /stats.

Also: structured output (a request with response_format json_schema gets a
JSON object fitting the schema, derived from the last user message;
--rate-wrong-schema answers a first attempt with a non-conforming object,
--wrong-schema-always every attempt), --rate-truncate (a body cut short
with the connection closed), a generic JSON endpoint POST /predict (one
object or a list of objects -> {"label", "score"} per row), and the KServe
v2 protocol at POST /v2/models/<name>/infer (outputs "sum" per row and
"pair" = [sum, count]).
"""
import argparse
import hashlib
import json
import random
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

STATS = {"requests": 0, "chat": 0, "embeddings": 0, "faults": 0,
         "embedding_inputs": 0, "max_batch": 0, "predict": 0, "infer": 0,
         "schema_feedback": 0, "auth": "", "x_test": "",
         "prompt_tokens": 0, "completion_tokens": 0}
LOCK = threading.Lock()


def embedding(text, dim):
    out = []
    seed = text.encode("utf-8")
    i = 0
    while len(out) < dim:
        h = hashlib.sha256(seed + i.to_bytes(4, "little")).digest()
        for j in range(0, len(h), 4):
            if len(out) == dim:
                break
            v = int.from_bytes(h[j:j + 4], "little") / 2**32
            out.append(round(v * 2 - 1, 6))
        i += 1
    return out


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    args = None
    rng = random.Random(1)

    def log_message(self, fmt, *a):  # quiet
        pass

    def send_json(self, code, obj, headers=None):
        body = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path == "/health":
            self.send_json(200, {"ok": True})
        elif self.path == "/stats":
            with LOCK:
                self.send_json(200, dict(STATS))
        else:
            self.send_json(404, {"error": {"message": "not found"}})

    def fault(self):
        a = self.args
        with LOCK:
            r = self.rng.random()
        if r < a.rate_429:
            self.send_json(429, {"error": {"message": "rate limited"}},
                           {"Retry-After": str(a.retry_after)})
            return True
        r -= a.rate_429
        if r < a.rate_500:
            self.send_json(500, {"error": {"message": "internal error"}})
            return True
        r -= a.rate_500
        if r < a.rate_hang:
            time.sleep(3600)
            return True
        r -= a.rate_hang
        if r < a.rate_truncate:
            body = b'{"choices": [{"message": {"content": "trunc'
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body) + 100))
            self.end_headers()
            self.wfile.write(body)
            self.wfile.flush()
            self.close_connection = True
            return True
        r -= a.rate_truncate
        if r < a.rate_garbage:
            body = b"<html>not json"
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return True
        return False

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n)
        with LOCK:
            STATS["requests"] += 1
        if self.args.latency_ms:
            time.sleep(self.args.latency_ms / 1000.0)
        try:
            req = json.loads(raw or b"{}")
        except ValueError:
            self.send_json(400, {"error": {"message": "bad json"}})
            return
        if self.fault():
            with LOCK:
                STATS["faults"] += 1
            return
        with LOCK:
            STATS["auth"] = self.headers.get("Authorization") or ""
            STATS["x_test"] = self.headers.get("X-Test") or ""
        if self.path.endswith("/chat/completions"):
            with LOCK:
                STATS["chat"] += 1
            msgs = req.get("messages") or []
            users = [m for m in msgs if m.get("role") == "user"]
            last = users[0].get("content", "") if users else ""
            feedback = len(users) > 1
            if feedback:
                with LOCK:
                    STATS["schema_feedback"] += 1
            rf = req.get("response_format") or {}
            if rf.get("type") == "json_schema":
                schema = rf.get("json_schema", {}).get("schema", {})
                with LOCK:
                    wrong = self.rng.random() < self.args.rate_wrong_schema
                if self.args.wrong_schema_always or (wrong and not feedback):
                    content = json.dumps({"unexpected": True})
                else:
                    content = json.dumps(conform(schema, str(last)))
            elif rf.get("type") == "json_object":
                content = json.dumps({"text": "echo: " + str(last)})
            else:
                content = self.args.reply if self.args.reply is not None \
                    else "echo: " + str(last)
            usage = {"prompt_tokens": len(str(last).split()),
                     "completion_tokens": len(content.split()),
                     "total_tokens": 0}
            with LOCK:
                STATS["prompt_tokens"] += usage["prompt_tokens"]
                STATS["completion_tokens"] += usage["completion_tokens"]
            self.send_json(200, {
                "id": "chatcmpl-mock", "object": "chat.completion",
                "model": req.get("model", "mock"),
                "choices": [{"index": 0, "finish_reason": "stop",
                             "message": {"role": "assistant",
                                         "content": content}}],
                "usage": usage})
        elif self.path.endswith("/embeddings"):
            with LOCK:
                STATS["embeddings"] += 1
            inp = req.get("input")
            items = inp if isinstance(inp, list) else [inp]
            with LOCK:
                STATS["embedding_inputs"] += len(items)
                STATS["max_batch"] = max(STATS["max_batch"], len(items))
            dim = int(req.get("dimensions") or self.args.dimension)
            self.send_json(200, {
                "object": "list", "model": req.get("model", "mock"),
                "data": [{"object": "embedding", "index": i,
                          "embedding": embedding(str(t), dim)}
                         for i, t in enumerate(items)],
                "usage": {"prompt_tokens": 0, "total_tokens": 0}})
        elif self.path == "/predict":
            with LOCK:
                STATS["predict"] += 1
            if isinstance(req, list):
                with LOCK:
                    STATS["max_batch"] = max(STATS["max_batch"], len(req))
                self.send_json(200, [predict_row(r) for r in req])
            elif isinstance(req, dict) and "rows" in req:
                rows = req["rows"]
                with LOCK:
                    STATS["max_batch"] = max(STATS["max_batch"], len(rows))
                self.send_json(200, {"predictions":
                                     [predict_row(r) for r in rows]})
            else:
                self.send_json(200, {"result": predict_row(req)})
        elif self.path.startswith("/v2/models/") and \
                self.path.endswith("/infer"):
            with LOCK:
                STATS["infer"] += 1
            self.send_json(*kserve(req))
        else:
            self.send_json(404, {"error": {"message": "no such endpoint"}})


def conform(schema, text):
    """A value fitting a JSON schema, derived from text."""
    t = schema.get("type")
    if t == "object":
        return {k: conform(v, text)
                for k, v in (schema.get("properties") or {}).items()}
    if t == "array":
        return [conform(schema.get("items") or {"type": "string"}, text)]
    if t == "integer":
        return len(text)
    if t == "number":
        return len(text) / 2.0
    if t == "boolean":
        return len(text) % 2 == 0
    return "echo: " + text


def predict_row(r):
    text = str(r.get("text", "")) if isinstance(r, dict) else str(r)
    return {"label": "len:%d" % len(text), "score": len(text) * 1.5}


def kserve(req):
    inputs = req.get("inputs") or []
    if not inputs:
        return 400, {"error": "no inputs"}
    n = inputs[0]["shape"][0]
    sums, counts = [0.0] * n, [0] * n
    for t in inputs:
        data = t.get("data") or []
        width = len(data) // n if n else 0
        for i in range(n):
            for v in data[i * width:(i + 1) * width]:
                if isinstance(v, (int, float)):
                    sums[i] += v
                    counts[i] += 1
    with LOCK:
        STATS["max_batch"] = max(STATS["max_batch"], n)
    pair = []
    for i in range(n):
        pair += [sums[i], counts[i]]
    return 200, {"model_name": "mock", "outputs": [
        {"name": "sum", "shape": [n, 1], "datatype": "FP64", "data": sums},
        {"name": "pair", "shape": [n, 2], "datatype": "FP64", "data": pair}]}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--latency-ms", type=float, default=0)
    p.add_argument("--rate-429", type=float, default=0)
    p.add_argument("--retry-after", type=int, default=1)
    p.add_argument("--rate-500", type=float, default=0)
    p.add_argument("--rate-hang", type=float, default=0)
    p.add_argument("--rate-garbage", type=float, default=0)
    p.add_argument("--rate-truncate", type=float, default=0)
    p.add_argument("--rate-wrong-schema", type=float, default=0)
    p.add_argument("--wrong-schema-always", action="store_true")
    p.add_argument("--reply", default=None)
    p.add_argument("--dimension", type=int, default=8)
    p.add_argument("--seed", type=int, default=1)
    a = p.parse_args()
    Handler.args = a
    Handler.rng = random.Random(a.seed)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    srv = ThreadingHTTPServer(("127.0.0.1", a.port), Handler)
    srv.daemon_threads = True
    print("listening on 127.0.0.1:%d" % srv.server_address[1], flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    sys.exit(0)


if __name__ == "__main__":
    main()
