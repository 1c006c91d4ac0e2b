package dev.millrace.cli.local;

import dev.millrace.core.record.Stage;
import dev.millrace.kafkalocal.LocalKafka;
import dev.millrace.contract.Topics;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

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
    private String bootstrapServers;

    private LocalBroker(ManagedProcess process) {
        this.process = process;
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
        String classpath = repoRoot.resolve(JAR) + File.pathSeparator + repoRoot.resolve(LIB).resolve("*");
        List<String> command = List.of(ManagedProcess.javaBinary().toString(), "-Xmx512m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
                "-cp", classpath, LocalKafka.class.getName(), "--dir", dataDir.toString());
        return new LocalBroker(ManagedProcess.start("kafka", command, repoRoot, log));
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
            String ready = readyLine(process.log());
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

    /** The broker's {@code READY <bootstrap>} line, or the line of an exception that ended its main thread, or null. */
    private static String readyLine(Path log) {
        try {
            if (!Files.exists(log)) {
                return null;
            }
            for (String line : new String(Files.readAllBytes(log), StandardCharsets.UTF_8).split("\n")) {
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
