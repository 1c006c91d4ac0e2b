#!/usr/bin/env python3
"""Millrace's reference renderer for Hugging Face chat templates (a test helper, never used in production).

Renders chat templates with Python Jinja2 configured the way Hugging Face transformers'
``tokenizer.apply_chat_template(..., tokenize=False)`` configures it, so that Millrace's Java renderer
can be held to it byte for byte. Needs only Python 3.8+ and Jinja2 (Debian: ``python3-jinja2``).

The environment, as HF sets it up:

* ``jinja2.sandbox.ImmutableSandboxedEnvironment`` with ``trim_blocks=True`` and ``lstrip_blocks=True``
  and the ``loopcontrols`` extension (``{% break %}``, ``{% continue %}``); Jinja2's defaults otherwise
  (plain ``Undefined``, no autoescaping, the template's final newline dropped);
* ``tojson``: ``json.dumps`` with ``ensure_ascii=False`` and the caller's ``indent``, ``separators`` and
  ``sort_keys`` (keys keep their order; Jinja2's own filter sorts them and escapes ``<>&'``);
* the globals ``raise_exception(message)`` (raises ``TemplateError``) and ``strftime_now(format)``;
* a ``{% generation %}`` block that renders its body unchanged and, when asked, reports the character
  spans it produced, measured on the output streamed so far (as HF's assistant-mask tracker does);
* variables: ``messages``, ``tools``, ``documents`` (None unless given), ``add_generation_prompt``, the
  special tokens the tokenizer config sets (``bos_token`` ... ``mask_token`` as strings, and
  ``additional_special_tokens`` when not empty), then the request's extra ``vars``.

Usage::

    render_reference.py [--tokenizer DIR] < requests.jsonl > results.jsonl

One JSON request per input line:

``template``   the template source; without it, DIR's (``chat_template`` of ``tokenizer_config.json``,
               else ``chat_template.jinja`` / ``chat_template.json`` beside it; of named templates
               ``tool_use`` when tools are given and it exists, else ``default``)
``special``    the special-token variables; without it, those DIR's config sets
``messages``, ``tools``, ``add_generation_prompt``, ``vars``   as HF takes them
``record``     instead of ``messages``/``tools``: one input line (a string) in MiniMind's shape
               ``{"conversations": [...]}`` or OpenAI's ``{"messages": [...], "tools": ...}``, turned
               into messages and tools as MiniMind's SFT dataset does (see ``record_messages``)
``spans``      true: also report the ``[start, end)`` spans of ``{% generation %}`` output
``now``        the ISO date-time ``strftime_now`` reads (default: the current local time)

One JSON result per request, in order: ``{"text": ..., "spans": [...]}`` (spans only when asked), or
``{"error": "<exception type>: <message>"}`` when rendering raised.
"""

import argparse
import datetime
import json
import os
import sys

import jinja2
from jinja2 import nodes
from jinja2.ext import Extension
from jinja2.sandbox import ImmutableSandboxedEnvironment

SPECIAL_TOKENS = ("bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token")


class GenerationSpans(Extension):
    """``{% generation %}...{% endgeneration %}``: the body as is; spans recorded while a recorder is set."""

    tags = {"generation"}

    def __init__(self, environment):
        super().__init__(environment)
        environment.extend(span_recorder=None)

    def parse(self, parser):
        lineno = next(parser.stream).lineno
        body = parser.parse_statements(("name:endgeneration",), drop_needle=True)
        return nodes.CallBlock(self.call_method("_generation", []), [], [], body).set_lineno(lineno)

    def _generation(self, caller):
        text = caller()
        recorder = self.environment.span_recorder
        if recorder is not None:
            start = recorder.streamed()
            recorder.spans.append([start, start + len(text)])
        return text


class SpanRecorder:
    """The chunks a template has streamed so far, and the generation spans seen."""

    def __init__(self):
        self.chunks = []
        self.spans = []

    def streamed(self):
        return sum(len(c) for c in self.chunks)


class Clock:
    """What ``strftime_now`` reads; a request may pin it."""

    def __init__(self):
        self.now = None

    def strftime_now(self, fmt):
        return (self.now or datetime.datetime.now()).strftime(fmt)


def hf_tojson(value, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
    return json.dumps(value, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)


def raise_exception(message):
    raise jinja2.exceptions.TemplateError(message)


def make_environment(clock):
    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True,
                                        extensions=[GenerationSpans, "jinja2.ext.loopcontrols"])
    env.filters["tojson"] = hf_tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = clock.strftime_now
    return env


def read_tokenizer_config(folder):
    """The config of a tokenizer folder, with ``chat_template`` filled from the files beside it if absent."""
    path = os.path.join(folder, "tokenizer_config.json")
    config = {}
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            config = json.load(f)
    if config.get("chat_template") is None:
        jinja_file = os.path.join(folder, "chat_template.jinja")
        json_file = os.path.join(folder, "chat_template.json")
        if os.path.exists(jinja_file):
            with open(jinja_file, encoding="utf-8") as f:
                config["chat_template"] = f.read()
        elif os.path.exists(json_file):
            with open(json_file, encoding="utf-8") as f:
                config["chat_template"] = json.load(f).get("chat_template")
    return config


def token_string(token):
    if isinstance(token, dict):
        return token.get("content")
    return None if token is None else str(token)


def special_variables(config):
    out = {}
    for name in SPECIAL_TOKENS:
        value = token_string(config.get(name))
        if value:
            out[name] = value
    additional = [token_string(t) for t in config.get("additional_special_tokens") or []]
    additional = [t for t in additional if t]
    if additional:
        out["additional_special_tokens"] = additional
    return out


def pick_template(config, has_tools):
    templates = config.get("chat_template")
    if templates is None:
        raise ValueError("the tokenizer config has no chat_template")
    if isinstance(templates, str):
        return templates
    if isinstance(templates, list):
        templates = {entry["name"]: entry["template"] for entry in templates}
    if has_tools and "tool_use" in templates:
        return templates["tool_use"]
    if "default" not in templates:
        raise ValueError("named chat templates %s without 'default'" % sorted(templates))
    return templates["default"]


def record_messages(line):
    """Messages and tools of one input line, as MiniMind's SFT dataset hands them to the template.

    ``{"messages": [...], "tools": ...}`` is taken as is. In ``{"conversations": [...]}`` a system
    message's non-empty ``tools`` (a JSON string or a list) are the tools, ``tool_calls`` given as a
    JSON string are parsed, and when no message has a role the roles alternate user, assistant, ...
    Every key stays on its message (the system message keeps its ``tools``, as in MiniMind).
    """
    record = json.loads(line)
    if "conversations" not in record:
        return record["messages"], record.get("tools")
    turns = record["conversations"]
    positional = all("role" not in turn for turn in turns)
    messages = []
    tools = None
    for index, turn in enumerate(turns):
        message = dict(turn)
        if positional:
            message["role"] = "assistant" if index % 2 else "user"
        if message.get("role") == "system" and message.get("tools"):
            tools = message["tools"]
            if isinstance(tools, str):
                tools = json.loads(tools)
        if isinstance(message.get("tool_calls"), str) and message["tool_calls"]:
            message["tool_calls"] = json.loads(message["tool_calls"])
        messages.append(message)
    return messages, tools


class Renderer:
    def __init__(self, tokenizer_folder):
        self.config = read_tokenizer_config(tokenizer_folder) if tokenizer_folder else None
        self.clock = Clock()
        self.env = make_environment(self.clock)
        self.compiled = {}

    def compile(self, source):
        template = self.compiled.get(source)
        if template is None:
            template = self.env.from_string(source)
            self.compiled[source] = template
        return template

    def render(self, request):
        if "record" in request:
            messages, tools = record_messages(request["record"])
        else:
            messages, tools = request.get("messages") or [], request.get("tools")
        if "template" in request:
            source = request["template"]
        elif self.config is not None:
            source = pick_template(self.config, tools is not None)
        else:
            raise ValueError("no template: give --tokenizer or a 'template' in the request")
        if "special" in request:
            variables = dict(request["special"] or {})
        else:
            variables = special_variables(self.config or {})
        variables.update(request.get("vars") or {})
        self.clock.now = datetime.datetime.fromisoformat(request["now"]) if request.get("now") else None

        template = self.compile(source)
        context = dict(messages=messages, tools=tools, documents=None,
                       add_generation_prompt=bool(request.get("add_generation_prompt")), **variables)
        if not request.get("spans"):
            return {"text": template.render(**context)}
        recorder = SpanRecorder()
        self.env.span_recorder = recorder
        try:
            for chunk in template.generate(**context):
                recorder.chunks.append(chunk)
        finally:
            self.env.span_recorder = None
        return {"text": "".join(recorder.chunks), "spans": recorder.spans}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tokenizer", help="a tokenizer folder: its template and special tokens, unless a request gives its own")
    args = parser.parse_args()
    renderer = Renderer(args.tokenizer)
    for raw in sys.stdin.buffer:
        line = raw.decode("utf-8").strip("\r\n")
        if not line.strip():
            continue
        request = json.loads(line)
        try:
            result = renderer.render(request)
        except Exception as error:  # noqa: BLE001 - every failure is one result line, as a record's dead letter is
            result = {"error": "%s: %s" % (type(error).__name__, error)}
        sys.stdout.write(json.dumps(result, ensure_ascii=False) + "\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
