package dev.millrace.cli.local;

import dev.millrace.contract.PipelineService;
import dev.millrace.contract.ServiceSettings;
import dev.millrace.contract.Topics;
import dev.millrace.core.record.Stage;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

/**
 * The whole system on one machine, every part a separate process (what {@code ./millrace demo} and
 * the end-to-end tests run): a {@link LocalBroker} with the topics of the configured stages, and the
 * packaged services ({@link ServiceProcess}, configured by {@link ServiceProperties} from the run's
 * {@link ServiceSettings}) on free loopback ports. Each process logs to a file in the run directory.
 * {@link #close()} stops everything it started (services first, then the broker: SIGTERM, a grace
 * period, then SIGKILL); so does a failed start and a JVM shutdown (Ctrl-C), through a shutdown hook.
 */
public final class LocalSystem implements AutoCloseable {
    /** The lock file of a persistent run directory ({@link Options#persistent}). */
    public static final String LOCK_FILE = "up.lock";
    static final String BUILD_HINT = "run ./mvnw -DskipTests package in the repository root first";

    /** What to start and how. Mutable builder-style settings; defaults are the demo's. */
    public static final class Options {
        private int seqLen = 256;
        private int batchSize = 8;
        private long batchLingerMs = 1000;
        private List<Stage> stages = List.of(Stage.SFT);
        private Set<Stage> packing = EnumSet.noneOf(Stage.class);
        private String topicPrefix = "millrace";
        private Set<PipelineService> services = EnumSet.allOf(PipelineService.class);
        private Path runDir;
        private boolean keepData;
        private boolean persistent;
        private int brokerPort;
        private final Map<String, Integer> fixedPorts = new LinkedHashMap<>();
        private PrintStream progress = System.err;
        private Duration startTimeout = Duration.ofMinutes(4);
        private final Map<String, String> extraProperties = new LinkedHashMap<>();

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

        /** The stages whose batches are packed (other stages keep the services' own setting, off by default). */
        public Options packing(Set<Stage> packing) {
            this.packing = packing.isEmpty() ? EnumSet.noneOf(Stage.class) : EnumSet.copyOf(packing);
            return this;
        }

        public Options topicPrefix(String topicPrefix) {
            this.topicPrefix = topicPrefix;
            return this;
        }

        /** Which services to start (all by default); the broker is always started. */
        public Options services(Set<PipelineService> services) {
            this.services = services.isEmpty() ? EnumSet.noneOf(PipelineService.class) : EnumSet.copyOf(services);
            return this;
        }

        /**
         * Where logs, broker data and stream state go (a fresh directory: one that already holds
         * broker data is refused unless {@link #persistent}); default a new temporary directory.
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

        /**
         * A run directory that outlives the run ({@code ./millrace up}'s data dir): it may hold the broker data,
         * stream state and checkpoints of an earlier run, which are used again (same broker cluster and log dirs,
         * same state dirs, the services' fixed application ids), never deleted; logs are appended. The directory is
         * locked while the run lives ({@value #LOCK_FILE}): a second run on it is refused. Needs {@link #runDir}.
         */
        public Options persistent(boolean persistent) {
            this.persistent = persistent;
            return this;
        }

        /** The broker's port (0, the default: a free one). */
        public Options brokerPort(int port) {
            this.brokerPort = port;
            return this;
        }

        /**
         * A fixed HTTP port for one process of the run, by its name (a service id such as {@code ingest}, or
         * {@code trainer-<stage>}); the others get free ports.
         */
        public Options httpPort(String process, int port) {
            this.fixedPorts.put(process, port);
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

        /** An extra {@code -D} system property for every service (after the run's own: it wins). */
        public Options property(String key, String value) {
            this.extraProperties.put(key, value);
            return this;
        }

        /** The typed settings the services are configured with. */
        public ServiceSettings settings() {
            return new ServiceSettings(stages, topicPrefix, seqLen, batchSize, batchLingerMs, packing);
        }
    }

    private final Path repoRoot;
    private final Options options;
    private final ServiceSettings settings;
    /** The batch topics' max.message.bytes and loss-mask's max.request.size ({@link BatchRecordLimit}). */
    private final int batchRecordLimit;
    private final Path runDir;
    private final Thread shutdownHook;
    /** The current process of each service started. */
    private final Map<PipelineService, ServiceProcess> services = new EnumMap<>(PipelineService.class);
    /** The current trainer process of each stage started ({@link #startTrainer}). */
    private final Map<Stage, ServiceProcess> trainers = new EnumMap<>(Stage.class);
    /** The current teacher process ({@link #startTeacher}); null before one is started. */
    private ServiceProcess teacher;
    /** Every service, trainer and teacher process ever started (one started again replaces its entry in {@link #services} or {@link #trainers}). */
    private final List<ManagedProcess> started = new ArrayList<>();
    private final Set<Integer> ports = new HashSet<>();
    private LocalBroker broker;
    private boolean closed;
    /** The lock on a persistent run directory; null otherwise. */
    private RunDirLock lock;

    private LocalSystem(Path repoRoot, Options options, Path runDir) {
        this.repoRoot = repoRoot;
        this.options = options;
        this.settings = options.settings();
        this.batchRecordLimit = BatchRecordLimit.of(settings, options.extraProperties);
        this.runDir = runDir;
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
        if (options.persistent && options.runDir == null) {
            throw new IllegalArgumentException("a persistent run needs its run directory");
        }
        Path root = repoRoot.toAbsolutePath().normalize();
        List<String> missing = missingArtifacts(root, options.services);
        if (!missing.isEmpty()) {
            throw new IllegalStateException("the local run needs the packaged broker and services, but these are missing: "
                    + String.join(", ", missing) + "; " + BUILD_HINT);
        }
        Path runDir;
        if (options.runDir != null && !options.persistent && Files.exists(options.runDir.resolve("kafka"))) {
            throw new IllegalStateException("the run directory " + options.runDir + " already holds broker data; give a fresh one");
        }
        try {
            runDir = options.runDir != null ? Files.createDirectories(options.runDir) : Files.createTempDirectory("millrace-run-");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create the run directory", e);
        }
        LocalSystem system = new LocalSystem(root, options, runDir.toAbsolutePath());
        if (options.persistent) {
            system.lock = RunDirLock.acquire(system.runDir); // before anything starts: a second run touches nothing
        }
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
    public static List<String> missingArtifacts(Path repoRoot, Set<PipelineService> services) {
        return missingArtifacts(repoRoot, services, false);
    }

    /** The broker, service and (when {@code trainer}) trainer artifacts (relative paths) that are not built yet. */
    public static List<String> missingArtifacts(Path repoRoot, Set<PipelineService> services, boolean trainer) {
        return missingArtifacts(repoRoot, services, trainer, false);
    }

    /** The broker, service, (when {@code trainer}) trainer and (when {@code teacher}) teacher artifacts (relative paths) that are not built yet. */
    public static List<String> missingArtifacts(Path repoRoot, Set<PipelineService> services, boolean trainer, boolean teacher) {
        List<String> missing = new ArrayList<>(LocalBroker.missingArtifacts(repoRoot));
        if (trainer && !Files.isRegularFile(ServiceProcess.trainerJar(repoRoot))) {
            missing.add(repoRoot.relativize(ServiceProcess.trainerJar(repoRoot)).toString());
        }
        if (teacher && !Files.isRegularFile(ServiceProcess.teacherJar(repoRoot))) {
            missing.add(repoRoot.relativize(ServiceProcess.teacherJar(repoRoot)).toString());
        }
        for (PipelineService s : services) {
            if (!Files.isRegularFile(ServiceProcess.jar(repoRoot, s))) {
                missing.add(repoRoot.relativize(ServiceProcess.jar(repoRoot, s)).toString());
            }
        }
        return missing;
    }

    private void startAll() {
        PrintStream p = options.progress;
        p.println("millrace: run directory " + runDir + " (process logs in " + logDir() + ")");
        checkFixedPortsFree();
        long t0 = System.nanoTime();
        LocalBroker b;
        synchronized (this) {
            checkNotStopped();
            b = options.brokerPort == 0
                    ? LocalBroker.launch(repoRoot, runDir.resolve("kafka"), logDir().resolve("kafka.log"))
                    : LocalBroker.launch(repoRoot, runDir.resolve("kafka"), logDir().resolve("kafka.log"), options.brokerPort);
            broker = b;
        }
        b.awaitReady(this::checkNotStopped);
        p.printf(Locale.ROOT, "millrace:   kafka broker ready at %s (%.1f s)%n", b.bootstrapServers(), seconds(t0));
        List<String> topics = b.createTopics(topics(), settings.stages(), batchRecordLimit);
        p.println("millrace:   topics created (" + LocalBroker.PARTITIONS + " partitions each, zstd on batch topics): " + String.join(", ", topics));
        long t1 = System.nanoTime();
        List<ServiceProcess> launched = new ArrayList<>();
        for (PipelineService s : options.services) {
            launched.add(launch(s, Map.of()));
        }
        awaitReady(launched, t1);
    }

    /** Starts one service with the run's settings plus {@code overrides}, on a fresh port; does not wait. */
    private synchronized ServiceProcess launch(PipelineService service, Map<String, String> overrides) {
        checkNotStopped();
        int port = servicePort(service.id());
        Map<String, String> all = new LinkedHashMap<>();
        if (service == PipelineService.LOSS_MASK) {
            // Its largest batch must fit the producer's limit as well as the topic's (a -D of the run's own wins).
            all.put(BatchRecordLimit.PRODUCER_PROPERTY, String.valueOf(batchRecordLimit));
        }
        all.putAll(options.extraProperties);
        all.putAll(overrides);
        Map<String, String> properties = ServiceProperties.of(service, settings,
                new ServiceProperties.Placement(broker.bootstrapServers(), port, runDir), all);
        ServiceProcess process = ServiceProcess.launch(repoRoot, service, port, properties, logDir().resolve(service.id() + ".log"));
        services.put(service, process);
        started.add(process.process());
        return process;
    }

    private void awaitReady(List<ServiceProcess> launched, long since) {
        ServiceProcess.awaitReady(launched, options.startTimeout, this::checkNotStopped, s -> options.progress.printf(Locale.ROOT,
                "millrace:   %s ready on %s (%.1f s)%n", s.name(), s.uri(), seconds(since)));
    }

    /**
     * Starts a service that is not running (one that {@link Options#services} left out, or one whose
     * process has ended) with the run's settings plus {@code overrides} (system properties), on a new
     * port and with the same state directory, and waits until it is ready.
     *
     * @throws IllegalStateException when it is running, or fails to become ready
     */
    public void startService(PipelineService service, Map<String, String> overrides) {
        synchronized (this) {
            ServiceProcess current = services.get(service);
            if (current != null && current.process().isAlive()) {
                throw new IllegalStateException(service.id() + " is running (pid " + current.process().pid() + ")");
            }
        }
        awaitReady(List.of(launch(service, overrides)), System.nanoTime());
    }

    /**
     * Kills the broker with SIGKILL (as a crash: no clean shutdown, nothing flushed) and waits until it is
     * gone; the services keep running. For tests of a broker outage; {@link #restartBroker} brings it back.
     */
    public void killBroker() {
        ManagedProcess p;
        synchronized (this) {
            checkNotStopped();
            p = broker.process();
        }
        ProcessHandle.of(p.pid()).ifPresent(ProcessHandle::destroyForcibly);
        if (!p.awaitExit(Duration.ofSeconds(30))) {
            throw new IllegalStateException("the kafka broker (pid " + p.pid() + ") did not end after SIGKILL");
        }
    }

    /**
     * Starts the broker again after it ended ({@link #killBroker}), on the same data directory and ports,
     * and waits until it answers; the services find it again by themselves.
     *
     * @throws IllegalStateException when it is running, or fails to start (with its log tail)
     */
    public void restartBroker() {
        LocalBroker b;
        synchronized (this) {
            checkNotStopped();
            b = broker.relaunch(repoRoot, runDir.resolve("kafka"));
            broker = b;
        }
        b.awaitReady(this::checkNotStopped);
    }

    /**
     * Starts a trainer ({@code services/trainer}) for {@code trainer}'s stage with the run's topic prefix and T,
     * on a new port, and waits until it is ready (its run is open: resumed or initialised, the batch topic
     * seeked). A bounded trainer ends by itself ({@link #awaitTrainer}); {@link #close()} stops one that runs
     * (SIGTERM: it writes a final checkpoint). Its log is {@code logs/trainer-<stage>.log}.
     *
     * @param overrides extra system properties (after the run's own and {@link Options#property}: they win)
     * @throws IllegalStateException when the trainer is not built, that stage's trainer runs, or it fails to become ready
     */
    public ServiceProcess startTrainer(TrainerOptions trainer, Map<String, String> overrides) {
        Stage stage = trainer.stage();
        Path jar = ServiceProcess.trainerJar(repoRoot);
        if (!Files.isRegularFile(jar)) {
            throw new IllegalStateException("the trainer is not built: " + repoRoot.relativize(jar) + " is missing; " + BUILD_HINT);
        }
        ServiceProcess process;
        synchronized (this) {
            checkNotStopped();
            ServiceProcess current = trainers.get(stage);
            if (current != null && current.process().isAlive()) {
                throw new IllegalStateException("the " + stage.id() + " trainer is running (pid " + current.process().pid() + ")");
            }
            int port = servicePort(trainerName(stage));
            Map<String, String> all = new LinkedHashMap<>(options.extraProperties);
            all.putAll(overrides);
            Map<String, String> properties = ServiceProperties.ofTrainer(trainer, settings,
                    new ServiceProperties.Placement(broker.bootstrapServers(), port, runDir), all);
            String name = trainerName(stage);
            process = ServiceProcess.launch(repoRoot, name, jar, ServiceProcess.TRAINER_JVM, port, properties, logDir().resolve(name + ".log"));
            trainers.put(stage, process);
            started.add(process.process());
        }
        awaitReady(List.of(process), System.nanoTime());
        return process;
    }

    /**
     * Waits for a bounded trainer to end by itself, calling {@code whileWaiting} about twice a second (e.g. to show progress).
     *
     * @throws IllegalStateException when it does not end within {@code timeout} (it is left running: {@link #close()}
     *                               stops it), or ends with a non-zero status (with its log's tail)
     */
    public void awaitTrainer(Stage stage, Duration timeout, Runnable whileWaiting) {
        ManagedProcess p = trainer(stage).process();
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!p.awaitExit(Duration.ofMillis(500))) {
            whileWaiting.run();
            checkNotStopped();
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("the " + stage.id() + " trainer did not finish within " + timeout.toSeconds() + " s; its log "
                        + p.log() + " ends with:" + System.lineSeparator() + p.logTail(20));
            }
        }
        if (p.exitValue() != 0) {
            throw new IllegalStateException("the " + stage.id() + " trainer exited with status " + p.exitValue() + "; its log " + p.log()
                    + " ends with:" + System.lineSeparator() + p.logTail(40));
        }
    }

    /** The current trainer process of a stage. @throws IllegalStateException when none was started */
    public synchronized ServiceProcess trainer(Stage stage) {
        ServiceProcess s = trainers.get(stage);
        if (s == null) {
            throw new IllegalStateException("no " + stage.id() + " trainer was started");
        }
        return s;
    }

    /**
     * Starts the teacher ({@code services/teacher}) with the run's topic prefix, on a new port, and waits until it is
     * ready (its checkpoint loaded and checked against the pipeline's tokenizer, its consumer assigned the prompt
     * partitions). It answers {@code <prefix>.distill.prompts} into {@code <prefix>.distill.raw} until {@link #close()}
     * stops it (SIGTERM: it commits what it answered). Its log is {@code logs/teacher.log}. The run must serve the
     * distill stage (its topics).
     *
     * @param overrides extra system properties (after the run's own and {@link Options#property}: they win)
     * @throws IllegalStateException when the teacher is not built, the run has no distill topics, a teacher runs, or
     *                               it fails to become ready (with its log tail)
     */
    public ServiceProcess startTeacher(TeacherOptions options, Map<String, String> overrides) {
        Path jar = ServiceProcess.teacherJar(repoRoot);
        if (!Files.isRegularFile(jar)) {
            throw new IllegalStateException("the teacher is not built: " + repoRoot.relativize(jar) + " is missing; " + BUILD_HINT);
        }
        if (!settings.stages().contains(Stage.DISTILL)) {
            throw new IllegalStateException("the teacher reads and writes the distill topics: start the run with the distill stage");
        }
        ServiceProcess process;
        synchronized (this) {
            checkNotStopped();
            if (teacher != null && teacher.process().isAlive()) {
                throw new IllegalStateException("the teacher is running (pid " + teacher.process().pid() + ")");
            }
            int port = servicePort(TEACHER_NAME);
            Map<String, String> all = new LinkedHashMap<>(this.options.extraProperties);
            all.putAll(overrides);
            Map<String, String> properties = ServiceProperties.ofTeacher(options, settings,
                    new ServiceProperties.Placement(broker.bootstrapServers(), port, runDir), all);
            process = ServiceProcess.launch(repoRoot, TEACHER_NAME, jar, ServiceProcess.TEACHER_JVM, port, properties,
                    logDir().resolve(TEACHER_NAME + ".log"));
            teacher = process;
            started.add(process.process());
        }
        awaitReady(List.of(process), System.nanoTime());
        return process;
    }

    /** The current teacher process. @throws IllegalStateException when none was started */
    public synchronized ServiceProcess teacher() {
        if (teacher == null) {
            throw new IllegalStateException("no teacher was started");
        }
        return teacher;
    }

    static final String TEACHER_NAME = "teacher";

    static String trainerName(Stage stage) {
        return "trainer-" + stage.id();
    }

    /**
     * The current process of a service (e.g. to watch it, or for a test to end it).
     *
     * @throws IllegalStateException when it was never started
     */
    public synchronized ServiceProcess service(PipelineService service) {
        ServiceProcess s = services.get(service);
        if (s == null) {
            throw new IllegalStateException(service.id() + " was not started");
        }
        return s;
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
        return broker.bootstrapServers();
    }

    /** Base URI of the ingest service, e.g. {@code http://127.0.0.1:41234}. */
    public URI ingestUri() {
        return serviceUri(PipelineService.INGEST);
    }

    public URI serviceUri(PipelineService service) {
        return service(service).uri();
    }

    public Topics topics() {
        return settings.topics();
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

    /**
     * The processes (the broker, the current process of each service and the teacher's) that have exited although
     * nobody stopped them; empty when all run. Trainers are not among them: a bounded one ends by itself ({@link #awaitTrainer}).
     */
    public List<String> deadServices() {
        List<ManagedProcess> current = new ArrayList<>();
        synchronized (this) {
            services.values().forEach(s -> current.add(s.process()));
            if (teacher != null) {
                current.add(teacher.process());
            }
            if (broker != null) {
                current.add(broker.process());
            }
        }
        List<String> dead = new ArrayList<>();
        for (ManagedProcess p : current) {
            if (!p.isAlive()) {
                dead.add(p.name() + " (exit " + p.exitValue() + ", log " + p.log() + ")");
            }
        }
        return dead;
    }

    /**
     * The fixed port of the process {@code name} ({@link Options#httpPort}), once checked free; else a free port no
     * service process of this run was given: a service binds its port only seconds after it is chosen (JVM and
     * Quarkus start-up), so two services could otherwise get the same one.
     */
    private synchronized int servicePort(String name) {
        Integer fixed = options.fixedPorts.get(name);
        if (fixed != null) {
            checkPortFree(fixed, name);
            ports.add(fixed);
            return fixed;
        }
        int port = freePort();
        while (ports.contains(port)) {
            port = freePort();
        }
        ports.add(port);
        return port;
    }

    /**
     * Fails before anything starts when a fixed port (the broker's, or one of a service this run starts) is taken,
     * naming the port and what it was meant for; a trainer's is checked when it starts.
     */
    private void checkFixedPortsFree() {
        if (options.brokerPort != 0) {
            checkPortFree(options.brokerPort, "the kafka broker");
        }
        for (PipelineService s : options.services) {
            Integer fixed = options.fixedPorts.get(s.id());
            if (fixed != null) {
                checkPortFree(fixed, s.id());
            }
        }
    }

    /** @throws IllegalStateException naming the port and its use when it cannot be bound on the loopback address */
    static void checkPortFree(int port, String forWhat) {
        try (ServerSocket s = new ServerSocket()) {
            s.setReuseAddress(true);
            s.bind(new java.net.InetSocketAddress(InetAddress.getLoopbackAddress(), port));
        } catch (IOException e) {
            throw new IllegalStateException("port " + port + " (for " + forWhat + ") is in use by another process: stop it, or choose another port");
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
            toStop = started.stream().filter(ManagedProcess::isAlive).toList();
            theBroker = broker == null ? null : broker.process();
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
        if (!options.keepData && !options.persistent) {
            deleteTree(runDir.resolve("kafka"));
            deleteTree(runDir.resolve("state"));
        }
        if (lock != null) {
            lock.release();
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

    static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while starting the local run", e);
        }
    }
}
