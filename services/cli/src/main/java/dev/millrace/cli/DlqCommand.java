package dev.millrace.cli;

import dev.millrace.cli.ingest.IngestClient;
import dev.millrace.cli.ops.DeadLetterScan;
import dev.millrace.cli.ops.DlqOutput;
import dev.millrace.cli.ops.OriginalLine;
import dev.millrace.cli.ops.TopicScan;
import dev.millrace.contract.Topics;
import dev.millrace.core.record.Stage;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/**
 * {@code ./millrace dlq [list|export|resubmit]}: the dead letters on {@code <prefix>.dlq}. {@code list}
 * (the default) shows them; {@code export} writes the input lines behind selected ones, to be fixed;
 * {@code resubmit} posts lines (a fixed file, or selected dead letters unchanged) to ingest.
 */
@Command(name = "dlq", mixinStandardHelpOptions = true,
        description = "List dead letters, export their input lines, re-submit fixed lines to ingest.",
        subcommands = {DlqCommand.ListCommand.class, DlqCommand.ExportCommand.class, DlqCommand.ResubmitCommand.class})
final class DlqCommand extends Millrace.OutputAware {
    /** How many positions of skipped messages standard error lists. */
    static final int SKIPPED_SHOWN = 10;

    /** Where the dead letters are. */
    static final class Connection {
        @Option(names = "--bootstrap", defaultValue = DeploymentDefaults.BOOTSTRAP, paramLabel = "HOST:PORT",
                description = "Kafka bootstrap servers (default ${DEFAULT-VALUE})")
        String bootstrap;

        @Option(names = "--topic-prefix", defaultValue = DeploymentDefaults.TOPIC_PREFIX, paramLabel = "P", description = "topic prefix (default ${DEFAULT-VALUE})")
        String topicPrefix;

        String dlq() {
            return new Topics(topicPrefix).dlq();
        }
    }

    /** Which dead letters. */
    static final class Selection {
        @Option(names = "--reason", paramLabel = "R", description = "only this reason code (docs/reasons.md)")
        String reason;

        @Option(names = "--stage", paramLabel = "S", description = "only this stage")
        String stage;

        @Option(names = "--offset", paramLabel = "[PARTITION:]OFFSET", split = ",",
                description = "only these dead letters (repeatable; a bare offset must be unique across partitions)")
        List<String> offsets = new ArrayList<>();

        DeadLetterScan.Selection toSelection() {
            for (String o : offsets) {
                if (!o.matches("(\\d+:)?\\d+")) {
                    throw new Millrace.UsageError("--offset " + o + ": expected OFFSET or PARTITION:OFFSET");
                }
            }
            return new DeadLetterScan.Selection(offsets, reason, StageOption.parse(stage).orElse(null));
        }
    }

    @Mixin
    Connection connection;

    @Mixin
    Selection selection;

    @Option(names = "--limit", paramLabel = "N", description = "only the N most recent")
    Integer limit;

    @Option(names = "--json", description = "one JSON object per line instead of a table")
    boolean json;


    @Override
    public void run() {
        list(connection, selection, limit, json);
    }

    void list(Connection c, Selection s, Integer n, boolean asJson) {
        if (n != null && n < 1) {
            throw new Millrace.UsageError("--limit must be at least 1");
        }
        List<DeadLetterScan.Entry> entries = read(c, s);
        if (n != null && entries.size() > n) {
            entries = entries.subList(entries.size() - n, entries.size());
        }
        if (asJson) {
            DlqOutput.json(out, entries);
        } else {
            DlqOutput.table(out, entries);
            err.println("millrace dlq: " + entries.size() + " dead letter(s) on " + c.dlq());
        }
        out.flush();
    }

    List<DeadLetterScan.Entry> read(Connection c, Selection s) {
        try (TopicScan scan = new TopicScan(c.bootstrap)) {
            return select(scan, c, s);
        } catch (TopicScan.Unavailable e) {
            throw new Millrace.Failure(e.getMessage());
        }
    }

    /** The input lines behind the selected dead letters; each one without a line is reported on standard error. */
    Map<DeadLetterScan.Entry, OriginalLine.Line> lines(Connection c, Selection s) {
        try (TopicScan scan = new TopicScan(c.bootstrap)) {
            List<DeadLetterScan.Entry> entries = select(scan, c, s);
            if (entries.isEmpty()) {
                throw new Millrace.Failure("no dead letter on " + c.dlq() + " matches the selection");
            }
            Map<DeadLetterScan.Entry, OriginalLine.Line> lines = new LinkedHashMap<>();
            int missing = 0;
            for (DeadLetterScan.Entry e : entries) {
                OriginalLine.Resolved r = OriginalLine.of(scan, e.letter());
                if (r.line() != null) {
                    lines.put(e, r.line());
                } else {
                    missing++;
                    err.println("millrace dlq: dead letter " + e.position() + " (" + e.letter().getReason() + "): " + r.unavailable());
                }
            }
            if (missing > 0) {
                throw new Millrace.Failure(missing + " of " + entries.size() + " selected dead letters have no input line (see above); "
                        + "narrow the selection with --offset or --reason");
            }
            return lines;
        } catch (TopicScan.Unavailable e) {
            throw new Millrace.Failure(e.getMessage());
        }
    }

    /**
     * The selected dead letters; every {@code --offset} given must name exactly one of them. Messages
     * on the topic that are not dead letters are named on standard error.
     */
    private List<DeadLetterScan.Entry> select(TopicScan scan, Connection c, Selection s) {
        DeadLetterScan.Selection sel = s.toSelection();
        DeadLetterScan.Read read = DeadLetterScan.read(scan, c.dlq(), sel);
        String skipped = DeadLetterScan.skippedNotice(c.dlq(), read.skipped(), SKIPPED_SHOWN);
        if (skipped != null) {
            err.println("millrace dlq: " + skipped);
        }
        List<DeadLetterScan.Entry> entries = read.entries();
        String unresolved = DeadLetterScan.unresolved(sel.positions(), entries);
        if (unresolved != null) {
            throw new Millrace.Failure(unresolved);
        }
        return entries;
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "List dead letters (the default).")
    static final class ListCommand implements Runnable {
        @ParentCommand
        DlqCommand parent;

        @Mixin
        Connection connection;

        @Mixin
        Selection selection;

        @Option(names = "--limit", paramLabel = "N", description = "only the N most recent")
        Integer limit;

        @Option(names = "--json", description = "one JSON object per line instead of a table")
        boolean json;

        @Override
        public void run() {
            parent.list(connection, selection, limit, json);
        }
    }

    @Command(name = "export", mixinStandardHelpOptions = true,
            description = "Write the input lines behind the selected dead letters to standard output (JSONL), to fix them.")
    static final class ExportCommand implements Runnable {
        @ParentCommand
        DlqCommand parent;

        @Mixin
        Connection connection;

        @Mixin
        Selection selection;

        @Override
        public void run() {
            Map<DeadLetterScan.Entry, OriginalLine.Line> lines = parent.lines(connection, selection);
            for (OriginalLine.Line line : lines.values()) {
                parent.out.write(line.bytes(), 0, line.bytes().length);
                parent.out.write('\n');
            }
            parent.out.flush();
            parent.err.println("millrace dlq: exported " + lines.size() + " line(s)");
        }
    }

    @Command(name = "resubmit", mixinStandardHelpOptions = true,
            description = "Post lines to ingest: a fixed FILE (with --stage), or the selected dead letters' lines unchanged (--offset).")
    static final class ResubmitCommand implements Runnable {
        @ParentCommand
        DlqCommand parent;

        @Mixin
        Connection connection;

        @Option(names = "--offset", paramLabel = "[PARTITION:]OFFSET", split = ",", description = "re-send these dead letters' lines unchanged")
        List<String> offsets = new ArrayList<>();

        @Option(names = "--stage", paramLabel = "S", description = "the stage of FILE's lines (required with FILE)")
        String stage;

        @Option(names = "--teacher", paramLabel = "ID", description = "distill answers in FILE: their teacher id")
        String teacher;

        @Option(names = "--url", defaultValue = DeploymentDefaults.INGEST_URL, paramLabel = "URL",
                description = "the ingest service (default ${DEFAULT-VALUE})")
        URI url;

        @Option(names = "--json", description = "print ingest's answer (JSON) instead of a summary")
        boolean json;

        @Parameters(arity = "0..1", paramLabel = "FILE", description = "JSONL lines to post (e.g. fixed export output)")
        Path file;

        @Override
        public void run() {
            if ((file == null) == offsets.isEmpty()) {
                throw new Millrace.UsageError("give either FILE (with --stage) or --offset");
            }
            int rejected = 0;
            if (file != null) {
                Stage s = StageOption.parse(stage).orElseThrow(() -> new Millrace.UsageError("--stage is required with FILE"));
                byte[] body;
                try {
                    body = Files.readAllBytes(file);
                } catch (IOException e) {
                    throw new Millrace.UsageError("cannot read " + file + ": " + e.getMessage());
                }
                rejected += post(IngestClient.Request.to(s).withTeacher(teacher), body, null);
            } else {
                if (teacher != null) {
                    throw new Millrace.UsageError("--teacher goes with FILE; re-sent dead letters keep their own teacher id");
                }
                Selection sel = new Selection();
                sel.offsets = offsets;
                Stage only = StageOption.parse(stage).orElse(null);
                Map<String, List<Map.Entry<DeadLetterScan.Entry, OriginalLine.Line>>> groups = new LinkedHashMap<>();
                for (var e : parent.lines(connection, sel).entrySet()) {
                    if (only != null && e.getValue().stage() != only) {
                        throw new Millrace.UsageError("dead letter " + e.getKey().position() + " is of stage " + e.getValue().stage().id()
                                + ", not " + only.id());
                    }
                    groups.computeIfAbsent(e.getValue().stage().id() + "\n" + e.getValue().teacherId(), k -> new ArrayList<>()).add(e);
                }
                for (var group : groups.values()) {
                    OriginalLine.Line first = group.get(0).getValue();
                    List<String> positions = group.stream().map(e -> e.getKey().position()).toList();
                    byte[] body = IngestClient.ndjson(group.stream().map(e -> e.getValue().bytes()).toList());
                    rejected += post(IngestClient.Request.to(first.stage()).withTeacher(first.teacherId()), body, positions);
                }
            }
            if (rejected > 0) {
                throw new Millrace.Failure(rejected + " line(s) were rejected again (see above)");
            }
        }

        /**
         * Posts one body with {@code resubmit=true} (the records are re-sent on purpose, so chat-template
         * does not drop one whose id it saw before) and prints the answer; returns how many lines ingest rejected.
         */
        private int post(IngestClient.Request request, byte[] body, List<String> positions) {
            IngestClient ingest = new IngestClient(url);
            IngestClient.Request resubmit = request.resubmitted();
            URI target = ingest.uri(resubmit);
            IngestClient.Answer answer;
            try {
                answer = ingest.post(resubmit, body);
            } catch (IngestClient.Failed e) {
                throw new Millrace.Failure(e.messageAskingAbout("--url"));
            }
            PrintStream out = parent.out;
            if (json) {
                out.println(answer.body().strip());
            } else {
                out.printf("POST %s: HTTP %d, accepted %d, rejected %d%n", target, answer.status(), answer.accepted(), answer.rejected());
                for (IngestClient.LineError e : answer.errors()) {
                    String which = positions != null && e.line() >= 1 && e.line() <= positions.size()
                            ? " (dead letter " + positions.get((int) e.line() - 1) + ")" : "";
                    out.printf("  line %d%s: %s: %s%n", e.line(), which, e.reason(), e.message());
                }
            }
            out.flush();
            return (int) answer.rejected();
        }
    }
}
