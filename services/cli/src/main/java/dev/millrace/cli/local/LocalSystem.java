package dev.millrace.cli.local;

import dev.millrace.contract.PipelineService;
import dev.millrace.contract.Topics;
import dev.millrace.core.record.Stage;
import dev.millrace.kafkalocal.LocalKafka;
import java.io.File;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * The whole system on one machine, every part a separate process: a real single-node Kafka broker
 * (services/kafka-local, child-process mode), the topics of the configured stages, and the packaged
 * services (ingest, chat-template, tokenize, loss-mask) on free loopback ports. Each process logs to
 * a file in the run directory. {@link #close()} stops everything it started (services first, then
 * the broker: SIGTERM, a grace period, then SIGKILL); so does a failed start and a JVM shutdown
 * (Ctrl-C), through a shutdown hook.
 */
public final class LocalSystem implements AutoCloseable {

    /** The packaged services of the local run, in pipeline order. */
    public enum Service {
        INGEST("ingest"),
        CHAT_TEMPLATE("chat-template"),
        TOKENIZE("tokenize"),
        LOSS_MASK("loss-mask");

        private final String id;

        Service(String id) {
            this.id = id;
        }

        /** The module directory name under services/ (also the log file name). */
        public String id() {
            return id;
        }

        public Path jar(Path repoRoot) {
            return repoRoot.resolve("services").resolve(id).resolve("target/quarkus-app/quarkus-run.jar");
        }

        boolean usesKafkaStreams() {
            return PipelineService.fromId(id).isStreamsApp();
        }

        /**
         * The topics a Kafka Streams service reads and writes for the given stages, then the
         * dead-letter topic (its {@code quarkus.kafka-streams.topics}: the app waits for them);
         * empty for ingest, which is no Kafka Streams app.
         */
        public List<String> streamTopics(Topics topics, List<Stage> stages) {
            return PipelineService.fromId(id).streamTopics(topics, stages);
        }
    }

    static final String KAFKA_LOCAL_JAR = "services/kafka-local/target/millrace-kafka-local-0.1.0-SNAPSHOT.jar";
    static final String KAFKA_LOCAL_LIB = "services/kafka-local/target/lib";
    static final String BUILD_HINT = "run ./mvnw -DskipTests package in the repository root first";

    /** What to start and how. Mutable builder-style settings; defaults are the demo's. */
    public static final class Options {
        private int seqLen = 512;
        private int batchSize = 16;
        private long batchLingerMs = 1000;
        private List<Stage> stages = List.of(Stage.SFT);
        private Set<Stage> packing = EnumSet.noneOf(Stage.class);
        private String topicPrefix = "millrace";
        private Set<Service> services = EnumSet.allOf(Service.class);
        private Path runDir;
        private boolean keepData;
        private PrintStream progress = System.err;
        private Duration startTimeout = Duration.ofMinutes(4);
        private Map<String, String> extraProperties = new LinkedHashMap<>();

        public Options seqLen(int seqLen) {
            this.seqLen = seqLen;
            return this;
        }

        public Options batchSize(int batchSize) {
            this.batchSize = batchSize;
            return this;
        }

        public Options batchLingerMs(long batchLingerMs) {
            this.batchLingerMs = batchLingerMs;
            return this;
        }

        public Options stages(List<Stage> stages) {
            this.stages = List.copyOf(stages);
            return this;
        }

        /**
         * The stages whose batches are packed: loss-mask gets {@code millrace.<stage>.packing=on}
         * for each (other stages keep the services' own setting, off by default).
         */
        public Options packing(Set<Stage> packing) {
            this.packing = packing.isEmpty() ? EnumSet.noneOf(Stage.class) : EnumSet.copyOf(packing);
            return this;
        }

        public Options topicPrefix(String topicPrefix) {
            this.topicPrefix = topicPrefix;
            return this;
        }

        /** Which services to start (all by default); the broker is always started. */
        public Options services(Set<Service> services) {
            this.services = services.isEmpty() ? EnumSet.noneOf(Service.class) : EnumSet.copyOf(services);
            return this;
        }

        /**
         * Where logs, broker data and stream state go (a fresh directory: one that already holds
         * broker data is refused); default a new temporary directory.
         */
        public Options runDir(Path runDir) {
            this.runDir = runDir;
            return this;
        }

        /** Keep the broker data and the Kafka Streams state after {@link #close()} (logs are always kept). */
        public Options keepData(boolean keepData) {
            this.keepData = keepData;
            return this;
        }

        /** Where progress lines go (standard error by default; never standard output). */
        public Options progress(PrintStream progress) {
            this.progress = progress;
            return this;
        }

        public Options startTimeout(Duration startTimeout) {
            this.startTimeout = startTimeout;
            return this;
        }

        /** An extra {@code -D} system property for every service. */
        public Options property(String key, String value) {
            this.extraProperties.put(key, value);
            return this;
        }

        public int seqLen() {
            return seqLen;
        }

        public int batchSize() {
            return batchSize;
        }

        public long batchLingerMs() {
            return batchLingerMs;
        }

        public List<Stage> stages() {
            return stages;
        }

        public Set<Stage> packing() {
            return packing;
        }
    }

    private final Path repoRoot;
    private final Options options;
    private final Path runDir;
    private final Topics topics;
    private final List<ManagedProcess> services = new ArrayList<>();
    private final Map<Service, Integer> ports = new EnumMap<>(Service.class);
    private final Thread shutdownHook;
    private ManagedProcess broker;
    private String bootstrapServers;
    private boolean closed;

    private LocalSystem(Path repoRoot, Options options, Path runDir) {
        this.repoRoot = repoRoot;
        this.options = options;
        this.runDir = runDir;
        this.topics = new Topics(options.topicPrefix);
        this.shutdownHook = new Thread(this::close, "millrace-local-system-shutdown");
    }

    /**
     * Starts the broker, creates the topics, starts the services and waits until each one reports
     * ready. On any failure everything already started is stopped before the exception leaves.
     *
     * @throws IllegalStateException when an artifact is missing (with the build command to run),
     *                               or a process fails to start or to become ready (with its log tail)
     */
    public static LocalSystem start(Path repoRoot, Options options) {
        Path root = repoRoot.toAbsolutePath().normalize();
        List<String> missing = missingArtifacts(root, options.services);
        if (!missing.isEmpty()) {
            throw new IllegalStateException("the local run needs the packaged broker and services, but these are missing: "
                    + String.join(", ", missing) + "; " + BUILD_HINT);
        }
        Path runDir;
        if (options.runDir != null && Files.exists(options.runDir.resolve("kafka"))) {
            throw new IllegalStateException("the run directory " + options.runDir + " already holds broker data; give a fresh one");
        }
        try {
            runDir = options.runDir != null ? Files.createDirectories(options.runDir) : Files.createTempDirectory("millrace-run-");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create the run directory", e);
        }
        LocalSystem system = new LocalSystem(root, options, runDir.toAbsolutePath());
        Runtime.getRuntime().addShutdownHook(system.shutdownHook);
        try {
            system.startAll();
            return system;
        } catch (RuntimeException | Error e) {
            system.close();
            throw e;
        }
    }

    /** The broker and service artifacts (relative paths) that are not built yet. */
    public static List<String> missingArtifacts(Path repoRoot, Set<Service> services) {
        List<String> missing = new ArrayList<>();
        if (!Files.isRegularFile(repoRoot.resolve(KAFKA_LOCAL_JAR))) {
            missing.add(KAFKA_LOCAL_JAR);
        }
        if (!Files.isDirectory(repoRoot.resolve(KAFKA_LOCAL_LIB))) {
            missing.add(KAFKA_LOCAL_LIB + "/");
        }
        for (Service s : services) {
            if (!Files.isRegularFile(s.jar(repoRoot))) {
                missing.add(repoRoot.relativize(s.jar(repoRoot)).toString());
            }
        }
        return missing;
    }

    private void startAll() {
        PrintStream p = options.progress;
        p.println("millrace: run directory " + runDir + " (process logs in " + logDir() + ")");
        long t0 = System.nanoTime();
        startBroker();
        p.printf(Locale.ROOT, "millrace:   kafka broker ready at %s (%.1f s)%n", bootstrapServers, seconds(t0));
        createTopics();
        long t1 = System.nanoTime();
        Map<Service, ManagedProcess> started = new EnumMap<>(Service.class);
        for (Service s : options.services) {
            started.put(s, startService(s));
        }
        awaitReady(started, t1);
    }

    private void startBroker() {
        Path java = javaBinary();
        String classpath = repoRoot.resolve(KAFKA_LOCAL_JAR) + File.pathSeparator + repoRoot.resolve(KAFKA_LOCAL_LIB).resolve("*");
        List<String> command = List.of(java.toString(), "-Xmx512m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
                "-cp", classpath, "dev.millrace.kafkalocal.LocalKafka", "--dir", runDir.resolve("kafka").toString());
        broker = launch("kafka", command);
        long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
        while (System.nanoTime() < deadline) {
            String ready = readyLine(broker.log());
            if (ready != null && ready.startsWith("READY ")) {
                bootstrapServers = ready.substring("READY ".length()).trim();
                return;
            }
            checkNotStopped();
            if (ready != null) {
                // LocalKafka.main failed to start the broker, but Kafka's threads keep its JVM alive
                throw new IllegalStateException("the kafka broker failed to start; its log " + broker.log() + " ends with:"
                        + System.lineSeparator() + broker.logTail(30));
            }
            if (!broker.isAlive()) {
                throw new IllegalStateException("the kafka broker exited with status " + broker.exitValue()
                        + " before it was ready; its log " + broker.log() + " ends with:" + System.lineSeparator() + broker.logTail(30));
            }
            sleep(100);
        }
        throw new IllegalStateException("the kafka broker did not print READY within 90 s; its log " + broker.log()
                + " ends with:" + System.lineSeparator() + broker.logTail(30));
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

    private void createTopics() {
        List<String> plain = new ArrayList<>();
        List<String> batches = new ArrayList<>();
        for (String name : topics.all(options.stages)) {
            (name.endsWith(".batches") ? batches : plain).add(name);
        }
        LocalKafka.createTopics(bootstrapServers, 2, Map.of(), plain.toArray(String[]::new));
        LocalKafka.createTopics(bootstrapServers, 2, Map.of("compression.type", "zstd"), batches.toArray(String[]::new));
        options.progress.println("millrace:   topics created (2 partitions each, zstd on batch topics): " + String.join(", ", topics.all(options.stages)));
    }

    private ManagedProcess startService(Service s) {
        int port = servicePort();
        ports.put(s, port);
        List<String> command = new ArrayList<>(List.of(javaBinary().toString(), "-Xmx256m", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC"));
        serviceProperties(s, options, topics, bootstrapServers, runDir, port).forEach((k, v) -> command.add("-D" + k + "=" + v));
        command.add("-jar");
        command.add(s.jar(repoRoot).toString());
        return launch(s.id(), command);
    }

    /** The {@code -D} system properties one service is started with (the options' extra properties last, so they win). */
    static Map<String, String> serviceProperties(Service s, Options options, Topics topics, String bootstrapServers, Path runDir, int port) {
        Map<String, String> props = new LinkedHashMap<>();
        props.put("quarkus.http.host", "127.0.0.1");
        props.put("quarkus.http.port", String.valueOf(port));
        props.put("kafka.bootstrap.servers", bootstrapServers);
        props.put("millrace.stages", options.stages.stream().map(Stage::id).collect(Collectors.joining(",")));
        props.put("millrace.topic-prefix", options.topicPrefix);
        if (s.usesKafkaStreams()) {
            // Per-run state: never reuse stores of an earlier run (another broker) from /tmp/kafka-streams.
            props.put("kafka-streams.state.dir", runDir.resolve("state").resolve(s.id()).toString());
            // The app waits for these topics; the packaged default lists only the sft ones.
            props.put("quarkus.kafka-streams.topics", String.join(",", s.streamTopics(topics, options.stages)));
        }
        if (s == Service.LOSS_MASK) {
            props.put("millrace.seq-len", String.valueOf(options.seqLen));
            props.put("millrace.batch-size", String.valueOf(options.batchSize));
            props.put("millrace.batch-linger-ms", String.valueOf(options.batchLingerMs));
            for (Stage stage : options.stages) {
                if (options.packing.contains(stage)) {
                    props.put("millrace." + stage.id() + ".packing", "on");
                }
            }
        }
        props.putAll(options.extraProperties);
        return props;
    }

    private void awaitReady(Map<Service, ManagedProcess> started, long since) {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
        Map<Service, ManagedProcess> pending = new EnumMap<>(started);
        long deadline = System.nanoTime() + options.startTimeout.toNanos();
        while (!pending.isEmpty()) {
            for (var it = pending.entrySet().iterator(); it.hasNext(); ) {
                var e = it.next();
                Service s = e.getKey();
                ManagedProcess proc = e.getValue();
                checkNotStopped();
                if (!proc.isAlive()) {
                    throw new IllegalStateException(s.id() + " exited with status " + proc.exitValue() + " while starting; its log "
                            + proc.log() + " ends with:" + System.lineSeparator() + proc.logTail(40));
                }
                if (ready(http, ports.get(s))) {
                    options.progress.printf(Locale.ROOT, "millrace:   %s ready on http://127.0.0.1:%d (%.1f s)%n", s.id(), ports.get(s), seconds(since));
                    it.remove();
                }
            }
            if (pending.isEmpty()) {
                return;
            }
            if (System.nanoTime() > deadline) {
                StringBuilder msg = new StringBuilder("not ready within " + options.startTimeout.toSeconds() + " s: ");
                msg.append(pending.keySet().stream().map(Service::id).collect(Collectors.joining(", ")));
                for (ManagedProcess proc : pending.values()) {
                    msg.append(System.lineSeparator()).append("--- ").append(proc.log()).append(" ends with:")
                            .append(System.lineSeparator()).append(proc.logTail(20));
                }
                throw new IllegalStateException(msg.toString());
            }
            sleep(250);
        }
    }

    private static boolean ready(HttpClient http, int port) {
        try {
            HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/q/health/ready"))
                    .timeout(Duration.ofSeconds(3)).GET().build();
            return http.send(request, HttpResponse.BodyHandlers.discarding()).statusCode() == 200;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for the services", e);
        }
    }

    private synchronized ManagedProcess launch(String name, List<String> command) {
        if (closed) {
            throw new IllegalStateException("the local run is stopping");
        }
        ManagedProcess proc = ManagedProcess.start(name, command, repoRoot, logDir().resolve(name + ".log"));
        if (!"kafka".equals(name)) {
            services.add(proc);
        }
        return proc;
    }

    /** True once {@link #close()} has begun (also by the shutdown hook, e.g. on Ctrl-C). */
    public synchronized boolean isStopped() {
        return closed;
    }

    private void checkNotStopped() {
        if (isStopped()) {
            throw new IllegalStateException("the local run was stopped while starting");
        }
    }

    public String bootstrapServers() {
        return bootstrapServers;
    }

    /** Base URI of the ingest service, e.g. {@code http://127.0.0.1:41234}. */
    public URI ingestUri() {
        return serviceUri(Service.INGEST);
    }

    public URI serviceUri(Service service) {
        Integer port = ports.get(service);
        if (port == null) {
            throw new IllegalStateException(service.id() + " was not started");
        }
        return URI.create("http://127.0.0.1:" + port);
    }

    public Topics topics() {
        return topics;
    }

    public Path runDir() {
        return runDir;
    }

    public Path logDir() {
        return runDir.resolve("logs");
    }

    public Options options() {
        return options;
    }

    /** The services that have exited although nobody stopped them (name and status); empty when all run. */
    public List<String> deadServices() {
        List<String> dead = new ArrayList<>();
        List<ManagedProcess> all = new ArrayList<>();
        synchronized (this) {
            all.addAll(services);
            if (broker != null) {
                all.add(broker);
            }
        }
        for (ManagedProcess p : all) {
            if (!p.isAlive()) {
                dead.add(p.name() + " (exit " + p.exitValue() + ", log " + p.log() + ")");
            }
        }
        return dead;
    }

    /**
     * A free port no other service of this run was given: a service binds its port only seconds after
     * it is chosen (JVM and Quarkus start-up), so two services could otherwise get the same one.
     */
    private synchronized int servicePort() {
        int port = freePort();
        while (ports.containsValue(port)) {
            port = freePort();
        }
        return port;
    }

    // ---- Fault injection for the end-to-end tests (services/it): kill one service hard, start it again. ----

    /**
     * Kills a running service with SIGKILL ({@link ProcessHandle#destroyForcibly()}: no shutdown, no
     * last commit, as a crash or an out-of-memory kill) and waits until it is gone.
     *
     * @return its exit status (137 = 128 + SIGKILL on Linux)
     */
    public int kill(Service service) {
        ManagedProcess proc;
        synchronized (this) {
            proc = services.stream().filter(p -> p.name().equals(service.id()) && p.isAlive()).findFirst()
                    .orElseThrow(() -> new IllegalStateException(service.id() + " is not running"));
            services.remove(proc);
        }
        ProcessHandle.of(proc.pid()).ifPresent(ProcessHandle::destroyForcibly);
        for (long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos(); proc.isAlive(); ) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException(service.id() + " (pid " + proc.pid() + ") did not end after SIGKILL");
            }
            sleep(20);
        }
        return proc.exitValue();
    }

    /**
     * Starts a service again after {@link #kill} (or for the first time, when {@link Options#services}
     * left it out) with the run's settings plus {@code overrides} (system properties), on a new port
     * and with the same state directory, and waits until it is ready.
     */
    public void restart(Service service, Map<String, String> overrides) {
        Map<String, String> saved = new LinkedHashMap<>(options.extraProperties);
        options.extraProperties.putAll(overrides);
        try {
            ManagedProcess proc = startService(service);
            Map<Service, ManagedProcess> one = new EnumMap<>(Service.class);
            one.put(service, proc);
            awaitReady(one, System.nanoTime());
        } finally {
            options.extraProperties.clear();
            options.extraProperties.putAll(saved);
        }
    }

    /** Stops the services (in parallel), then the broker; idempotent; also run by the shutdown hook. */
    @Override
    public void close() {
        List<ManagedProcess> toStop;
        ManagedProcess theBroker;
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            toStop = new ArrayList<>(services);
            theBroker = broker;
        }
        boolean inHook = Thread.currentThread() == shutdownHook;
        PrintStream p = options.progress;
        if (!toStop.isEmpty() || theBroker != null) {
            p.println("millrace: stopping the local run (" + (toStop.size() + (theBroker == null ? 0 : 1)) + " processes)");
        }
        toStop.forEach(ManagedProcess::requestStop);
        for (ManagedProcess proc : toStop) {
            if (!proc.awaitStop(Duration.ofSeconds(20))) {
                p.println("millrace:   " + proc.name() + " did not stop within 20 s and was killed");
            }
        }
        if (theBroker != null && !theBroker.stop(Duration.ofSeconds(30))) {
            p.println("millrace:   the kafka broker did not stop within 30 s and was killed");
        }
        if (!options.keepData) {
            deleteTree(runDir.resolve("kafka"));
            deleteTree(runDir.resolve("state"));
        }
        if (!inHook) {
            try {
                Runtime.getRuntime().removeShutdownHook(shutdownHook);
            } catch (IllegalStateException e) {
                // the JVM is already shutting down
            }
        }
        p.println("millrace: local run stopped; logs kept in " + logDir());
    }

    private static void deleteTree(Path dir) {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            walk.sorted(Comparator.reverseOrder()).forEach(path -> {
                try {
                    Files.deleteIfExists(path);
                } catch (IOException e) {
                    // best effort: a leftover file in a temporary directory is harmless
                }
            });
        } catch (IOException | UncheckedIOException e) {
            // best effort
        }
    }

    static Path javaBinary() {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        return Files.isExecutable(java) ? java : Path.of("java");
    }

    static int freePort() {
        try (ServerSocket s = new ServerSocket(0, 0, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static double seconds(long sinceNanos) {
        return (System.nanoTime() - sinceNanos) / 1e9;
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while starting the local run", e);
        }
    }
}
