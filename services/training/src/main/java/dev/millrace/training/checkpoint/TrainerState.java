package dev.millrace.training.checkpoint;

import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * {@code trainer_state.json}: where training stood when a checkpoint was written.
 *
 * @param step optimiser steps completed
 * @param pass which pass over the topic (0-based; {@code --passes N} re-reads it)
 * @param offsets next offset to read per topic partition ({@code "<topic>-<partition>"}), just after the last batch of the last step
 * @param batchRanges the batches trained since the previous checkpoint
 * @param trainedTokens tokens trained on (Σ m) since the run began
 * @param skippedBatches batches skipped because they train no token
 * @param startedFrom the checkpoint the run that wrote this resumed from, or its {@code init} directory; null for a fresh model
 * @param dpoReference DPO only: the frozen reference's weights (the run's {@code init}); null for the other stages
 * @param distillTeacher logit-level distillation only: the frozen teacher's weights (the run's {@code distill-teacher});
 *     null otherwise
 */
public record TrainerState(
        long step,
        int pass,
        String stage,
        String tokenizerFingerprint,
        String model,
        Map<String, Long> offsets,
        List<BatchRanges.Range> batchRanges,
        long trainedTokens,
        long skippedBatches,
        String startedFrom,
        ReferenceIdentity dpoReference,
        ReferenceIdentity distillTeacher) {

    /** The state of a run without a reference or teacher model. */
    public TrainerState(long step, int pass, String stage, String tokenizerFingerprint, String model, Map<String, Long> offsets,
                        List<BatchRanges.Range> batchRanges, long trainedTokens, long skippedBatches, String startedFrom) {
        this(step, pass, stage, tokenizerFingerprint, model, offsets, batchRanges, trainedTokens, skippedBatches, startedFrom, null, null);
    }

    public TrainerState {
        offsets = offsets == null ? Map.of() : Collections.unmodifiableMap(new TreeMap<>(offsets));
        batchRanges = batchRanges == null ? List.of() : List.copyOf(batchRanges);
    }
}
