#!/usr/bin/env python3
"""The DPO loss in numpy (float64): the trainer's independent reference, on top of reference_forward.py's model.

Written from the DPO paper's loss and MiniMind's train_dpo.py (commit 408babf), not from the Java code.

usage: reference_dpo.py POLICY_DIR REFERENCE_DIR PAIRS_JSON BETA sum|mean
  PAIRS_JSON: {"chosen_ids": [[T]...], "chosen_mask": [[T]...], "rejected_ids": ..., "rejected_mask": ...}
              (masks unshifted, 0 on filler rows)
  stdout: per pair "policy_chosen", "policy_rejected", "ref_chosen", "ref_rejected", "loss", "real"; and over
          real pairs "mean_loss", "mean_margin", "accuracy", "pairs"
"""
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from reference_forward import forward, read_safetensors  # noqa: E402


def side_log_probs(w, cfg, ids, mask, how):
    """Log-prob of each row's trained tokens: X = ids[:, :-1] predicts Y = ids[:, 1:], weighted by m = mask[:, 1:]."""
    b, t = ids.shape
    x, y, m = ids[:, :-1], ids[:, 1:], mask[:, 1:]
    positions = np.tile(np.arange(t - 1), (b, 1))
    logits = forward(w, cfg, x, positions, np.ones((b, t - 1), dtype=np.int64))
    shifted = logits - logits.max(axis=-1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
    per_token = np.take_along_axis(log_probs, y[..., None], axis=-1)[..., 0]
    total = (per_token * m).sum(axis=1)
    if how == "mean":
        total = total / np.maximum(m.sum(axis=1), 1)
    return total, m.sum(axis=1)


def load(d):
    with open(f"{d}/config.json") as f:
        cfg = json.load(f)
    return read_safetensors(f"{d}/model.safetensors"), cfg


def main():
    policy_dir, reference_dir, pairs_path, beta, how = sys.argv[1:6]
    beta = float(beta)
    with open(pairs_path) as f:
        pairs = json.load(f)
    sides = {}
    for name in ("chosen", "rejected"):
        ids = np.array(pairs[f"{name}_ids"], dtype=np.int64)
        mask = np.array(pairs[f"{name}_mask"], dtype=np.float64)
        for who, d in (("policy", policy_dir), ("ref", reference_dir)):
            w, cfg = load(d)
            sides[f"{who}_{name}"], trained = side_log_probs(w, cfg, ids, mask, how)
        sides[f"trained_{name}"] = trained
    x = beta * ((sides["policy_chosen"] - sides["policy_rejected"]) - (sides["ref_chosen"] - sides["ref_rejected"]))
    loss = np.logaddexp(0.0, -x)  # -log(sigmoid(x))
    real = (sides["trained_chosen"] > 0) & (sides["trained_rejected"] > 0)
    n = int(real.sum())
    out = {k: sides[k].tolist() for k in ("policy_chosen", "policy_rejected", "ref_chosen", "ref_rejected")}
    out.update(loss=loss.tolist(), real=real.tolist(), pairs=n,
               mean_loss=float(loss[real].sum() / n), mean_margin=float(x[real].sum() / n),
               accuracy=float((x[real] > 0).sum() / n))
    print(json.dumps(out))


if __name__ == "__main__":
    main()
