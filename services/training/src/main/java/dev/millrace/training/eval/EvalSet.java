package dev.millrace.training.eval;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.millrace.core.mask.Row;
import dev.millrace.core.prepare.LinePreparer;
import dev.millrace.core.prepare.Prepared;
import dev.millrace.core.prepare.PretrainPreparer;
import dev.millrace.core.prepare.SftOptions;
import dev.millrace.core.prepare.SftPreparer;
import dev.millrace.core.prepare.SpecialTokenPolicy;
import dev.millrace.core.prepare.Wrap;
import dev.millrace.core.mask.TrainOn;
import dev.millrace.core.record.Stage;
import dev.millrace.core.tokenizer.TokenizerFolder;
import dev.millrace.training.model.MiniMind;
import dev.millrace.training.train.BatchTensors;
import dev.millrace.training.train.Loss;
import dev.millrace.training.train.NoGrad;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A held-out set: a JSONL file prepared once into exactly the rows {@code ./millrace prepare} makes (the same
 * core preparers), then its loss under a model, {@code Σ ce·m[1..T) / Σ m[1..T)} per record and over all rows
 * together (not a mean of per-record means). Lines the preparer rejects are kept as {@link Prepared.Rejected}
 * and excluded from the loss.
 *
 * @param seqLen    T of every row
 * @param records   the kept records in input order, each with its rows (several for split pretrain windows)
 * @param rejected  the rejected lines in input order
 */
public record EvalSet(Stage stage, int seqLen, List<Record> records, List<Prepared.Rejected> rejected) {

    /** One kept input line and its rows. */
    public record Record(long line, String recordId, List<Row> rows) {
        public Record {
            rows = List.copyOf(rows);
        }

        /** Σ m[1..T) over its rows: the tokens its loss is taken over. */
        public long trainedTokens() {
            long sum = 0;
            for (Row row : rows) {
                for (int v : row.shift().lossMask()) {
                    sum += v;
                }
            }
            return sum;
        }
    }

    /** A record's loss: {@code Σ ce·m / Σ m} of its rows; NaN when it trains no token. */
    public record RecordLoss(Record record, double weightedSum, long trainedTokens) {
        public double loss() {
            return trainedTokens == 0 ? Double.NaN : weightedSum / trainedTokens;
        }
    }

    /** Per-record losses in input order and the loss of all rows together. */
    public record Result(List<RecordLoss> records, double weightedSum, long trainedTokens) {
        /** {@code Σ ce·m / Σ m} over every row; NaN when no row trains a token. */
        public double meanLoss() {
            return trainedTokens == 0 ? Double.NaN : weightedSum / trainedTokens;
        }
    }

    public EvalSet {
        records = List.copyOf(records);
        rejected = List.copyOf(rejected);
    }

    /**
     * The preparer {@code ./millrace prepare --stage S --seq-len T} uses with its default options (format
     * detected per line, the tokenizer's mask rule, wrap auto, truncate, special tokens allowed, train on all
     * turns). DPO is refused: the trainer does not train or evaluate pairs yet.
     */
    public static LinePreparer defaultPreparer(Stage stage, TokenizerFolder folder, int seqLen) {
        if (stage == Stage.DPO) {
            throw new IllegalArgumentException("evaluating dpo is not implemented (the trainer does not train DPO pairs yet)");
        }
        if (stage == Stage.PRETRAIN) {
            return new PretrainPreparer(folder, seqLen, null, Wrap.AUTO, false);
        }
        return new SftPreparer(folder, new SftOptions(stage, seqLen, null, null, TrainOn.ALL, SpecialTokenPolicy.ALLOW, null));
    }

    /** Prepares a JSONL file with {@code preparer} (blank lines skipped, as prepare does). */
    public static EvalSet prepare(Path input, Stage stage, int seqLen, LinePreparer preparer) throws IOException {
        if (stage == Stage.DPO) {
            throw new IllegalArgumentException("evaluating dpo is not implemented (the trainer does not train DPO pairs yet)");
        }
        List<Record> records = new ArrayList<>();
        List<Prepared.Rejected> rejected = new ArrayList<>();
        preparer.prepareFile(input, prepared -> {
            if (prepared instanceof Prepared.Example e) {
                records.add(new Record(e.line(), e.recordId(), List.of(e.row())));
            } else if (prepared instanceof Prepared.Windows w) {
                records.add(new Record(w.line(), w.recordId(), w.rows()));
            } else if (prepared instanceof Prepared.Rejected r) {
                rejected.add(r);
            } else {
                throw new IllegalArgumentException("line " + prepared.line() + ": " + prepared.getClass().getSimpleName()
                        + " cannot be evaluated (DPO pairs are not implemented)");
            }
        });
        return new EvalSet(stage, seqLen, records, rejected);
    }

    /** Every row of every record, in order. */
    public List<Row> rows() {
        List<Row> rows = new ArrayList<>();
        records.forEach(r -> rows.addAll(r.rows()));
        return rows;
    }

    /**
     * The loss of every record and of all rows under {@code model}, {@code batchSize} rows a forward pass, each
     * pass in a scratch manager closed after it (nothing is kept in the model's manager; no gradients).
     */
    public Result evaluate(MiniMind model, int batchSize) {
        if (batchSize < 1) {
            throw new IllegalArgumentException("batch size must be at least 1, got " + batchSize);
        }
        List<Row> rows = rows();
        double[] rowSums = new double[rows.size()];
        for (int from = 0; from < rows.size(); from += batchSize) {
            int to = Math.min(rows.size(), from + batchSize);
            BatchTensors batch = tensors("eval-" + from, rows.subList(from, to));
            batch.checkFits(model.config());
            try (NoGrad noGrad = NoGrad.enter(); NDManager scratch = model.manager().newSubManager()) {
                NDArray logits = model.forward(scratch, batch.input());
                Shape shape = new Shape(batch.rows(), batch.length());
                NDArray perRow = Loss.crossEntropy(logits, scratch.create(batch.targets(), shape))
                        .mul(scratch.create(batch.weights(), shape)).sum(new int[] {1});
                float[] sums = perRow.toFloatArray();
                for (int i = 0; i < sums.length; i++) {
                    rowSums[from + i] = sums[i];
                }
            }
        }
        List<RecordLoss> losses = new ArrayList<>();
        double total = 0;
        long tokens = 0;
        int row = 0;
        for (Record record : records) {
            double sum = 0;
            for (int i = 0; i < record.rows().size(); i++) {
                sum += rowSums[row++];
            }
            long trained = record.trainedTokens();
            losses.add(new RecordLoss(record, sum, trained));
            total += sum;
            tokens += trained;
        }
        return new Result(losses, total, tokens);
    }

    /** Unpacked rows as the trainer reads them: X = ids[0..T-1), Y = ids[1..T), weights m[1..T). */
    static BatchTensors tensors(String id, List<Row> rows) {
        int n = rows.get(0).seqLen() - 1;
        long[] inputs = new long[rows.size() * n];
        long[] targets = new long[rows.size() * n];
        float[] weights = new float[rows.size() * n];
        for (int r = 0; r < rows.size(); r++) {
            Row.Shifted s = rows.get(r).shift();
            for (int t = 0; t < n; t++) {
                inputs[r * n + t] = s.x()[t];
                targets[r * n + t] = s.y()[t];
                weights[r * n + t] = s.lossMask()[t];
            }
        }
        return new BatchTensors(id, rows.size(), n, inputs, targets, weights, null, null);
    }
}
