package dev.millrace.cli;

import dev.millrace.cli.ingest.FileSender;
import dev.millrace.cli.ingest.IngestClient;
import dev.millrace.cli.ingest.Progress;
import dev.millrace.core.chat.InputFormat;
import dev.millrace.core.record.Stage;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code ./millrace ingest}: streams JSONL files to a running ingest service over HTTP, in chunks,
 * keeping each record's file and line as its source. Standard output gets one summary line; progress
 * and the rejected lines go to standard error.
 */
@Command(name = "ingest", mixinStandardHelpOptions = true,
        description = "Send JSONL files (.jsonl, .jsonl.gz, or directories of them) to the ingest service.")
final class IngestCommand extends Millrace.OutputAware {
    static final int CHUNK_BYTES = 4 * 1024 * 1024;

    @Option(names = "--stage", required = true, description = "pretrain | sft | dpo | distill")
    String stage;

    @Option(names = "--format", defaultValue = "auto", description = "auto | minimind | openai | sharegpt | alpaca | text | dpo")
    String format;

    @Option(names = "--teacher", paramLabel = "ID",
            description = "distill only: the teacher checkpoint that wrote the answers (a record's own \"teacher\" field wins)")
    String teacher;

    @Option(names = "--url", defaultValue = DeploymentDefaults.INGEST_URL, description = "the ingest service (default ${DEFAULT-VALUE})")
    String url;

    @Option(names = "--chunk-lines", defaultValue = "1000", paramLabel = "N",
            description = "lines per request (default ${DEFAULT-VALUE}; a request also ends before 4 MiB)")
    int chunkLines;

    @Option(names = "--max-line-bytes", defaultValue = "" + (16 * 1024 * 1024), paramLabel = "BYTES",
            description = "longer lines are sent cut to this many bytes + 1, which ingest rejects as RECORD_TOO_LARGE (default 16 MiB)")
    int maxLineBytes;

    @Parameters(arity = "1..*", paramLabel = "FILE|DIR", description = "JSONL files (.jsonl, .jsonl.gz) or directories of them")
    List<Path> inputs;


    @Override
    public void run() {
        IngestClient.Request request = request();
        URI base = base();
        if (chunkLines < 1) {
            throw new Millrace.UsageError("--chunk-lines must be at least 1, got " + chunkLines);
        }
        if (maxLineBytes < 1) {
            throw new Millrace.UsageError("--max-line-bytes must be at least 1, got " + maxLineBytes);
        }
        List<Path> files = files(inputs);
        boolean terminal = err == System.err && Progress.stderrIsTerminal();
        Progress progress = new Progress(err, terminal, 5_000, System::currentTimeMillis);
        FileSender sender = new FileSender(new IngestClient(base), request, chunkLines, CHUNK_BYTES, maxLineBytes, progress);
        String current = null;
        try {
            for (Path file : files) {
                current = file.toString();
                sender.send(file, current);
            }
        } catch (IngestClient.Failed | FileSender.Unreadable e) {
            progress.finish(sender.totals(), current);
            String message = e instanceof IngestClient.Failed failed ? failed.messageAskingAbout("--url") : e.getMessage();
            throw new Millrace.Failure(message + " (sent before the failure: " + sender.totals().summary() + ")");
        }
        progress.finish(sender.totals(), null);
        if (request.stage() == Stage.DISTILL) {
            err.println("millrace ingest: " + sender.totals().prompts() + " of the accepted records were prompts (sent to distill.prompts)");
        }
        out.println(sender.totals().summary());
        out.flush();
    }

    private IngestClient.Request request() {
        Stage s;
        try {
            s = Stage.fromId(stage);
        } catch (IllegalArgumentException e) {
            throw new Millrace.UsageError("--stage: " + e.getMessage());
        }
        String forced = null;
        if (!format.equals("auto")) {
            List<InputFormat> fitting = InputFormat.forStage(s);
            if (fitting.stream().noneMatch(f -> f.id().equals(format))) {
                throw new Millrace.UsageError("--format " + format + " does not fit the " + s.id() + " stage (expected auto, "
                        + String.join(", ", fitting.stream().map(InputFormat::id).toList()) + ")");
            }
            forced = format;
        }
        if (teacher != null && s != Stage.DISTILL) {
            throw new Millrace.UsageError("--teacher applies only to --stage distill");
        }
        if (teacher != null && teacher.isBlank()) {
            throw new Millrace.UsageError("--teacher must name the teacher checkpoint");
        }
        return IngestClient.Request.to(s).withFormat(forced).withTeacher(teacher);
    }

    private URI base() {
        try {
            URI uri = URI.create(url);
            if (!("http".equals(uri.getScheme()) || "https".equals(uri.getScheme())) || uri.getHost() == null) {
                throw new IllegalArgumentException("not an http(s) URL");
            }
            return uri;
        } catch (IllegalArgumentException e) {
            throw new Millrace.UsageError("--url " + url + ": " + e.getMessage());
        }
    }

    /** The files to send: each FILE as given, each DIR's *.jsonl and *.jsonl.gz files in name order. */
    static List<Path> files(List<Path> inputs) {
        List<Path> files = new ArrayList<>();
        for (Path input : inputs) {
            if (Files.isDirectory(input)) {
                try (Stream<Path> entries = Files.list(input)) {
                    entries.filter(Files::isRegularFile).filter(p -> isJsonl(p.getFileName().toString())).sorted().forEach(files::add);
                } catch (IOException e) {
                    throw new Millrace.UsageError("cannot list the directory " + input + ": " + e.getMessage());
                }
            } else if (Files.isRegularFile(input) && Files.isReadable(input)) {
                files.add(input);
            } else {
                throw new Millrace.UsageError("cannot read the input file " + input);
            }
        }
        return files;
    }

    static boolean isJsonl(String name) {
        return name.endsWith(".jsonl") || name.endsWith(".jsonl.gz");
    }
}
