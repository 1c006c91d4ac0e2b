package dev.millrace.cli;

import dev.millrace.cli.local.IngestClient;
import dev.millrace.cli.local.LocalSystem;
import dev.millrace.cli.local.OutputTally;
import dev.millrace.cli.local.PipelineOutput;
import dev.millrace.cli.local.RepoRoot;
import dev.millrace.core.chat.ConversationReader;
import dev.millrace.core.json.LineReader;
import dev.millrace.core.json.RawLine;
import dev.millrace.core.json.StrictJson;
import dev.millrace.core.record.RecordId;
import dev.millrace.core.record.RecordRejected;
import dev.millrace.core.record.Stage;
import dev.millrace.proto.v1.Batch;
import dev.millrace.proto.v1.DeadLetter;
import dev.millrace.proto.v1.Row;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code ./millrace demo}: runs the whole system locally ({@link LocalSystem}: a real broker and the
 * packaged services as separate processes), posts the bundled sample SFT data to ingest over HTTP,
 * reads the batches and dead letters ({@code read_committed}) until every accepted record is in a
 * batch row or a downstream dead letter, prints progress and a table to standard error and the
 * CLI.md summary line to standard output, and stops everything it started.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "Run the whole system locally on the bundled sample data and print a summary.")
final class DemoCommand implements Runnable, Millrace.OutputAware {
    static final String SAMPLE_SFT = "/millrace/samples/sft.jsonl";
    static final long LINGER_MS = 1000;

    @Option(names = "--seq-len", defaultValue = "512", paramLabel = "T", description = "row length T (default ${DEFAULT-VALUE})")
    int seqLen;

    @Option(names = "--batch-size", defaultValue = "16", paramLabel = "B", description = "rows per batch (default ${DEFAULT-VALUE})")
    int batchSize;

    @Option(names = "--timeout", defaultValue = "300", paramLabel = "SECONDS",
            description = "give up when the records have not all come through this long after posting (default ${DEFAULT-VALUE})")
    int timeoutSeconds;

    @Option(names = "--repo-root", hidden = true, paramLabel = "DIR", description = "the Millrace checkout with the packaged services")
    Path repoRoot;

    private PrintStream out = System.out;
    private PrintStream err = System.err;

    @Override
    public void setStreams(PrintStream out, PrintStream err) {
        this.out = out;
        this.err = err;
    }

    @Override
    public void run() {
        if (seqLen < 2 || batchSize < 1) {
            throw new Millrace.UsageError("--seq-len must be at least 2 and --batch-size at least 1");
        }
        if (timeoutSeconds < 1) {
            throw new Millrace.UsageError("--timeout must be at least 1 second");
        }
        Path root = repoRoot != null ? repoRoot.toAbsolutePath().normalize() : RepoRoot.locate().orElseThrow(() -> new Millrace.Failure(
                "cannot find the Millrace checkout with the packaged services; run ./millrace from it or set MILLRACE_HOME"));
        List<String> missing = LocalSystem.missingArtifacts(root, EnumSet.allOf(LocalSystem.Service.class));
        if (!missing.isEmpty()) {
            throw new Millrace.Failure("the demo runs the packaged broker and services, but these are not built in " + root + ": "
                    + String.join(", ", missing) + "; run ./mvnw -DskipTests package there (./millrace does it when they are missing)");
        }
        byte[] sample = sample();
        long started = System.nanoTime();
        err.printf(Locale.ROOT, "millrace demo: starting a local broker and the services (T=%d, B=%d)%n", seqLen, batchSize);
        LocalSystem.Options options = new LocalSystem.Options().seqLen(seqLen).batchSize(batchSize).batchLingerMs(LINGER_MS).progress(err);
        String summary;
        try (LocalSystem system = LocalSystem.start(root, options)) {
            summary = runOn(system, sample);
        } catch (IllegalStateException e) {
            throw new Millrace.Failure(e.getMessage());
        }
        err.printf(Locale.ROOT, "millrace demo: done in %.0f s%n", (System.nanoTime() - started) / 1e9);
        out.println(summary);
        out.flush();
    }

    private String runOn(LocalSystem system, byte[] sample) {
        try {
            return feedAndWatch(system, sample);
        } catch (RuntimeException e) {
            if (system.isStopped()) {
                throw new Millrace.Failure("the local run was stopped (Ctrl-C?) before every record came through");
            }
            throw e;
        }
    }

    private String feedAndWatch(LocalSystem system, byte[] sample) {
        List<RawLine> lines = lines(sample);
        err.printf("millrace demo: posting the bundled sample (%d lines) to %s/v1/sft/records%n", lines.size(), system.ingestUri());
        IngestClient.Answer answer = new IngestClient(system.ingestUri()).post(Stage.SFT.id(), sample);
        err.printf("millrace demo: ingest answered %d: %d accepted, %d rejected%n", answer.status(), answer.accepted(), answer.rejected());
        for (IngestClient.LineError e : answer.errors()) {
            err.printf("  line %d rejected at ingest: %s: %s%n", e.line(), e.reason(), e.message());
        }
        Expected expected = expected(lines, answer);
        if (!expected.idsKnown()) {
            err.println("millrace demo: note: the accepted lines' record ids could not all be computed here; waiting by counts only");
        }

        long deadline = System.nanoTime() + Duration.ofSeconds(timeoutSeconds).toNanos();
        Duration settle = Duration.ofMillis(LINGER_MS + 3000);
        long nextProgress = 0;
        String lastProgress = "";
        try (PipelineOutput output = new PipelineOutput(system.bootstrapServers(), system.topics().batches(Stage.SFT), system.topics().dlq())) {
            while (true) {
                output.poll(Duration.ofMillis(500));
                OutputTally tally = tally(output);
                if (tally.complete(answer.accepted(), expected.ids(), expected.idsKnown(), output.quietFor(), settle)) {
                    if (tally.recordsInRows() + tally.downstreamDeadLetters() < answer.accepted()) {
                        err.printf("millrace demo: every accepted record id arrived; %d accepted lines repeated a record id and were dropped downstream%n",
                                answer.accepted() - tally.recordsInRows() - tally.downstreamDeadLetters());
                    }
                    printTable(output, tally);
                    if (!output.unreadable().isEmpty()) {
                        err.println("millrace demo: warning: messages that are not valid protobuf: " + output.unreadable());
                    }
                    return tally.summaryLine(Stage.SFT.id(), answer.rejected());
                }
                String progress = String.format(Locale.ROOT, "millrace demo:   %d of %d accepted records through: %d in %d batches, %d dead letters downstream",
                        tally.recordsInRows() + tally.downstreamDeadLetters(), answer.accepted(), tally.recordsInRows(), tally.batches(),
                        tally.downstreamDeadLetters());
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
                    throw new Millrace.Failure(String.format(Locale.ROOT,
                            "timed out after %d s: only %d of the %d accepted records reached a batch row (%d) or a downstream dead letter (%d); "
                                    + "%d record ids never arrived; see the service logs in %s",
                            timeoutSeconds, tally.recordsInRows() + tally.downstreamDeadLetters(), answer.accepted(), tally.recordsInRows(),
                            tally.downstreamDeadLetters(), tally.missing(expected.ids()), system.logDir()));
                }
            }
        }
    }

    private static OutputTally tally(PipelineOutput output) {
        OutputTally tally = new OutputTally();
        output.batches().forEach(r -> tally.addBatch(r.value()));
        output.deadLetters().forEach(r -> tally.addDeadLetter(r.value()));
        return tally;
    }

    /** The distinct record ids of the lines ingest accepted, computed with core's rules. */
    record Expected(Set<String> ids, boolean idsKnown) {
    }

    static Expected expected(List<RawLine> lines, IngestClient.Answer answer) {
        Set<Long> rejectedLines = answer.errors().stream().map(IngestClient.LineError::line).collect(Collectors.toSet());
        Set<String> ids = new HashSet<>();
        boolean known = true;
        long acceptedLines = 0;
        for (RawLine line : lines) {
            if (line.isBlank() || rejectedLines.contains(line.number())) {
                continue;
            }
            acceptedLines++;
            try {
                ids.add(RecordId.of(Stage.SFT, ConversationReader.read(StrictJson.parse(line.bytes()), null).normalised()));
            } catch (RecordRejected | RuntimeException e) {
                known = false;
            }
        }
        return new Expected(ids, known && acceptedLines == answer.accepted());
    }

    private void printTable(PipelineOutput output, OutputTally tally) {
        err.println();
        err.printf(Locale.ROOT, "%-34s %4s %5s %5s %8s %8s%n", "batch", "part", "rows", "real", "nonpad", "trained");
        for (PipelineOutput.Read<Batch> r : output.batches()) {
            Batch b = r.value();
            long real = b.getRowsList().stream().filter(row -> !row.getFiller()).count();
            err.printf(Locale.ROOT, "%-34s %4d %5d %5d %8d %8d%n", abbreviate(b.getBatchId(), 34), r.partition(), b.getRowsCount(), real,
                    b.getRowsList().stream().filter(row -> !row.getFiller()).mapToLong(Row::getNonpadTokens).sum(),
                    b.getRowsList().stream().filter(row -> !row.getFiller()).mapToLong(Row::getTrainedTokens).sum());
        }
        Map<String, Integer> byReason = new TreeMap<>();
        for (PipelineOutput.Read<DeadLetter> r : output.deadLetters()) {
            DeadLetter d = r.value();
            byReason.merge(String.format(Locale.ROOT, "%-14s %s", d.getService().isEmpty() ? "?" : d.getService(), d.getReason()), 1, Integer::sum);
        }
        err.println();
        err.printf(Locale.ROOT, "%-14s %-30s %5s%n", "dead letters", "reason", "count");
        byReason.forEach((k, v) -> err.printf(Locale.ROOT, "%-45s %5d%n", k, v));
        err.println();
        err.printf(Locale.ROOT, "%d records in %d real rows of %d batches; %d dead letters at ingest, %d downstream; nonpad %.3f, trained %.3f%n",
                tally.recordsInRows(), tally.realRows(), tally.batches(), tally.ingestDeadLetters(), tally.downstreamDeadLetters(),
                tally.nonPadShare(), tally.trainedShare());
    }

    private static String abbreviate(String s, int width) {
        return s.length() <= width ? s : s.substring(0, width - 1) + "…";
    }

    static byte[] sample() {
        try (InputStream in = DemoCommand.class.getResourceAsStream(SAMPLE_SFT)) {
            if (in == null) {
                throw new IllegalStateException("bundled sample data missing: " + SAMPLE_SFT);
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
