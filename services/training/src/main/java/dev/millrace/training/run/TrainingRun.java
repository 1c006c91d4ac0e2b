package dev.millrace.training.run;

import dev.millrace.core.record.Stage;
import dev.millrace.core.tokenizer.TokenizerFolder;
import dev.millrace.core.wire.StageCodec;
import dev.millrace.proto.v1.Batch;
import dev.millrace.training.checkpoint.BatchRanges;
import dev.millrace.training.checkpoint.Checkpoint;
import dev.millrace.training.checkpoint.CheckpointStore;
import dev.millrace.training.checkpoint.ReferenceIdentity;
import dev.millrace.training.checkpoint.TrainerState;
import dev.millrace.training.dpo.DpoBatch;
import dev.millrace.training.dpo.DpoLoss;
import dev.millrace.training.dpo.DpoTrainer;
import dev.millrace.training.eval.EvalSet;
import dev.millrace.training.model.MiniMind;
import dev.millrace.training.model.ModelConfig;
import dev.millrace.training.train.AdamW;
import dev.millrace.training.train.BatchTensors;
import dev.millrace.training.train.DistillLoss;
import dev.millrace.training.train.Trainer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Exactly-once training from a batch topic: a {@link KafkaBatchSource}, a {@link Trainer} and a
 * {@link CheckpointStore} tied together.
 *
 * <p>On open it resumes from the newest checkpoint of its directory (weights, AdamW's moments, step, pass)
 * and seeks to that checkpoint's next offsets; only when the directory holds none does it start from
 * {@code init} or a fresh model, reading every partition from its beginning. Checkpoints fall only on
 * optimiser-step boundaries: their offsets are those just after the last batch of the last completed step
 * (batches read for an unfinished accumulation group are read again after a resume), and their batch ranges
 * are the batches of the steps since the previous checkpoint (skipped batches, which train no token,
 * included). So the chain of checkpoints covers every committed batch of a pass exactly once.
 *
 * <p>Every step is appended to the {@link StepLog} of the checkpoint directory before its checkpoint is
 * written (so no checkpointed step lacks its line), then reported to the listener; the eval file, when one is
 * set, is evaluated every {@code evalEverySteps} steps. For a health check on another thread it tells when the
 * last step finished and whether batches are waiting ({@link #lastStepNanos()}, {@link #batchesWaiting()}).
 *
 * <p>DPO trains a policy from {@code init} (an SFT checkpoint; a DPO run without one is refused) against a frozen
 * reference loaded from the same directory. Every checkpoint records the reference's {@link ReferenceIdentity};
 * a resume loads the reference from there and refuses to start when {@code init} names other weights or the
 * recorded directory's content changed.
 *
 * <p>Distill trains like SFT, with cross-entropy, on the distill batches (sequence-level distillation: the teacher's
 * answers are the targets). With a {@code distillTeacher} (stages sft and distill) the run distils logit-level: a
 * frozen teacher model, loaded from that checkpoint directory (same tokenizer fingerprint as the run, else refused),
 * adds the KL term of {@link DistillLoss}. Every checkpoint records the teacher's {@link ReferenceIdentity}; a
 * resume refuses another teacher, a changed one, or none where one was recorded (and the reverse).
 */
public final class TrainingRun implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(TrainingRun.class.getName());

    /** Called after every optimiser step (after its step log line and its checkpoint, when it has one), on the training thread. */
    @FunctionalInterface
    public interface StepListener {
        void onStep(StepReport step) throws IOException;
    }

    /** How often an idle run asks the broker whether batches are waiting beyond its read position. */
    private static final Duration BACKLOG_CHECK_INTERVAL = Duration.ofSeconds(1);

    /** Why a run ended. */
    public enum Ended { MAX_STEPS, IDLE, PASSES, STOPPED }

    /** How a bounded (or stopped) run ended; {@code lastCheckpoint} is null when it wrote none. */
    public record Outcome(Ended ended, long step, int pass, Path lastCheckpoint) {
    }

    private final TrainingSettings settings;
    private final String fingerprint;
    private final CheckpointStore store;
    private final MiniMind model;
    private final AdamW adamw;
    /** Null for DPO, which trains with {@link #dpoTrainer}. */
    private final Trainer trainer;
    /** DPO only (else null): the policy's trainer, its frozen reference and the reference's identity. */
    private final DpoTrainer dpoTrainer;
    private final MiniMind reference;
    private final ReferenceIdentity referenceIdentity;
    /** Logit-level distillation only (else null): the frozen teacher and its identity. */
    private final MiniMind teacher;
    private final ReferenceIdentity teacherIdentity;
    private final String modelName;
    private final String startedFrom;
    private final KafkaBatchSource source;
    private final StepListener listener;
    private final EvalSet evalSet;
    private final StepLog stepLog;

    private int pass;
    /** Next offsets after the last batch handed to the trainer. */
    private Map<Integer, Long> readOffsets;
    /** Next offsets after the last batch of the last completed step: what a checkpoint records. */
    private Map<Integer, Long> stepOffsets;
    private final List<String> pendingIds = new ArrayList<>();
    private long pendingSkipped;
    private final BatchRanges ranges = new BatchRanges();
    private long trainedTokens;
    private long skippedBatches;
    private long lastCheckpointStep;
    private long lastCheckpointNanos = System.nanoTime();
    private Path lastCheckpoint;
    private volatile Instant lastCheckpointTime;
    private volatile boolean stopRequested;
    /** When the last step finished (or run() began); read by health checks on other threads. */
    private volatile long lastStepNanos = System.nanoTime();
    /** Batches read and not trained yet (the current poll's). */
    private volatile boolean inHand;
    /** The topic's end lay beyond the read position at the last check (made on idle polls). */
    private volatile boolean behind;
    private long lastBacklogCheckNanos;
    /** Backlog checks made so far (each on an idle poll): a later one than a caller saw means the run has been idle since. */
    private final AtomicLong backlogChecks = new AtomicLong();
    private long waitNanos;

    private TrainingRun(TrainingSettings settings, StepListener listener) throws IOException {
        this.settings = settings;
        this.listener = listener;
        String topic = settings.batchTopic();
        this.store = new CheckpointStore(settings.checkpointDir(), settings.keepCheckpoints());
        int tokenizerVocab;
        ModelConfig presetConfig;
        try (TokenizerFolder tokenizer = TokenizerFolder.open(settings.tokenizerFolder())) {
            fingerprint = tokenizer.fingerprint();
            tokenizerVocab = tokenizer.vocabSize();
            presetConfig = ModelConfig.preset(settings.modelPreset(), tokenizer);
            evalSet = settings.evalFile() == null ? null : prepareEvalSet(settings, tokenizer);
        }
        Optional<Path> newest = store.newest();
        boolean dpo = settings.stage() == Stage.DPO;
        if (dpo && newest.isEmpty() && settings.init() == null) {
            throw new IllegalArgumentException("DPO trains a policy from an SFT checkpoint and keeps that checkpoint as its frozen reference: "
                    + "set init (the trainer's millrace.trainer.init)");
        }
        ReferenceIdentity dpoReference = null;
        ReferenceIdentity distillTeacher = null;
        if (settings.distillTeacher() != null) {
            distillTeacher = teacherIdentity(settings.distillTeacher());
        }
        Map<Integer, Long> offsets = Map.of();
        long steps = 0;
        MiniMind loaded;
        AdamW optimizer;
        if (newest.isPresent()) {
            Path from = newest.get();
            if (settings.init() != null && !dpo) {
                LOG.log(System.Logger.Level.INFO, "{0} already holds checkpoints: resuming from {1}; init {2} is ignored",
                        settings.checkpointDir(), from.getFileName(), settings.init());
            }
            TrainerState state = Checkpoint.readState(from);
            if (!settings.stage().id().equals(state.stage())) {
                throw new BatchMismatchException("checkpoint " + from + " trained stage " + state.stage() + ", this run trains " + settings.stage().id());
            }
            checkFingerprint(state.tokenizerFingerprint(), "checkpoint " + from);
            if (dpo) {
                dpoReference = resumedReference(state, from, settings.init());
            }
            resumedTeacher(state, from, distillTeacher);
            offsets = offsetsOf(state, topic, from);
            loaded = Checkpoint.loadModel(from);
            optimizer = new AdamW(settings.trainer().adamw(), loaded.weights());
            try {
                Checkpoint.loadOptimizer(from, optimizer);
            } catch (IOException | RuntimeException e) {
                optimizer.close();
                loaded.close();
                throw e;
            }
            steps = state.step();
            pass = state.pass();
            trainedTokens = state.trainedTokens();
            skippedBatches = state.skippedBatches();
            modelName = state.model();
            startedFrom = from.toAbsolutePath().toString();
            lastCheckpointTime = Files.getLastModifiedTime(from.resolve(Checkpoint.STATE)).toInstant();
            LOG.log(System.Logger.Level.INFO, "resuming from {0}: step {1}, pass {2}, offsets {3}", from, steps, pass, state.offsets());
        } else if (settings.init() != null) {
            Path init = settings.init();
            String name = init.getFileName().toString();
            if (Files.isRegularFile(init.resolve(Checkpoint.STATE))) {
                TrainerState state = Checkpoint.readState(init);
                checkFingerprint(state.tokenizerFingerprint(), "init checkpoint " + init);
                name = state.model();
            }
            if (dpo) {
                dpoReference = ReferenceIdentity.of(init);
            }
            loaded = Checkpoint.loadModel(init);
            optimizer = new AdamW(settings.trainer().adamw(), loaded.weights());
            modelName = name;
            startedFrom = init.toAbsolutePath().toString();
            LOG.log(System.Logger.Level.INFO, "starting from the weights of {0}", init);
        } else {
            loaded = MiniMind.initialise(presetConfig, settings.seed());
            optimizer = new AdamW(settings.trainer().adamw(), loaded.weights());
            modelName = settings.modelPreset();
            startedFrom = null;
        }
        this.model = loaded;
        this.adamw = optimizer;
        this.lastCheckpointStep = steps;
        this.referenceIdentity = dpoReference;
        this.teacherIdentity = distillTeacher;
        MiniMind referenceModel = null;
        MiniMind teacherModel = null;
        try {
            if (model.config().vocabSize() < tokenizerVocab) {
                throw new BatchMismatchException("the model's vocabulary has " + model.config().vocabSize() + " ids, the tokenizer folder "
                        + settings.tokenizerFolder() + " has " + tokenizerVocab);
            }
            if (dpo) {
                referenceModel = Checkpoint.loadModel(Path.of(dpoReference.path()));
                this.dpoTrainer = new DpoTrainer(model, referenceModel, adamw, settings.trainer(), settings.dpo(), steps);
                this.trainer = null;
                LOG.log(System.Logger.Level.INFO, "DPO reference {0} (sha256 {1}), beta {2}, log-probs {3}", dpoReference.path(),
                        dpoReference.sha256(), settings.dpo().beta(), settings.dpo().logProb().id());
            } else if (distillTeacher != null) {
                teacherModel = Checkpoint.loadModel(settings.distillTeacher());
                this.dpoTrainer = null;
                this.trainer = new Trainer(model, adamw, settings.trainer(), steps, new Trainer.Teacher(teacherModel, settings.distill()));
                LOG.log(System.Logger.Level.INFO, "distilling from the teacher {0} (sha256 {1}): alpha {2}, temperature {3}", distillTeacher.path(),
                        distillTeacher.sha256(), settings.distill().alpha(), settings.distill().temperature());
            } else {
                this.dpoTrainer = null;
                this.trainer = new Trainer(model, adamw, settings.trainer(), steps);
            }
            this.reference = referenceModel;
            this.teacher = teacherModel;
            this.source = new KafkaBatchSource(settings.bootstrapServers(), settings.kafkaConfig(), topic, "millrace-trainer-" + settings.stage().id());
        } catch (IOException | RuntimeException e) {
            if (referenceModel != null) {
                referenceModel.close();
            }
            if (teacherModel != null) {
                teacherModel.close();
            }
            adamw.close();
            model.close();
            throw e;
        }
        StepLog log = null;
        try {
            this.readOffsets = source.seek(offsets);
            log = StepLog.open(settings.checkpointDir().resolve(StepLog.FILE));
        } catch (IOException | RuntimeException e) {
            source.close();
            if (reference != null) {
                reference.close();
            }
            if (teacher != null) {
                teacher.close();
            }
            adamw.close();
            model.close();
            throw e;
        }
        this.stepLog = log;
        this.stepOffsets = new TreeMap<>(readOffsets);
    }

    /** The eval file in {@code prepare}'s rows; a file with nothing to evaluate is a configuration error. */
    private static EvalSet prepareEvalSet(TrainingSettings settings, TokenizerFolder tokenizer) throws IOException {
        Path file = settings.evalFile();
        EvalSet set = EvalSet.prepare(file, settings.stage(), settings.seqLen(), EvalSet.defaultPreparer(settings.stage(), tokenizer, settings.seqLen()));
        long tokens = set.records().stream().mapToLong(EvalSet.Record::trainedTokens).sum();
        if (!set.rejected().isEmpty()) {
            LOG.log(System.Logger.Level.WARNING, "eval file {0}: {1} lines rejected (not evaluated), the first: line {2}: {3}", file,
                    set.rejected().size(), set.rejected().get(0).line(), set.rejected().get(0).message());
        }
        if (tokens == 0) {
            throw new IllegalArgumentException("the eval file " + file + " has no " + settings.stage().id() + " record with a trained token at T="
                    + settings.seqLen() + " (" + set.records().size() + " records, " + set.rejected().size() + " lines rejected)");
        }
        LOG.log(System.Logger.Level.INFO, "eval file {0}: {1} records, {2} trained tokens, evaluated every {3} steps", file,
                set.records().size(), tokens, settings.evalEverySteps());
        return set;
    }

    /** Opens a run: resumes from the newest checkpoint, or starts from {@code init} or a fresh model; seeks the topic. */
    public static TrainingRun open(TrainingSettings settings, StepListener listener) throws IOException {
        return new TrainingRun(settings, listener);
    }

    private void checkFingerprint(String theirs, String what) {
        if (!fingerprint.equals(theirs)) {
            throw new BatchMismatchException(what + " was trained with tokenizer fingerprint " + theirs + ", the tokenizer folder "
                    + settings.tokenizerFolder() + " has " + fingerprint);
        }
    }

    /**
     * The reference a DPO checkpoint was trained against, still the same weights: {@code init}, when set, must
     * be that directory with that content, and the recorded directory must still hold it.
     */
    static ReferenceIdentity resumedReference(TrainerState state, Path from, Path init) throws IOException {
        ReferenceIdentity recorded = state.dpoReference();
        if (recorded == null) {
            throw new IllegalStateException("DPO checkpoint " + from + " records no reference model; it cannot be resumed as DPO");
        }
        if (init != null) {
            ReferenceIdentity given = ReferenceIdentity.of(init);
            if (!given.equals(recorded)) {
                throw new IllegalStateException("checkpoint " + from + " was trained against the DPO reference " + recorded.path()
                        + " (sha256 " + recorded.sha256() + "); init is " + given.path() + " (sha256 " + given.sha256()
                        + "): a resumed DPO run keeps its reference");
            }
            return recorded;
        }
        Path dir = Path.of(recorded.path());
        if (!Files.isDirectory(dir)) {
            throw new IllegalStateException("checkpoint " + from + " was trained against the DPO reference " + dir + ", which is gone");
        }
        ReferenceIdentity now = ReferenceIdentity.of(dir);
        if (!now.sha256().equals(recorded.sha256())) {
            throw new IllegalStateException("checkpoint " + from + " was trained against the DPO reference " + dir + " with sha256 "
                    + recorded.sha256() + "; it now holds " + now.sha256() + ": a resumed DPO run keeps its reference");
        }
        return recorded;
    }

    /** The identity of the teacher directory, whose tokenizer must be the run's (checked before its weights are loaded). */
    private ReferenceIdentity teacherIdentity(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            throw new IllegalArgumentException("the distillation teacher " + dir + " is not a directory (a checkpoint directory of the trainer's format)");
        }
        String teacherFingerprint;
        try (TokenizerFolder tokenizer = TokenizerFolder.open(dir)) {
            teacherFingerprint = tokenizer.fingerprint();
        }
        checkFingerprint(teacherFingerprint, "the distillation teacher " + dir);
        return ReferenceIdentity.of(dir);
    }

    /**
     * A resumed run distils from the teacher its checkpoint records, or from none when it records none:
     * {@code given} (the settings' teacher, as it is now; null: none) must equal the recorded identity.
     */
    static void resumedTeacher(TrainerState state, Path from, ReferenceIdentity given) {
        ReferenceIdentity recorded = state.distillTeacher();
        if (Objects.equals(recorded, given)) {
            return;
        }
        String keep = ": a resumed run keeps its teacher (a new checkpoint-dir with init " + from + " starts another run from these weights)";
        if (recorded == null) {
            throw new IllegalStateException("checkpoint " + from + " was trained without a distillation teacher; the teacher is "
                    + given.path() + " (sha256 " + given.sha256() + ")" + keep);
        }
        if (given == null) {
            throw new IllegalStateException("checkpoint " + from + " was trained distilling from the teacher " + recorded.path() + " (sha256 "
                    + recorded.sha256() + "); no teacher is set" + keep);
        }
        throw new IllegalStateException("checkpoint " + from + " was trained distilling from the teacher " + recorded.path() + " (sha256 "
                + recorded.sha256() + "); the teacher is " + given.path() + " (sha256 " + given.sha256() + ")" + keep);
    }

    /** The checkpoint's next offsets on this run's topic; offsets of another topic are an error, not a fresh start. */
    static Map<Integer, Long> offsetsOf(TrainerState state, String topic, Path from) {
        Map<Integer, Long> out = new TreeMap<>();
        state.offsets().forEach((key, offset) -> {
            int dash = key.lastIndexOf('-');
            if (dash < 0 || !key.substring(0, dash).equals(topic)) {
                throw new IllegalStateException("checkpoint " + from + " holds offsets of " + key + ", this run reads " + topic);
            }
            out.put(Integer.parseInt(key.substring(dash + 1)), offset);
        });
        return out;
    }

    /** Trains until a bound is reached or {@link #stop()} is called, then writes a final checkpoint (if a step was taken since the last). */
    public Outcome run() throws IOException {
        long lastBatchNanos = System.nanoTime();
        lastStepNanos = lastBatchNanos;
        waitNanos = 0;
        long idleSince = -1; // when the polls began to bring nothing: waiting for data until the next batch arrives
        Map<Integer, Long> passEnd = settings.passes() > 0 ? source.endOffsets() : null;
        while (true) {
            if (stopRequested) {
                return finish(Ended.STOPPED);
            }
            if (maxStepsReached()) {
                return finish(Ended.MAX_STEPS);
            }
            long pollStart = System.nanoTime();
            List<KafkaBatchSource.Read> reads = source.poll(settings.pollTimeout());
            if (reads.isEmpty()) {
                if (idleSince < 0) {
                    idleSince = pollStart;
                }
                checkBacklog();
                if (passEnd != null && source.reached(passEnd)) {
                    if (pass + 1 >= settings.passes()) {
                        return finish(Ended.PASSES);
                    }
                    passEnd = nextPass();
                    continue;
                }
                if (settings.untilIdle() != null && System.nanoTime() - lastBatchNanos >= settings.untilIdle().toNanos()) {
                    return finish(Ended.IDLE);
                }
                continue;
            }
            lastBatchNanos = System.nanoTime();
            if (idleSince >= 0) {
                waitNanos += lastBatchNanos - idleSince;
                idleSince = -1;
            }
            inHand = true;
            try {
                for (KafkaBatchSource.Read read : reads) {
                    train(read);
                    if (maxStepsReached() || stopRequested) {
                        break; // the rest is read again after a resume: the checkpoint's offsets stop before it
                    }
                }
            } finally {
                inHand = false;
            }
            // A pass ends as soon as its last batch is trained, not one idle poll later (which costs a poll timeout
            // and a fetch held at the log's end every pass: a fifth of the time on a small topic read many times).
            if (passEnd != null && !maxStepsReached() && !stopRequested && source.reached(passEnd)) {
                if (pass + 1 >= settings.passes()) {
                    return finish(Ended.PASSES);
                }
                passEnd = nextPass();
            }
        }
    }

    /** Starts the next pass: back to the beginning of every partition; returns where the pass ends. */
    private Map<Integer, Long> nextPass() {
        pass++;
        readOffsets = source.seekToBeginning();
        LOG.log(System.Logger.Level.INFO, "pass {0} of {1} over {2}", pass + 1, settings.passes(), source.topic());
        return source.endOffsets();
    }

    /** On an idle poll, at most every {@link #BACKLOG_CHECK_INTERVAL}: does the topic's end lie beyond the read position? */
    private void checkBacklog() {
        long now = System.nanoTime();
        if (now - lastBacklogCheckNanos < BACKLOG_CHECK_INTERVAL.toNanos()) {
            return;
        }
        lastBacklogCheckNanos = now;
        behind = !source.reached(source.endOffsets());
        backlogChecks.incrementAndGet();
    }

    /**
     * How many times the run has checked, on an idle poll, whether batches wait beyond its read position
     * ({@link #batchesWaiting()}); safe to read from any thread. A count that grew after a step means the
     * run polled without data and compared its position with the topic's end since that step.
     */
    public long backlogChecks() {
        return backlogChecks.get();
    }

    /**
     * When the last step finished, or {@link #run()} began ({@link System#nanoTime()}); safe to read from any thread.
     */
    public long lastStepNanos() {
        return lastStepNanos;
    }

    /**
     * Whether batches are waiting for this run: batches read and not trained yet, or (at the last check, made
     * at most every second while no batch arrives) the topic's end beyond the read position. Safe to read
     * from any thread. With {@link #lastStepNanos()}: a run that finishes no step while batches wait is stuck.
     */
    public boolean batchesWaiting() {
        return inHand || behind;
    }

    /** Whether a run with {@code lastStepNanos} and {@code batchesWaiting} is stuck at {@code nowNanos}: no step for {@code after} while batches wait. */
    public static boolean stuck(long nowNanos, long lastStepNanos, boolean batchesWaiting, Duration after) {
        return batchesWaiting && nowNanos - lastStepNanos >= after.toNanos();
    }

    /** Asks a running {@link #run()} to stop after the current batch and write its final checkpoint (SIGTERM). */
    public void stop() {
        stopRequested = true;
    }

    private boolean maxStepsReached() {
        return settings.maxSteps() > 0 && steps() >= settings.maxSteps();
    }

    private void train(KafkaBatchSource.Read read) throws IOException {
        Batch batch = read.batch();
        String where = "batch " + batch.getBatchId() + " at " + source.where(read.partition(), read.offset());
        check(batch, where);
        long skippedBefore = trainerSkippedBatches();
        Optional<Trainer.StepResult> step;
        DpoLoss.Totals pairs = null;
        try {
            if (dpoTrainer != null) {
                Optional<DpoTrainer.StepResult> dpoStep = dpoTrainer.add(DpoBatch.from(batch));
                pairs = dpoStep.map(DpoTrainer.StepResult::totals).orElse(null);
                step = dpoStep.map(r -> new Trainer.StepResult(r.step(), r.loss(), r.lr(), r.gradNorm(), r.trainedTokens(), r.batches()));
            } else {
                step = trainer.add(BatchTensors.from(batch));
            }
        } catch (IllegalArgumentException e) { // rows that are not T long or unpaired, an id outside the vocabulary
            throw new BatchMismatchException(where + " does not fit the model: " + e.getMessage(), e);
        }
        readOffsets.put(read.partition(), read.offset() + 1);
        pendingIds.add(batch.getBatchId());
        pendingSkipped += trainerSkippedBatches() - skippedBefore;
        if (step.isEmpty()) {
            return;
        }
        Trainer.StepResult result = step.get();
        long now = System.nanoTime();
        double seconds = (now - lastStepNanos) / 1e9;
        double waited = Math.min(seconds, waitNanos / 1e9);
        waitNanos = 0;
        lastStepNanos = now;
        ranges.addAll(pendingIds);
        pendingIds.clear();
        skippedBatches += pendingSkipped;
        pendingSkipped = 0;
        trainedTokens += result.trainedTokens();
        stepOffsets = new TreeMap<>(readOffsets);
        OptionalDouble evalLoss = OptionalDouble.empty();
        if (evalSet != null && result.step() % settings.evalEverySteps() == 0) {
            evalLoss = OptionalDouble.of(evalSet.evaluate(model, settings.evalBatchSize()).meanLoss());
        }
        StepReport report = new StepReport(result, pass, seconds, waited, evalLoss, pairs);
        stepLog.append(report); // before the checkpoint: a checkpointed step always has its line
        boolean bySteps = settings.checkpointEverySteps() > 0 && result.step() % settings.checkpointEverySteps() == 0;
        boolean byTime = settings.checkpointInterval() != null
                && System.nanoTime() - lastCheckpointNanos >= settings.checkpointInterval().toNanos();
        if (bySteps || byTime) {
            checkpoint();
        }
        if (listener != null) {
            listener.onStep(report);
        }
    }

    /** Stage, tokenizer and T must be the model's: anything else is a configuration error (skipping would lose data). */
    private void check(Batch batch, String where) {
        if (StageCodec.toWire(settings.stage()) != batch.getStage()) {
            throw new BatchMismatchException(where + " is a " + batch.getStage() + " batch, this trainer trains " + settings.stage().id());
        }
        if (!fingerprint.equals(batch.getTokenizerFingerprint())) {
            throw new BatchMismatchException(where + " was tokenized with tokenizer fingerprint " + batch.getTokenizerFingerprint()
                    + ", the model's tokenizer folder " + settings.tokenizerFolder() + " has " + fingerprint);
        }
        if (batch.getSeqLen() != settings.seqLen()) {
            throw new BatchMismatchException(where + " has T=" + batch.getSeqLen() + ", the trainer is configured for T=" + settings.seqLen());
        }
    }

    private Outcome finish(Ended ended) throws IOException {
        if (steps() > lastCheckpointStep) {
            checkpoint();
        }
        LOG.log(System.Logger.Level.INFO, "training ended ({0}) at step {1}, pass {2}", ended, steps(), pass);
        return new Outcome(ended, steps(), pass, lastCheckpoint);
    }

    private void checkpoint() throws IOException {
        long step = steps();
        Map<String, Long> offsets = new LinkedHashMap<>();
        stepOffsets.forEach((partition, offset) -> offsets.put(source.topic() + "-" + partition, offset));
        TrainerState state = new TrainerState(step, pass, settings.stage().id(), fingerprint, modelName, offsets, ranges.ranges(),
                trainedTokens, skippedBatches, startedFrom, referenceIdentity, teacherIdentity);
        lastCheckpoint = store.write(step, dir -> Checkpoint.write(dir, model, adamw, state, settings.tokenizerFolder()));
        ranges.clear();
        lastCheckpointStep = step;
        lastCheckpointNanos = System.nanoTime();
        lastCheckpointTime = Instant.now();
        LOG.log(System.Logger.Level.INFO, "checkpoint {0}: step {1}, pass {2}, offsets {3}", lastCheckpoint, step, pass, offsets);
    }

    public long steps() {
        return trainer != null ? trainer.steps() : dpoTrainer.steps();
    }

    private long trainerSkippedBatches() {
        return trainer != null ? trainer.skippedBatches() : dpoTrainer.skippedBatches();
    }

    /** DPO only: the frozen reference's identity, recorded in every checkpoint; empty for the other stages. */
    public Optional<ReferenceIdentity> dpoReference() {
        return Optional.ofNullable(referenceIdentity);
    }

    /** Logit-level distillation only: the frozen teacher's identity, recorded in every checkpoint; empty otherwise. */
    public Optional<ReferenceIdentity> distillTeacher() {
        return Optional.ofNullable(teacherIdentity);
    }

    public int pass() {
        return pass;
    }

    public MiniMind model() {
        return model;
    }

    /** Tokens trained in all, resumed ones included. */
    public long trainedTokens() {
        return trainedTokens;
    }

    /** Batches skipped because they train no token, in all, resumed ones included. */
    public long skippedBatches() {
        return skippedBatches;
    }

    /** When the newest checkpoint (written by this run or resumed from) was written; empty before the first. Any thread. */
    public Optional<Instant> lastCheckpointTime() {
        return Optional.ofNullable(lastCheckpointTime);
    }

    /** The prepared eval file; empty when none is set. */
    public Optional<EvalSet> evalSet() {
        return Optional.ofNullable(evalSet);
    }

    public TrainingSettings settings() {
        return settings;
    }

    /** Releases the consumer, the step log and the model; writes nothing (a crash after the last checkpoint looks the same). */
    @Override
    public void close() {
        try {
            source.close();
        } finally {
            try {
                stepLog.close();
            } catch (IOException e) {
                LOG.log(System.Logger.Level.WARNING, "closing " + stepLog.file() + ": " + e.getMessage());
            } finally {
                if (reference != null) {
                    reference.close();
                }
                if (teacher != null) {
                    teacher.close();
                }
                adamw.close();
                model.close();
            }
        }
    }
}
