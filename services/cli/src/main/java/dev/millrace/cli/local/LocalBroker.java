package dev.millrace.cli.local;

import dev.millrace.core.record.Stage;
import dev.millrace.kafkalocal.LocalKafka;
import dev.millrace.contract.Topics;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;

/**
 * The Kafka broker of a local run: services/kafka-local's {@code LocalKafka} as a child process (a
 * real single-node KRaft broker) with its data in a directory of the run. It is ready when it prints
 * {@code READY <bootstrap servers>}; then the topics of the run's stages are created on it.
 */
public final class LocalBroker {
    /** The packaged broker: the module jar (a version-free name, see its pom) and its runtime libraries. */
    static final String JAR = "services/kafka-local/target/millrace-kafka-local.jar";
    static final String LIB = "services/kafka-local/target/lib";
    static final Duration READY_TIMEOUT = Duration.ofSeconds(90);
    /** The partitions of every topic of a local run. */
    static final int PARTITIONS = 2;

    private final ManagedProcess process;
    /** Where this launch's output begins in the log (a broker started again appends to the same log). */
    private final long logStart;
    private String bootstrapServers;

    private LocalBroker(ManagedProcess process, long logStart) {
        this.process = process;
        this.logStart = logStart;
    }

    /** The packaged broker's artifacts (relative paths, a directory with a trailing slash) that are not built yet. */
    public static List<String> missingArtifacts(Path repoRoot) {
        List<String> missing = new ArrayList<>();
        if (!Files.isRegularFile(repoRoot.resolve(JAR))) {
            missing.add(JAR);
        }
        if (!Files.isDirectory(repoRoot.resolve(LIB))) {
            missing.add(LIB + "/");
        }
        return missing;
    }

    /** Starts the broker process with its data in {@code dataDir} and its output in {@code log}; does not wait. */
    static LocalBroker launch(Path repoRoot, Path dataDir, Path log) {
        return launch(repoRoot, dataDir, log, List.of());
    }

    /**
     * Starts the broker process on {@code port}, with its data in {@code dataDir} (kept from an earlier launch, or
     * new); the controller listens on the port it had when the data directory was formatted (its quorum's voter
     * is recorded with that endpoint), else on a free port. Does not wait.
     */
    static LocalBroker launch(Path repoRoot, Path dataDir, Path log, int port) {
        List<String> portArgs = new ArrayList<>(List.of("--port", String.valueOf(port)));
        if (Files.isRegularFile(dataDir.resolve("server.properties"))) {
            int controller = controllerPort(dataDir);
            LocalSystem.checkPortFree(controller, "the kafka broker's controller, recorded in " + dataDir.resolve("server.properties"));
            portArgs.addAll(List.of("--controller-port", String.valueOf(controller)));
        }
        return launch(repoRoot, dataDir, log, portArgs);
    }

    /**
     * Starts the broker again on the data directory of one that has ended, on the same ports (the
     * clients of the run know only its address); does not wait.
     */
    LocalBroker relaunch(Path repoRoot, Path dataDir) {
        if (process.isAlive()) {
            throw new IllegalStateException("the kafka broker is running (pid " + process.pid() + ")");
        }
        String port = bootstrapServers().substring(bootstrapServers().lastIndexOf(':') + 1);
        return launch(repoRoot, dataDir, process.log(), List.of("--port", port, "--controller-port", String.valueOf(controllerPort(dataDir))));
    }

    private static LocalBroker launch(Path repoRoot, Path dataDir, Path log, List<String> portArgs) {
        String classpath = repoRoot.resolve(JAR) + File.pathSeparator + repoRoot.resolve(LIB).resolve("*");
        List<String> command = new ArrayList<>(List.of(ManagedProcess.javaBinary().toString(), "-Xmx512m", "-XX:+UseSerialGC",
                "-XX:TieredStopAtLevel=1", "-cp", classpath, LocalKafka.class.getName(), "--dir", dataDir.toString()));
        command.addAll(portArgs);
        long logStart;
        try {
            logStart = Files.exists(log) ? Files.size(log) : 0;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return new LocalBroker(ManagedProcess.start("kafka", command, repoRoot, log), logStart);
    }

    /** The controller port the broker of {@code dataDir} was started with (LocalKafka writes its server.properties there). */
    private static int controllerPort(Path dataDir) {
        Properties props = new Properties();
        try (var in = Files.newInputStream(dataDir.resolve("server.properties"))) {
            props.load(in);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the broker's settings in " + dataDir, e);
        }
        String quorum = props.getProperty("controller.quorum.bootstrap.servers");
        return Integer.parseInt(quorum.substring(quorum.lastIndexOf(':') + 1));
    }

    /**
     * Waits until the broker prints {@code READY <bootstrap>}.
     *
     * @param checkNotStopped called while waiting; throws to give up (the run is being stopped)
     * @throws IllegalStateException when the broker exits, reports a failure or is not ready in time (with its log tail)
     */
    void awaitReady(Runnable checkNotStopped) {
        long deadline = System.nanoTime() + READY_TIMEOUT.toNanos();
        while (System.nanoTime() < deadline) {
            String ready = readyLine(process.log(), logStart);
            if (ready != null && ready.startsWith("READY ")) {
                bootstrapServers = ready.substring("READY ".length()).trim();
                return;
            }
            checkNotStopped.run();
            if (ready != null) {
                // LocalKafka.main failed to start the broker, but Kafka's threads keep its JVM alive
                throw new IllegalStateException("the kafka broker failed to start; its log " + process.log() + " ends with:"
                        + System.lineSeparator() + process.logTail(30));
            }
            if (!process.isAlive()) {
                throw new IllegalStateException("the kafka broker exited with status " + process.exitValue()
                        + " before it was ready; its log " + process.log() + " ends with:" + System.lineSeparator() + process.logTail(30));
            }
            LocalSystem.sleep(100);
        }
        throw new IllegalStateException("the kafka broker did not print READY within " + READY_TIMEOUT.toSeconds() + " s; its log "
                + process.log() + " ends with:" + System.lineSeparator() + process.logTail(30));
    }

    /**
     * The broker's {@code READY <bootstrap>} line, or the line of an exception that ended its main thread, or null;
     * in what was logged from {@code from} on.
     */
    private static String readyLine(Path log, long from) {
        try {
            if (!Files.exists(log)) {
                return null;
            }
            byte[] all = Files.readAllBytes(log);
            int start = (int) Math.min(from, all.length);
            for (String line : new String(all, start, all.length - start, StandardCharsets.UTF_8).split("\n")) {
                if (line.startsWith("READY ") || line.startsWith("Exception in thread \"main\"")) {
                    return line;
                }
            }
            return null;
        } catch (IOException e) {
            return null;
        }
    }

    /**
     * Creates every topic of {@code stages} ({@link Topics#all}), {@value #PARTITIONS} partitions each,
     * zstd-compressed on the batch topics, whose {@code max.message.bytes} is {@code batchMaxMessageBytes}
     * ({@link BatchRecordLimit}).
     *
     * @return the topics created
     */
    List<String> createTopics(Topics topics, List<Stage> stages, int batchMaxMessageBytes) {
        List<String> all = topics.all(stages);
        List<String> batches = stages.stream().map(topics::batches).toList();
        List<String> plain = all.stream().filter(t -> !batches.contains(t)).toList();
        LocalKafka.createTopics(bootstrapServers(), PARTITIONS, Map.of(), plain.toArray(String[]::new));
        LocalKafka.createTopics(bootstrapServers(), PARTITIONS, Map.of("compression.type", "zstd",
                BatchRecordLimit.TOPIC_CONFIG, String.valueOf(batchMaxMessageBytes)), batches.toArray(String[]::new));
        return all;
    }

    /** {@code host:port} of the broker; set once it is ready. */
    public String bootstrapServers() {
        if (bootstrapServers == null) {
            throw new IllegalStateException("the kafka broker is not ready");
        }
        return bootstrapServers;
    }

    public ManagedProcess process() {
        return process;
    }
}
