#!/usr/bin/env python3
"""MiniMind2 forward pass and masked loss in numpy (float64): the trainer's independent reference.

Written from MiniMind's model/model_minimind.py (commit 408babf) and the Hugging Face Llama config, not
from the Java code: it reads a checkpoint only through its model.safetensors and config.json, so one
agreement checks the file format and the numbers together.

usage: reference_forward.py CHECKPOINT_DIR BATCH_JSON LOGITS_OUT
  BATCH_JSON: {"ids": [[T ints]...], "mask": [[T 0/1]...], "segment_ids": [[...]] | null, "position_ids": [[...]] | null}
  LOGITS_OUT: the logits of X = ids[:, :-1], float64 little-endian, shape [B, T-1, vocab]
  stdout: {"loss": sum(ce * m) / sum(m), "weight_sum": sum(m)} with m = mask[:, 1:]
"""
import json
import struct
import sys

import numpy as np

DTYPES = {"F32": np.float32, "F16": np.float16, "F64": np.float64}


def read_safetensors(path):
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, t in header.items():
        if name == "__metadata__":
            continue
        begin, end = t["data_offsets"]
        out[name] = np.frombuffer(data[begin:end], dtype=np.dtype(DTYPES[t["dtype"]]).newbyteorder("<")).reshape(t["shape"]).astype(np.float64)
    return out


def rms_norm(x, w, eps):
    return w * (x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + eps))


def rotate_half(x):
    half = x.shape[-1] // 2
    return np.concatenate([-x[..., half:], x[..., :half]], axis=-1)


def forward(w, cfg, ids, positions, segments):
    """ids, positions, segments: [B, T] ints. Returns logits [B, T, vocab]."""
    hidden = cfg["hidden_size"]
    heads = cfg["num_attention_heads"]
    kv_heads = cfg.get("num_key_value_heads", heads)
    head_dim = hidden // heads
    eps = cfg["rms_norm_eps"]
    b, t = ids.shape

    inv_freq = 1.0 / (cfg["rope_theta"] ** (np.arange(0, head_dim, 2, dtype=np.float64) / head_dim))
    angles = positions[..., None].astype(np.float64) * inv_freq          # [B, T, d/2]
    cos = np.concatenate([np.cos(angles), np.cos(angles)], axis=-1)[:, None]  # [B, 1, T, d]
    sin = np.concatenate([np.sin(angles), np.sin(angles)], axis=-1)[:, None]

    causal = np.tril(np.ones((t, t), dtype=bool))
    same_segment = segments[:, :, None] == segments[:, None, :]           # [B, T, T]
    allowed = (causal[None] & same_segment)[:, None]                      # [B, 1, T, T]

    emb = w["model.embed_tokens.weight"]
    h = emb[ids]
    for i in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{i}."
        x = rms_norm(h, w[p + "input_layernorm.weight"], eps)
        q = (x @ w[p + "self_attn.q_proj.weight"].T).reshape(b, t, heads, head_dim).transpose(0, 2, 1, 3)
        k = (x @ w[p + "self_attn.k_proj.weight"].T).reshape(b, t, kv_heads, head_dim).transpose(0, 2, 1, 3)
        v = (x @ w[p + "self_attn.v_proj.weight"].T).reshape(b, t, kv_heads, head_dim).transpose(0, 2, 1, 3)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        k = np.repeat(k, heads // kv_heads, axis=1)  # repeat_kv: head h reads kv head h // (heads / kv_heads)
        v = np.repeat(v, heads // kv_heads, axis=1)
        scores = q @ k.transpose(0, 1, 3, 2) / np.sqrt(head_dim)
        scores = np.where(allowed, scores, -np.inf)
        scores = scores - scores.max(axis=-1, keepdims=True)
        attn = np.exp(scores)
        attn = attn / attn.sum(axis=-1, keepdims=True)
        y = (attn @ v).transpose(0, 2, 1, 3).reshape(b, t, hidden)
        h = h + y @ w[p + "self_attn.o_proj.weight"].T
        x = rms_norm(h, w[p + "post_attention_layernorm.weight"], eps)
        gate = x @ w[p + "mlp.gate_proj.weight"].T
        up = x @ w[p + "mlp.up_proj.weight"].T
        h = h + ((gate / (1.0 + np.exp(-gate))) * up) @ w[p + "mlp.down_proj.weight"].T
    h = rms_norm(h, w["model.norm.weight"], eps)
    return h @ w.get("lm_head.weight", emb).T  # tied: the LM head is the embedding unless a file says otherwise


def main():
    checkpoint, batch_path, logits_out = sys.argv[1:4]
    with open(f"{checkpoint}/config.json") as f:
        cfg = json.load(f)
    w = read_safetensors(f"{checkpoint}/model.safetensors")
    with open(batch_path) as f:
        batch = json.load(f)
    ids = np.array(batch["ids"], dtype=np.int64)
    mask = np.array(batch["mask"], dtype=np.float64)
    b, t = ids.shape
    segments = np.array(batch["segment_ids"], dtype=np.int64) if batch.get("segment_ids") else np.ones((b, t), dtype=np.int64)
    positions = np.array(batch["position_ids"], dtype=np.int64) if batch.get("position_ids") else np.tile(np.arange(t), (b, 1))

    x, y, m = ids[:, :-1], ids[:, 1:], mask[:, 1:]
    logits = forward(w, cfg, x, positions[:, :-1], segments[:, :-1])
    shifted = logits - logits.max(axis=-1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
    ce = -np.take_along_axis(log_probs, y[..., None], axis=-1)[..., 0]
    weight_sum = float(m.sum())
    loss = float((ce * m).sum() / weight_sum) if weight_sum > 0 else None
    logits.astype("<f8").tofile(logits_out)
    print(json.dumps({"loss": loss, "weight_sum": weight_sum}))


if __name__ == "__main__":
    main()
