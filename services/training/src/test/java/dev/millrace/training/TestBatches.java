package dev.millrace.training;

import dev.millrace.core.batch.BatchAssembler;
import dev.millrace.core.mask.Row;
import dev.millrace.core.pack.PackedRow;
import dev.millrace.core.pack.PackedRowCodec;
import dev.millrace.core.record.Stage;
import dev.millrace.core.wire.RowCodec;
import dev.millrace.proto.v1.Batch;
import dev.millrace.proto.v1.BatchRow;
import dev.millrace.training.model.MiniMind;
import dev.millrace.training.model.ModelConfig;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/** Batches made the way the services make them (core's row codecs and BatchAssembler), for tests. */
public final class TestBatches {
    public static final int PAD = 0;
    public static final String FINGERPRINT = "test";

    private TestBatches() {
    }

    /** One example: its ids and unshifted mask. */
    public record Example(int[] ids, int[] mask) {
    }

    /** The tiny preset over a 4096-id vocabulary like the bundled tokenizer's (pad 0, bos 1, eos 2). */
    public static ModelConfig tiny() {
        return ModelConfig.preset("tiny", 4096, 1, 2, PAD);
    }

    /** An example of {@code length} random ids whose first {@code prompt} positions are not trained. */
    public static Example example(Random random, int vocab, int length, int prompt) {
        int[] ids = new int[length];
        int[] mask = new int[length];
        for (int i = 0; i < length; i++) {
            ids[i] = 3 + random.nextInt(vocab - 3);
            mask[i] = i < prompt ? 0 : 1;
        }
        return new Example(ids, mask);
    }

    /** An unpacked batch of {@code rows} rows of T: one example per row, the rest filler rows. */
    public static Batch unpacked(String batchId, int seqLen, int rows, List<Example> examples) {
        BatchAssembler assembler = new BatchAssembler(Stage.SFT, FINGERPRINT, seqLen, rows, PAD);
        Batch open = null;
        for (Example e : examples) {
            Row row = Row.fit(e.ids(), e.mask(), seqLen, PAD);
            open = assembler.add(open, batchId, RowCodec.toProto(row, List.of(), List.of()), 0);
        }
        return assembler.close(open);
    }

    /** One DPO pair: the chosen and the rejected example (each with its own unshifted mask). */
    public record Pair(Example chosen, Example rejected) {
    }

    /** A DPO batch of {@code pairs} pairs of T: one given pair per index, the rest filler pairs. */
    public static Batch dpo(String batchId, int seqLen, int pairs, List<Pair> given) {
        BatchAssembler assembler = new BatchAssembler(Stage.DPO, FINGERPRINT, seqLen, pairs, PAD);
        Batch open = null;
        for (Pair p : given) {
            Row chosen = Row.fit(p.chosen().ids(), p.chosen().mask(), seqLen, PAD);
            Row rejected = Row.fit(p.rejected().ids(), p.rejected().mask(), seqLen, PAD);
            open = assembler.addPair(open, batchId, RowCodec.toProto(chosen, List.of(), List.of()),
                    RowCodec.toProto(rejected, List.of(), List.of()), 0);
        }
        return assembler.close(open);
    }

    /** A pair sharing a random prompt of {@code prompt} ids, then random answers of the given lengths (trained). */
    public static Pair pair(Random random, int vocab, int prompt, int chosenAnswer, int rejectedAnswer) {
        Example head = example(random, vocab, prompt, prompt);
        Example chosen = example(random, vocab, chosenAnswer, 0);
        Example rejected = example(random, vocab, rejectedAnswer, 0);
        return new Pair(join(head, chosen), join(head, rejected));
    }

    private static Example join(Example a, Example b) {
        int[] ids = Arrays.copyOf(a.ids(), a.ids().length + b.ids().length);
        int[] mask = Arrays.copyOf(a.mask(), a.ids().length + b.ids().length);
        System.arraycopy(b.ids(), 0, ids, a.ids().length, b.ids().length);
        System.arraycopy(b.mask(), 0, mask, a.ids().length, b.ids().length);
        return new Example(ids, mask);
    }

    /** A packed batch: each inner list is one row's examples (as core's Packer lays them out), then filler rows. */
    public static Batch packed(String batchId, int seqLen, int rows, List<List<Example>> rowExamples) {
        BatchAssembler assembler = new BatchAssembler(Stage.SFT, FINGERPRINT, seqLen, rows, PAD, true);
        Batch open = null;
        for (List<Example> examples : rowExamples) {
            open = assembler.add(open, batchId, PackedRowCodec.toProto(packedRow(seqLen, examples), List.of(), List.of()), 0);
        }
        return assembler.close(open);
    }

    /** Whole examples one after the other, segments 1, 2, ..., positions restarting, no learning across a boundary. */
    static PackedRow packedRow(int seqLen, List<Example> examples) {
        int[] ids = new int[seqLen];
        int[] mask = new int[seqLen];
        int[] segments = new int[seqLen];
        int[] positions = new int[seqLen];
        int at = 0;
        int segment = 0;
        for (Example e : examples) {
            segment++;
            System.arraycopy(e.ids(), 0, ids, at, e.ids().length);
            System.arraycopy(e.mask(), 0, mask, at, e.ids().length);
            if (at > 0) {
                mask[at] = 0;
            }
            for (int k = 0; k < e.ids().length; k++) {
                segments[at + k] = segment;
                positions[at + k] = k;
            }
            at += e.ids().length;
        }
        Arrays.fill(ids, at, seqLen, PAD);
        return new PackedRow(ids, mask, segments, positions, List.of(), at);
    }

    /** A copy of the batch in which row {@code row} has {@code id} at position {@code t}. */
    public static Batch withId(Batch batch, int row, int t, int id) {
        BatchRow r = batch.getRows(row).toBuilder().setInputIds(t, id).build();
        return batch.toBuilder().setRows(row, r).build();
    }

    /**
     * A model with weights far from the initial ones (wider matrices, norm weights that are not 1): attention
     * is sharp, so a leak through a mask or a wrong norm shows in the logits instead of hiding in near-uniform scores.
     */
    public static MiniMind sharpModel(ModelConfig config, long seed) {
        Random random = new Random(seed);
        Map<String, float[]> values = new LinkedHashMap<>();
        MiniMind.shapes(config).forEach((name, shape) -> {
            float[] v = new float[(int) Arrays.stream(shape).reduce(1, Math::multiplyExact)];
            for (int i = 0; i < v.length; i++) {
                v[i] = (float) (name.endsWith("norm.weight") ? 1 + 0.3 * random.nextGaussian() : 0.15 * random.nextGaussian());
            }
            values.put(name, v);
        });
        return MiniMind.fromWeights(config, values);
    }

    /** Random batches of the tiny model's kind, for the training tests. */
    public static List<Batch> randomUnpacked(long seed, int count, int seqLen, int rows, int vocab) {
        Random random = new Random(seed);
        List<Batch> out = new ArrayList<>();
        for (int b = 0; b < count; b++) {
            List<Example> examples = new ArrayList<>();
            for (int r = 0; r < rows; r++) {
                int length = 2 + random.nextInt(seqLen - 1);
                examples.add(example(random, vocab, length, random.nextInt(length / 2 + 1)));
            }
            out.add(unpacked(String.format("sft-p0-%08d", b), seqLen, rows, examples));
        }
        return out;
    }
}
