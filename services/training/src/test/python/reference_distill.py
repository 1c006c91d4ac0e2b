#!/usr/bin/env python3
"""The logit-level distillation loss in numpy (float64): the trainer's independent reference, on top of
reference_forward.py's model.

Written from MiniMind's train_distillation.py (commit 408babf) as we remember it, not from the Java code: per
trained position (shifted mask m = mask[:, 1:] == 1) ce = cross-entropy of the student against Y and
kl = KL(softmax(t/tau) || softmax(s/tau)) (F.kl_div(log_softmax(s/tau), softmax(t/tau)), 'batchmean' over the
trained positions), the teacher's logits cut to the student's vocabulary; loss = alpha*ce + (1-alpha)*tau^2*kl.

usage: reference_distill.py STUDENT_DIR TEACHER_DIR BATCH_JSON ALPHA TEMPERATURE
  BATCH_JSON: as reference_forward.py reads it ({"ids", "mask", "segment_ids"?, "position_ids"?})
  stdout: {"loss", "ce", "kl" (means over trained positions), "weight_sum"}
"""
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from reference_forward import forward, read_safetensors  # noqa: E402


def log_softmax(z):
    shifted = z - z.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def logits_of(d, x, positions, segments):
    with open(f"{d}/config.json") as f:
        cfg = json.load(f)
    return forward(read_safetensors(f"{d}/model.safetensors"), cfg, x, positions, segments)


def main():
    student_dir, teacher_dir, batch_path, alpha, temperature = sys.argv[1:6]
    alpha, temperature = float(alpha), float(temperature)
    with open(batch_path) as f:
        batch = json.load(f)
    ids = np.array(batch["ids"], dtype=np.int64)
    mask = np.array(batch["mask"], dtype=np.float64)
    b, t = ids.shape
    segments = np.array(batch["segment_ids"], dtype=np.int64) if batch.get("segment_ids") else np.ones((b, t), dtype=np.int64)
    positions = np.array(batch["position_ids"], dtype=np.int64) if batch.get("position_ids") else np.tile(np.arange(t), (b, 1))
    x, y, m = ids[:, :-1], ids[:, 1:], mask[:, 1:]

    student = logits_of(student_dir, x, positions[:, :-1], segments[:, :-1])
    teacher = logits_of(teacher_dir, x, positions[:, :-1], segments[:, :-1])[..., : student.shape[-1]]
    trained = m == 1
    s, te, targets = student[trained], teacher[trained], y[trained]  # [N, V], only the trained positions

    ce = -np.take_along_axis(log_softmax(s), targets[:, None], axis=-1)[:, 0]
    log_p_teacher = log_softmax(te / temperature)
    kl = (np.exp(log_p_teacher) * (log_p_teacher - log_softmax(s / temperature))).sum(axis=-1)
    n = trained.sum()
    print(json.dumps({
        "ce": float(ce.sum() / n),
        "kl": float(kl.sum() / n),
        "loss": float(alpha * ce.sum() / n + (1 - alpha) * temperature ** 2 * kl.sum() / n),
        "weight_sum": float(n),
    }))


if __name__ == "__main__":
    main()
