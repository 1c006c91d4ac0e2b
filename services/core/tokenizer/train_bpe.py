#!/usr/bin/env python3
"""Train Millrace's small byte-level BPE tokenizer from the bundled sample corpus.

Stdlib only (Python 3.8+). Writes a Hugging Face ``tokenizer.json`` (loadable by the Rust
``tokenizers`` library, and so by DJL's ai.djl.huggingface:tokenizers) and a matching
``tokenizer_config.json``. The output is a pure function of the corpus files and the
options: running it twice gives byte-identical files.

    python3 train_bpe.py                      # corpus = ../src/main/resources/millrace/samples
    python3 train_bpe.py --corpus DIR --vocab-size 4096 --out DIR
    python3 train_bpe.py --check              # only re-check the files already in --out

See README.md beside this script.
"""

import argparse
import hashlib
import heapq
import json
import os
import re
import sys
import time
import unicodedata

HERE = os.path.dirname(os.path.abspath(__file__))
RESOURCES = os.path.normpath(os.path.join(HERE, "..", "src", "main", "resources", "millrace"))
DEFAULT_CORPUS = os.path.join(RESOURCES, "samples")
DEFAULT_OUT = os.path.join(RESOURCES, "tokenizer")

ENDOFTEXT = "<|endoftext|>"
IM_START = "<|im_start|>"
IM_END = "<|im_end|>"
SPECIAL_TOKENS = [ENDOFTEXT, IM_START, IM_END]  # ids 0, 1, 2
DEFAULT_SYSTEM = "You are a helpful assistant"

# The seed's (MiniMind's) ChatML template, byte for byte.
CHAT_TEMPLATE = (
    "{% if messages[0]['role'] == 'system' %}{% set system_message = messages[0]['content'] %}"
    "{{ '<|im_start|>system\\n' + system_message + '<|im_end|>\\n' }}"
    "{% else %}{{ '<|im_start|>system\\nYou are a helpful assistant<|im_end|>\\n' }}{% endif %}"
    "{% for message in messages %}{% set content = message['content'] %}"
    "{% if message['role'] == 'user' %}"
    "{{ '<|im_start|>user\\n' + content + '<|im_end|>\\n<|im_start|>assistant\\n' }}"
    "{% elif message['role'] == 'assistant' %}{{ content + '<|im_end|>' + '\\n' }}"
    "{% endif %}{% endfor %}"
)

KNOWN_ROLES = ("system", "user", "assistant", "tool")


# --------------------------------------------------------------------------------------------
# Byte-level alphabet (GPT-2's bytes_to_unicode)
# --------------------------------------------------------------------------------------------

def bytes_to_unicode():
    """byte -> printable character, exactly as GPT-2 / HF ByteLevel.

    Returned as a list of (byte, char) in the table's own order: the printable bytes first
    (``!``..``~``, ``¡``..``¬``, ``®``..``ÿ``), then the remaining bytes mapped to U+0100...
    That order is also ascending by character, which is the order of ids 3..258.
    """
    bs = (list(range(ord("!"), ord("~") + 1))
          + list(range(ord("¡"), ord("¬") + 1))
          + list(range(ord("®"), ord("ÿ") + 1)))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return [(b, chr(c)) for b, c in zip(bs, cs)]


BYTE_TABLE = bytes_to_unicode()
BYTE_TO_CHAR = {b: c for b, c in BYTE_TABLE}
CHAR_TO_BYTE = {c: b for b, c in BYTE_TABLE}
# bytes.translate cannot map to multi-char output, so go through latin-1 with str.translate.
_LATIN1_TO_SYMBOL = {b: BYTE_TO_CHAR[b] for b in range(256)}


def to_symbols(piece):
    """A pre-tokenized piece (str) -> its byte-level symbol string."""
    return piece.encode("utf-8").decode("latin-1").translate(_LATIN1_TO_SYMBOL)


# --------------------------------------------------------------------------------------------
# Pre-tokenizer: HF ByteLevel(use_regex=True), i.e. the GPT-2 split pattern
#   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
# Python's `re` has no \p{..}, so the classes are built from unicodedata general categories,
# and \s is Oniguruma's Unicode \s (the White_Space set; tokenizers uses Oniguruma). Left are
# only differences of Unicode version between this Python and the Rust library.
# --------------------------------------------------------------------------------------------

ONIG_SPACE = [(0x09, 0x0D), (0x20, 0x20), (0x85, 0x85), (0xA0, 0xA0), (0x1680, 0x1680),
              (0x2000, 0x200A), (0x2028, 0x2029), (0x202F, 0x202F), (0x205F, 0x205F),
              (0x3000, 0x3000)]


def _category_ranges(prefix):
    ranges = []
    start = prev = None
    for cp in range(0x110000):
        if unicodedata.category(chr(cp))[0] == prefix:
            if start is not None and cp == prev + 1:
                prev = cp
                continue
            if start is not None:
                ranges.append((start, prev))
            start = prev = cp
    if start is not None:
        ranges.append((start, prev))
    return ranges


def _class_body(ranges):
    def esc(cp):
        return "\\U%08x" % cp

    return "".join(esc(a) if a == b else esc(a) + "-" + esc(b) for a, b in ranges)


def build_pretokenizer():
    L = _class_body(_category_ranges("L"))
    N = _class_body(_category_ranges("N"))
    S = _class_body(ONIG_SPACE)
    pattern = (
        r"'s|'t|'re|'ve|'m|'ll|'d"
        + "| ?[" + L + "]+"
        + "| ?[" + N + "]+"
        + "| ?[^" + S + L + N + "]+"
        + "|[" + S + "]+(?![^" + S + "])"
        + "|[" + S + "]+"
    )
    return re.compile(pattern)


PRETOKENIZER = None


def pretokenize(text):
    global PRETOKENIZER
    if PRETOKENIZER is None:
        PRETOKENIZER = build_pretokenizer()
    return PRETOKENIZER.findall(text)


SPECIAL_SPLIT = re.compile("(" + "|".join(re.escape(t) for t in SPECIAL_TOKENS) + ")")


def split_specials(text):
    """Text -> list of (is_special, segment), like HF's added-token extraction."""
    out = []
    for i, seg in enumerate(SPECIAL_SPLIT.split(text)):
        if i % 2 == 1:
            out.append((True, seg))
        elif seg:
            out.append((False, seg))
    return out


# --------------------------------------------------------------------------------------------
# Corpus
# --------------------------------------------------------------------------------------------

def conversation_messages(record):
    """Validated list of (role, content) or None when the record is not an SFT conversation."""
    if not isinstance(record, dict):
        return None
    conv = record.get("conversations")
    if not isinstance(conv, list) or not conv:
        return None
    if not all(isinstance(m, dict) and isinstance(m.get("content"), str) for m in conv):
        return None
    with_role = sum(1 for m in conv if "role" in m)
    if with_role == 0:  # positional roles (the seed's rule)
        return [("user" if i % 2 == 0 else "assistant", m["content"]) for i, m in enumerate(conv)]
    if with_role != len(conv):
        return None
    if not all(m["role"] in KNOWN_ROLES for m in conv):
        return None
    return [(m["role"], m["content"]) for m in conv]


def render_chatml(messages):
    """What CHAT_TEMPLATE renders (add_generation_prompt=False)."""
    parts = []
    if messages[0][0] == "system":
        parts.append(IM_START + "system\n" + messages[0][1] + IM_END + "\n")
    else:
        parts.append(IM_START + "system\n" + DEFAULT_SYSTEM + IM_END + "\n")
    for role, content in messages:
        if role == "user":
            parts.append(IM_START + "user\n" + content + IM_END + "\n" + IM_START + "assistant\n")
        elif role == "assistant":
            parts.append(content + IM_END + "\n")
    return "".join(parts)


def corpus_files(corpus_dir):
    files = []
    for root, dirs, names in os.walk(corpus_dir):
        dirs.sort()
        for name in names:
            if name.endswith(".jsonl"):
                files.append(os.path.join(root, name))
    return sorted(files, key=lambda p: os.path.relpath(p, corpus_dir).replace(os.sep, "/"))


def read_corpus(corpus_dir, log):
    """-> (word -> count, stats). Words are byte-level symbol strings of pre-tokenized pieces."""
    files = corpus_files(corpus_dir)
    counts = {}
    stats = {"files": len(files), "records": 0, "skipped": 0, "chars": 0, "digest": hashlib.sha256()}
    for path in files:
        rel = os.path.relpath(path, corpus_dir).replace(os.sep, "/")
        good = bad = 0
        with open(path, "rb") as fh:
            for raw in fh:
                stats["digest"].update(raw)
                line = raw.strip()
                if not line:
                    continue
                try:
                    record = json.loads(line.decode("utf-8"))
                except (UnicodeDecodeError, ValueError):
                    record = None
                messages = conversation_messages(record)
                if messages is None:
                    bad += 1
                    continue
                good += 1
                text = render_chatml(messages)
                stats["chars"] += len(text)
                for is_special, seg in split_specials(text):
                    if is_special:
                        continue
                    for piece in pretokenize(seg):
                        sym = to_symbols(piece)
                        counts[sym] = counts.get(sym, 0) + 1
        log("  %-40s %6d records, %4d skipped lines" % (rel, good, bad))
        stats["records"] += good
        stats["skipped"] += bad
    return counts, stats


# --------------------------------------------------------------------------------------------
# BPE training (word-frequency BPE with incremental pair counts)
# --------------------------------------------------------------------------------------------

def train_bpe(word_counts, vocab_size, min_frequency, log):
    """-> (vocab list of token strings, merges list of (left, right) strings).

    Each step merges the most frequent adjacent pair; ties go to the lexicographically
    smallest (left, right) pair of token strings. As in HF's BpeTrainer, a merge whose result
    string is already in the vocabulary keeps the merge but adds no new entry.
    """
    tokens = list(SPECIAL_TOKENS) + [c for _, c in BYTE_TABLE]
    token_id = {t: i for i, t in enumerate(tokens)}

    word_list = sorted(word_counts)  # deterministic word order
    words = [[token_id[ch] for ch in w] for w in word_list]
    freqs = [word_counts[w] for w in word_list]

    pair_count = {}
    pair_words = {}
    for wi, syms in enumerate(words):
        f = freqs[wi]
        for a, b in zip(syms, syms[1:]):
            p = (a, b)
            pair_count[p] = pair_count.get(p, 0) + f
            ws = pair_words.get(p)
            if ws is None:
                pair_words[p] = ws = set()
            ws.add(wi)

    heap = [(-c, tokens[a], tokens[b], a, b) for (a, b), c in pair_count.items()]
    heapq.heapify(heap)

    merges = []
    while len(tokens) < vocab_size and heap:
        negc, ls, rs, a, b = heapq.heappop(heap)
        count = pair_count.get((a, b), 0)
        if count != -negc:
            continue  # stale heap entry
        if count < min_frequency or count <= 0:
            break
        new_str = ls + rs
        new_id = token_id.get(new_str)
        if new_id is None:
            new_id = len(tokens)
            tokens.append(new_str)
            token_id[new_str] = new_id
        merges.append((ls, rs))

        delta = {}
        for wi in sorted(pair_words.pop((a, b), ())):
            syms = words[wi]
            n = len(syms)
            # quick check: still contains the pair?
            i = 0
            found = False
            while i < n - 1:
                if syms[i] == a and syms[i + 1] == b:
                    found = True
                    break
                i += 1
            if not found:
                continue
            f = freqs[wi]
            for p in zip(syms, syms[1:]):
                delta[p] = delta.get(p, 0) - f
            out = []
            i = 0
            while i < n:
                if i < n - 1 and syms[i] == a and syms[i + 1] == b:
                    out.append(new_id)
                    i += 2
                else:
                    out.append(syms[i])
                    i += 1
            words[wi] = out
            for p in zip(out, out[1:]):
                delta[p] = delta.get(p, 0) + f
                if new_id in p:
                    ws = pair_words.get(p)
                    if ws is None:
                        pair_words[p] = ws = set()
                    ws.add(wi)
        pair_count.pop((a, b), None)
        for p in sorted(delta):
            d = delta[p]
            if d == 0 or p == (a, b):
                continue
            c = pair_count.get(p, 0) + d
            if c <= 0:
                pair_count.pop(p, None)
                pair_words.pop(p, None)
            else:
                pair_count[p] = c
                heapq.heappush(heap, (-c, tokens[p[0]], tokens[p[1]], p[0], p[1]))
        if len(merges) % 500 == 0:
            log("  %5d merges, vocab %5d, last %r (count %d)" % (len(merges), len(tokens), new_str, count))
    return tokens, merges


# --------------------------------------------------------------------------------------------
# Output
# --------------------------------------------------------------------------------------------

def special_entry(i, content):
    return {"id": i, "content": content, "single_word": False, "lstrip": False,
            "rstrip": False, "normalized": False, "special": True}


def tokenizer_json(tokens, merges):
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": [special_entry(i, t) for i, t in enumerate(SPECIAL_TOKENS)],
        "normalizer": None,
        "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False,
                          "trim_offsets": True, "use_regex": True},
        "post_processor": None,
        "decoder": {"type": "ByteLevel", "add_prefix_space": True,
                    "trim_offsets": True, "use_regex": True},
        "model": {
            "type": "BPE",
            "dropout": None,
            "unk_token": None,
            "continuing_subword_prefix": None,
            "end_of_word_suffix": None,
            "fuse_unk": False,
            "byte_fallback": False,
            "ignore_merges": False,
            "vocab": {t: i for i, t in enumerate(tokens)},
            "merges": [[l, r] for l, r in merges],
        },
    }


def tokenizer_config():
    decoder = {}
    for i, t in enumerate(SPECIAL_TOKENS):
        decoder[str(i)] = {"content": t, "lstrip": False, "normalized": False,
                           "rstrip": False, "single_word": False, "special": True}
    return {
        "add_bos_token": False,
        "add_eos_token": False,
        "add_prefix_space": False,
        "added_tokens_decoder": decoder,
        "additional_special_tokens": [],
        "bos_token": IM_START,
        "clean_up_tokenization_spaces": False,
        "eos_token": IM_END,
        "legacy": True,
        "model_max_length": 32768,
        "pad_token": ENDOFTEXT,
        "sp_model_kwargs": {},
        "spaces_between_special_tokens": False,
        "tokenizer_class": "PreTrainedTokenizerFast",
        "unk_token": ENDOFTEXT,
        "chat_template": CHAT_TEMPLATE,
    }


def dump_tokenizer(tok):
    return json.dumps(tok, ensure_ascii=False, separators=(",", ":")) + "\n"


def dump_config(cfg):
    return json.dumps(cfg, ensure_ascii=False, indent=2) + "\n"


def write_atomic(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8", newline="\n") as fh:
        fh.write(text)
    os.replace(tmp, path)


# --------------------------------------------------------------------------------------------
# Reference encoder / decoder (used by the self-check)
# --------------------------------------------------------------------------------------------

class Bpe:
    def __init__(self, tok):
        model = tok["model"]
        self.vocab = model["vocab"]
        self.id_to_token = {i: t for t, i in self.vocab.items()}
        self.ranks = {}
        for r, m in enumerate(model["merges"]):
            l, rr = (m if isinstance(m, list) else m.split(" ", 1))
            self.ranks.setdefault((l, rr), r)
        self.special = {a["content"]: a["id"] for a in tok["added_tokens"]}
        self.cache = {}

    def _bpe(self, sym):
        if sym in self.cache:
            return self.cache[sym]
        parts = list(sym)
        while len(parts) > 1:
            best = None
            for i in range(len(parts) - 1):
                r = self.ranks.get((parts[i], parts[i + 1]))
                if r is not None and (best is None or r < best[0]):
                    best = (r, i)
            if best is None:
                break
            l, r = parts[best[1]], parts[best[1] + 1]
            merged = []
            i = 0
            while i < len(parts):
                if i < len(parts) - 1 and parts[i] == l and parts[i + 1] == r:
                    merged.append(l + r)
                    i += 2
                else:
                    merged.append(parts[i])
                    i += 1
            parts = merged
        self.cache[sym] = parts
        return parts

    def encode(self, text):
        ids = []
        for is_special, seg in split_specials(text):
            if is_special:
                ids.append(self.special[seg])
                continue
            for piece in pretokenize(seg):
                for t in self._bpe(to_symbols(piece)):
                    ids.append(self.vocab[t])
        return ids

    def tokens(self, text):
        return [self.id_to_token[i] for i in self.encode(text)]

    def decode(self, ids):
        out = bytearray()
        for i in ids:
            t = self.id_to_token[i]
            if t in self.special:
                out += t.encode("utf-8")
            else:
                out += bytes(CHAR_TO_BYTE[c] for c in t)
        return out.decode("utf-8")


CHECK_STRINGS = [
    "Hello world! The quick brown fox jumps over the lazy dog. It's 2024, isn't it?",
    "你好，世界！今天天气很好，我们去公园散步吧。机器学习是人工智能的一个分支。",
    "def main(argv):\n    for i in range(10):\n        if i % 2 == 0:\n            print(i)\n\n\treturn 0\n",
    "Emoji: 😀👍🏽 🇩🇪 ❤️ — “quotes”, café, naïve, Ελληνικά, русский, العربية, 日本語のテキスト",
    "  leading and trailing spaces   \n\n\n  mixed\twhitespace\r\n\u00a0nbsp\u3000ideographic ",
    IM_START + "system\n" + DEFAULT_SYSTEM + IM_END + "\n" + IM_START + "user\nHi!" + IM_END
    + "\n" + IM_START + "assistant\n你好！How can I help?" + IM_END + "\n" + ENDOFTEXT,
    "",
]


def self_check(tok, log):
    """Assert the structural invariants and decode(encode(s)) == s. Returns number of failures."""
    failures = []

    def expect(cond, what):
        if not cond:
            failures.append(what)

    bpe = Bpe(tok)
    vocab = tok["model"]["vocab"]
    for i, t in enumerate(SPECIAL_TOKENS):
        expect(vocab.get(t) == i, "vocab[%r] == %d" % (t, i))
        expect(bpe.encode(t) == [i], "encode(%r) == [%d]" % (t, i))
    for k, (_, c) in enumerate(BYTE_TABLE):
        expect(vocab.get(c) == 3 + k, "byte symbol %r at id %d" % (c, 3 + k))
    ids = sorted(vocab.values())
    expect(ids == list(range(len(ids))), "vocab ids are 0..n-1 without gaps")
    for l, r in tok["model"]["merges"]:
        expect(l in vocab and r in vocab and (l + r) in vocab, "merge %r %r is closed" % (l, r))
    for s in CHECK_STRINGS:
        enc = bpe.encode(s)
        dec = bpe.decode(enc)
        expect(dec == s, "round trip of %r (got %r)" % (s, dec))
        expect(len(enc) <= len(s.encode("utf-8")) or not s, "no more ids than bytes for %r" % s)
    open_ids = bpe.encode(IM_START + "assistant\n")
    close_ids = bpe.encode(IM_END + "\n")
    expect(open_ids[0] == 1 and close_ids[0] == 2, "ChatML markers start with the special ids")
    log("  encode('<|im_start|>assistant\\n') = %s  %s" % (open_ids, [bpe.id_to_token[i] for i in open_ids]))
    log("  encode('<|im_end|>\\n')           = %s  %s" % (close_ids, [bpe.id_to_token[i] for i in close_ids]))
    code = CHECK_STRINGS[2]
    log("  code sample -> %d ids: %s" % (len(bpe.encode(code)), bpe.tokens(code)))
    for f in failures[:20]:
        log("  CHECK FAILED: " + f)
    if not failures:
        log("  self-check passed (%d strings round-trip, special ids 0..2)" % len(CHECK_STRINGS))
    return len(failures)


# --------------------------------------------------------------------------------------------

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", default=DEFAULT_CORPUS, help="directory searched for *.jsonl (default: %(default)s)")
    ap.add_argument("--vocab-size", type=int, default=4096, help="target vocabulary size incl. 3 special + 256 byte tokens (default: %(default)s)")
    ap.add_argument("--min-frequency", type=int, default=2, help="stop early when the best pair occurs fewer times (default: %(default)s)")
    ap.add_argument("--out", default=DEFAULT_OUT, help="output directory (default: %(default)s)")
    ap.add_argument("--check", action="store_true", help="do not train: self-check the tokenizer.json already in --out")
    ap.add_argument("--quiet", action="store_true")
    args = ap.parse_args(argv)

    def log(msg):
        if not args.quiet:
            print(msg, file=sys.stderr)

    if args.check:
        path = os.path.join(args.out, "tokenizer.json")
        with open(path, encoding="utf-8") as fh:
            tok = json.load(fh)
        log("checking %s" % path)
        return 1 if self_check(tok, log) else 0

    base = len(SPECIAL_TOKENS) + 256
    if args.vocab_size < base:
        ap.error("--vocab-size must be at least %d" % base)
    if not os.path.isdir(args.corpus):
        print("train_bpe: corpus directory not found: %s" % args.corpus, file=sys.stderr)
        return 2

    t0 = time.time()
    log("corpus %s" % args.corpus)
    counts, stats = read_corpus(args.corpus, log)
    if not stats["records"]:
        print("train_bpe: no usable conversation records under %s" % args.corpus, file=sys.stderr)
        return 2
    log("  %d files, %d records, %d skipped lines, %d chars, %d distinct pieces (%.2fs)"
        % (stats["files"], stats["records"], stats["skipped"], stats["chars"], len(counts), time.time() - t0))

    t1 = time.time()
    tokens, merges = train_bpe(counts, args.vocab_size, args.min_frequency, log)
    log("trained: vocab %d, merges %d (%.2fs)" % (len(tokens), len(merges), time.time() - t1))
    if len(tokens) < args.vocab_size:
        log("  note: stopped below --vocab-size %d: no pair left with count >= %d"
            % (args.vocab_size, args.min_frequency))

    tok = tokenizer_json(tokens, merges)
    tok_text = dump_tokenizer(tok)
    tok = json.loads(tok_text)  # check what is actually written
    if self_check(tok, log):
        print("train_bpe: self-check failed, nothing written", file=sys.stderr)
        return 1

    os.makedirs(args.out, exist_ok=True)
    write_atomic(os.path.join(args.out, "tokenizer.json"), tok_text)
    write_atomic(os.path.join(args.out, "tokenizer_config.json"), dump_config(tokenizer_config()))
    log("wrote %s/{tokenizer.json,tokenizer_config.json}  corpus sha256 %s  tokenizer.json sha256 %s  (%.2fs total)"
        % (args.out, stats["digest"].hexdigest()[:16],
           hashlib.sha256(tok_text.encode("utf-8")).hexdigest()[:16], time.time() - t0))
    return 0


if __name__ == "__main__":
    sys.exit(main())
