"""Fake model servers of our own, for driving the real agent CLIs with no network and no model.

Two APIs, both stdlib only (http.server, threads):

* Anthropic Messages (`POST /v1/messages`, streaming SSE or plain JSON), for Claude Code.
* OpenAI chat completions (`POST /v1/chat/completions`, streaming or not), for aider (through litellm).

Each server follows a *script*: a list of rules ``{"match": regex, "reply": ...}``; a request takes the
first rule whose regex matches its conversation (see ``conversation_text``) and whose ``times`` is not
used up. Every request and the reply it got is appended, as one JSON line, to ``log_path``, so a test
can assert on what the CLI sent back (e.g. that a Bash tool_result was not a permission denial).

Placeholders in replies: ``{cwd}`` the working directory the CLI reports (Claude Code's system prompt,
or our prompt's "Work in this directory: …"), ``{workdir}`` the last ``"workdir": "…"`` seen in a
tool result (the MCP server's get_next_subtask answer).
"""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# The usage every Anthropic reply reports, so a test can find it in the CLI's result event.
ANTHROPIC_USAGE = {"input_tokens": 1234, "output_tokens": 56, "cache_creation_input_tokens": 0,
                   "cache_read_input_tokens": 0}
OPENAI_USAGE = {"prompt_tokens": 321, "completion_tokens": 45, "total_tokens": 366}


def _text_of(content) -> str:
    if isinstance(content, str):
        return content
    parts = []
    for block in content or []:
        if not isinstance(block, dict):
            continue
        if block.get("type") == "text":
            parts.append(block.get("text", ""))
        elif block.get("type") == "tool_result":
            parts.append(_text_of(block.get("content")))
        elif block.get("type") == "tool_use":
            parts.append("tool_use:" + block.get("name", "") + " " + json.dumps(block.get("input", {})))
    return "\n".join(parts)


def conversation_text(body: dict) -> str:
    """Everything a rule may match: the messages' text, tool uses and tool results, in order."""
    return "\n".join(_text_of(m.get("content")) for m in body.get("messages", []))


def _last_user_text(body: dict) -> str:
    for message in reversed(body.get("messages", [])):
        if message.get("role") == "user":
            return _text_of(message.get("content"))
    return ""


class Script:
    def __init__(self, rules: list[dict], log_path: str):
        self.rules = [dict(r, used=0) for r in rules]
        self.log_path = log_path
        self.lock = threading.Lock()

    def pick(self, text: str):
        with self.lock:
            for rule in self.rules:
                times = rule.get("times")
                if times is not None and rule["used"] >= times:
                    continue
                if re.search(rule["match"], text, re.S):
                    rule["used"] += 1
                    return rule
        return None

    def log(self, record: dict):
        with self.lock, open(self.log_path, "a") as f:
            f.write(json.dumps(record) + "\n")


def _placeholders(body: dict) -> dict:
    system = body.get("system")
    system_text = _text_of(system) if isinstance(system, list) else (system or "")
    everything = system_text + "\n" + conversation_text(body)
    for m in body.get("messages", []):  # OpenAI: system message inside messages
        if m.get("role") == "system":
            everything += "\n" + _text_of(m.get("content"))
    values = {}
    m = re.search(r"Work in this directory: (\S+)", everything)
    if m:
        values["cwd"] = m.group(1)
    else:
        m = re.search(r"(?:Primary working directory|Working directory): (\S+)", everything)
        if m:
            values["cwd"] = m.group(1)
    found = re.findall(r'\\?"workdir\\?"\s*:\s*\\?"([^"\\]+)', everything)
    if found:
        values["workdir"] = found[-1]
    return values


def _fill(value, values: dict):
    if isinstance(value, str):
        for key, v in values.items():
            value = value.replace("{" + key + "}", v)
        return value
    if isinstance(value, list):
        return [_fill(v, values) for v in value]
    if isinstance(value, dict):
        return {k: _fill(v, values) for k, v in value.items()}
    return value


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    script: Script
    kind: str

    def log_message(self, *args):  # quiet
        pass

    def _read_body(self) -> dict:
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            return json.loads(raw or b"{}")
        except ValueError:
            return {}

    def _send_json(self, status: int, obj):
        data = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_HEAD(self):
        self.send_response(200)
        self.send_header("content-length", "0")
        self.end_headers()

    def do_GET(self):
        path = self.path.split("?")[0]
        self.script.log({"path": path, "method": "GET"})
        if path.endswith("/models"):
            return self._send_json(200, {"object": "list", "data": [{"id": "fake", "object": "model"}]})
        self._send_json(404, {"error": {"type": "not_found_error", "message": "no " + path}})

    def do_POST(self):
        path = self.path.split("?")[0]
        body = self._read_body()
        if self.kind == "anthropic" and path.endswith("/messages/count_tokens"):
            self.script.log({"path": path, "method": "POST"})
            return self._send_json(200, {"input_tokens": 100})
        if self.kind == "anthropic" and path.endswith("/messages"):
            return self._anthropic(body, path)
        if self.kind == "openai" and path.endswith("/chat/completions"):
            return self._openai(body, path)
        self.script.log({"path": path, "method": "POST", "unhandled": True})
        self._send_json(404, {"error": {"type": "not_found_error", "message": "no " + path}})

    # -- Anthropic ---------------------------------------------------------------------------

    def _anthropic(self, body: dict, path: str):
        text = conversation_text(body)
        has_tools = bool(body.get("tools"))
        rule = self.script.pick(text) if has_tools else None
        blocks = _fill(rule["reply"], _placeholders(body)) if rule else [{"type": "text", "text": "ok"}]
        if isinstance(blocks, str):
            blocks = [{"type": "text", "text": blocks}]
        for block in blocks:
            if block.get("type") == "tool_use":
                block.setdefault("id", "toolu_" + uuid.uuid4().hex[:20])
        stop = "tool_use" if any(b.get("type") == "tool_use" for b in blocks) else "end_turn"
        self.script.log({
            "path": path, "method": "POST", "model": body.get("model"), "stream": body.get("stream", False),
            "tools": [t.get("name") for t in body.get("tools") or []], "messages": body.get("messages"),
            "rule": rule["match"] if rule else None, "reply": blocks,
        })
        message_id = "msg_" + uuid.uuid4().hex[:24]
        model = body.get("model") or "claude-fake"
        if not body.get("stream"):
            return self._send_json(200, {
                "id": message_id, "type": "message", "role": "assistant", "model": model, "content": blocks,
                "stop_reason": stop, "stop_sequence": None, "usage": ANTHROPIC_USAGE})
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("cache-control", "no-cache")
        self.send_header("connection", "close")
        self.end_headers()

        def event(name, data):
            self.wfile.write(f"event: {name}\ndata: {json.dumps(data)}\n\n".encode())
            self.wfile.flush()

        start_usage = dict(ANTHROPIC_USAGE, output_tokens=1)
        event("message_start", {"type": "message_start", "message": {
            "id": message_id, "type": "message", "role": "assistant", "model": model, "content": [],
            "stop_reason": None, "stop_sequence": None, "usage": start_usage}})
        for index, block in enumerate(blocks):
            if block["type"] == "text":
                event("content_block_start", {"type": "content_block_start", "index": index,
                                              "content_block": {"type": "text", "text": ""}})
                event("content_block_delta", {"type": "content_block_delta", "index": index,
                                              "delta": {"type": "text_delta", "text": block["text"]}})
            else:
                event("content_block_start", {"type": "content_block_start", "index": index, "content_block": {
                    "type": "tool_use", "id": block["id"], "name": block["name"], "input": {}}})
                event("content_block_delta", {"type": "content_block_delta", "index": index, "delta": {
                    "type": "input_json_delta", "partial_json": json.dumps(block["input"])}})
            event("content_block_stop", {"type": "content_block_stop", "index": index})
        event("message_delta", {"type": "message_delta", "delta": {"stop_reason": stop, "stop_sequence": None},
                                "usage": {"output_tokens": ANTHROPIC_USAGE["output_tokens"]}})
        event("message_stop", {"type": "message_stop"})
        self.close_connection = True

    # -- OpenAI ------------------------------------------------------------------------------

    def _openai(self, body: dict, path: str):
        last = _last_user_text(body)
        rule = self.script.pick(last)
        reply = _fill(rule["reply"], _placeholders(body)) if rule else "I have nothing to change."
        self.script.log({"path": path, "method": "POST", "model": body.get("model"),
                         "stream": body.get("stream", False), "last_user": last[-3000:],
                         "rule": rule["match"] if rule else None, "reply": reply})
        created = int(time.time())
        cid = "chatcmpl-" + uuid.uuid4().hex[:20]
        model = body.get("model") or "fake"
        if not body.get("stream"):
            return self._send_json(200, {
                "id": cid, "object": "chat.completion", "created": created, "model": model,
                "choices": [{"index": 0, "message": {"role": "assistant", "content": reply},
                             "finish_reason": "stop"}], "usage": OPENAI_USAGE})
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("cache-control", "no-cache")
        self.send_header("connection", "close")
        self.end_headers()

        def chunk(delta, finish=None, usage=None):
            data = {"id": cid, "object": "chat.completion.chunk", "created": created, "model": model,
                    "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
            if usage:
                data["usage"] = usage
            self.wfile.write(f"data: {json.dumps(data)}\n\n".encode())
            self.wfile.flush()

        chunk({"role": "assistant", "content": ""})
        for i in range(0, len(reply), 200):
            chunk({"content": reply[i:i + 200]})
        chunk({}, finish="stop", usage=OPENAI_USAGE)
        self.wfile.write(b"data: [DONE]\n\n")
        self.wfile.flush()
        self.close_connection = True


class FakeModelServer:
    """A scripted fake model API on 127.0.0.1 (an ephemeral port), running in a thread."""

    def __init__(self, kind: str, rules: list[dict], log_path: str):
        assert kind in ("anthropic", "openai")
        self.script = Script(rules, log_path)
        handler = type("Handler", (_Handler,), {"script": self.script, "kind": kind})
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()

    def requests(self) -> list[dict]:
        try:
            with open(self.script.log_path) as f:
                return [json.loads(line) for line in f if line.strip()]
        except FileNotFoundError:
            return []


if __name__ == "__main__":  # a manual run: python fake_models.py anthropic|openai rules.json log.jsonl
    import sys

    kind, rules_file, log = sys.argv[1:4]
    with open(rules_file) as f:
        server = FakeModelServer(kind, json.load(f), log)
    with server:
        print(server.url, flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
