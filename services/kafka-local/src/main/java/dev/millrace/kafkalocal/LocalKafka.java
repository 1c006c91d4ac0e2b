package dev.millrace.kafkalocal;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import kafka.tools.StorageTool;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.utils.Time;

/**
 * A real single-node Kafka broker (KRaft, combined broker + controller) from Apache's own jars,
 * with no Docker: our one wrapper, used in-process by tests and as a child process by the local
 * run ({@link #main}). Replication factors are 1 so transactions (exactly_once_v2) work on one
 * node. Restarting on the same data directory keeps the data (the storage is formatted once).
 */
public final class LocalKafka implements AutoCloseable {
    private final Path dataDir;
    private final int port;
    private final KafkaRaftServer server;
    private final AtomicBoolean closed = new AtomicBoolean();

    private LocalKafka(Path dataDir, int port, KafkaRaftServer server) {
        this.dataDir = dataDir;
        this.port = port;
        this.server = server;
    }

    /** Starts a broker on free loopback ports. */
    public static LocalKafka start(Path dataDir) {
        int[] ports = twoFreePorts();
        return start(dataDir, ports[0], ports[1]);
    }

    public static LocalKafka start(Path dataDir, int port, int controllerPort) {
        try {
            Files.createDirectories(dataDir);
            Path logs = dataDir.resolve("logs");
            Properties props = serverProperties(logs, port, controllerPort);
            Path config = dataDir.resolve("server.properties");
            try (var out = Files.newOutputStream(config)) {
                props.store(out, "millrace local broker");
            }
            if (!Files.exists(logs.resolve("meta.properties"))) {
                format(config);
            }
            KafkaRaftServer server = new KafkaRaftServer(new KafkaConfig(props, false), Time.SYSTEM);
            server.startup();
            LocalKafka kafka = new LocalKafka(dataDir, port, server);
            kafka.awaitReady(Duration.ofSeconds(60));
            return kafka;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static Properties serverProperties(Path logs, int port, int controllerPort) {
        Properties p = new Properties();
        p.put("process.roles", "broker,controller");
        p.put("node.id", "1");
        p.put("controller.quorum.bootstrap.servers", "127.0.0.1:" + controllerPort);
        p.put("listeners", "PLAINTEXT://127.0.0.1:" + port + ",CONTROLLER://127.0.0.1:" + controllerPort);
        p.put("advertised.listeners", "PLAINTEXT://127.0.0.1:" + port + ",CONTROLLER://127.0.0.1:" + controllerPort);
        p.put("controller.listener.names", "CONTROLLER");
        p.put("inter.broker.listener.name", "PLAINTEXT");
        p.put("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT");
        p.put("log.dirs", logs.toAbsolutePath().toString());
        p.put("num.partitions", "1");
        // One node: every internal topic must be satisfiable with a single replica.
        p.put("offsets.topic.replication.factor", "1");
        p.put("offsets.topic.num.partitions", "4");
        p.put("transaction.state.log.replication.factor", "1");
        p.put("transaction.state.log.min.isr", "1");
        p.put("transaction.state.log.num.partitions", "4");
        p.put("share.coordinator.state.topic.replication.factor", "1");
        p.put("share.coordinator.state.topic.min.isr", "1");
        p.put("group.initial.rebalance.delay.ms", "0");
        p.put("auto.create.topics.enable", "false");
        p.put("log.flush.interval.messages", String.valueOf(Long.MAX_VALUE));
        return p;
    }

    private static void format(Path config) {
        ByteArrayOutputStream buffer = new ByteArrayOutputStream();
        String[] args = {"format", "-t", Uuid.randomUuid().toString(), "-c", config.toString(), "--standalone"};
        int code;
        try (PrintStream out = new PrintStream(buffer, true, StandardCharsets.UTF_8)) {
            code = StorageTool.execute(args, out);
        }
        if (code != 0) {
            throw new IllegalStateException("formatting the broker storage failed: " + buffer.toString(StandardCharsets.UTF_8));
        }
    }

    private void awaitReady(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        RuntimeException last = null;
        while (System.nanoTime() < deadline) {
            try (Admin admin = admin()) {
                admin.describeCluster().nodes().get(5, TimeUnit.SECONDS);
                return;
            } catch (Exception e) {
                last = new IllegalStateException("broker not ready", e);
                sleep(200);
            }
        }
        throw last != null ? last : new IllegalStateException("broker not ready after " + timeout);
    }

    public String bootstrapServers() {
        return "127.0.0.1:" + port;
    }

    public int port() {
        return port;
    }

    public Path dataDir() {
        return dataDir;
    }

    public Admin admin() {
        return Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers(),
                AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 10_000));
    }

    /** Creates the topics that do not exist yet (replication factor 1). */
    public void createTopics(int partitions, String... names) {
        createTopics(bootstrapServers(), partitions, Map.of(), names);
    }

    /** Creates topics on any broker; existing ones are left as they are. */
    public static void createTopics(String bootstrap, int partitions, Map<String, String> configs, String... names) {
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
            Set<String> existing = admin.listTopics().names().get(30, TimeUnit.SECONDS);
            List<NewTopic> topics = new ArrayList<>();
            for (String name : names) {
                if (!existing.contains(name)) {
                    topics.add(new NewTopic(name, partitions, (short) 1).configs(configs));
                }
            }
            if (!topics.isEmpty()) {
                admin.createTopics(topics).all().get(30, TimeUnit.SECONDS);
            }
        } catch (ExecutionException e) {
            if (!(e.getCause() instanceof TopicExistsException)) {
                throw new IllegalStateException("creating topics failed", e.getCause());
            }
        } catch (Exception e) {
            throw new IllegalStateException("creating topics failed", e);
        }
    }

    /** Idempotent: Kafka's own shutdown must not run twice. */
    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            server.shutdown();
            server.awaitShutdown();
        }
    }

    /**
     * Two distinct free ports, both held open while the second is chosen: asking twice for "any free
     * port" may return the same one, and the broker and its controller cannot share it.
     */
    static int[] twoFreePorts() {
        try (ServerSocket a = new ServerSocket(0, 0, java.net.InetAddress.getLoopbackAddress());
             ServerSocket b = new ServerSocket(0, 0, java.net.InetAddress.getLoopbackAddress())) {
            return new int[] {a.getLocalPort(), b.getLocalPort()};
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /**
     * Child-process mode for the local run: {@code --dir DIR [--port P] [--controller-port C]}.
     * Prints {@code READY <bootstrap servers>} on standard output once the broker answers, then
     * runs until the process is stopped (the broker is shut down cleanly on SIGTERM).
     */
    public static void main(String[] args) throws InterruptedException {
        Path dir = null;
        int port = 0;
        int controllerPort = 0;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--dir" -> dir = Path.of(args[++i]);
                case "--port" -> port = Integer.parseInt(args[++i]);
                case "--controller-port" -> controllerPort = Integer.parseInt(args[++i]);
                default -> {
                    System.err.println("usage: LocalKafka --dir DIR [--port P] [--controller-port C]");
                    System.exit(2);
                }
            }
        }
        if (dir == null) {
            System.err.println("usage: LocalKafka --dir DIR [--port P] [--controller-port C]");
            System.exit(2);
        }
        LocalKafka kafka;
        try {
            int[] free = twoFreePorts();
            int brokerPort = port == 0 ? (free[0] == controllerPort ? free[1] : free[0]) : port;
            int quorumPort = controllerPort == 0 ? (free[1] == brokerPort ? free[0] : free[1]) : controllerPort;
            kafka = start(dir, brokerPort, quorumPort);
        } catch (RuntimeException e) {
            // Kafka's own threads would keep a failed broker's JVM alive; the launcher needs an exit.
            e.printStackTrace();
            System.exit(1);
            return;
        }
        Runtime.getRuntime().addShutdownHook(new Thread(kafka::close, "local-kafka-shutdown"));
        System.out.println("READY " + kafka.bootstrapServers());
        System.out.flush();
        Thread.currentThread().join();
    }
}
