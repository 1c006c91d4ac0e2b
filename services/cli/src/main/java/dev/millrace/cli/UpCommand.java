package dev.millrace.cli;

import dev.millrace.cli.local.LocalSystem;
import dev.millrace.cli.local.RepoRoot;
import dev.millrace.cli.local.TrainerOptions;
import dev.millrace.contract.PipelineService;
import dev.millrace.core.record.Stage;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import sun.misc.Signal;

/**
 * {@code ./millrace up}: the system on this machine, continuously, on the users' own data. The same
 * orchestration as the demo ({@link LocalSystem}), in its persistent mode: the broker on a fixed port (9092, where
 * {@code ingest}, {@code trace} and {@code dlq} look by default), the services on their fixed ports
 * ({@link #httpPort}), a continuous trainer per {@code --train} stage, everything under the data directory so that
 * the next {@code up} on it continues where this one stopped. It prints where to send data (standard output), then
 * waits for SIGINT (Ctrl-C) or SIGTERM, which stop everything cleanly (trainers write their final checkpoint) and
 * end with status 0; a process of the run that ends by itself stops the rest, status 1. docs/cli.md#up.
 */
@Command(name = "up", mixinStandardHelpOptions = true,
        description = "Run the system on this machine until Ctrl-C, its data kept in a data directory.")
final class UpCommand extends Millrace.OutputAware {
    static final int BROKER_PORT = 9092;
    /** The data directory, relative to the checkout, when {@code --data-dir} is not given (git-ignored). */
    static final String DEFAULT_DATA_DIR = ".millrace";

    /**
     * The fixed HTTP port of each process {@code up} starts (their application.properties' own ports, ingest's is
     * the CLI's default {@code --url}); a trainer's is 8090 + the stage's position (8085 is the trainer's own
     * default, which would allow one trainer only; 8086 is the teacher's).
     */
    static int httpPort(String process) {
        return switch (process) {
            case "ingest" -> 8081;
            case "chat-template" -> 8082;
            case "tokenize" -> 8083;
            case "loss-mask" -> 8084;
            default -> {
                for (Stage s : Stage.values()) {
                    if (process.equals("trainer-" + s.id())) {
                        yield DeploymentDefaults.upTrainerPort(s);
                    }
                }
                throw new IllegalArgumentException("no fixed port for " + process);
            }
        };
    }

    @Option(names = "--stages", split = ",", defaultValue = "pretrain,sft,dpo,distill", paramLabel = "STAGE",
            description = "the stages to serve, comma-separated (default ${DEFAULT-VALUE})")
    List<String> stageIds;

    @Option(names = "--data-dir", paramLabel = "DIR", description = "broker data, stream state, checkpoints and logs (default: "
            + DEFAULT_DATA_DIR + " in the checkout)")
    Path dataDir;

    @Option(names = "--train", split = ",", paramLabel = "STAGE", description = "stages to train continuously, a trainer each (default: none)")
    List<String> trainIds = new ArrayList<>();

    @Option(names = "--init", paramLabel = "STAGE=DIR",
            description = "the checkpoint a stage's trainer starts from when its checkpoint directory is empty; required for dpo (repeatable)")
    Map<String, Path> init = new java.util.LinkedHashMap<>();

    @Option(names = "--model", defaultValue = "tiny", paramLabel = "PRESET", description = "the trainers' model preset of a fresh run: tiny or minimind-26m (default ${DEFAULT-VALUE})")
    String model;

    @Option(names = "--tokenizer", paramLabel = "DIR", description = "a tokenizer folder for every service and trainer (default: the bundled one)")
    Path tokenizer;

    @Option(names = "--seq-len", defaultValue = "512", paramLabel = "T", description = "row length T (default ${DEFAULT-VALUE})")
    int seqLen;

    @Option(names = "--batch-size", defaultValue = "16", paramLabel = "B", description = "rows per batch (default ${DEFAULT-VALUE})")
    int batchSize;

    @Option(names = "--packing", split = ",", paramLabel = "STAGE", description = "stages whose rows are packed (default: none)")
    List<String> packingIds = new ArrayList<>();

    @Option(names = "--bind", defaultValue = "127.0.0.1", paramLabel = "ADDR",
            description = "the HTTP address of the services: a loopback address or 0.0.0.0 for every interface (default ${DEFAULT-VALUE})")
    String bind;

    @Option(names = "--broker-port", defaultValue = "" + BROKER_PORT, paramLabel = "PORT", description = "the broker's port (default ${DEFAULT-VALUE})")
    int brokerPort;

    @Option(names = "--ingest-port", defaultValue = "8081", paramLabel = "PORT", description = "the ingest service's HTTP port (default ${DEFAULT-VALUE})")
    int ingestPort;

    @Option(names = "--repo-root", hidden = true, paramLabel = "DIR", description = "the Millrace checkout with the packaged services")
    Path repoRoot;

    /** Counted down by SIGINT, SIGTERM, or a process of the run that ended by itself. */
    private final CountDownLatch stop = new CountDownLatch(1);
    private volatile String stopReason;

    @Override
    public void run() {
        if (seqLen < 2 || batchSize < 1) {
            throw new Millrace.UsageError("--seq-len must be at least 2 and --batch-size at least 1");
        }
        checkPort("--broker-port", brokerPort);
        checkPort("--ingest-port", ingestPort);
        checkBind();
        List<Stage> stages = DemoCommand.stages(stageIds);
        Set<Stage> trained = stageSet("--train", trainIds);
        Set<Stage> packed = stageSet("--packing", packingIds);
        Map<Stage, Path> inits = inits(stages, trained);
        for (Stage s : trained) {
            if (!stages.contains(s)) {
                throw new Millrace.UsageError("--train " + s.id() + ": the stage is not among --stages");
            }
        }
        if (trained.contains(Stage.DPO) && !inits.containsKey(Stage.DPO)) {
            throw new Millrace.UsageError("--train dpo needs --init dpo=DIR (the SFT checkpoint it starts from and compares with)");
        }
        if (tokenizer != null && !Files.isDirectory(tokenizer)) {
            throw new Millrace.UsageError("--tokenizer " + tokenizer + " is not a directory");
        }
        Path root = repoRoot != null ? repoRoot.toAbsolutePath().normalize() : RepoRoot.locate().orElseThrow(() -> new Millrace.Failure(
                "cannot find the Millrace checkout with the packaged services; run ./millrace from it or set MILLRACE_HOME"));
        Path data = (dataDir != null ? dataDir : root.resolve(DEFAULT_DATA_DIR)).toAbsolutePath().normalize();
        checkSameSeqLen(data);
        List<String> missing = LocalSystem.missingArtifacts(root, EnumSet.allOf(PipelineService.class), !trained.isEmpty());
        if (!missing.isEmpty()) {
            throw new Millrace.Failure("up runs the packaged broker and services, but these are not built in " + root + ": "
                    + String.join(", ", missing) + "; run ./mvnw -DskipTests package there (./millrace does it when they are missing)");
        }

        LocalSystem.Options options = new LocalSystem.Options().runDir(data).persistent(true).stages(stages).seqLen(seqLen)
                .batchSize(batchSize).packing(packed).brokerPort(brokerPort).progress(err);
        for (PipelineService s : PipelineService.values()) {
            options.httpPort(s.id(), s == PipelineService.INGEST ? ingestPort : httpPort(s.id()));
        }
        for (Stage s : Stage.values()) {
            options.httpPort("trainer-" + s.id(), httpPort("trainer-" + s.id()));
        }
        options.property("quarkus.http.host", bind);
        if (tokenizer != null) {
            options.property("millrace.tokenizer", tokenizer.toAbsolutePath().normalize().toString());
        }

        err.printf(Locale.ROOT, "millrace up: starting the broker and the services for %s in %s (T=%d, B=%d, packing on for %s)%n",
                ids(stages), data, seqLen, batchSize, packed.isEmpty() ? "none" : ids(List.copyOf(packed)));
        // Our own handlers: the JVM's default for SIGINT/SIGTERM would end with 130/143 after the shutdown hooks.
        Signal.handle(new Signal("INT"), s -> requestStop("SIGINT"));
        Signal.handle(new Signal("TERM"), s -> requestStop("SIGTERM"));
        boolean failed;
        try (LocalSystem system = LocalSystem.start(root, options)) {
            for (Stage s : Stage.values()) {
                if (trained.contains(s)) {
                    TrainerOptions trainer = new TrainerOptions(s, data.resolve("checkpoints").resolve(s.id())).model(model).bounds(0, 0, null);
                    if (inits.containsKey(s)) {
                        trainer.init(inits.get(s));
                    }
                    system.startTrainer(trainer, Map.of());
                }
            }
            recordSeqLen(data);
            printWhereToSend(system, stages, trained);
            failed = waitForStop(system, trained);
        } catch (IllegalStateException e) {
            throw new Millrace.Failure(e.getMessage());
        }
        if (failed) {
            throw new Millrace.Failure(stopReason + "; the run was stopped (logs in " + data.resolve("logs") + ")");
        }
        err.println("millrace up: stopped (" + stopReason + "); the next up on " + data + " continues from here");
    }

    /** Where an up records the T of its data directory: batches and checkpoints of one T cannot be continued at another. */
    static final String SETTINGS_FILE = "up.properties";

    /** @throws Millrace.Failure when the data directory's batches were made at another T */
    private void checkSameSeqLen(Path data) {
        Path file = data.resolve(SETTINGS_FILE);
        if (!Files.isRegularFile(file)) {
            return;
        }
        java.util.Properties recorded = new java.util.Properties();
        try (var in = Files.newInputStream(file)) {
            recorded.load(in);
        } catch (java.io.IOException e) {
            throw new Millrace.Failure("cannot read " + file + ": " + e.getMessage());
        }
        String t = recorded.getProperty("seq-len");
        if (t != null && !t.equals(String.valueOf(seqLen))) {
            throw new Millrace.Failure("the data directory " + data + " holds batches and checkpoints of T=" + t + ", not --seq-len " + seqLen
                    + ": give --seq-len " + t + ", or another --data-dir for a new T");
        }
    }

    private void recordSeqLen(Path data) {
        java.util.Properties settings = new java.util.Properties();
        settings.setProperty("seq-len", String.valueOf(seqLen));
        try (var out = Files.newOutputStream(data.resolve(SETTINGS_FILE))) {
            settings.store(out, "millrace up: the row length of this data directory's batches");
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private void requestStop(String reason) {
        if (stopReason == null) {
            stopReason = reason;
        }
        stop.countDown();
    }

    /** Waits for a signal (false) or a process of the run that ended by itself (true). */
    private boolean waitForStop(LocalSystem system, Set<Stage> trained) {
        try {
            while (!stop.await(1, TimeUnit.SECONDS)) {
                List<String> dead = new ArrayList<>(system.deadServices());
                for (Stage s : trained) {
                    if (!system.trainer(s).process().isAlive()) {
                        dead.add(system.trainer(s).process().name() + " (exit " + system.trainer(s).process().exitValue() + ", log "
                                + system.trainer(s).process().log() + ")");
                    }
                }
                if (!dead.isEmpty()) {
                    stopReason = "ended by itself: " + String.join(", ", dead);
                    return true;
                }
            }
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            stopReason = "interrupted";
            return false;
        }
    }

    /** The ready block on standard output (docs/cli.md#up): where to send data, where health and metrics are. */
    private void printWhereToSend(LocalSystem system, List<Stage> stages, Set<Stage> trained) {
        String host = bind.equals("0.0.0.0") || bind.equals("::") ? "127.0.0.1" : bind;
        String ingestUrl = "http://" + host + ":" + ingestPort;
        String urlOption = ingestPort == 8081 ? "" : " --url " + ingestUrl;
        String bootstrapOption = brokerPort == BROKER_PORT ? "" : " --bootstrap " + system.bootstrapServers();
        out.println("millrace up: ready; data in " + system.runDir());
        out.println("  send data:  POST " + ingestUrl + "/v1/<stage>/records (stages: " + ids(stages) + ")");
        out.println("              ./millrace ingest --stage " + stages.get(0).id() + urlOption + " FILE.jsonl");
        out.println("  broker:     " + system.bootstrapServers() + " (./millrace trace BATCH_ID" + bootstrapOption + ", ./millrace dlq"
                + bootstrapOption + ")");
        for (PipelineService s : PipelineService.values()) {
            out.println(String.format(Locale.ROOT, "  %-17s http://%s:%d/q/health  /q/metrics", s.id() + ":", host, system.serviceUri(s).getPort()));
        }
        for (Stage s : trained) {
            out.println(String.format(Locale.ROOT, "  %-17s http://%s:%d/q/health  /q/metrics  checkpoints in %s", "trainer-" + s.id() + ":", host,
                    system.trainer(s).uri().getPort(), system.runDir().resolve("checkpoints").resolve(s.id())));
        }
        out.println("  logs:       " + system.logDir());
        out.println("  stop:       Ctrl-C (or SIGTERM); the next ./millrace up on this data directory continues from there");
        out.flush();
    }

    private Map<Stage, Path> inits(List<Stage> stages, Set<Stage> trained) {
        Map<Stage, Path> out = new EnumMap<>(Stage.class);
        for (Map.Entry<String, Path> e : init.entrySet()) {
            Stage s;
            try {
                s = Stage.fromId(e.getKey().trim());
            } catch (IllegalArgumentException x) {
                throw new Millrace.UsageError("--init: " + x.getMessage());
            }
            if (!trained.contains(s)) {
                throw new Millrace.UsageError("--init " + s.id() + "=...: the stage is not trained (--train)");
            }
            if (!Files.isDirectory(e.getValue())) {
                throw new Millrace.UsageError("--init " + s.id() + "=" + e.getValue() + ": not a directory");
            }
            out.put(s, e.getValue().toAbsolutePath().normalize());
        }
        return out;
    }

    private static Set<Stage> stageSet(String option, List<String> ids) {
        Set<Stage> out = EnumSet.noneOf(Stage.class);
        for (String id : ids) {
            try {
                out.add(Stage.fromId(id.trim()));
            } catch (IllegalArgumentException e) {
                throw new Millrace.UsageError(option + ": " + e.getMessage());
            }
        }
        return out;
    }

    private static void checkPort(String option, int port) {
        if (port < 1 || port > 65535) {
            throw new Millrace.UsageError(option + " must be a port from 1 to 65535");
        }
    }

    /** The services' readiness is polled on the loopback address, so the address must include it. */
    private void checkBind() {
        try {
            InetAddress address = InetAddress.getByName(bind);
            if (!address.isLoopbackAddress() && !address.isAnyLocalAddress()) {
                throw new Millrace.UsageError("--bind " + bind + ": give a loopback address or 0.0.0.0 (every interface)");
            }
        } catch (UnknownHostException e) {
            throw new Millrace.UsageError("--bind " + bind + ": not an address");
        }
    }

    private static String ids(List<Stage> stages) {
        return stages.stream().map(Stage::id).collect(Collectors.joining(", "));
    }
}
