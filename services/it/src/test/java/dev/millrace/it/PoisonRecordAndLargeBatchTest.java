package dev.millrace.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import dev.millrace.cli.ingest.IngestClient;
import dev.millrace.cli.local.LocalSystem;
import dev.millrace.contract.PipelineService;
import dev.millrace.core.record.Reason;
import dev.millrace.core.record.Stage;
import dev.millrace.core.tokenizer.TokenizerFolder;
import dev.millrace.proto.v1.Batch;
import dev.millrace.proto.v1.BatchRow;
import dev.millrace.proto.v1.DeadLetter;
import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Two checks over the real broker with the packaged services, sharing one run (B=64, T=8192, the
 * realistic shape; stages sft and pretrain) to save the build a second start:
 * <ul>
 * <li>a record that makes a step throw an exception it does not expect (chat-template, tokenize and
 *     loss-mask each get one, through the test-only fault-injection setting) becomes one
 *     {@code UNEXPECTED_ERROR} dead letter from that step; every service stays up and ready, and every
 *     other record is in exactly one batch row (docs/failures.md);
 * <li>batches past Kafka's 1 MiB default flow: the run creates the batch topics and configures
 *     loss-mask's producer for its B and T (docs/failures.md#state-and-batch-size-limits);
 * <li>last, as it stops loss-mask: started again with a producer limit its largest batch does not fit,
 *     loss-mask refuses to start, naming B, T and both limits.
 * </ul>
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class PoisonRecordAndLargeBatchTest {
    static final int T = 8192;
    static final int B = 64;
    static final Duration TIMEOUT = Duration.ofMinutes(4);
    /** Long enough for the 64 long texts to reach loss-mask before their batch lingers out, on a slow machine too. */
    static final Duration LINGER = Duration.ofSeconds(30);
    static final List<PipelineService> STEPS = List.of(PipelineService.CHAT_TEMPLATE, PipelineService.TOKENIZE, PipelineService.LOSS_MASK);

    private static LocalSystem system;
    private static Expectations sample;
    /** The record each step is made to throw on. */
    private static Map<PipelineService, String> poison;

    @BeforeAll
    static void start() throws Exception {
        sample = Expectations.of(EndToEndTest.sample(), T);
        List<String> good = new ArrayList<>(sample.goodById().keySet());
        poison = new LinkedHashMap<>();
        for (int i = 0; i < STEPS.size(); i++) {
            poison.put(STEPS.get(i), good.get(3 * i + 1));
        }
        String faults = poison.entrySet().stream().map(e -> e.getKey().id() + ":" + e.getValue()).collect(Collectors.joining(","));
        Path target = Files.createDirectories(Repo.packagedRoot().resolve("services/it/target"));
        system = LocalSystem.start(Repo.packagedRoot(), new LocalSystem.Options().stages(List.of(Stage.SFT, Stage.PRETRAIN))
                .seqLen(T).batchSize(B).batchLingerMs(LINGER.toMillis()).runDir(Files.createTempDirectory(target, "poison-large-"))
                .property("millrace.fault-injection.throw-on-records", faults).progress(System.err));
    }

    @AfterAll
    static void stop() {
        if (system != null) {
            system.close();
        }
    }

    @Test
    @Order(1)
    void aRecordThatMakesAStepThrowIsOneDeadLetterAndEverythingElseIsBatchedOnce() throws Exception {
        IngestClient.Answer answer = new IngestClient(system.ingestUri()).post(Stage.SFT, EndToEndTest.sample());
        assertThat(answer.accepted()).isEqualTo(sample.acceptedLines());

        PipelineChecks.Output output = PipelineChecks.await(system, Stage.SFT, sample.acceptedIds(), TIMEOUT);
        Expectations expected = sample.withUnexpectedErrors(Set.copyOf(poison.values()));
        PipelineChecks.assertEveryGoodRecordInExactlyOneRow(expected, output.batches(), T);
        PipelineChecks.assertEveryDownstreamRejectIsOneDeadLetter(expected, output.deadLetters());
        for (Map.Entry<PipelineService, String> p : poison.entrySet()) {
            List<DeadLetter> letters = output.deadLetters().stream().filter(d -> d.getRecordId().equals(p.getValue())).toList();
            assertThat(letters).as("dead letters of the record %s throws on", p.getKey().id()).singleElement().satisfies(d -> {
                assertThat(d.getReason()).isEqualTo(Reason.UNEXPECTED_ERROR.name());
                assertThat(d.getService()).isEqualTo(p.getKey().id());
                assertThat(d.getMessage()).contains("FaultInjection$InjectedFault").contains(p.getValue());
                assertThat(d.getOriginal().isEmpty()).as("the input bytes are kept").isFalse();
            });
        }
        assertThat(system.deadServices()).as("processes that exited on their own").isEmpty();
        for (PipelineService step : STEPS) {
            assertThat(ready(step)).as("%s /q/health/ready after its poison record", step.id()).isEqualTo(200);
        }
    }

    /**
     * 2B texts of more than T tokens each: each of the 2 partitions' tasks fills its own open batch, so
     * at least one of them gets B rows however the keys fall, and sends a full batch at once.
     */
    @Test
    @Order(2)
    void batchesOfB64RowsOfT8192TokensFlowPastKafkasDefaultLimit() throws Exception {
        int texts = 2 * B;
        Random random = new Random(11);
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        try (TokenizerFolder folder = TokenizerFolder.bundled()) {
            // CJK characters that are one vocabulary entry each with an id above 127 (a two-byte varint, as most
            // ids of real text): a batch of 64 such rows of 8192 tokens is past 1 MiB, which the test checks.
            List<Character> wide = new ArrayList<>();
            for (char c = 0x4E00; c < 0x4E00 + 4000; c++) {
                int[] ids = folder.tokenizer().ids(String.valueOf(c));
                if (ids.length == 1 && ids[0] >= 128) {
                    wide.add(c);
                }
            }
            assertThat(wide).as("single-token CJK characters of the bundled tokenizer").hasSizeGreaterThan(200);
            for (int i = 0; i < texts; i++) {
                StringBuilder text = new StringBuilder();
                int[] ids = new int[0];
                while (ids.length <= T) {
                    for (int k = 0; k < 2000; k++) {
                        text.append(wide.get(random.nextInt(wide.size())));
                    }
                    ids = folder.tokenizer().ids(text.toString());
                }
                assertThat(java.util.Arrays.stream(ids).min().orElse(0)).as("smallest token id of text %d", i).isGreaterThanOrEqualTo(128);
                body.writeBytes(("{\"text\": \"" + text + "\"}\n").getBytes(StandardCharsets.UTF_8));
            }
        }
        IngestClient.Answer answer = new IngestClient(system.ingestUri()).post(Stage.PRETRAIN, body.toByteArray());
        assertThat(answer.accepted()).isEqualTo(texts);

        List<Batch> batches = new ArrayList<>();
        String topic = system.topics().batches(Stage.PRETRAIN);
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        try (TopicTail tail = new TopicTail(system.bootstrapServers(), List.of(topic))) {
            while (realRows(batches).size() < texts) {
                if (System.nanoTime() > deadline) {
                    fail("after %s, %d of %d texts are in a batch row; dead services: %s; logs in %s", TIMEOUT, realRows(batches).size(), texts,
                            system.deadServices(), system.logDir());
                }
                tail.poll(Duration.ofMillis(500));
                batches.clear();
                for (ConsumerRecord<String, byte[]> r : tail.messages(topic)) {
                    batches.add(Batch.parseFrom(r.value()));
                }
            }
        }
        List<BatchRow> rows = realRows(batches);
        assertThat(rows).hasSize(texts).allSatisfy(r -> assertThat(r.getNonpadTokens()).isEqualTo(T));
        assertThat(rows.stream().map(r -> r.getRecords(0).getRecordId()).distinct()).as("distinct texts in the rows").hasSize(texts);
        assertThat(batches).extracting(Batch::getBatchId).doesNotHaveDuplicates();
        Batch full = batches.stream().filter(b -> b.getRealRows() == B).findFirst().orElseThrow(
                () -> new AssertionError("no batch of B=" + B + " real rows: " + batches.stream().map(Batch::getRealRows).toList()));
        assertThat(full.getSerializedSize()).as("a full batch of 64 rows of 8192 tokens").isGreaterThan(1 << 20);
        assertThat(system.deadServices()).as("processes that exited on their own").isEmpty();
    }

    @Test
    @Order(3)
    void lossMaskRefusesToStartWhenItsLargestBatchIsOverTheProducersLimit() throws Exception {
        ServiceFaults.kill(system, PipelineService.LOSS_MASK);
        try {
            ServiceFaults.restart(system, PipelineService.LOSS_MASK, Map.of("kafka-streams.producer.max.request.size", "1000000"));
            fail("loss-mask started with max.request.size=1000000 for batches of B=%d, T=%d", B, T);
        } catch (IllegalStateException e) {
            assertThat(e.getMessage()).contains("loss-mask exited with status 1 while starting");
        }
        String log = Files.readString(system.service(PipelineService.LOSS_MASK).process().log());
        assertThat(log).contains("the largest possible sft batch (B=64, T=8192)")
                .contains("the producer's max.request.size is 1,000,000 bytes (kafka-streams.producer.max.request.size)")
                .contains("the topic millrace.sft.batches has max.message.bytes=")
                .contains("raise max.request.size to at least");
    }

    private static List<BatchRow> realRows(List<Batch> batches) {
        return batches.stream().flatMap(b -> b.getRowsList().stream()).filter(r -> !r.getFiller()).toList();
    }

    private static int ready(PipelineService service) throws Exception {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        URI uri = system.service(service).uri().resolve("/q/health/ready");
        return http.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(10)).GET().build(), HttpResponse.BodyHandlers.discarding())
                .statusCode();
    }
}
