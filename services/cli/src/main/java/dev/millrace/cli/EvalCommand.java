package dev.millrace.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.millrace.core.prepare.LinePreparer;
import dev.millrace.core.prepare.Prepared;
import dev.millrace.core.record.Stage;
import dev.millrace.core.tokenizer.TokenizerFolder;
import dev.millrace.training.checkpoint.Checkpoint;
import dev.millrace.training.eval.EvalSet;
import dev.millrace.training.model.MiniMind;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code ./millrace eval}: the loss of a checkpoint on a JSONL file, per record and over all of it, on exactly
 * the rows {@code prepare} makes (docs/cli.md#eval). Tokenized with the checkpoint's own copy of the tokenizer.
 */
@Command(name = "eval", mixinStandardHelpOptions = true,
        description = "Print a checkpoint's loss on each record of a JSONL file and over all of it.")
final class EvalCommand extends Millrace.OutputAware {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Option(names = "--checkpoint", required = true, paramLabel = "DIR",
            description = "a checkpoint directory (model.safetensors, config.json, the tokenizer's files)")
    Path checkpoint;

    @Option(names = "--stage", required = true, description = "pretrain | sft | distill (dpo is not evaluated yet)")
    String stage;

    @Option(names = "--input", required = true, paramLabel = "FILE.jsonl", description = "JSONL input file, in any format prepare reads for the stage")
    Path input;

    @Option(names = "--seq-len", defaultValue = "512", paramLabel = "T", description = "row length T (default ${DEFAULT-VALUE})")
    int seqLen;

    @Option(names = "--batch-size", defaultValue = "16", paramLabel = "B", description = "rows per forward pass (default ${DEFAULT-VALUE}); changes no number")
    int batchSize;

    @Override
    public void run() {
        Stage st;
        try {
            st = Stage.fromId(stage);
        } catch (IllegalArgumentException e) {
            throw new Millrace.UsageError(e.getMessage());
        }
        if (st == Stage.DPO) {
            throw new Millrace.UsageError("--stage dpo is not supported yet (the trainer does not train or evaluate DPO pairs)");
        }
        if (seqLen < 2) {
            throw new Millrace.UsageError("--seq-len must be at least 2, got " + seqLen);
        }
        if (batchSize < 1) {
            throw new Millrace.UsageError("--batch-size must be at least 1, got " + batchSize);
        }
        if (!Files.isRegularFile(input) || !Files.isReadable(input)) {
            throw new Millrace.UsageError("cannot read the input file " + input);
        }
        if (!Files.isDirectory(checkpoint)) {
            throw new Millrace.Failure(checkpoint + " is not a directory");
        }
        for (String file : new String[] {Checkpoint.CONFIG, Checkpoint.MODEL, "tokenizer.json"}) {
            if (!Files.isRegularFile(checkpoint.resolve(file))) {
                throw new Millrace.Failure(checkpoint + " is not a checkpoint directory: it has no " + file);
            }
        }
        EvalSet set;
        TokenizerFolder folder;
        try {
            folder = TokenizerFolder.open(checkpoint);
        } catch (IOException | RuntimeException e) {
            throw new Millrace.Failure("cannot read the tokenizer of checkpoint " + checkpoint + ": " + e.getMessage());
        }
        try (folder) {
            LinePreparer preparer = EvalSet.defaultPreparer(st, folder, seqLen);
            set = EvalSet.prepare(input, st, seqLen, preparer);
            EvalSet.Result result;
            try (MiniMind model = Checkpoint.loadModel(checkpoint)) {
                result = set.evaluate(model, batchSize);
            }
            write(set, result, new PrepareOutput(out, folder.tokenizer()));
            out.flush();
        } catch (IOException | IllegalArgumentException e) {
            // an unreadable or inconsistent checkpoint, an id outside the model's vocabulary
            throw new Millrace.Failure(e.getMessage());
        }
    }

    /** One line per non-blank input line, in input order (records and rejections merged by line), then the total. */
    private void write(EvalSet set, EvalSet.Result result, PrepareOutput errors) {
        Iterator<EvalSet.RecordLoss> records = result.records().iterator();
        Iterator<Prepared.Rejected> rejected = set.rejected().iterator();
        EvalSet.RecordLoss record = next(records);
        Prepared.Rejected error = next(rejected);
        while (record != null || error != null) {
            if (error == null || (record != null && record.record().line() < error.line())) {
                ObjectNode line = JSON.createObjectNode();
                line.put("line", record.record().line());
                line.put("id", record.record().recordId());
                putLoss(line, "loss", record.loss());
                line.put("trained_tokens", record.trainedTokens());
                print(line);
                record = next(records);
            } else {
                errors.json(error); // the error object prepare prints
                error = next(rejected);
            }
        }
        ObjectNode last = JSON.createObjectNode();
        putLoss(last, "mean_loss", result.meanLoss());
        last.put("trained_tokens", result.trainedTokens());
        last.put("records", result.records().size());
        last.put("rejected", set.rejected().size());
        print(last);
    }

    /** A loss, or null when nothing was trained on (no 0/0 in the output). */
    private static void putLoss(ObjectNode line, String name, double loss) {
        if (Double.isNaN(loss)) {
            line.putNull(name);
        } else {
            line.put(name, loss);
        }
    }

    private void print(ObjectNode line) {
        try {
            out.print(JSON.writeValueAsString(line));
            out.print('\n');
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static <T> T next(Iterator<T> it) {
        return it.hasNext() ? it.next() : null;
    }
}
