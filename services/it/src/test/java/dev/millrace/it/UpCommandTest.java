package dev.millrace.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.millrace.cli.Millrace;
import dev.millrace.contract.Topics;
import dev.millrace.core.record.Stage;
import dev.millrace.proto.v1.Batch;
import dev.millrace.proto.v1.BatchRow;
import dev.millrace.proto.v1.RawRecord;
import dev.millrace.proto.v1.RecordRef;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import java.util.Properties;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@code ./millrace up} as a user runs it: a child process ({@code java -jar} the CLI) with SFT and its trainer on a
 * data directory of the test's own. A file is ingested with {@code ./millrace ingest} and a batch traced with
 * {@code ./millrace trace}, both with their defaults when the default ports are free; SIGINT stops it with status 0,
 * nothing left running and a final checkpoint; {@code up} again on the same data directory, a second file, and every
 * line of both files is in exactly one batch row (nothing re-processed, nothing lost), while the trainer resumed from
 * its final checkpoint (its log says so, and its step numbers continue).
 */
class UpCommandTest {
    static final int T = 64;
    static final int B = 4;
    static final int LINES = 10;
    static final Duration TIMEOUT = Duration.ofMinutes(3);
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Every up this test started, stopped after it however it ended. */
    private static final List<Up> STARTED = new ArrayList<>();

    /** A failed assertion leaves an up running: SIGTERM (it stops its children), then SIGKILL for what is left. */
    @AfterEach
    void stopWhatIsLeft() throws Exception {
        for (Up up : STARTED) {
            List<ProcessHandle> children = up.process.descendants().toList();
            up.process.destroy();
            if (!up.process.waitFor(90, java.util.concurrent.TimeUnit.SECONDS)) {
                up.process.destroyForcibly();
            }
            children.stream().filter(ProcessHandle::isAlive).forEach(ProcessHandle::destroyForcibly);
        }
        STARTED.clear();
    }

    @Test
    void upStopsCleanlyOnSigintAndASecondUpContinuesWithNothingReprocessedOrLost() throws Exception {
        Path root = Repo.packagedRoot();
        Path work = Files.createTempDirectory(Files.createDirectories(root.resolve("services/it/target")), "up-");
        Path data = work.resolve("data");
        // The defaults (9092, 8081), so that ingest and trace run with theirs; other free ports when something listens there.
        int brokerPort = free(9092) ? 9092 : freePort();
        int ingestPort = free(8081) ? 8081 : freePort();
        String bootstrap = "127.0.0.1:" + brokerPort;
        String ingestUrl = "http://127.0.0.1:" + ingestPort;
        List<String> upArgs = List.of("up", "--stages", "sft", "--train", "sft", "--seq-len", String.valueOf(T), "--batch-size",
                String.valueOf(B), "--data-dir", data.toString(), "--broker-port", String.valueOf(brokerPort), "--ingest-port",
                String.valueOf(ingestPort));
        Path first = file(work, "first.jsonl", "first");
        Path second = file(work, "second.jsonl", "second");
        Path checkpoints = data.resolve("checkpoints/sft");
        Topics topics = new Topics("millrace");

        // The first up: a file in, its batches out, one of them traced, trained on; then SIGINT.
        Up up = Up.start(root, upArgs, work.resolve("up-1"));
        assertThat(up.stdout()).as("the ready block says where to send data")
                .contains("POST " + ingestUrl + "/v1/<stage>/records").contains("./millrace ingest --stage sft");
        Up refused = Up.run(root, upArgs, work.resolve("up-refused"));
        assertThat(refused.process.exitValue()).as("a second up on the same data directory; its standard error:%n%s", refused.stderr()).isEqualTo(1);
        assertThat(refused.stderr()).contains("the data directory " + data + " is in use by another running millrace up (pid " + up.process.pid() + ")");
        ingest(first, ingestUrl);
        Map<String, Integer> rows = awaitEveryLine(bootstrap, topics, List.of(first));
        List<Batch> batches1 = batches(bootstrap, topics);
        String traced = trace(batches1.get(0).getBatchId(), brokerPort);
        assertThat(traced).as("trace of %s", batches1.get(0).getBatchId()).contains(first.toString());
        afterTheFirstFile(brokerPort, ingestUrl, batches1);
        long steps1 = batches1.size();
        awaitStep(checkpoints, steps1);

        assertThat(up.interruptAndWait()).as("up's exit status after SIGINT; its standard error:%n%s", up.stderr()).isZero();
        assertThat(up.descendantsAlive()).as("processes of the first up still running").isEmpty();
        List<String> saved = checkpointNames(checkpoints);
        assertThat(saved).as("the trainer's final checkpoint").isNotEmpty();
        assertThat(saved.get(saved.size() - 1)).isEqualTo(String.format("step-%08d", steps1));
        String trainerLog = Files.readString(data.resolve("logs/trainer-sft.log"));

        // The second up, on the same data directory: a second file.
        Up again = Up.start(root, upArgs, work.resolve("up-2"));
        ingest(second, ingestUrl);
        rows = awaitEveryLine(bootstrap, topics, List.of(first, second));
        List<Batch> batches2 = batches(bootstrap, topics);
        afterTheSecondFile(brokerPort, ingestUrl, batches2);
        awaitStep(checkpoints, batches2.size());
        assertThat(again.interruptAndWait()).as("the second up's exit status after SIGINT; its standard error:%n%s", again.stderr()).isZero();
        assertThat(again.descendantsAlive()).as("processes of the second up still running").isEmpty();

        assertThat(rows).as("each line of both files: the batch rows that carry it").hasSize(2 * LINES).allSatisfy((line, count) ->
                assertThat(count).as("rows carrying %s", line).isEqualTo(1));
        String resumedLog = Files.readString(data.resolve("logs/trainer-sft.log")).substring(trainerLog.length());
        assertThat(resumedLog).as("the second trainer's log").contains("resuming from " + checkpoints.resolve(String.format("step-%08d", steps1)));
        List<Long> steps = stepLog(checkpoints);
        assertThat(steps).as("the step log: 1..%d, then on from %d after the restart", steps1, steps1 + 1)
                .isEqualTo(Stream.iterate(1L, s -> s + 1).limit(batches2.size()).toList());
    }

    /**
     * What a running system shows after the first file's batches, with the operator commands at the same defaults:
     * {@code ./millrace batches} lists every batch (each on the partition its id names), and {@code ./millrace status}
     * shows the broker, the services and the trainer up, and the records that went through.
     */
    private static void afterTheFirstFile(int brokerPort, String ingestUrl, List<Batch> batches) {
        assertThat(batches).as("batches after the first file").isNotEmpty().allSatisfy(b -> assertThat(b.getBatchId()).startsWith("sft-"));
        seenByBatchesAndStatus(brokerPort, ingestUrl, batches);
    }

    /** The same after the second up's file (the batches of both files). */
    private static void afterTheSecondFile(int brokerPort, String ingestUrl, List<Batch> batches) {
        assertThat(batches).as("batches after the second file").isNotEmpty().allSatisfy(b -> assertThat(b.getBatchId()).startsWith("sft-"));
        seenByBatchesAndStatus(brokerPort, ingestUrl, batches);
    }

    private static void seenByBatchesAndStatus(int brokerPort, String ingestUrl, List<Batch> batches) {
        List<String> listArgs = new ArrayList<>(List.of("batches", "--stage", "sft", "--last", "100000"));
        List<String> statusArgs = new ArrayList<>(List.of("status"));
        if (brokerPort != 9092) {
            listArgs.addAll(List.of("--bootstrap", "127.0.0.1:" + brokerPort));
            statusArgs.addAll(List.of("--bootstrap", "127.0.0.1:" + brokerPort));
        }
        if (!ingestUrl.equals("http://127.0.0.1:8081")) {
            statusArgs.addAll(List.of("--service", "ingest=" + ingestUrl));
        }
        String listed = cli(listArgs);
        for (Batch b : batches) {
            Matcher row = Pattern.compile("(?m)^" + Pattern.quote(b.getBatchId()) + " +(\\d+) ").matcher(listed);
            assertThat(row.find()).as("batches lists %s:%n%s", b.getBatchId(), listed).isTrue();
            String named = b.getBatchId().replaceFirst("^sft-p(\\d+)-.*$", "$1");
            assertThat(row.group(1)).as("the partition %s's id names", b.getBatchId()).isEqualTo(named);
        }
        String status = cli(statusArgs);
        assertThat(status).as("status:%n%s", status)
                .containsPattern("(?m)^broker 127\\.0\\.0\\.1:" + brokerPort + ": reachable")
                .containsPattern("(?m)^ingest +\\S+ +UP +UP +read")
                .containsPattern("(?m)^loss-mask +\\S+ +UP +UP +read")
                .containsPattern("(?m)^trainer-sft +http://127\\.0\\.0\\.1:8091 +UP +UP +read")
                // live figures: this up's chat-template took in this file's lines (counted since the service started; none
                // re-read after a restart), and the trainer's step and loss
                .containsPattern("(?m)^sft +chat-template +" + LINES + " +" + LINES + " +-$")
                .containsPattern("(?m)^trainer-sft +sft +[1-9]\\d* +\\d+\\.\\d{4} ");
    }

    /** Runs a CLI command in-process; it must exit 0; returns its standard output. */
    private static String cli(List<String> args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code;
        try (PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8); PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8)) {
            code = Millrace.run(args.toArray(String[]::new), o, e);
        }
        assertThat(code).as("%s: %s %s", args, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8)).isZero();
        return out.toString(StandardCharsets.UTF_8);
    }

    /** {@code ./millrace up} as a child process, its standard output and error in files of its own. */
    private static final class Up {
        private final Process process;
        private final Path stdout;
        private final Path stderr;
        /** Its child processes, seen just before SIGINT. */
        private List<ProcessHandle> descendants = List.of();

        private Up(Process process, Path stdout, Path stderr) {
            this.process = process;
            this.stdout = stdout;
            this.stderr = stderr;
        }

        static Up start(Path root, List<String> args, Path dir) throws Exception {
            Files.createDirectories(dir);
            Up up = new Up(new ProcessBuilder(command(root, args)).directory(root.toFile()).redirectOutput(dir.resolve("stdout").toFile())
                    .redirectError(dir.resolve("stderr").toFile()).start(), dir.resolve("stdout"), dir.resolve("stderr"));
            STARTED.add(up);
            long deadline = System.nanoTime() + TIMEOUT.toNanos();
            while (!up.stdout().contains("millrace up: ready")) {
                assertThat(up.process.isAlive()).as("up is running; its standard error:%n%s", up.stderr()).isTrue();
                assertThat(System.nanoTime()).as("up ready within %s; its standard error:%n%s", TIMEOUT, up.stderr()).isLessThan(deadline);
                Thread.sleep(200);
            }
            return up;
        }

        /** Runs it to its end (an up that is refused). */
        static Up run(Path root, List<String> args, Path dir) throws Exception {
            Files.createDirectories(dir);
            Up up = new Up(new ProcessBuilder(command(root, args)).directory(root.toFile()).redirectOutput(dir.resolve("stdout").toFile())
                    .redirectError(dir.resolve("stderr").toFile()).start(), dir.resolve("stdout"), dir.resolve("stderr"));
            STARTED.add(up);
            assertThat(up.process.waitFor(TIMEOUT.toSeconds(), java.util.concurrent.TimeUnit.SECONDS)).as("up ended within %s", TIMEOUT).isTrue();
            return up;
        }

        /** {@code java -jar} the CLI with {@code args}. */
        static List<String> command(Path root, List<String> args) {
            // SIGINT's default action restored first: a JVM started with SIGINT ignored (as a shell starts a background
            // job, and its children inherit) keeps ignoring it, and this test's JVM may be such a child.
            List<String> command = new ArrayList<>(List.of("python3", "-c",
                    "import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); os.execv(sys.argv[1], sys.argv[1:])",
                    Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-Dmillrace.repo.root=" + root, "-jar", root.resolve("services/cli/target/millrace-cli.jar").toString()));
            command.addAll(args);
            return command;
        }

        String stdout() throws IOException {
            return Files.readString(stdout);
        }

        String stderr() throws IOException {
            return Files.readString(stderr);
        }

        /** SIGINT, as Ctrl-C sends it; waits for the exit. */
        int interruptAndWait() throws Exception {
            descendants = process.descendants().toList();
            Process kill = new ProcessBuilder("kill", "-INT", String.valueOf(process.pid())).inheritIO().start();
            assertThat(kill.waitFor()).isZero();
            assertThat(process.waitFor(TIMEOUT.toSeconds(), java.util.concurrent.TimeUnit.SECONDS)).as("up ended within %s", TIMEOUT).isTrue();
            return process.exitValue();
        }

        /** The processes up had started (seen just before SIGINT) that still run. */
        List<Long> descendantsAlive() {
            assertThat(descendants).as("up's child processes (broker, services, trainer) seen before SIGINT").hasSizeGreaterThanOrEqualTo(6);
            return descendants.stream().filter(ProcessHandle::isAlive).map(ProcessHandle::pid).toList();
        }
    }

    private static void ingest(Path file, String url) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        List<String> args = new ArrayList<>(List.of("ingest", "--stage", "sft"));
        if (!url.equals("http://127.0.0.1:8081")) {
            args.addAll(List.of("--url", url));
        }
        args.add(file.toString());
        int code;
        try (PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8); PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8)) {
            code = Millrace.run(args.toArray(String[]::new), o, e);
        }
        assertThat(code).as("ingest %s: %s %s", file, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8)).isZero();
    }

    private static String trace(String batchId, int brokerPort) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        List<String> args = new ArrayList<>(List.of("trace", batchId));
        if (brokerPort != 9092) {
            args.addAll(List.of("--bootstrap", "127.0.0.1:" + brokerPort));
        }
        int code;
        try (PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8); PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8)) {
            code = Millrace.run(args.toArray(String[]::new), o, e);
        }
        assertThat(code).as("trace %s: %s", batchId, err.toString(StandardCharsets.UTF_8)).isZero();
        return out.toString(StandardCharsets.UTF_8);
    }

    /** {@code LINES} SFT conversations, each its own content (so its own record id). */
    private static Path file(Path dir, String name, String tag) throws IOException {
        List<String> lines = new ArrayList<>();
        for (int i = 1; i <= LINES; i++) {
            lines.add("{\"messages\":[{\"role\":\"user\",\"content\":\"" + tag + " question " + i + "?\"},"
                    + "{\"role\":\"assistant\",\"content\":\"" + tag + " answer " + i + ".\"}]}");
        }
        return Files.write(dir.resolve(name), lines, StandardCharsets.UTF_8);
    }

    /**
     * Reads the SFT batches and raw records ({@code read_committed}) until every line of {@code files} is in a batch
     * row; returns, for each {@code file:line} any row carries, how many rows carry it (each row's records resolved to
     * their source through the raw record its lineage names).
     */
    private static Map<String, Integer> awaitEveryLine(String bootstrap, Topics topics, List<Path> files) throws Exception {
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        while (true) {
            Map<String, Integer> rows = rowsPerLine(bootstrap, topics);
            boolean all = true;
            for (Path f : files) {
                for (int i = 1; i <= LINES; i++) {
                    all &= rows.containsKey(f + ":" + i);
                }
            }
            if (all) {
                return rows;
            }
            assertThat(System.nanoTime()).as("every line of %s in a batch within %s (so far %s)", files, TIMEOUT, rows.keySet()).isLessThan(deadline);
            Thread.sleep(500);
        }
    }

    private static Map<String, Integer> rowsPerLine(String bootstrap, Topics topics) throws Exception {
        Map<String, RawRecord> raw = new HashMap<>();
        List<Batch> batches = new ArrayList<>();
        for (ConsumerRecord<String, byte[]> m : readAll(bootstrap, topics.raw(Stage.SFT))) {
            raw.put(m.partition() + "@" + m.offset(), RawRecord.parseFrom(m.value()));
        }
        for (ConsumerRecord<String, byte[]> m : readAll(bootstrap, topics.batches(Stage.SFT))) {
            batches.add(Batch.parseFrom(m.value()));
        }
        Map<String, Integer> rows = new TreeMap<>();
        for (Batch b : batches) {
            for (BatchRow row : b.getRowsList()) {
                for (RecordRef ref : row.getRecordsList()) {
                    RawRecord r = raw.get(ref.getRaw().getPartition() + "@" + ref.getRaw().getOffset());
                    assertThat(r).as("the raw record of a row of %s", b.getBatchId()).isNotNull();
                    rows.merge(r.getSource().getName() + ":" + r.getSource().getLine(), 1, Integer::sum);
                }
            }
        }
        return rows;
    }

    private static List<Batch> batches(String bootstrap, Topics topics) throws Exception {
        List<Batch> out = new ArrayList<>();
        for (ConsumerRecord<String, byte[]> m : readAll(bootstrap, topics.batches(Stage.SFT))) {
            out.add(Batch.parseFrom(m.value()));
        }
        return out;
    }

    /** Every committed message of {@code topic} up to its end offsets now ({@code read_committed}, no group). */
    private static List<ConsumerRecord<String, byte[]>> readAll(String bootstrap, String topic) {
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        props.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, 8 * 1024 * 1024);
        List<ConsumerRecord<String, byte[]>> out = new ArrayList<>();
        try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(props, new StringDeserializer(), new ByteArrayDeserializer())) {
            List<TopicPartition> partitions = consumer.partitionsFor(topic, Duration.ofSeconds(30)).stream()
                    .map(p -> new TopicPartition(topic, p.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions, Duration.ofSeconds(30));
            long deadline = System.nanoTime() + TIMEOUT.toNanos();
            while (partitions.stream().anyMatch(tp -> consumer.position(tp) < end.get(tp))) {
                assertThat(System.nanoTime()).as("%s read to its end offsets %s within %s", topic, end, TIMEOUT).isLessThan(deadline);
                consumer.poll(Duration.ofMillis(200)).forEach(out::add);
            }
        }
        return out;
    }

    private static void awaitStep(Path dir, long step) throws Exception {
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        while (!(Files.exists(dir.resolve("steps.jsonl")) && stepLog(dir).stream().anyMatch(s -> s >= step))) {
            assertThat(System.nanoTime()).as("trainer step %d within %s", step, TIMEOUT).isLessThan(deadline);
            Thread.sleep(200);
        }
    }

    /** The step of each line of the trainer's step log, in order. */
    private static List<Long> stepLog(Path dir) throws IOException {
        List<Long> out = new ArrayList<>();
        for (String line : Files.readAllLines(dir.resolve("steps.jsonl"), StandardCharsets.UTF_8)) {
            if (!line.isBlank()) {
                JsonNode n = JSON.readTree(line);
                out.add(n.get("step").asLong());
            }
        }
        return out;
    }

    private static List<String> checkpointNames(Path dir) throws IOException {
        try (Stream<Path> entries = Files.list(dir)) {
            return entries.map(p -> p.getFileName().toString()).filter(n -> n.startsWith("step-")).sorted().toList();
        }
    }

    private static boolean free(int port) {
        try (ServerSocket s = new ServerSocket()) {
            s.setReuseAddress(true);
            s.bind(new java.net.InetSocketAddress(InetAddress.getLoopbackAddress(), port));
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 0, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }
}
