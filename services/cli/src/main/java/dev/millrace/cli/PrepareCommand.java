package dev.millrace.cli;

import dev.millrace.core.chat.InputFormat;
import dev.millrace.core.mask.Row;
import dev.millrace.core.pack.PackedRow;
import dev.millrace.core.pack.Packer;
import dev.millrace.core.prepare.DpoPreparer;
import dev.millrace.core.prepare.FillStats;
import dev.millrace.core.prepare.LinePreparer;
import dev.millrace.core.prepare.Prepared;
import dev.millrace.core.prepare.PartialRenderPolicy;
import dev.millrace.core.prepare.RecordBounds;
import dev.millrace.core.mask.MaskRule;
import dev.millrace.core.mask.TrainOn;
import dev.millrace.core.prepare.SftOptions;
import dev.millrace.core.prepare.SpecialTokenPolicy;
import dev.millrace.core.prepare.Wrap;
import dev.millrace.core.prepare.PretrainPreparer;
import dev.millrace.core.prepare.SftPreparer;
import dev.millrace.core.record.Stage;
import dev.millrace.core.tokenizer.TokenizerFolder;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code ./millrace prepare}: prints, for each line of a JSONL file, what the trainer would receive
 * (docs/cli.md#prepare), using the same core code as the services, without Kafka.
 */
@Command(name = "prepare", mixinStandardHelpOptions = true,
        description = "Print what the trainer would receive for each record of a JSONL file.")
final class PrepareCommand extends Millrace.OutputAware {

    @Option(names = "--stage", required = true, description = "pretrain | sft | dpo | distill")
    String stage;

    @Option(names = "--seq-len", required = true, paramLabel = "T", description = "row length T")
    int seqLen;

    @Option(names = "--input", required = true, paramLabel = "FILE.jsonl", description = "JSONL input file")
    Path input;

    @Option(names = "--tokenizer", paramLabel = "DIR",
            description = "HF tokenizer folder (tokenizer.json + tokenizer_config.json); default: the one bundled with Millrace")
    Path tokenizer;

    @Option(names = "--format", defaultValue = "auto", description = "auto | minimind | openai | sharegpt | alpaca | text | dpo")
    String format;

    @Option(names = "--mask-rule", description = "pattern | span (default: pattern for ChatML vocabularies, else span)")
    String maskRule;

    @Option(names = "--wrap", defaultValue = "auto", description = "pretrain bos/eos wrapping: auto | always | never")
    String wrap;

    @Option(names = "--pretrain-overflow", defaultValue = "truncate",
            description = "pretrain texts longer than T: truncate (the seed's behaviour) | split into consecutive windows")
    String pretrainOverflow;

    @Option(names = "--special-tokens-in-content", defaultValue = "allow", description = "allow | reject")
    String specialTokensInContent;

    @Option(names = "--partial-render", defaultValue = "reject",
            description = "a record the chat template renders only part of (tool calls, tool messages): reject (error line) | accept (prepared as rendered, with a warning)")
    String partialRender;

    @Option(names = "--max-messages", defaultValue = "" + RecordBounds.DEFAULT_MAX_MESSAGES, paramLabel = "N",
            description = "a conversation (or DPO side) with more messages is an error line TOO_MANY_MESSAGES (default ${DEFAULT-VALUE})")
    int maxMessages;

    @Option(names = "--record-time-budget-ms", defaultValue = "" + RecordBounds.DEFAULT_TIME_BUDGET_MS, paramLabel = "MS",
            description = "the chat template work on one record stops after this long: an error line RECORD_TIME_BUDGET_EXCEEDED (default ${DEFAULT-VALUE})")
    long recordTimeBudgetMs;

    @Option(names = "--train-on", defaultValue = "all", description = "all | last")
    String trainOn;

    @Option(names = "--system-prompt", paramLabel = "TEXT",
            description = "system message for conversations that have none (overrides the template's default prompt)")
    String systemPrompt;

    @Option(names = "--packing", defaultValue = "off", description = "on | off")
    String packing;

    @Option(names = "--pack-buffer", defaultValue = "" + Packer.DEFAULT_BUFFER, paramLabel = "N",
            description = "with --packing on: examples held for best-fit packing before their rows are written (default ${DEFAULT-VALUE})")
    int packBuffer;

    @Option(names = "--batch-size", defaultValue = "16", paramLabel = "B", description = "rows per batch")
    int batchSize;

    @Option(names = "--stats", description = "print a last line with fill statistics")
    boolean stats;

    @Option(names = "--explain", description = "print a human table per record instead of JSON")
    boolean explain;


    @Override
    public void run() {
        Stage st = parseStage();
        InputFormat forced = parseFormat(st);
        checkChoices();
        boolean packed = "on".equals(packing);
        if (packed && st == Stage.DPO) {
            throw new Millrace.UsageError("packing is not supported for dpo (chosen and rejected rows must stay aligned)");
        }
        if (packed && explain) {
            throw new Millrace.UsageError("--explain is not supported with --packing on");
        }
        if (seqLen < 2) {
            throw new Millrace.UsageError("--seq-len must be at least 2, got " + seqLen);
        }
        if (maxMessages < 1) {
            throw new Millrace.UsageError("--max-messages must be at least 1, got " + maxMessages);
        }
        if (recordTimeBudgetMs < 1) {
            throw new Millrace.UsageError("--record-time-budget-ms must be at least 1, got " + recordTimeBudgetMs);
        }
        if (!Files.isRegularFile(input) || !Files.isReadable(input)) {
            throw new Millrace.UsageError("cannot read the input file " + input);
        }
        try (TokenizerFolder folder = openTokenizer()) {
            if ("pattern".equals(maskRule) && !folder.isChatMl()) {
                throw new Millrace.UsageError("--mask-rule pattern needs <|im_start|> and <|im_end|> in the vocabulary of "
                        + folder.path() + "; use --mask-rule span (the default for this tokenizer)");
            }
            LinePreparer preparer = preparer(st, forced, folder);
            PrepareOutput output = new PrepareOutput(out, folder.tokenizer());
            FillStats fill = new FillStats();
            Packer packer = packed ? new Packer(seqLen, folder.padId(), packBuffer) : null;
            long[] rowNumber = {0};
            preparer.prepareFile(input, prepared -> {
                if (packer != null) {
                    if (prepared instanceof Prepared.Example e) {
                        fill.addRecord();
                        pack(packer, e.row(), e.line(), output, fill, rowNumber);
                    } else if (prepared instanceof Prepared.Windows w) {
                        fill.addRecord();
                        for (Row row : w.rows()) {
                            pack(packer, row, w.line(), output, fill, rowNumber);
                        }
                    } else {
                        fill.add(prepared);
                        output.json(prepared);
                    }
                    return;
                }
                fill.add(prepared);
                if (explain) {
                    output.explain(prepared);
                } else {
                    output.json(prepared);
                }
            });
            if (packer != null) {
                writeRows(packer.finish(), output, fill, rowNumber);
            }
            if (stats) {
                output.stats(fill);
            }
            out.flush();
        } catch (IOException e) {
            throw new Millrace.UsageError(e.getMessage());
        }
    }

    /** Adds one row's real tokens to the packer and writes the rows it completes. */
    private static void pack(Packer packer, Row row, long line, PrepareOutput output, FillStats fill, long[] rowNumber) {
        int n = row.realLength();
        writeRows(packer.add(java.util.Arrays.copyOf(row.ids(), n), java.util.Arrays.copyOf(row.mask(), n), line), output, fill, rowNumber);
    }

    private static void writeRows(java.util.List<PackedRow> rows, PrepareOutput output, FillStats fill, long[] rowNumber) {
        for (PackedRow row : rows) {
            fill.addRow(row.asRow());
            output.packed(rowNumber[0]++, row);
        }
    }

    /** The stage's preparation: pretrain texts, DPO pairs, or conversations (sft, distill). */
    private LinePreparer preparer(Stage st, InputFormat forced, TokenizerFolder folder) {
        try {
            if (st == Stage.PRETRAIN) {
                return new PretrainPreparer(folder, seqLen, forced, Wrap.fromId(wrap), "split".equals(pretrainOverflow));
            }
            SftPreparer conversations = new SftPreparer(folder, new SftOptions(st, seqLen, forced,
                    maskRule == null ? null : MaskRule.fromId(maskRule), TrainOn.fromId(trainOn),
                    SpecialTokenPolicy.fromId(specialTokensInContent), systemPrompt, PartialRenderPolicy.fromId(partialRender),
                    new RecordBounds(maxMessages, Duration.ofMillis(recordTimeBudgetMs))));
            return st == Stage.DPO ? new DpoPreparer(conversations) : conversations;
        } catch (IllegalArgumentException e) {
            throw new Millrace.UsageError(e.getMessage());
        }
    }

    private Stage parseStage() {
        try {
            return Stage.fromId(stage);
        } catch (IllegalArgumentException e) {
            throw new Millrace.UsageError(e.getMessage());
        }
    }

    private InputFormat parseFormat(Stage st) {
        if ("auto".equals(format)) {
            return null;
        }
        InputFormat f;
        try {
            f = InputFormat.fromId(format);
        } catch (IllegalArgumentException e) {
            throw new Millrace.UsageError("--format must be one of auto, minimind, openai, sharegpt, alpaca, text, dpo; got " + format);
        }
        if (!f.fits(st)) {
            throw new Millrace.UsageError("--format " + format + " does not fit --stage " + st.id() + " (it takes "
                    + String.join(", ", InputFormat.forStage(st).stream().map(InputFormat::id).toList()) + ")");
        }
        return f;
    }

    private void checkChoices() {
        choose("--mask-rule", maskRule, Set.of("pattern", "span"), Set.of("pattern", "span"));
        choose("--pretrain-overflow", pretrainOverflow, Set.of("truncate", "split"), Set.of("truncate", "split"));
        choose("--wrap", wrap, Set.of("auto", "always", "never"), Set.of("auto", "always", "never"));
        choose("--special-tokens-in-content", specialTokensInContent, Set.of("allow", "reject"), Set.of("allow", "reject"));
        choose("--partial-render", partialRender, Set.of("reject", "accept"), Set.of("reject", "accept"));
        choose("--train-on", trainOn, Set.of("all", "last"), Set.of("all", "last"));
        choose("--packing", packing, Set.of("on", "off"), Set.of("on", "off"));
        if (packBuffer < 1) {
            throw new Millrace.UsageError("--pack-buffer must be at least 1");
        }
        if (batchSize < 1) {
            throw new Millrace.UsageError("--batch-size must be at least 1");
        }
    }

    private static void choose(String flag, String value, Set<String> valid, Set<String> supported) {
        if (value == null) {
            return;
        }
        if (!valid.contains(value)) {
            throw new Millrace.UsageError(flag + " must be one of " + valid + "; got " + value);
        }
        if (!supported.contains(value)) {
            throw new Millrace.UsageError(flag + " " + value + " is not supported yet");
        }
    }

    private TokenizerFolder openTokenizer() throws IOException {
        if (tokenizer == null) {
            return TokenizerFolder.bundled();
        }
        if (!Files.isDirectory(tokenizer) || !Files.isRegularFile(tokenizer.resolve("tokenizer.json"))) {
            throw new Millrace.UsageError("--tokenizer " + tokenizer + " is not a folder with a tokenizer.json");
        }
        return TokenizerFolder.open(tokenizer);
    }
}
