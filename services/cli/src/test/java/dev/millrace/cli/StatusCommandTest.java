package dev.millrace.cli;

import static dev.millrace.cli.TraceCommandTest.batch;
import static dev.millrace.cli.TraceCommandTest.ref;
import static dev.millrace.cli.TraceCommandTest.row;
import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.millrace.proto.v1.DeadLetter;
import dev.millrace.proto.v1.WireStage;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code ./millrace status} against a real broker (a consumer group's committed offsets, batches and
 * dead letters written as the services write them) and stand-ins for a loss-mask service and a
 * trainer; every other service is pointed at a closed port, so it is unreachable.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class StatusCommandTest {
    static final String TEMPLATED = "millrace.sft.templated";

    InProcessBroker broker;
    HttpServer standIn;
    String closed;

    @BeforeAll
    void start(@TempDir Path dir) throws Exception {
        broker = new InProcessBroker(dir.resolve("kafka"), TEMPLATED, "millrace.sft.batches", "millrace.dlq");
        for (int i = 0; i < 3; i++) {
            broker.plain(TEMPLATED, 0, "r" + i, new byte[] {1});
        }
        broker.committed("millrace.sft.batches", 0, "sft-p0-00000000", batch("sft-p0-00000000", WireStage.SFT, row(ref("a", "x", 0, 0))).toByteArray());
        broker.committed("millrace.dlq", 0, "d1", letter("tokenize", "TOO_LONG"));
        broker.committed("millrace.dlq", 1, "d2", letter("tokenize", "TOO_LONG"));
        broker.committed("millrace.dlq", 1, "d3", letter("ingest", "BAD_JSON"));
        // the tokenize app read one of the three templated records
        try (KafkaConsumer<byte[], byte[]> group = new KafkaConsumer<>(Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrap(),
                ConsumerConfig.GROUP_ID_CONFIG, "millrace-tokenize"), new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            group.commitSync(Map.of(new TopicPartition(TEMPLATED, 0), new OffsetAndMetadata(1)));
        }

        standIn = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        standIn.createContext("/lm/q/health/ready", e -> answer(e, 200, "{\"status\": \"UP\"}"));
        standIn.createContext("/lm/q/health/live", e -> answer(e, 200, "{\"status\": \"UP\"}"));
        standIn.createContext("/lm/q/metrics", e -> answer(e, 200, """
                # TYPE millrace_records_in_total counter
                millrace_records_in_total{service="loss-mask",stage="sft"} 5.0
                millrace_records_out_total{service="loss-mask",stage="sft"} 4.0
                millrace_dead_letters_total{reason="TOO_LONG",service="loss-mask",stage="sft"} 1.0
                millrace_batches_total{stage="sft"} 1.0
                """));
        standIn.createContext("/tr/q/health/ready", e -> answer(e, 503, "{\"status\": \"DOWN\"}"));
        standIn.createContext("/tr/q/health/live", e -> answer(e, 200, "{\"status\": \"UP\"}"));
        standIn.createContext("/tr/q/metrics", e -> answer(e, 200, """
                millrace_trainer_steps_total{stage="sft"} 40.0
                millrace_trainer_loss{stage="sft"} 3.5
                millrace_trainer_checkpoint_age_seconds{stage="sft"} NaN
                """));
        standIn.start();
        closed = "http://127.0.0.1:" + BatchesCommandTest.closedPort();
    }

    @AfterAll
    void stop() {
        if (standIn != null) {
            standIn.stop(0);
        }
        if (broker != null) {
            broker.close();
        }
    }

    private List<String> args(String bootstrap) {
        String base = "http://127.0.0.1:" + standIn.getAddress().getPort();
        List<String> args = new ArrayList<>(List.of("status", "--bootstrap", bootstrap));
        for (String name : DeploymentDefaults.SERVICE_URLS.keySet()) {
            args.addAll(List.of("--service", name + "=" + closed));
        }
        args.addAll(List.of("--service", "loss-mask=" + base + "/lm", "--service", "trainer-sft=" + base + "/tr"));
        return args;
    }

    @Test
    void showsTheBrokersFiguresAndWhatTheServicesAnswered() {
        CliRun run = CliRun.of(args(broker.bootstrap()).toArray(String[]::new));

        assertThat(run.exitCode()).as(run.err()).isZero();
        List<String> lines = run.outLines();
        assertThat(lines.get(0)).isEqualTo("broker " + broker.bootstrap() + ": reachable; topic prefix millrace");
        assertThat(lines).anySatisfy(l -> assertThat(l).matches("ingest +" + closed + " +unreachable \\(connection refused\\) +unreachable.*"))
                .anySatisfy(l -> assertThat(l).matches("loss-mask +http://\\S+/lm +UP +UP +read"))
                .anySatisfy(l -> assertThat(l).matches("trainer-sft +http://\\S+/tr +DOWN +UP +read"))
                .anySatisfy(l -> assertThat(l).matches("sft +loss-mask +5 +4 +1"))
                .anySatisfy(l -> assertThat(l).matches("millrace-tokenize +millrace\\.sft\\.templated +2 +1 +3"))
                // end offset 2: the batch and its transaction's commit marker
                .anySatisfy(l -> assertThat(l).matches("sft +millrace\\.sft\\.batches +1 +2"))
                .anySatisfy(l -> assertThat(l).matches("sft +tokenize +TOO_LONG +2"))
                .anySatisfy(l -> assertThat(l).matches("sft +ingest +BAD_JSON +1"))
                .anySatisfy(l -> assertThat(l).matches("trainer-sft +sft +40 +3\\.5000 +-"));
        assertThat(run.err()).doesNotContain("Exception");
    }

    @Test
    void anUnreachableBrokerIsExitStatusOneAfterTheServicesWereShown() throws Exception {
        CliRun run = CliRun.of(args("127.0.0.1:" + BatchesCommandTest.closedPort()).toArray(String[]::new));

        assertThat(run.exitCode()).isEqualTo(1);
        assertThat(run.outLines().get(0)).contains("UNREACHABLE (cannot reach a Kafka broker");
        assertThat(run.outLines()).anySatisfy(l -> assertThat(l).matches("loss-mask +http://\\S+/lm +UP +UP +read"))
                .anySatisfy(l -> assertThat(l).matches("sft +millrace\\.sft\\.batches +1 +\\?"));
        assertThat(run.err()).contains("millrace status: failed: cannot reach a Kafka broker").doesNotContain("Exception");
    }

    @Test
    void aServiceOptionMustBeNameEqualsUrl() {
        assertThat(CliRun.of("status", "--service", "loss-mask").exitCode()).isEqualTo(2);
        assertThat(CliRun.of("status", "--service", "loss-mask=127.0.0.1:8084").exitCode()).isEqualTo(2);
    }

    private static byte[] letter(String service, String reason) {
        return DeadLetter.newBuilder().setStage(WireStage.SFT).setService(service).setReason(reason).setAtMs(1).build().toByteArray();
    }

    private static void answer(HttpExchange e, int status, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        e.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = e.getResponseBody()) {
            out.write(bytes);
        }
    }
}
