#!/usr/bin/env python3
"""Test helper: renders many small templates with ../shared/tools/hf_render.py's environment.

argv[1]: the folder holding hf_render.py. stdin: JSONL of
{"template": str, "messages": [...], "tools": ..., "add_generation_prompt": bool, "vars": {...},
 "special": {...}, "spans": bool}; stdout: one {"text": ..., "spans": [...]} or {"error": ...} per line.
"""
import json
import sys

sys.path.insert(0, sys.argv[1])
import hf_render  # noqa: E402

for raw in sys.stdin.buffer:
    line = raw.decode("utf-8").rstrip("\n")
    if not line.strip():
        continue
    rec = json.loads(line)
    cfg = dict(rec.get("special") or {})
    cfg["chat_template"] = rec["template"]
    try:
        out = hf_render.render(cfg, rec.get("messages") or [], tools=rec.get("tools"),
                               add_generation_prompt=bool(rec.get("add_generation_prompt")),
                               extra_vars=rec.get("vars") or {},
                               return_generation_spans=bool(rec.get("spans")))
        if rec.get("spans"):
            text, spans = out
            result = {"text": text, "spans": spans}
        else:
            result = {"text": out}
    except Exception as exc:  # one error line per record
        result = {"error": f"{type(exc).__name__}: {exc}"}
    sys.stdout.write(json.dumps(result, ensure_ascii=False) + "\n")
    sys.stdout.flush()
