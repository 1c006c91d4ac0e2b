package dev.millrace.cli;

import dev.millrace.cli.ingest.IngestClient;
import dev.millrace.cli.local.LocalSystem;
import dev.millrace.cli.local.OutputTally;
import dev.millrace.cli.local.PipelineOutput;
import dev.millrace.contract.PipelineService;
import dev.millrace.cli.local.RepoRoot;
import dev.millrace.core.chat.RecordReader;
import dev.millrace.core.json.LineReader;
import dev.millrace.core.json.RawLine;
import dev.millrace.core.json.StrictJson;
import dev.millrace.core.record.Reason;
import dev.millrace.core.record.RecordId;
import dev.millrace.core.record.RecordRejected;
import dev.millrace.core.record.Stage;
import dev.millrace.proto.v1.Batch;
import dev.millrace.proto.v1.BatchRow;
import dev.millrace.proto.v1.DeadLetter;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code ./millrace demo}: runs the whole system locally ({@link LocalSystem}: a real broker and the
 * packaged services as separate processes) for the chosen stages, posts each stage's bundled sample
 * to ingest over HTTP (distill answers with a demo teacher id), reads the batches, dead letters and
 * distill prompts ({@code read_committed}) until every accepted record is in a batch row, a
 * downstream dead letter or the prompts topic (or was a duplicate), prints progress and tables to
 * standard error, trains the stages as MiniMind chains them ({@link DemoTraining}: pretrain, SFT, DPO, the teacher's
 * answers and the distilled student), prints one summary line per stage and one training line per trained stage
 * (docs/cli.md#demo), in stage order, to standard output, and stops everything it started. Packing is on for
 * pretrain and SFT, off for DPO and distill.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "Run the whole system locally on the bundled sample data and print a summary per stage.")
final class DemoCommand extends Millrace.OutputAware {
    static final String SAMPLE_SFT = "/millrace/samples/sft.jsonl";
    /**
     * How long a batch (and a pack) may wait for more records: long enough that batches fill even when a loaded
     * machine takes seconds per batch's worth of records, so what the trainers learn from (and the demo's loss lines)
     * does not depend on how busy the cores were; the last batch of each partition costs this much once.
     */
    static final long LINGER_MS = 4000;
    /** The teacher id the demo gives its distill answers ({@code ?teacher=}). */
    static final String TEACHER = "millrace-demo-teacher";
    /** The stages whose batches the demo packs (the issue: on for pretrain and SFT). */
    static final Set<Stage> PACKED = EnumSet.of(Stage.PRETRAIN, Stage.SFT);
    /**
     * Rows of 256 tokens in batches of 8: the data shows the same things as at 512 and 16, and a CPU trains twice the
     * tokens per second on rows half as long (attention is quadratic in T) with four times the optimiser steps per
     * pass over the small samples, which is what a tiny model needs to learn them within the demo's minutes.
     */
    static final int DEFAULT_SEQ_LEN = 256;
    static final int DEFAULT_BATCH_SIZE = 8;
    /**
     * The step cap of pretrain and SFT (DPO and distillation train a share of it: {@link DemoTraining#stepsOf}): about a
     * minute of training per stage on 2 cores, in which the loss falls to about 0.7 of its start (pretrain 7.2 to 5.3,
     * SFT from the pretrain checkpoint 6.1 to 4.0).
     */
    static final long DEFAULT_TRAIN_STEPS = 400;

    @Option(names = "--stages", split = ",", defaultValue = "pretrain,sft,dpo,distill", paramLabel = "STAGE",
            description = "the stages to run, comma-separated (default ${DEFAULT-VALUE})")
    List<String> stageIds;

    @Option(names = "--seq-len", defaultValue = "" + DEFAULT_SEQ_LEN, paramLabel = "T", description = "row length T (default ${DEFAULT-VALUE})")
    int seqLen;

    @Option(names = "--batch-size", defaultValue = "" + DEFAULT_BATCH_SIZE, paramLabel = "B", description = "rows per batch (default ${DEFAULT-VALUE})")
    int batchSize;

    @Option(names = "--timeout", defaultValue = "300", paramLabel = "SECONDS",
            description = "give up when the records have not all come through this long after posting (default ${DEFAULT-VALUE})")
    int timeoutSeconds;

    @Option(names = "--train-steps", defaultValue = "" + DEFAULT_TRAIN_STEPS, paramLabel = "N",
            description = "optimiser steps of the tiny model for pretrain and SFT (from pretrain's checkpoint); DPO trains N/8 from SFT's, "
                    + "the distilled student N/2 after the teacher answered the prompts; 0: no training and no teacher (default ${DEFAULT-VALUE})")
    long trainSteps;

    @Option(names = "--train-lr", defaultValue = "" + DemoTraining.LR, paramLabel = "LR",
            description = "peak learning rate of the demo's training (MiniMind's cosine schedule over the steps; default ${DEFAULT-VALUE})")
    double trainLr;

    @Option(names = "--repo-root", hidden = true, paramLabel = "DIR", description = "the Millrace checkout with the packaged services")
    Path repoRoot;


    @Override
    public void run() {
        if (seqLen < 2 || batchSize < 1) {
            throw new Millrace.UsageError("--seq-len must be at least 2 and --batch-size at least 1");
        }
        if (timeoutSeconds < 1) {
            throw new Millrace.UsageError("--timeout must be at least 1 second");
        }
        if (trainSteps < 0) {
            throw new Millrace.UsageError("--train-steps cannot be negative");
        }
        if (!(trainLr > 0)) {
            throw new Millrace.UsageError("--train-lr must be positive");
        }
        List<Stage> stages = stages(stageIds);
        Path root = repoRoot != null ? repoRoot.toAbsolutePath().normalize() : RepoRoot.locate().orElseThrow(() -> new Millrace.Failure(
                "cannot find the Millrace checkout with the packaged services; run ./millrace from it or set MILLRACE_HOME"));
        boolean training = trainSteps > 0 && DemoTraining.trainsAny(stages);
        boolean teacher = training && DemoTraining.teaches(stages);
        List<String> missing = LocalSystem.missingArtifacts(root, EnumSet.allOf(PipelineService.class), training, teacher);
        if (!missing.isEmpty()) {
            throw new Millrace.Failure("the demo runs the packaged broker and services, but these are not built in " + root + ": "
                    + String.join(", ", missing) + "; run ./mvnw -DskipTests package there (./millrace does it when they are missing)");
        }
        Map<Stage, byte[]> samples = new EnumMap<>(Stage.class);
        stages.forEach(s -> samples.put(s, sample(s)));
        Set<Stage> packed = EnumSet.noneOf(Stage.class);
        stages.stream().filter(PACKED::contains).forEach(packed::add);
        long started = System.nanoTime();
        err.printf(Locale.ROOT, "millrace demo: starting a local broker and the services for %s (T=%d, B=%d, packing on for %s)%n",
                ids(stages), seqLen, batchSize, packed.isEmpty() ? "none" : ids(List.copyOf(packed)));
        LocalSystem.Options options = new LocalSystem.Options().seqLen(seqLen).batchSize(batchSize).batchLingerMs(LINGER_MS)
                .stages(stages).packing(packed).progress(err);
        List<String> summary = new ArrayList<>();
        try (LocalSystem system = LocalSystem.start(root, options)) {
            Map<Stage, String> dataLines = runOn(system, samples);
            Map<Stage, String> trainingLines = training
                    ? DemoTraining.run(system, stages, trainSteps, trainLr, DemoTraining.TIMEOUT, err)
                    : Map.of();
            for (Stage stage : stages) {
                summary.add(dataLines.get(stage));
                if (trainingLines.containsKey(stage)) {
                    summary.add(trainingLines.get(stage));
                }
            }
        } catch (IllegalStateException e) {
            throw new Millrace.Failure(e.getMessage());
        }
        err.printf(Locale.ROOT, "millrace demo: done in %.0f s%n", (System.nanoTime() - started) / 1e9);
        summary.forEach(out::println);
        out.flush();
    }

    /** The chosen stages in stage order, each once. */
    static List<Stage> stages(List<String> ids) {
        Set<Stage> chosen = EnumSet.noneOf(Stage.class);
        for (String id : ids) {
            try {
                chosen.add(Stage.fromId(id.trim()));
            } catch (IllegalArgumentException e) {
                throw new Millrace.UsageError("--stages: " + e.getMessage());
            }
        }
        if (chosen.isEmpty()) {
            throw new Millrace.UsageError("--stages needs at least one stage");
        }
        return List.copyOf(chosen);
    }

    private static String ids(List<Stage> stages) {
        return stages.stream().map(Stage::id).collect(Collectors.joining(", "));
    }

    private Map<Stage, String> runOn(LocalSystem system, Map<Stage, byte[]> samples) {
        try {
            return feedAndWatch(system, samples);
        } catch (RuntimeException e) {
            if (system.isStopped()) {
                throw new Millrace.Failure("the local run was stopped (Ctrl-C?) before every record came through");
            }
            throw e;
        }
    }

    /** One stage's feed: its sample lines, ingest's answer and what to wait for. */
    private record Feed(Stage stage, List<RawLine> lines, IngestClient.Answer answer, Expected expected) {
        long required() {
            return expected.required(answer.accepted());
        }
    }

    private Map<Stage, String> feedAndWatch(LocalSystem system, Map<Stage, byte[]> samples) {
        IngestClient ingest = new IngestClient(system.ingestUri());
        Map<Stage, Feed> feeds = new LinkedHashMap<>();
        for (Map.Entry<Stage, byte[]> e : samples.entrySet()) {
            feeds.put(e.getKey(), post(ingest, e.getKey(), e.getValue()));
        }
        List<Stage> stages = List.copyOf(feeds.keySet());
        List<String> batchTopics = stages.stream().map(s -> system.topics().batches(s)).toList();
        String promptTopic = stages.contains(Stage.DISTILL) ? system.topics().distillPrompts() : null;

        long deadline = System.nanoTime() + Duration.ofSeconds(timeoutSeconds).toNanos();
        Duration settle = Duration.ofMillis(LINGER_MS + 3000);
        long nextProgress = 0;
        String lastProgress = "";
        try (PipelineOutput output = new PipelineOutput(system.bootstrapServers(), batchTopics, system.topics().dlq(), promptTopic)) {
            while (true) {
                output.poll(Duration.ofMillis(500));
                Map<Stage, OutputTally> tallies = tallies(output, system, stages);
                List<Stage> pending = stages.stream().filter(s -> !complete(feeds.get(s), tallies.get(s), output.quietFor(), settle)).toList();
                if (pending.isEmpty()) {
                    return finish(output, system, feeds, tallies);
                }
                String progress = "millrace demo:   through so far: " + stages.stream()
                        .map(s -> String.format(Locale.ROOT, "%s %d of %d", s.id(), tallies.get(s).arrived(), feeds.get(s).required()))
                        .collect(Collectors.joining(", "));
                if (System.nanoTime() >= nextProgress && !progress.equals(lastProgress)) {
                    err.println(progress);
                    lastProgress = progress;
                    nextProgress = System.nanoTime() + Duration.ofSeconds(2).toNanos();
                }
                if (system.isStopped()) {
                    throw new Millrace.Failure("the local run was stopped before every record came through");
                }
                List<String> dead = system.deadServices();
                if (!dead.isEmpty()) {
                    throw new Millrace.Failure("a process of the local run exited: " + String.join("; ", dead));
                }
                if (System.nanoTime() > deadline) {
                    throw new Millrace.Failure(String.format(Locale.ROOT, "timed out after %d s: %s; see the service logs in %s",
                            timeoutSeconds, pending.stream().map(s -> shortfall(feeds.get(s), tallies.get(s))).collect(Collectors.joining("; ")),
                            system.logDir()));
                }
            }
        }
    }

    private Feed post(IngestClient ingest, Stage stage, byte[] sample) {
        List<RawLine> lines = lines(sample);
        IngestClient.Request request = IngestClient.Request.to(stage).withTeacher(stage == Stage.DISTILL ? TEACHER : null);
        err.printf("millrace demo: posting the bundled %s sample (%d lines) to %s%n", stage.id(), lines.size(), ingest.uri(request));
        IngestClient.Answer answer;
        try {
            answer = ingest.post(request, sample);
        } catch (IngestClient.Failed e) {
            throw new Millrace.Failure(e.getMessage());
        }
        err.printf("millrace demo: ingest answered %d: %d accepted%s, %d rejected%n", answer.status(), answer.accepted(),
                stage == Stage.DISTILL ? " (" + answer.prompts() + " of them prompts for the teacher)" : "", answer.rejected());
        for (IngestClient.LineError e : answer.errors()) {
            err.printf("  %s line %d rejected at ingest: %s: %s%n", stage.id(), e.line(), e.reason(), e.message());
        }
        Expected expected = expected(stage, lines, answer);
        if (!expected.idsKnown()) {
            err.printf("millrace demo: note: the accepted %s lines' record ids could not all be computed here; waiting by counts only%n", stage.id());
        }
        return new Feed(stage, lines, answer, expected);
    }

    private static boolean complete(Feed feed, OutputTally tally, Duration quiet, Duration settle) {
        return tally.complete(feed.required(), feed.expected().ids(), feed.expected().idsKnown(), quiet, settle);
    }

    private static String shortfall(Feed feed, OutputTally tally) {
        return String.format(Locale.ROOT, "%s: only %d of the %d accepted records reached a batch row (%d), a downstream dead letter (%d)%s; "
                        + "%d record ids never arrived", feed.stage().id(), tally.arrived(), feed.required(), tally.recordsInRows(),
                tally.downstreamDeadLetters(), feed.stage() == Stage.DISTILL ? " or the prompts topic (" + tally.prompts() + ")" : "",
                tally.missing(feed.expected().ids()));
    }

    /** Per stage: its batch topic's batches, its dead letters, and (distill) the prompts. */
    private static Map<Stage, OutputTally> tallies(PipelineOutput output, LocalSystem system, List<Stage> stages) {
        Map<Stage, OutputTally> tallies = new EnumMap<>(Stage.class);
        for (Stage s : stages) {
            OutputTally t = new OutputTally();
            output.batches(system.topics().batches(s)).forEach(r -> t.addBatch(r.value()));
            tallies.put(s, t);
        }
        for (PipelineOutput.Read<DeadLetter> r : output.deadLetters()) {
            Optional<Stage> stage = OutputTally.stageOf(r.value());
            OutputTally t = stage.map(tallies::get).orElse(stages.size() == 1 ? tallies.get(stages.get(0)) : null);
            if (t != null) {
                t.addDeadLetter(r.value());
            }
        }
        if (tallies.containsKey(Stage.DISTILL)) {
            output.prompts().forEach(r -> tallies.get(Stage.DISTILL).addPrompt(r.value()));
        }
        return tallies;
    }

    private Map<Stage, String> finish(PipelineOutput output, LocalSystem system, Map<Stage, Feed> feeds, Map<Stage, OutputTally> tallies) {
        Map<Stage, String> summary = new EnumMap<>(Stage.class);
        for (Feed feed : feeds.values()) {
            OutputTally tally = tallies.get(feed.stage());
            long dropped = feed.answer().accepted() - tally.arrived();
            if (dropped > 0) {
                err.printf("millrace demo: %s: every accepted record id arrived; %d accepted lines repeated a record id and were dropped downstream%n",
                        feed.stage().id(), dropped);
            }
            printBatches(feed.stage(), output.batches(system.topics().batches(feed.stage())), tally);
            summary.put(feed.stage(), tally.summaryLine(feed.stage().id(), feed.answer().rejected()));
        }
        printDeadLetters(output);
        if (!output.unreadable().isEmpty()) {
            err.println("millrace demo: warning: messages that are not valid protobuf: " + output.unreadable());
        }
        return summary;
    }

    /**
     * The record ids to wait for: of the lines ingest accepted, computed with core's rules, and how
     * many accepted lines repeat an earlier line's id (the system drops those as duplicates).
     * Distill prompts (core's reader says NO_TRAINABLE_TOKENS: no assistant message) get no id here;
     * they count by their arrival on the prompts topic.
     */
    record Expected(Set<String> ids, boolean idsKnown, long duplicates) {
        /** Records that must arrive out of {@code accepted}. */
        long required(long accepted) {
            return accepted - duplicates;
        }
    }

    static Expected expected(Stage stage, List<RawLine> lines, IngestClient.Answer answer) {
        Set<Long> rejectedLines = answer.errors().stream().map(IngestClient.LineError::line).collect(Collectors.toSet());
        Set<String> ids = new HashSet<>();
        boolean known = true;
        long acceptedLines = 0;
        long duplicates = 0;
        for (RawLine line : lines) {
            if (line.isBlank() || rejectedLines.contains(line.number())) {
                continue;
            }
            acceptedLines++;
            try {
                RecordReader.Result read = RecordReader.read(StrictJson.parse(line.bytes()), stage, null);
                if (!ids.add(RecordId.of(stage, read.record().normalised()))) {
                    duplicates++;
                }
            } catch (RecordRejected e) {
                known &= stage == Stage.DISTILL && e.reason() == Reason.NO_TRAINABLE_TOKENS;
            } catch (RuntimeException e) {
                known = false;
            }
        }
        known &= acceptedLines == answer.accepted();
        return new Expected(ids, known, known ? duplicates : 0);
    }

    private void printBatches(Stage stage, List<PipelineOutput.Read<Batch>> batches, OutputTally tally) {
        err.println();
        err.printf(Locale.ROOT, "%-34s %4s %5s %5s %8s %8s   (%s%s)%n", "batch", "part", "rows", "real", "nonpad", "trained", stage.id(),
                stage == Stage.DPO ? ": rows are chosen rows; real, nonpad and trained count the rejected rows too" : "");
        for (PipelineOutput.Read<Batch> r : batches) {
            Batch b = r.value();
            List<BatchRow> real = new ArrayList<>();
            b.getRowsList().stream().filter(row -> !row.getFiller()).forEach(real::add);
            b.getRejectedRowsList().stream().filter(row -> !row.getFiller()).forEach(real::add);
            err.printf(Locale.ROOT, "%-34s %4d %5d %5d %8d %8d%n", abbreviate(b.getBatchId(), 34), r.partition(), b.getRowsCount(), real.size(),
                    real.stream().mapToLong(BatchRow::getNonpadTokens).sum(), real.stream().mapToLong(BatchRow::getTrainedTokens).sum());
        }
        err.printf(Locale.ROOT, "%s: %d records in %d real rows of %d batches; %d dead letters downstream%s; nonpad %.3f, trained %.3f%n",
                stage.id(), tally.recordsInRows(), tally.realRows(), tally.batches(), tally.downstreamDeadLetters(),
                stage == Stage.DISTILL ? ", " + tally.prompts() + " prompts for the teacher" : "", tally.nonPadShare(), tally.trainedShare());
    }

    private void printDeadLetters(PipelineOutput output) {
        Map<String, Integer> byReason = new TreeMap<>();
        for (PipelineOutput.Read<DeadLetter> r : output.deadLetters()) {
            DeadLetter d = r.value();
            String stage = OutputTally.stageOf(d).map(Stage::id).orElse("?");
            byReason.merge(String.format(Locale.ROOT, "%-9s %-14s %s", stage, d.getService().isEmpty() ? "?" : d.getService(), d.getReason()), 1,
                    Integer::sum);
        }
        err.println();
        err.printf(Locale.ROOT, "%-9s %-14s %-30s %5s%n", "stage", "dead letters", "reason", "count");
        byReason.forEach((k, v) -> err.printf(Locale.ROOT, "%-55s %5d%n", k, v));
        err.println();
    }

    private static String abbreviate(String s, int width) {
        return s.length() <= width ? s : s.substring(0, width - 1) + "…";
    }

    /** The bundled sample of the SFT stage. */
    static byte[] sample() {
        return sample(Stage.SFT);
    }

    /** The bundled sample of a stage: {@code /millrace/samples/<stage>.jsonl}. */
    static byte[] sample(Stage stage) {
        String resource = "/millrace/samples/" + stage.id() + ".jsonl";
        try (InputStream in = DemoCommand.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException("bundled sample data missing: " + resource);
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static List<RawLine> lines(byte[] body) {
        List<RawLine> lines = new ArrayList<>();
        new LineReader(new ByteArrayInputStream(body)).forEachRemaining(lines::add);
        return lines;
    }
}
