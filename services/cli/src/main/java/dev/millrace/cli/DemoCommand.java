package dev.millrace.cli;

import dev.millrace.core.json.LineReader;
import dev.millrace.core.json.RawLine;
import dev.millrace.core.prepare.FillStats;
import dev.millrace.core.prepare.Prepared;
import dev.millrace.core.prepare.SftOptions;
import dev.millrace.core.prepare.SftPreparer;
import dev.millrace.core.record.Reason;
import dev.millrace.core.record.Stage;
import dev.millrace.core.tokenizer.TokenizerFolder;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.util.EnumMap;
import java.util.Locale;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code ./millrace demo}: for now, prepares the bundled sample SFT data offline with the bundled
 * tokenizer and prints the CLI.md summary line. Later steps make it run the whole system; the
 * summary format stays.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "Run Millrace on the bundled sample data and print a summary.")
final class DemoCommand implements Runnable, Millrace.OutputAware {
    static final String SAMPLE_SFT = "/millrace/samples/sft.jsonl";

    @Option(names = "--seq-len", defaultValue = "512", paramLabel = "T", description = "row length T (default ${DEFAULT-VALUE})")
    int seqLen;

    @Option(names = "--batch-size", defaultValue = "16", paramLabel = "B", description = "rows per batch (default ${DEFAULT-VALUE})")
    int batchSize;

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
        err.println("millrace demo: preparing the bundled sample SFT data with the bundled tokenizer (T=" + seqLen + ", B=" + batchSize + ")");
        FillStats fill = new FillStats();
        Map<Reason, Integer> reasons = new EnumMap<>(Reason.class);
        try (TokenizerFolder folder = TokenizerFolder.bundled();
             InputStream in = DemoCommand.class.getResourceAsStream(SAMPLE_SFT)) {
            if (in == null) {
                throw new IllegalStateException("bundled sample data missing: " + SAMPLE_SFT);
            }
            SftPreparer preparer = new SftPreparer(folder, new SftOptions(Stage.SFT, seqLen, null));
            LineReader lines = new LineReader(in);
            while (lines.hasNext()) {
                RawLine line = lines.next();
                if (line.isBlank()) {
                    continue;
                }
                Prepared prepared = preparer.prepare(line);
                if (prepared instanceof Prepared.Example example) {
                    fill.addRecord();
                    fill.addRow(example.row());
                } else if (prepared instanceof Prepared.Rejected rejected) {
                    fill.addRejected();
                    reasons.merge(rejected.reason(), 1, Integer::sum);
                    err.printf("  line %d rejected: %s: %s%n", rejected.line(), rejected.reason(), rejected.message());
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        err.println("millrace demo: dead letters by reason " + reasons);
        out.println(summaryLine("sft", fill, batchSize, false));
        out.flush();
    }

    /** The machine-readable summary line of CLI.md. */
    static String summaryLine(String stage, FillStats fill, int batchSize, boolean packing) {
        return String.format(Locale.ROOT, "stage=%s records=%d rejected=%d batches=%d nonpad_share=%.3f trained_share=%.3f packing=%s",
                stage, fill.records(), fill.rejected(), fill.batches(batchSize), fill.nonPadShare(), fill.trainedShare(),
                packing ? "on" : "off");
    }
}
