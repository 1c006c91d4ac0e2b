package dev.millrace.ingest;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.millrace.core.record.Stage;
import dev.millrace.ingest.EnabledStages.StageIngest;
import io.quarkus.runtime.Startup;
import jakarta.annotation.PostConstruct;
import jakarta.annotation.PreDestroy;
import jakarta.inject.Inject;
import jakarta.inject.Singleton;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.jboss.logging.Logger;

/**
 * The drop directory ({@code millrace.ingest.drop-dir}; off when empty): every
 * {@code <drop-dir>/<stage>/*.jsonl} or {@code *.jsonl.gz} file of an enabled stage is ingested
 * ({@link FileIngester}), then moved to {@code <drop-dir>/<stage>/done/}, or to {@code failed/} when
 * it could not be read or the broker refused a chunk, with {@code <name>.report.json} beside it
 * ({@link FileReport}). Rejected lines are dead letters and do not make a file fail; a broker that is
 * away makes the file wait (its chunk is sent again until acknowledged), not fail.
 *
 * <p>A file counts as complete once it has its final name: names starting with {@code .} or ending in
 * anything but {@code .jsonl}/{@code .jsonl.gz} (e.g. {@code .tmp}) are ignored, so writers write
 * {@code .name.jsonl} or {@code name.jsonl.tmp} and rename it into place (a rename within one file
 * system is atomic). The directory is polled ({@code millrace.ingest.drop-poll-ms}); files are taken
 * in name order, one at a time. A file being ingested when the service stops stays where it is and is
 * read again from the start on the next start (re-sending records is safe: their ids are
 * content-derived and duplicates are dropped downstream; its dead letters are produced again).
 */
@Startup
@Singleton
public class DropDirectory {
    private static final Logger LOG = Logger.getLogger(DropDirectory.class);
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    static final String DONE = "done";
    static final String FAILED = "failed";

    private final Optional<Path> root;
    private final long pollMs;
    private final EnabledStages stages;
    private final FileIngester files;
    private ScheduledExecutorService poller;
    private volatile boolean stopping;

    @Inject
    DropDirectory(IngestConfig config, EnabledStages stages, RecordProducer producer) {
        IngestConfig.Ingest ingest = config.ingest();
        this.root = ingest.dropDir();
        this.pollMs = ingest.dropPollMs();
        this.stages = stages;
        this.files = new FileIngester(producer, ingest.dropChunkLines(), ingest.dropChunkBytes());
    }

    @PostConstruct
    void start() {
        if (root.isEmpty()) {
            return;
        }
        try {
            for (Stage stage : stages.stages()) {
                Path dir = root.get().resolve(stage.id());
                Files.createDirectories(dir.resolve(DONE));
                Files.createDirectories(dir.resolve(FAILED));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create the drop directory " + root.get() + " (millrace.ingest.drop-dir)", e);
        }
        poller = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "millrace-drop-dir");
            t.setDaemon(true);
            return t;
        });
        poller.scheduleWithFixedDelay(this::scan, 0, pollMs, TimeUnit.MILLISECONDS);
        LOG.infof("watching the drop directory %s (%s)", root.get(), stages.stages());
    }

    /** One pass over every enabled stage's directory. Never throws: the poller must keep running. */
    void scan() {
        for (Stage stage : stages.stages()) {
            StageIngest ingest = stages.get(stage).orElseThrow();
            for (Path file : complete(root.get().resolve(stage.id()))) {
                if (stopping) {
                    return;
                }
                try {
                    ingest(file, ingest);
                } catch (FileIngester.Stopped e) {
                    return;
                } catch (RuntimeException | IOException e) {
                    LOG.errorf(e, "drop directory: %s could not be ingested or moved; it stays where it is", file);
                }
            }
        }
    }

    private void ingest(Path file, StageIngest stage) throws FileIngester.Stopped, IOException {
        String name = file.toString();
        LOG.infof("drop directory: ingesting %s", name);
        FileReport report = files.ingest(file, name, stage, LineIngester.Request.DETECT, () -> stopping);
        Path moved = unique(file.resolveSibling(report.failed() ? FAILED : DONE), file.getFileName().toString());
        // The report appears complete or not at all (written aside, renamed after the file has moved).
        Path reportFile = moved.resolveSibling(moved.getFileName() + ".report.json");
        Path reportTmp = moved.resolveSibling("." + moved.getFileName() + ".report.json.tmp");
        JSON.writeValue(reportTmp.toFile(), report);
        Files.move(file, moved, StandardCopyOption.ATOMIC_MOVE);
        Files.move(reportTmp, reportFile, StandardCopyOption.ATOMIC_MOVE);
        if (report.failed()) {
            LOG.warnf("drop directory: %s failed after %d lines: %s (moved to %s)", name, report.lines(), report.error(), moved);
        } else {
            LOG.infof("drop directory: %s done: %d lines, %d accepted, %d rejected (moved to %s)", name, report.lines(),
                    report.accepted(), report.rejected(), moved);
        }
    }

    /** The complete JSONL files of a stage directory, in name order. */
    static List<Path> complete(Path dir) {
        try (Stream<Path> entries = Files.list(dir)) {
            return entries.filter(Files::isRegularFile).filter(p -> isComplete(p.getFileName().toString())).sorted().toList();
        } catch (IOException | UncheckedIOException e) {
            LOG.warnf("drop directory: cannot list %s: %s", dir, e);
            return List.of();
        }
    }

    static boolean isComplete(String name) {
        return !name.startsWith(".") && (name.endsWith(".jsonl") || name.endsWith(".jsonl.gz"));
    }

    /** {@code dir/name}, or {@code dir/<stem>-<n><ext>} when a file of that name was dropped before. */
    static Path unique(Path dir, String name) {
        Path target = dir.resolve(name);
        String ext = name.endsWith(".jsonl.gz") ? ".jsonl.gz" : ".jsonl";
        String stem = name.substring(0, name.length() - ext.length());
        for (int n = 1; Files.exists(target) || Files.exists(target.resolveSibling(target.getFileName() + ".report.json")); n++) {
            target = dir.resolve(stem + "-" + n + ext);
        }
        return target;
    }

    @PreDestroy
    void stop() {
        stopping = true;
        if (poller != null) {
            poller.shutdown();
            try {
                if (!poller.awaitTermination(30, TimeUnit.SECONDS)) {
                    LOG.warn("drop directory: a chunk was still being produced after 30 s");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
