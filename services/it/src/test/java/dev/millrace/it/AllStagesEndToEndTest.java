package dev.millrace.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.millrace.cli.local.LocalSystem;
import dev.millrace.contract.Topics;
import dev.millrace.core.chat.RecordReader;
import dev.millrace.core.json.LineReader;
import dev.millrace.core.json.RawLine;
import dev.millrace.core.json.StrictJson;
import dev.millrace.core.mask.Row;
import dev.millrace.core.prepare.DpoPreparer;
import dev.millrace.core.prepare.Prepared;
import dev.millrace.core.prepare.PretrainPreparer;
import dev.millrace.core.prepare.SftOptions;
import dev.millrace.core.prepare.SftPreparer;
import dev.millrace.core.prepare.Wrap;
import dev.millrace.core.record.Reason;
import dev.millrace.core.record.RecordId;
import dev.millrace.core.record.RecordRejected;
import dev.millrace.core.record.Stage;
import dev.millrace.core.tokenizer.TokenizerFolder;
import dev.millrace.core.wire.RowCodec;
import dev.millrace.proto.v1.Batch;
import dev.millrace.proto.v1.BatchRow;
import dev.millrace.proto.v1.DeadLetter;
import dev.millrace.proto.v1.RawRecord;
import dev.millrace.proto.v1.RecordRef;
import dev.millrace.proto.v1.WireStage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Pretrain (packed, long texts split into windows), DPO and distillation data through the whole
 * system as separate processes, one run for the three stages. Every row is compared with what core's
 * preparers (= {@code ./millrace prepare}) give offline for the same line; every record must be in
 * exactly one row (pretrain: each window exactly once), every bad line exactly one dead letter, and
 * distill prompts must go to {@code distill.prompts} and nowhere else.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class AllStagesEndToEndTest {
    static final int T = 128;
    static final int B = 4;
    static final String TEACHER = "minimind-dpo-e2e";
    static final Duration TIMEOUT = Duration.ofMinutes(5);
    static final Duration SETTLE = Duration.ofSeconds(4);
    static final ObjectMapper JSON = new ObjectMapper();
    static final String LONG = "The mill race carries water from the pond to the wheel, and the wheel turns the stones. ";

    static final List<String> PRETRAIN = new ArrayList<>(List.of(
            "{\"text\": \"The river turned the mill wheel all day long.\"}",
            "{\"text\": \"机器学习是人工智能的一个分支。\"}",
            "{\"text\": \"" + LONG.repeat(12) + "\"}",               // several windows of T
            "{\"text\": \"Short.\"}",
            "{\"text\": \"Short.\"}",                                // the same record again: dropped
            "{\"text\": 5}",                                         // bad at ingest
            "{not json",                                             // bad at ingest
            "",
            "{\"text\": \"" + LONG.repeat(2) + "\"}"));

    static final List<String> DPO = new ArrayList<>(List.of(
            "{\"prompt\": \"Name a colour.\", \"chosen\": \"Blue.\", \"rejected\": \"Seven.\"}",
            "{\"chosen\": [{\"role\": \"user\", \"content\": \"A?\"}, {\"role\": \"assistant\", \"content\": \"yes\"}],"
                    + " \"rejected\": [{\"role\": \"user\", \"content\": \"B?\"}, {\"role\": \"assistant\", \"content\": \"no\"}]}",   // prompt mismatch
            // the shared prompt alone is longer than T: nothing to train on either side after truncation
            "{\"prompt\": \"" + LONG.repeat(8) + "\", \"chosen\": \"Yes.\", \"rejected\": \"No.\"}",
            "{\"prompt\": \"Name a colour.\", \"chosen\": \"Blue.\", \"rejected\": \"Seven.\"}"));   // duplicate

    static final List<String> DISTILL = new ArrayList<>(List.of(
            "{\"conversations\": [{\"role\": \"user\", \"content\": \"What is a mill race?\"}]}",                     // a prompt
            "{\"messages\": [{\"role\": \"system\", \"content\": \"Be brief.\"}, {\"role\": \"user\", \"content\": \"Why is the sky blue?\"}]}", // a prompt
            "[1, 2, 3]"));                                                                                        // bad at ingest
    static final int DISTILL_PROMPTS = 2;

    static {
        for (int k = 1; k <= 14; k++) {
            PRETRAIN.add("{\"text\": \"Note " + k + ": the wheel turned " + k + " times before noon" + ", then rested.".repeat(k % 4) + "\"}");
        }
        for (int k = 1; k <= 9; k++) {
            DPO.add("{\"chosen\": [{\"role\": \"user\", \"content\": \"What is " + k + " + " + k + "?\"}, {\"role\": \"assistant\", \"content\": \""
                    + (2 * k) + ".\"}], \"rejected\": [{\"role\": \"user\", \"content\": \"What is " + k + " + " + k
                    + "?\"}, {\"role\": \"assistant\", \"content\": \"" + (2 * k + 1) + ", probably.\"}]}");
        }
        for (int k = 1; k <= 9; k++) {
            DISTILL.add("{\"conversations\": [{\"role\": \"user\", \"content\": \"Give me fact number " + k + " about water wheels.\"},"
                    + " {\"role\": \"assistant\", \"content\": \"Fact " + k + ": an overshot wheel uses the weight of the water" + " and gravity".repeat(k % 3) + ".\"}]}");
        }
    }

    /** What one line should become, computed offline. */
    record Expected(long line, byte[] bytes, String recordId, Reason ingestReason, Prepared prepared) {
        boolean good() {
            return ingestReason == null && !(prepared instanceof Prepared.Rejected);
        }

        Reason downstreamReason() {
            return prepared instanceof Prepared.Rejected r ? r.reason() : null;
        }
    }

    LocalSystem system;
    Topics topics;
    int padId;
    final Map<Stage, List<Expected>> expected = new LinkedHashMap<>();
    final Map<Stage, JsonNode> answers = new LinkedHashMap<>();
    final Map<Stage, Integer> statuses = new LinkedHashMap<>();
    final Map<Stage, List<Batch>> batches = new HashMap<>();
    final List<DeadLetter> deadLetters = new ArrayList<>();
    final List<RawRecord> prompts = new ArrayList<>();
    final List<RawRecord> distillRaw = new ArrayList<>();

    @BeforeAll
    void runTheSystem() throws Exception {
        try (TokenizerFolder folder = TokenizerFolder.bundled()) {
            padId = folder.padId();
            expected.put(Stage.PRETRAIN, expect(Stage.PRETRAIN, PRETRAIN, folder));
            expected.put(Stage.DPO, expect(Stage.DPO, DPO, folder));
            expected.put(Stage.DISTILL, expect(Stage.DISTILL, DISTILL, folder));
        }
        // The lines must exercise what they are meant to.
        assertThat(examples(Stage.PRETRAIN).keySet()).anyMatch(k -> k.endsWith("#2"));
        assertThat(expected.get(Stage.DPO)).extracting(Expected::downstreamReason).contains(Reason.NO_TRAINABLE_TOKENS);
        assertThat(expected.get(Stage.DPO)).extracting(Expected::ingestReason).contains(Reason.DPO_PROMPT_MISMATCH);

        Path root = Repo.packagedRoot();
        Path target = Files.createDirectories(root.resolve("services/it/target"));
        system = LocalSystem.start(root, new LocalSystem.Options()
                .stages(List.of(Stage.PRETRAIN, Stage.DPO, Stage.DISTILL))
                .seqLen(T).batchSize(B).batchLingerMs(500)
                .property("millrace.pretrain.packing", "on")
                .property("millrace.pretrain.pretrain-overflow", "split")
                .runDir(Files.createTempDirectory(target, "stages-run-")).progress(System.err));
        topics = system.topics();
        post(Stage.PRETRAIN, PRETRAIN, "");
        post(Stage.DPO, DPO, "");
        post(Stage.DISTILL, DISTILL, "?teacher=" + URLEncoder.encode(TEACHER, StandardCharsets.UTF_8));

        List<String> read = List.of(topics.batches(Stage.PRETRAIN), topics.batches(Stage.DPO), topics.batches(Stage.DISTILL),
                topics.dlq(), topics.distillPrompts(), topics.raw(Stage.DISTILL));
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        try (TopicTail tail = new TopicTail(system.bootstrapServers(), read)) {
            boolean complete = false;
            while (!complete || tail.quietFor().compareTo(SETTLE) < 0) {
                tail.poll(Duration.ofMillis(500));
                collect(tail);
                complete = complete || missing().isEmpty();
                if (System.nanoTime() > deadline) {
                    fail("after %s not every accepted record reached a batch row, a dead letter or distill.prompts: %s; dead letters: %s; logs in %s",
                            TIMEOUT, missing(), deadLetters.stream().map(d -> d.getStage() + "/" + d.getService() + "/" + d.getReason() + "/"
                                    + d.getRecordId() + "/" + d.getSource().getLine()).toList(), system.logDir());
                }
            }
        }
    }

    @AfterAll
    void stop() {
        if (system != null) {
            system.close();
        }
    }

    @Test
    void ingestAnswersNameEveryBadLineWithItsReason() {
        for (Stage stage : expected.keySet()) {
            List<Expected> lines = expected.get(stage);
            List<String> bad = lines.stream().filter(e -> e.ingestReason() != null).map(e -> e.line() + " " + e.ingestReason()).toList();
            JsonNode answer = answers.get(stage);
            assertThat(statuses.get(stage)).as("status for %s", stage).isEqualTo(422);
            long prompts = stage == Stage.DISTILL ? DISTILL_PROMPTS : 0;
            assertThat(answer.path("accepted").asLong()).as("accepted %s lines (distill prompts included)", stage)
                    .isEqualTo(lines.stream().filter(e -> e.ingestReason() == null).count() + prompts);
            List<String> errors = new ArrayList<>();
            answer.path("errors").forEach(e -> errors.add(e.path("line").asLong() + " " + e.path("reason").asText()));
            assertThat(errors).as("errors for %s", stage).containsExactlyInAnyOrderElementsOf(bad);
        }
    }

    @Test
    void everyPretrainWindowIsInExactlyOnePackedRowAsPrepareMakesIt() {
        Map<String, Row> expectedExamples = examples(Stage.PRETRAIN);
        Map<String, Integer> seen = new HashMap<>();
        for (Batch batch : batches.get(Stage.PRETRAIN)) {
            assertThat(batch.getPacked()).as(batch.getBatchId()).isTrue();
            assertBatchShape(batch);
            for (BatchRow row : batch.getRowsList()) {
                if (row.getFiller()) {
                    continue;
                }
                int[] ids = RowCodec.ids(row);
                int[] mask = RowCodec.unpackMask(row.getLossMask(), T);
                int[] segments = row.getSegmentIdsList().stream().mapToInt(Integer::intValue).toArray();
                int[] positions = row.getPositionIdsList().stream().mapToInt(Integer::intValue).toArray();
                assertThat(segments).as("segment ids of a row of %s", batch.getBatchId()).hasSize(T);
                assertThat(positions).as("position ids of a row of %s", batch.getBatchId()).hasSize(T);
                int start = 0;
                for (int s = 1; start < T && segments[start] == s; s++) {
                    int end = start;
                    while (end < T && segments[end] == s) {
                        assertThat(positions[end]).as("position ids restart per example").isEqualTo(end - start);
                        end++;
                    }
                    RecordRef ref = row.getRecords(s - 1);
                    String key = ref.getRecordId() + "#" + ref.getWindow();
                    Row want = expectedExamples.get(key);
                    assertThat(want).as("an expected pretrain example for %s", key).isNotNull();
                    assertThat(Arrays.copyOfRange(ids, start, end)).as("ids of %s", key).containsExactly(Arrays.copyOf(want.ids(), want.realLength()));
                    int[] wantMask = Arrays.copyOf(want.mask(), want.realLength());
                    if (start > 0) {
                        wantMask[0] = 0; // never a target across an example boundary
                    }
                    assertThat(Arrays.copyOfRange(mask, start, end)).as("mask of %s", key).containsExactly(wantMask);
                    assertThat(ref.getRaw().getTopic()).as("lineage of %s", key).isEqualTo(topics.raw(Stage.PRETRAIN));
                    seen.merge(key, 1, Integer::sum);
                    start = end;
                }
                assertThat(row.getRecordsCount()).as("one record ref per example").isEqualTo(segments[Math.max(0, start - 1)]);
                for (int k = start; k < T; k++) {
                    assertThat(segments[k]).as("padding has segment 0").isZero();
                    assertThat(ids[k]).as("padding id").isEqualTo(padId);
                    assertThat(mask[k]).as("padding is never trained").isZero();
                }
            }
        }
        assertThat(seen).as("every window of every good pretrain text, each in exactly one row")
                .isEqualTo(expectedExamples.keySet().stream().collect(Collectors.toMap(k -> k, k -> 1)));
    }

    @Test
    void everyDpoPairIsInExactlyOneBatchSlotWithBothSidesAsPrepareMakesThem() {
        Map<String, Prepared.Pair> pairs = new HashMap<>();
        good(Stage.DPO).forEach(e -> pairs.putIfAbsent(e.recordId(), (Prepared.Pair) e.prepared()));
        Map<String, Integer> seen = new HashMap<>();
        for (Batch batch : batches.get(Stage.DPO)) {
            assertThat(batch.getPacked()).isFalse();
            assertBatchShape(batch);
            assertThat(batch.getRejectedRowsList()).as("rejected rows of %s", batch.getBatchId()).hasSize(B);
            for (int i = 0; i < B; i++) {
                BatchRow chosen = batch.getRows(i);
                BatchRow rejected = batch.getRejectedRows(i);
                assertThat(rejected.getFiller()).as("slot %d of %s: both sides filler or neither", i, batch.getBatchId()).isEqualTo(chosen.getFiller());
                if (chosen.getFiller()) {
                    continue;
                }
                String id = chosen.getRecords(0).getRecordId();
                assertThat(rejected.getRecords(0).getRecordId()).as("slot %d of %s pairs one record", i, batch.getBatchId()).isEqualTo(id);
                Prepared.Pair want = pairs.get(id);
                assertThat(want).as("an expected DPO pair for %s", id).isNotNull();
                assertSameRow(chosen, want.chosen().row(), "chosen of " + id);
                assertSameRow(rejected, want.rejected().row(), "rejected of " + id);
                seen.merge(id, 1, Integer::sum);
            }
        }
        assertThat(seen).isEqualTo(pairs.keySet().stream().collect(Collectors.toMap(k -> k, k -> 1)));
    }

    @Test
    void everyAnsweredDistillConversationIsInExactlyOneRowAndCarriesItsTeacher() {
        Map<String, Row> rows = new HashMap<>();
        good(Stage.DISTILL).forEach(e -> rows.putIfAbsent(e.recordId(), ((Prepared.Example) e.prepared()).row()));
        Map<String, Integer> seen = new HashMap<>();
        for (Batch batch : batches.get(Stage.DISTILL)) {
            assertBatchShape(batch);
            for (BatchRow row : batch.getRowsList()) {
                if (!row.getFiller()) {
                    String id = row.getRecords(0).getRecordId();
                    assertThat(rows).containsKey(id);
                    assertSameRow(row, rows.get(id), "distill " + id);
                    seen.merge(id, 1, Integer::sum);
                }
            }
        }
        assertThat(seen).isEqualTo(rows.keySet().stream().collect(Collectors.toMap(k -> k, k -> 1)));
        assertThat(distillRaw).as("answered distill records on distill.raw").hasSize(rows.size());
        assertThat(distillRaw).allSatisfy(r -> assertThat(r.getTeacherId()).isEqualTo(TEACHER));
    }

    @Test
    void distillPromptsGoToTheTeacherTopicOnly() {
        assertThat(prompts).hasSize(DISTILL_PROMPTS);
        assertThat(prompts).allSatisfy(p -> assertThat(p.getStage()).isEqualTo(WireStage.DISTILL));
        assertThat(prompts).extracting(RawRecord::getNormalisedJson)
                .anyMatch(j -> j.contains("What is a mill race?")).anyMatch(j -> j.contains("Why is the sky blue?"));
        Set<String> promptIds = prompts.stream().map(RawRecord::getRecordId).collect(Collectors.toSet());
        Set<String> elsewhere = new HashSet<>();
        batches.get(Stage.DISTILL).forEach(b -> b.getRowsList().forEach(r -> r.getRecordsList().forEach(ref -> elsewhere.add(ref.getRecordId()))));
        deadLetters.forEach(d -> elsewhere.add(d.getRecordId()));
        distillRaw.forEach(r -> elsewhere.add(r.getRecordId()));
        assertThat(elsewhere).doesNotContainAnyElementsOf(promptIds);
    }

    @Test
    void everyBadLineIsExactlyOneDeadLetterWithItsReason() throws InvalidProtocolBufferException {
        for (Stage stage : expected.keySet()) {
            WireStage wire = WireStage.valueOf(stage.name());
            List<DeadLetter> mine = deadLetters.stream().filter(d -> d.getStage() == wire).toList();
            for (Expected e : expected.get(stage)) {
                if (e.ingestReason() != null) {
                    List<DeadLetter> letters = mine.stream().filter(d -> d.getService().equals("ingest") && d.getSource().getLine() == e.line()).toList();
                    assertThat(letters).as("%s line %d", stage, e.line()).hasSize(1);
                    assertThat(letters.get(0).getReason()).isEqualTo(e.ingestReason().name());
                    assertThat(letters.get(0).getOriginal().toByteArray()).as("original bytes of %s line %d", stage, e.line()).isEqualTo(e.bytes());
                } else if (e.downstreamReason() != null) {
                    List<DeadLetter> letters = mine.stream().filter(d -> d.getRecordId().equals(e.recordId())).toList();
                    assertThat(letters).as("%s line %d", stage, e.line()).hasSize(1);
                    assertThat(letters.get(0).getReason()).isEqualTo(e.downstreamReason().name());
                    assertThat(letters.get(0).getService()).isEqualTo("loss-mask");
                }
            }
            long wanted = expected.get(stage).stream().filter(e -> e.ingestReason() != null || e.downstreamReason() != null).count();
            assertThat(mine).as("dead letters of %s", stage).hasSize((int) wanted);
        }
    }

    @Test
    void noServiceDied() {
        assertThat(system.deadServices()).isEmpty();
    }

    // ---- expectations, computed with core ----

    private static List<Expected> expect(Stage stage, List<String> lines, TokenizerFolder folder) {
        byte[] body = (String.join("\n", lines) + "\n").getBytes(StandardCharsets.UTF_8);
        PretrainPreparer pretrain = new PretrainPreparer(folder, T, null, Wrap.AUTO, true);
        SftPreparer conversations = stage == Stage.PRETRAIN ? null : new SftPreparer(folder, new SftOptions(stage, T, null));
        List<Expected> out = new ArrayList<>();
        LineReader reader = new LineReader(new ByteArrayInputStream(body));
        int index = 0;
        while (reader.hasNext()) {
            RawLine raw = reader.next();
            index++;
            if (raw.isBlank()) {
                continue;
            }
            if (stage == Stage.DISTILL && index <= DISTILL_PROMPTS) {
                continue; // prompts: checked on distill.prompts
            }
            Reason ingest = null;
            String id = null;
            try {
                RecordReader.Result read = RecordReader.read(StrictJson.parse(raw.bytes()), stage, null);
                id = switch (stage) {
                    case PRETRAIN -> RecordId.of(stage, read.asText().normalised());
                    case DPO -> RecordId.of(stage, read.asDpoPair().normalised());
                    default -> conversations.recordId(conversations.read(raw.bytes()));
                };
            } catch (RecordRejected e) {
                ingest = e.reason();
            }
            Prepared prepared = ingest != null ? null : switch (stage) {
                case PRETRAIN -> pretrain.prepare(raw);
                case DPO -> new DpoPreparer(conversations).prepare(raw);
                default -> conversations.prepare(raw);
            };
            if (prepared != null && !(prepared instanceof Prepared.Rejected)) {
                assertThat(idOf(prepared)).as("record id of %s line %d", stage, raw.number()).isEqualTo(id);
            }
            out.add(new Expected(raw.number(), raw.bytes(), id, ingest, prepared));
        }
        return out;
    }

    private static String idOf(Prepared p) {
        if (p instanceof Prepared.Example e) {
            return e.recordId();
        } else if (p instanceof Prepared.Windows w) {
            return w.recordId();
        } else if (p instanceof Prepared.Pair pair) {
            return pair.recordId();
        }
        return null;
    }

    private List<Expected> good(Stage stage) {
        return expected.get(stage).stream().filter(Expected::good).toList();
    }

    /** Pretrain examples by "recordId#window". */
    private Map<String, Row> examples(Stage stage) {
        Map<String, Row> out = new LinkedHashMap<>();
        for (Expected e : expected.get(stage)) {
            if (e.prepared() instanceof Prepared.Example ex) {
                out.putIfAbsent(ex.recordId() + "#0", ex.row());
            } else if (e.prepared() instanceof Prepared.Windows w) {
                IntStream.range(0, w.rows().size()).forEach(k -> out.putIfAbsent(w.recordId() + "#" + k, w.rows().get(k)));
            }
        }
        return out;
    }

    // ---- reading the system's output ----

    private void post(Stage stage, List<String> lines, String query) throws IOException, InterruptedException {
        byte[] body = (String.join("\n", lines) + "\n").getBytes(StandardCharsets.UTF_8);
        URI uri = system.ingestUri().resolve("/v1/" + stage.id() + "/records" + query);
        HttpResponse<String> response = HttpClient.newHttpClient().send(HttpRequest.newBuilder(uri)
                .header("Content-Type", "application/x-ndjson").POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(),
                HttpResponse.BodyHandlers.ofString());
        statuses.put(stage, response.statusCode());
        answers.put(stage, JSON.readTree(response.body()));
    }

    private void collect(TopicTail tail) throws InvalidProtocolBufferException {
        for (Stage stage : expected.keySet()) {
            List<Batch> list = new ArrayList<>();
            for (ConsumerRecord<String, byte[]> r : tail.messages(topics.batches(stage))) {
                list.add(Batch.parseFrom(r.value()));
            }
            batches.put(stage, list);
        }
        deadLetters.clear();
        for (ConsumerRecord<String, byte[]> r : tail.messages(topics.dlq())) {
            deadLetters.add(DeadLetter.parseFrom(r.value()));
        }
        prompts.clear();
        for (ConsumerRecord<String, byte[]> r : tail.messages(topics.distillPrompts())) {
            prompts.add(RawRecord.parseFrom(r.value()));
        }
        distillRaw.clear();
        for (ConsumerRecord<String, byte[]> r : tail.messages(topics.raw(Stage.DISTILL))) {
            distillRaw.add(RawRecord.parseFrom(r.value()));
        }
    }

    /** What is not accounted for yet: accepted records in no row, no downstream dead letter and (prompts) not on distill.prompts. */
    private List<String> missing() {
        Set<String> covered = new HashSet<>();
        batches.values().forEach(list -> list.forEach(b -> {
            b.getRowsList().forEach(r -> r.getRecordsList().forEach(ref -> covered.add(ref.getRecordId() + "#" + ref.getWindow())));
        }));
        Set<String> lettered = deadLetters.stream().map(DeadLetter::getRecordId).collect(Collectors.toSet());
        List<String> missing = new ArrayList<>();
        examples(Stage.PRETRAIN).keySet().stream().filter(k -> !covered.contains(k)).forEach(k -> missing.add("pretrain " + k));
        for (Stage stage : List.of(Stage.DPO, Stage.DISTILL)) {
            for (Expected e : expected.get(stage)) {
                if (e.good() && !covered.contains(e.recordId() + "#0")) {
                    missing.add(stage.id() + " line " + e.line() + " row");
                }
                if (e.downstreamReason() != null && !lettered.contains(e.recordId())) {
                    missing.add(stage.id() + " line " + e.line() + " dead letter " + e.downstreamReason());
                }
            }
        }
        if (prompts.size() < DISTILL_PROMPTS) {
            missing.add((DISTILL_PROMPTS - prompts.size()) + " distill prompts");
        }
        return missing;
    }

    private void assertBatchShape(Batch batch) {
        String b = batch.getBatchId();
        assertThat(batch.getRowsList()).as("rows of %s", b).hasSize(B);
        assertThat(batch.getSeqLen()).as(b).isEqualTo(T);
        long real = batch.getRowsList().stream().filter(r -> !r.getFiller()).count();
        assertThat(batch.getRealRows()).as("real rows of %s", b).isEqualTo((int) real);
        long rows = real + batch.getRejectedRowsList().stream().filter(r -> !r.getFiller()).count();
        assertThat(batch.getNonpadShare()).as("nonpad_share of %s", b).isCloseTo((double) batch.getNonpadTokens() / (rows * T),
                org.assertj.core.data.Offset.offset(1e-9));
        assertThat(batch.getTrainedShare()).as("trained_share of %s", b).isCloseTo((double) batch.getTrainedTokens() / (rows * T),
                org.assertj.core.data.Offset.offset(1e-9));
    }

    private static void assertSameRow(BatchRow actual, Row want, String what) {
        assertThat(RowCodec.ids(actual)).as("input_ids of %s", what).containsExactly(want.ids());
        assertThat(RowCodec.unpackMask(actual.getLossMask(), T)).as("loss_mask of %s", what).containsExactly(want.mask());
        assertThat(actual.getNonpadTokens()).as("nonpad_tokens of %s", what).isEqualTo(want.realLength());
        assertThat(actual.getTrainedTokens()).as("trained_tokens of %s", what).isEqualTo(want.trainedTokens());
    }
}
