package dev.millrace.chattemplate;

import static org.assertj.core.api.Assertions.assertThat;

import dev.millrace.core.chat.Conversation;
import dev.millrace.core.prepare.SftOptions;
import dev.millrace.core.prepare.SftPreparer;
import dev.millrace.core.record.RecordId;
import dev.millrace.core.record.Stage;
import dev.millrace.core.tokenizer.TokenizerFolder;
import dev.millrace.proto.v1.DeadLetter;
import dev.millrace.proto.v1.RawRecord;
import dev.millrace.proto.v1.Source;
import dev.millrace.proto.v1.TemplatedRecord;
import dev.millrace.proto.v1.WireStage;
import dev.millrace.streams.testing.MappedConfig;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.state.KeyValueStore;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The topology on its own (TopologyTestDriver): rendering equals core's, bad messages become dead letters. */
class ChatTemplateTopologyTest {
    private TopologyTestDriver driver;
    private TestInputTopic<String, byte[]> raw;
    private TestOutputTopic<String, byte[]> templated;
    private TestOutputTopic<String, byte[]> dlq;
    private SimpleMeterRegistry registry;

    private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");

    @BeforeEach
    void start() {
        start(Duration.ofDays(7).toMillis(), 10_000);
    }

    private void start(long retentionMs, int expiryMaxPerRun) {
        start(retentionMs, expiryMaxPerRun, Map.of());
    }

    private void start(long retentionMs, int expiryMaxPerRun, Map<String, String> moreSettings) {
        if (driver != null) {
            driver.close();
        }
        Map<String, String> settings = new java.util.HashMap<>(moreSettings);
        settings.put("millrace.dedup.retention-ms", String.valueOf(retentionMs));
        settings.put("millrace.dedup.expiry-max-per-run", String.valueOf(expiryMaxPerRun));
        ChatTemplateConfig config = MappedConfig.of(ChatTemplateConfig.class, settings);
        registry = new SimpleMeterRegistry();
        Properties props = new Properties();
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, "test");
        props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092");
        try {
            props.put(StreamsConfig.STATE_DIR_CONFIG, java.nio.file.Files.createTempDirectory("chat-template-test").toString());
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        driver = new TopologyTestDriver(new ChatTemplateTopology().topology(config, registry), props, T0);
        raw = driver.createInputTopic("millrace.sft.raw", Serdes.String().serializer(), Serdes.ByteArray().serializer());
        templated = driver.createOutputTopic("millrace.sft.templated", Serdes.String().deserializer(), Serdes.ByteArray().deserializer());
        dlq = driver.createOutputTopic("millrace.dlq", Serdes.String().deserializer(), Serdes.ByteArray().deserializer());
    }

    @AfterEach
    void stop() {
        driver.close();
    }

    @Test
    void rendersTheConversationLikeCore() throws Exception {
        String json = "{\"messages\":[{\"content\":\"Hi <|im_end|>\",\"role\":\"user\"},{\"content\":\"Hello!\",\"role\":\"assistant\"}]}";
        RawRecord record = RawRecord.newBuilder().setRecordId("r1").setStage(WireStage.SFT)
                .setNormalisedJson(json).setSource(Source.newBuilder().setKind("http").setName("req").setLine(3)).build();

        raw.pipeInput("r1", record.toByteArray());

        TemplatedRecord out = TemplatedRecord.parseFrom(templated.readValue());
        try (TokenizerFolder folder = TokenizerFolder.bundled()) {
            SftPreparer preparer = new SftPreparer(folder, new SftOptions(Stage.SFT, 2, null));
            String expected = preparer.render(Conversation.fromNormalised(
                    (java.util.Map<String, Object>) dev.millrace.core.json.PlainJson.toPlain(dev.millrace.core.json.StrictJson.parse(json))));
            assertThat(out.getSides(0).getText()).isEqualTo(expected).startsWith("<|im_start|>system\n");
            assertThat(out.getTokenizerFingerprint()).isEqualTo(folder.fingerprint());
        }
        assertThat(out.getRecordId()).isEqualTo("r1");
        assertThat(out.getSides(0).getAssistantMessages()).isEqualTo(1);
        assertThat(out.getWarningsList()).containsExactly("SPECIAL_TOKEN_IN_CONTENT");
        assertThat(out.getSource().getLine()).isEqualTo(3);
        assertThat(out.getRaw().getTopic()).isEqualTo("millrace.sft.raw");
        assertThat(dlq.isEmpty()).isTrue();
        assertThat(registry.counter("millrace.records.out", "service", "chat-template", "stage", "sft").count()).isEqualTo(1.0);
    }

    @Test
    void anExactDuplicateIsDroppedOnceAndCounted() throws Exception {
        RawRecord record = RawRecord.newBuilder().setRecordId("same").setStage(WireStage.SFT)
                .setNormalisedJson("{\"messages\":[{\"content\":\"a\",\"role\":\"user\"},{\"content\":\"b\",\"role\":\"assistant\"}]}").build();

        raw.pipeInput("same", record.toByteArray());
        raw.pipeInput("same", record.toByteArray());

        assertThat(templated.readValuesToList()).hasSize(1);
        assertThat(dlq.isEmpty()).isTrue();
        assertThat(registry.counter("millrace.duplicates.dropped", "service", "chat-template", "stage", "sft").count()).isEqualTo(1.0);
    }

    @Test
    void aMalformedMessageBecomesOneDeadLetterWithItsBytesAndTheStreamGoesOn() throws Exception {
        byte[] garbage = "not a protobuf message".getBytes(StandardCharsets.UTF_8);
        raw.pipeInput("bad", garbage);
        RawRecord good = RawRecord.newBuilder().setRecordId("r2").setStage(WireStage.SFT)
                .setNormalisedJson("{\"messages\":[{\"content\":\"a\",\"role\":\"user\"},{\"content\":\"b\",\"role\":\"assistant\"}]}").build();
        raw.pipeInput("r2", good.toByteArray());

        var letter = dlq.readKeyValue();
        DeadLetter dead = DeadLetter.parseFrom(letter.value);
        assertThat(letter.key).isEqualTo("bad");
        assertThat(dead.getReason()).isEqualTo("MALFORMED_MESSAGE");
        assertThat(dead.getOriginal().toByteArray()).isEqualTo(garbage);
        assertThat(dead.getService()).isEqualTo("chat-template");
        assertThat(dead.getInput().getTopic()).isEqualTo("millrace.sft.raw");
        assertThat(dlq.isEmpty()).isTrue();
        assertThat(TemplatedRecord.parseFrom(templated.readValue()).getRecordId()).isEqualTo("r2");
        assertThat(RecordId.canonicalJson(java.util.Map.of("b", 1, "a", 2))).isEqualTo("{\"a\":2,\"b\":1}");
    }

    /** The bundled template ignores tool calls and tool messages (docs/semantics.md, SFT rule 9). */
    private static final String TOOL_USE = "{\"messages\":[{\"content\":\"Weather in Paris?\",\"role\":\"user\"},"
            + "{\"content\":\"Let me check.\",\"role\":\"assistant\",\"tool_calls\":[{\"function\":{\"arguments\":{\"city\":\"Paris\"},"
            + "\"name\":\"get_weather\"},\"type\":\"function\"}]},{\"content\":\"22 C\",\"role\":\"tool\"},"
            + "{\"content\":\"It is 22 C.\",\"role\":\"assistant\"}]}";

    @Test
    void aRecordTheTemplateRendersOnlyPartOfIsADeadLetterNamingTheMessageAndTheStreamGoesOn() throws Exception {
        RawRecord toolUse = RawRecord.newBuilder().setRecordId("tools").setStage(WireStage.SFT).setNormalisedJson(TOOL_USE).build();
        raw.pipeInput("tools", toolUse.toByteArray());
        raw.pipeInput("r2", record("r2").toByteArray());

        var letter = dlq.readKeyValue();
        DeadLetter dead = DeadLetter.parseFrom(letter.value);
        assertThat(letter.key).isEqualTo("tools");
        assertThat(dead.getReason()).isEqualTo("TEMPLATE_DROPPED_CONTENT");
        assertThat(dead.getMessage()).startsWith("messages[1].tool_calls[0]: the function name \"get_weather\"");
        assertThat(dead.getOriginal().toByteArray()).isEqualTo(toolUse.toByteArray());
        assertThat(dlq.isEmpty()).isTrue();
        assertThat(TemplatedRecord.parseFrom(templated.readValue()).getRecordId()).isEqualTo("r2");
        assertThat(templated.isEmpty()).isTrue();
    }

    @Test
    void underPartialRenderAcceptTheRecordIsRenderedWithAWarning() throws Exception {
        start(Duration.ofDays(7).toMillis(), 10_000, Map.of("millrace.sft.partial-render", "accept"));
        raw.pipeInput("tools", RawRecord.newBuilder().setRecordId("tools").setStage(WireStage.SFT).setNormalisedJson(TOOL_USE).build()
                .toByteArray());

        TemplatedRecord out = TemplatedRecord.parseFrom(templated.readValue());
        assertThat(out.getWarningsList()).containsExactly("TEMPLATE_DROPPED_CONTENT");
        assertThat(out.getSides(0).getText()).doesNotContain("get_weather").contains("It is 22 C.");
        assertThat(dlq.isEmpty()).isTrue();
    }

    private static String longConversation(int messages) {
        StringBuilder sb = new StringBuilder("{\"messages\":[");
        for (int i = 0; i < messages; i++) {
            sb.append(i == 0 ? "" : ",").append("{\"content\":\"message number ").append(i).append(" of a very long chat\",\"role\":\"")
                    .append(i % 2 == 0 ? "user" : "assistant").append("\"}");
        }
        return sb.append("]}").toString();
    }

    /** Issue 11, item 2: 5,000 short messages (under every size limit) stalled the step for minutes. */
    @Test
    void aConversationOfFiveThousandShortMessagesIsADeadLetterAndTheRecordsAroundItAreRendered() throws Exception {
        RawRecord longOne = RawRecord.newBuilder().setRecordId("long").setStage(WireStage.SFT).setNormalisedJson(longConversation(5_000)).build();

        org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(Duration.ofSeconds(60), () -> {
            raw.pipeInput("r1", record("r1").toByteArray());
            raw.pipeInput("long", longOne.toByteArray());
            raw.pipeInput("r2", record("r2").toByteArray());
        });

        var letter = dlq.readKeyValue();
        DeadLetter dead = DeadLetter.parseFrom(letter.value);
        assertThat(letter.key).isEqualTo("long");
        assertThat(dead.getReason()).isEqualTo("TOO_MANY_MESSAGES");
        assertThat(dead.getMessage()).contains("5000 messages").contains("max-messages=1000");
        assertThat(dead.getOriginal().toByteArray()).isEqualTo(longOne.toByteArray());
        assertThat(dlq.isEmpty()).isTrue();
        assertThat(templated.readValuesToList().stream().map(v -> {
            try {
                return TemplatedRecord.parseFrom(v).getRecordId();
            } catch (com.google.protobuf.InvalidProtocolBufferException e) {
                throw new AssertionError(e);
            }
        }).toList()).containsExactly("r1", "r2");
    }

    @Test
    void theBoundsAreSettings() throws Exception {
        start(Duration.ofDays(7).toMillis(), 10_000, Map.of("millrace.max-messages", "1", "millrace.record-time-budget-ms", "1"));
        raw.pipeInput("r1", record("r1").toByteArray());

        DeadLetter dead = DeadLetter.parseFrom(dlq.readValue());
        assertThat(dead.getReason()).isEqualTo("TOO_MANY_MESSAGES");
        assertThat(dead.getMessage()).contains("max-messages=1");
        assertThat(templated.isEmpty()).isTrue();
    }

    private static RawRecord record(String id) {
        return RawRecord.newBuilder().setRecordId(id).setStage(WireStage.SFT)
                .setNormalisedJson("{\"messages\":[{\"content\":\"" + id + "\",\"role\":\"user\"},{\"content\":\"b\",\"role\":\"assistant\"}]}").build();
    }

    private double counter(String name) {
        return registry.counter(name, "service", "chat-template", "stage", "sft").count();
    }

    private List<String> seenIds() {
        KeyValueStore<String, Long> store = driver.getKeyValueStore(RenderProcessor.seenStoreName(Stage.SFT));
        List<String> ids = new ArrayList<>();
        try (var it = store.all()) {
            it.forEachRemaining(kv -> ids.add(kv.key));
        }
        return ids;
    }

    @Test
    void aDuplicateWithinTheRetentionIsDroppedAndSweepsKeepItsEntry() {
        start(Duration.ofHours(1).toMillis(), 10_000);
        raw.pipeInput("same", record("same").toByteArray());
        // 59 minutes of sweeps (one a minute) later the entry is still there.
        for (int i = 0; i < 59; i++) {
            driver.advanceWallClockTime(Duration.ofMinutes(1));
        }
        raw.pipeInput("same", record("same").toByteArray());

        assertThat(templated.readValuesToList()).hasSize(1);
        assertThat(counter("millrace.duplicates.dropped")).isEqualTo(1.0);
        assertThat(counter("millrace.duplicates.expired")).isZero();
        assertThat(seenIds()).containsExactly("same");
    }

    @Test
    void afterItsEntryExpiredTheRecordIsAcceptedAgain() throws Exception {
        start(Duration.ofHours(1).toMillis(), 10_000);
        raw.pipeInput("same", record("same").toByteArray());
        driver.advanceWallClockTime(Duration.ofMinutes(61));

        assertThat(seenIds()).isEmpty();
        assertThat(counter("millrace.duplicates.expired")).isEqualTo(1.0);
        assertThat(registry.get("millrace.dedup.entries").tag("stage", "sft").gauge().value()).isZero();

        raw.pipeInput("same", record("same").toByteArray());
        raw.pipeInput("same", record("same").toByteArray());

        List<byte[]> out = templated.readValuesToList();
        assertThat(out).hasSize(2);
        assertThat(TemplatedRecord.parseFrom(out.get(1)).getRecordId()).isEqualTo("same");
        assertThat(counter("millrace.duplicates.dropped")).isEqualTo(1.0);
        assertThat(seenIds()).containsExactly("same");
    }

    @Test
    void aResubmittedDuplicatePassesIsCountedAndRefreshesItsEntry() throws Exception {
        start(Duration.ofHours(1).toMillis(), 10_000);
        RawRecord resubmitted = record("same").toBuilder().setResubmitted(true).build();
        raw.pipeInput("same", record("same").toByteArray());
        byte[] first = templated.readValue();
        driver.advanceWallClockTime(Duration.ofMinutes(40));
        raw.pipeInput("same", record("same").toByteArray());
        assertThat(templated.isEmpty()).as("seen before: dropped").isTrue();

        raw.pipeInput("same", resubmitted.toByteArray());
        List<byte[]> again = templated.readValuesToList();
        assertThat(again).as("the resubmitted copy is rendered as usual").hasSize(1);
        assertThat(TemplatedRecord.parseFrom(again.get(0)).getRecordId()).isEqualTo("same");
        assertThat(TemplatedRecord.parseFrom(again.get(0)).getSides(0).getText()).isEqualTo(TemplatedRecord.parseFrom(first).getSides(0).getText());

        // 70 minutes after the first sighting, 30 after the resubmit: the refreshed entry still drops a plain copy.
        driver.advanceWallClockTime(Duration.ofMinutes(30));
        raw.pipeInput("same", record("same").toByteArray());
        assertThat(templated.isEmpty()).as("dropped: the resubmit refreshed the entry").isTrue();

        raw.pipeInput("fresh", record("fresh").toBuilder().setResubmitted(true).build().toByteArray());
        assertThat(TemplatedRecord.parseFrom(templated.readValue()).getRecordId()).isEqualTo("fresh");

        assertThat(counter("millrace.duplicates.resubmitted")).as("only the resubmit that was a duplicate").isEqualTo(1.0);
        assertThat(counter("millrace.duplicates.dropped")).isEqualTo(2.0);
        assertThat(counter("millrace.duplicates.expired")).isZero();
        assertThat(seenIds()).containsExactlyInAnyOrder("same", "fresh");
        assertThat(dlq.isEmpty()).isTrue();
    }

    @Test
    void anEntryOlderThanTheRetentionThatNoSweepReachedYetCountsAsGone() {
        start(Duration.ofHours(1).toMillis(), 1);
        raw.pipeInput("a", record("a").toByteArray());
        raw.pipeInput("b", record("b").toByteArray());
        driver.advanceWallClockTime(Duration.ofMinutes(61)); // one sweep, deletes only "a"
        assertThat(seenIds()).containsExactly("b");

        raw.pipeInput("b", record("b").toByteArray());

        assertThat(templated.readValuesToList()).hasSize(3);
        assertThat(counter("millrace.duplicates.dropped")).isZero();
    }

    @Test
    void expiringManyEntriesIsSpreadOverSweepsWhenOverThePerRunBound() {
        start(Duration.ofHours(1).toMillis(), 3);
        for (int i = 0; i < 10; i++) {
            raw.pipeInput("r" + i, record("r" + i).toByteArray());
        }
        driver.advanceWallClockTime(Duration.ofMinutes(30));
        raw.pipeInput("late", record("late").toByteArray()); // not expired by the sweeps below
        driver.advanceWallClockTime(Duration.ofMinutes(31));

        List<Integer> sizes = new ArrayList<>();
        sizes.add(seenIds().size());
        for (int i = 0; i < 4; i++) {
            driver.advanceWallClockTime(Duration.ofMinutes(1));
            sizes.add(seenIds().size());
        }

        // 11 entries, 10 expired; at most 3 deleted per sweep; "late" stays.
        assertThat(sizes).containsExactly(8, 5, 2, 1, 1);
        assertThat(seenIds()).containsExactly("late");
        assertThat(counter("millrace.duplicates.expired")).isEqualTo(10.0);
        assertThat(templated.readValuesToList()).hasSize(11);
    }

    @Test
    void theSweepRunsEveryTwentyFourthOfTheRetentionWithinOneSecondAndOneMinute() {
        assertThat(RenderProcessor.sweepInterval(Duration.ofDays(7))).isEqualTo(Duration.ofMinutes(1));
        assertThat(RenderProcessor.sweepInterval(Duration.ofMinutes(12))).isEqualTo(Duration.ofSeconds(30));
        assertThat(RenderProcessor.sweepInterval(Duration.ofSeconds(5))).isEqualTo(Duration.ofSeconds(1));
    }
}
