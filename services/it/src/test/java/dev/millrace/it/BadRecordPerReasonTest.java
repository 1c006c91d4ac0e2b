package dev.millrace.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.millrace.cli.Millrace;
import dev.millrace.cli.ingest.IngestClient;
import dev.millrace.cli.local.LocalSystem;
import dev.millrace.cli.local.ManagedProcess;
import dev.millrace.cli.local.PipelineOutput;
import dev.millrace.contract.PipelineService;
import dev.millrace.core.json.RawLine;
import dev.millrace.core.mask.MaskRule;
import dev.millrace.core.mask.TrainOn;
import dev.millrace.core.prepare.DpoPreparer;
import dev.millrace.core.prepare.Prepared;
import dev.millrace.core.prepare.RecordBounds;
import dev.millrace.core.prepare.SftOptions;
import dev.millrace.core.prepare.SftPreparer;
import dev.millrace.core.prepare.SpecialTokenPolicy;
import dev.millrace.core.record.Reason;
import dev.millrace.core.record.Stage;
import dev.millrace.core.tokenizer.TokenizerFolder;
import dev.millrace.it.Expectations.Kind;
import dev.millrace.it.Expectations.Line;
import dev.millrace.proto.v1.Batch;
import dev.millrace.proto.v1.BatchRow;
import dev.millrace.proto.v1.DeadLetter;
import dev.millrace.proto.v1.RawRecord;
import dev.millrace.proto.v1.RenderedSide;
import dev.millrace.proto.v1.Source;
import dev.millrace.proto.v1.TemplatedRecord;
import dev.millrace.proto.v1.TokenizedRecord;
import dev.millrace.proto.v1.WireStage;
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
import java.util.EnumSet;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;

/**
 * One bad record for every reason code, mixed with good records, through the real
 * broker and the packaged services: each bad record is exactly one dead letter with its reason and
 * its original bytes (ingest) or the message it was read as (downstream), and every good record
 * still reaches exactly one batch row equal to what {@code ./millrace prepare} gives with the same
 * settings. All but one are SFT records; {@code DPO_PROMPT_MISMATCH} needs a DPO pair, posted to the
 * dpo stage among good pairs, which all reach the DPO batches. Settings that make the downstream reasons reachable: a tokenizer folder whose template
 * raises on a marker and is not prefix-consistent on another, the span mask rule (which checks
 * prefix consistency), {@code special-tokens-in-content=reject}, a 2 KiB record limit and T=128.
 */
class BadRecordPerReasonTest {
    static final int T = 128;
    static final int B = 8;
    static final int MAX_RECORD_BYTES = 2048;
    static final Duration TIMEOUT = Duration.ofMinutes(4);
    static final String RAISE_MARKER = "RAISE-IN-TEMPLATE";
    static final String NOT_PREFIX_MARKER = "NOT-PREFIX-CONSISTENT";
    static final String SPIN_MARKER = "SPIN-IN-TEMPLATE";
    /** Low, so that a conversation past it stays under the record limit. */
    static final int MAX_MESSAGES = 8;
    /** Long enough for any good record of this test on a cold service, short enough for the test. */
    static final Duration RECORD_TIME_BUDGET = Duration.ofSeconds(2);

    /**
     * Reasons that cannot occur for SFT or DPO records, with the stage whose test must cover them: only the teacher's
     * answers to distill prompts reach max-new-tokens.
     */
    static final Map<Reason, String> OTHER_STAGES = Map.of(Reason.TEACHER_MAX_NEW_TOKENS,
            "distill: services/teacher's TeacherLoopTest (over a broker) and PromptAnswererTest");

    /**
     * Reasons no input provokes on purpose, with the test that covers them instead: an unexpected
     * exception stands for a bug, so it is provoked by a step made to throw.
     */
    static final Map<Reason, String> NOT_PROVOKABLE = Map.of(Reason.UNEXPECTED_ERROR, "streams-common's StepProcessorFailureTest");

    /** Only a DPO pair can break the shared-prompt rule: posted to the dpo stage, among good pairs. */
    static final String DPO_PROMPT_MISMATCH = "{\"chosen\": [{\"role\": \"user\", \"content\": \"Name Australia's capital city.\"},"
            + " {\"role\": \"assistant\", \"content\": \"Canberra.\"}], \"rejected\": [{\"role\": \"user\", \"content\": \"Name Austria's capital city.\"},"
            + " {\"role\": \"assistant\", \"content\": \"Sydney.\"}]}";

    /** How each SFT reason is provoked: a line posted to ingest, or a message written straight to an internal topic. */
    enum Via { INGEST, POSTED_DOWNSTREAM, TOPIC }

    record Case(Reason reason, String service, Via via, byte[] bytes) {
    }

    static final String GOOD_SHORT = "{\"messages\": [{\"role\": \"user\", \"content\": \"Name a colour of the sky.\"}, {\"role\": \"assistant\", \"content\": \"Blue.\"}]}";

    static List<Case> cases() {
        List<Case> c = new ArrayList<>();
        c.add(ingest(Reason.INVALID_JSON, "{\"conversations\": [{\"role\": \"user\", \"content\": \"cut off"));
        c.add(new Case(Reason.INVALID_UTF8, "ingest", Via.INGEST, concat("{\"conversations\": [{\"role\": \"user\", \"content\": \"caf",
                new byte[] {(byte) 0xe9}, " au lait?\"}, {\"role\": \"assistant\", \"content\": \"Yes.\"}]}")));
        // Longer than the limit: ingest checks the size before reading anything (so no other reason applies)
        // and the dead letter keeps the first MAX_RECORD_BYTES bytes.
        c.add(ingest(Reason.RECORD_TOO_LARGE, "too long ".repeat(300)));
        c.add(ingest(Reason.UNKNOWN_FORMAT, "{\"input_text\": \"Summarise: the meeting moved to Thursday.\", \"target_text\": \"Meeting now on Thursday.\"}"));
        c.add(ingest(Reason.MISSING_FIELD, "{\"conversations\": [{\"role\": \"user\"}, {\"role\": \"assistant\", \"content\": \"Sure.\"}]}"));
        c.add(ingest(Reason.WRONG_TYPE, "{\"conversations\": [{\"role\": \"user\", \"content\": \"Titanic year?\"}, {\"role\": \"assistant\", \"content\": 1912}]}"));
        c.add(ingest(Reason.UNKNOWN_ROLE, "{\"conversations\": [{\"role\": \"user\", \"content\": \"Start.\"}, {\"role\": \"narrator\", \"content\": \"Night.\"},"
                + " {\"role\": \"assistant\", \"content\": \"The end.\"}]}"));
        c.add(ingest(Reason.ROLE_ORDER, "{\"conversations\": [{\"role\": \"user\", \"content\": \"A name?\"}, {\"role\": \"assistant\", \"content\": \"Rise.\"},"
                + " {\"role\": \"system\", \"content\": \"French only.\"}, {\"role\": \"user\", \"content\": \"Another?\"}, {\"role\": \"assistant\", \"content\": \"Four.\"}]}"));
        c.add(ingest(Reason.EMPTY_CONVERSATION, "{\"conversations\": []}"));
        c.add(ingest(Reason.NO_TRAINABLE_TOKENS, "{\"conversations\": [{\"role\": \"system\", \"content\": \"Geography.\"}, {\"role\": \"user\", \"content\": \"Tokyo time zone?\"}]}"));
        c.add(posted(Reason.TEMPLATE_ERROR, "chat-template", "{\"messages\": [{\"role\": \"user\", \"content\": \"Please " + RAISE_MARKER
                + " now.\"}, {\"role\": \"assistant\", \"content\": \"No.\"}]}"));
        c.add(posted(Reason.TEMPLATE_NOT_PREFIX_CONSISTENT, "chat-template", "{\"messages\": [{\"role\": \"user\", \"content\": \"" + NOT_PREFIX_MARKER
                + "\"}, {\"role\": \"assistant\", \"content\": \"Fine.\"}]}"));
        // Ten short turns: more than MAX_MESSAGES, far under the record limit.
        c.add(posted(Reason.TOO_MANY_MESSAGES, "chat-template", "{\"messages\": [" + String.join(", ", java.util.Collections.nCopies(5,
                "{\"role\": \"user\", \"content\": \"Again?\"}, {\"role\": \"assistant\", \"content\": \"Yes.\"}")) + "]}"));
        // The test template spins on this marker until the record's time budget stops it.
        c.add(posted(Reason.RECORD_TIME_BUDGET_EXCEEDED, "chat-template", "{\"messages\": [{\"role\": \"user\", \"content\": \"Please "
                + SPIN_MARKER + ".\"}, {\"role\": \"assistant\", \"content\": \"Spinning.\"}]}"));
        c.add(posted(Reason.SPECIAL_TOKEN_IN_CONTENT, "chat-template", "{\"messages\": [{\"role\": \"user\", \"content\": \"Repeat <|im_end|> back.\"},"
                + " {\"role\": \"assistant\", \"content\": \"Done.\"}]}"));
        // The template (the bundled one under the markers) ignores tool calls: the render leaves out the function name.
        c.add(posted(Reason.TEMPLATE_DROPPED_CONTENT, "chat-template", "{\"messages\": [{\"role\": \"user\", \"content\": \"Weather in Oslo?\"},"
                + " {\"role\": \"assistant\", \"content\": \"Checking.\", \"tool_calls\": [{\"type\": \"function\", \"function\":"
                + " {\"name\": \"get_weather\", \"arguments\": {\"city\": \"Oslo\"}}}]}, {\"role\": \"tool\", \"content\": \"-3 C\"},"
                + " {\"role\": \"assistant\", \"content\": \"It is -3 C.\"}]}"));
        // The user turn alone is longer than T: truncation leaves nothing to train (loss-mask decides).
        c.add(posted(Reason.NO_TRAINABLE_TOKENS, "loss-mask", "{\"messages\": [{\"role\": \"user\", \"content\": \""
                + "Lorem ipsum dolor sit amet, consectetur adipiscing elit. ".repeat(12) + "\"}, {\"role\": \"assistant\", \"content\": \"Noted.\"}]}"));
        // Rendered for another tokenizer folder, written straight to sft.templated: tokenize refuses it.
        c.add(new Case(Reason.TOKENIZER_MISMATCH, "tokenize", Via.TOPIC, TemplatedRecord.newBuilder().setRecordId("tokenizer-mismatch-record")
                .setStage(WireStage.SFT).setTokenizerFingerprint("another-tokenizer-folder")
                .addSides(RenderedSide.newBuilder().setText("<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\nhello<|im_end|>\n").setAssistantMessages(1))
                .setSource(Source.newBuilder().setKind("test").setName("foreign-producer").setLine(1)).build().toByteArray()));
        // Not a protobuf message at all (a truncated varint), written straight to sft.raw: chat-template cannot read it.
        c.add(new Case(Reason.MALFORMED_MESSAGE, "chat-template", Via.TOPIC, new byte[] {(byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff}));
        return c;
    }

    @Test
    void everyReasonIsCoveredOrBelongsToAnotherStage() {
        Set<Reason> covered = EnumSet.noneOf(Reason.class);
        cases().forEach(c -> covered.add(c.reason()));
        covered.add(Reason.DPO_PROMPT_MISMATCH);
        Set<Reason> overlap = EnumSet.copyOf(covered);
        overlap.retainAll(OTHER_STAGES.keySet());
        assertThat(overlap).as("reasons both covered here and listed for another stage").isEmpty();
        Set<Reason> missing = EnumSet.allOf(Reason.class);
        missing.removeAll(covered);
        missing.removeAll(OTHER_STAGES.keySet());
        missing.removeAll(NOT_PROVOKABLE.keySet());
        assertThat(missing).as("reason codes with no bad record in this test and no other stage named for them").isEmpty();
    }

    @Test
    void oneBadRecordPerReasonIsExactlyOneDeadLetterWhileGoodRecordsReachBatches() throws Exception {
        Path root = Repo.packagedRoot();
        Path target = Files.createDirectories(root.resolve("services/it/target"));
        Path folder = testTokenizerFolder(Files.createTempDirectory(target, "tokenizer-"));
        SftOptions options = new SftOptions(Stage.SFT, T, null, MaskRule.SPAN, TrainOn.ALL, SpecialTokenPolicy.REJECT, null)
                .withBounds(new RecordBounds(MAX_MESSAGES, RECORD_TIME_BUDGET));

        // The body: good lines with one posted bad case after each.
        List<Case> cases = cases();
        List<byte[]> good;
        try (TokenizerFolder tokenizer = TokenizerFolder.open(folder)) {
            good = goodLines(new SftPreparer(tokenizer, options));
        }
        List<byte[]> lines = new ArrayList<>();
        Map<Long, Case> caseByLine = new LinkedHashMap<>();
        int next = 0;
        for (byte[] g : good) {
            lines.add(g);
            while (next < cases.size() && cases.get(next).via() == Via.TOPIC) {
                next++;
            }
            if (next < cases.size()) {
                lines.add(cases.get(next).bytes());
                caseByLine.put((long) lines.size(), cases.get(next));
                next++;
            }
        }
        assertThat(caseByLine).as("every posted case has a line").hasSize((int) cases.stream().filter(c -> c.via() != Via.TOPIC).count());
        byte[] body = LossMaskKillTest.join(lines);

        Expectations expected;
        try (TokenizerFolder tokenizer = TokenizerFolder.open(folder)) {
            expected = Expectations.of(body, tokenizer, options);
        }
        // The inputs exercise what they are meant to (offline, with the same rules): fail here rather than in the system.
        for (Line line : expected.lines) {
            Case c = caseByLine.get(line.number());
            if (c == null) {
                assertThat(line.kind()).as("good line %d", line.number()).isEqualTo(Kind.GOOD);
            } else if (c.reason() == Reason.RECORD_TOO_LARGE) {
                assertThat(line.bytes().length).isGreaterThan(MAX_RECORD_BYTES);
                assertThat(line.kind()).isEqualTo(Kind.INGEST_REJECT);
            } else {
                assertThat(line.kind()).as("line %d (%s)", line.number(), c.reason()).isEqualTo(c.via() == Via.INGEST ? Kind.INGEST_REJECT : Kind.DOWNSTREAM_REJECT);
                assertThat(line.reason()).as("line %d", line.number()).isEqualTo(c.reason());
            }
        }

        try (LocalSystem system = LocalSystem.start(root, new LocalSystem.Options().seqLen(T).batchSize(B).batchLingerMs(500)
                .stages(List.of(Stage.SFT, Stage.DPO))
                .runDir(Files.createTempDirectory(target, "bad-records-")).progress(System.err)
                .property("millrace.tokenizer", folder.toString())
                .property("millrace.sft.mask-rule", "span")
                .property("millrace.sft.special-tokens-in-content", "reject")
                .property("millrace.max-messages", String.valueOf(MAX_MESSAGES))
                .property("millrace.record-time-budget-ms", String.valueOf(RECORD_TIME_BUDGET.toMillis()))
                .property("millrace.ingest.max-record-bytes", String.valueOf(MAX_RECORD_BYTES)))) {
            IngestClient.Answer answer = new IngestClient(system.ingestUri()).post(Stage.SFT, body);
            Map<Long, String> ingestErrors = new LinkedHashMap<>();
            answer.errors().forEach(e -> ingestErrors.put(e.line(), e.reason()));
            Map<Long, String> wantErrors = new LinkedHashMap<>();
            caseByLine.forEach((line, c) -> {
                if (c.via() == Via.INGEST) {
                    wantErrors.put(line, c.reason().name());
                }
            });
            assertThat(ingestErrors).as("ingest's answer: rejected lines and reasons").isEqualTo(wantErrors);

            Map<String, Case> topicCases = writeStraightToTopics(system, cases);
            DpoRun dpo = postDpo(system, folder);

            Set<String> waitFor = new HashSet<>(expected.acceptedIds());
            waitFor.addAll(topicCases.keySet());
            PipelineChecks.Output output = PipelineChecks.await(system, Stage.SFT, waitFor, TIMEOUT);

            PipelineChecks.assertEveryGoodRecordInExactlyOneRow(expected, output.batches(), T);
            List<DeadLetter> letters = output.deadLetters();
            for (Map.Entry<Long, Case> e : caseByLine.entrySet()) {
                Case c = e.getValue();
                Line line = expected.lines.get((int) (e.getKey() - 1));
                List<DeadLetter> mine = c.via() == Via.INGEST
                        ? letters.stream().filter(d -> d.getService().equals("ingest") && d.getStage() == WireStage.SFT
                                && d.getSource().getLine() == e.getKey()).toList()
                        : letters.stream().filter(d -> d.getRecordId().equals(line.recordId())).toList();
                assertThat(mine).as("dead letters for line %d (%s)", e.getKey(), c.reason()).hasSize(1);
                DeadLetter d = mine.get(0);
                assertThat(d.getReason()).as("line %d", e.getKey()).isEqualTo(c.reason().name());
                assertThat(d.getService()).as("line %d", e.getKey()).isEqualTo(c.service());
                assertThat(d.getMessage()).as("line %d", e.getKey()).isNotBlank();
                if (c.via() == Via.INGEST) {
                    byte[] original = c.reason() == Reason.RECORD_TOO_LARGE ? java.util.Arrays.copyOf(c.bytes(), MAX_RECORD_BYTES) : c.bytes();
                    assertThat(d.getOriginal().toByteArray()).as("original bytes of line %d", e.getKey()).isEqualTo(original);
                } else {
                    assertThat(inputRecordId(d)).as("the dead letter of line %d carries the message it rejected", e.getKey()).isEqualTo(line.recordId());
                    assertThat(d.getSource().getLine()).as("source line of line %d", e.getKey()).isEqualTo(e.getKey());
                }
            }
            for (Map.Entry<String, Case> e : topicCases.entrySet()) {
                List<DeadLetter> mine = letters.stream().filter(d -> d.getRecordId().equals(e.getKey())).toList();
                assertThat(mine).as("dead letters for the message keyed %s (%s)", e.getKey(), e.getValue().reason()).hasSize(1);
                assertThat(mine.get(0).getReason()).isEqualTo(e.getValue().reason().name());
                assertThat(mine.get(0).getService()).isEqualTo(e.getValue().service());
                assertThat(mine.get(0).getOriginal().toByteArray()).as("the message as it was on its topic").isEqualTo(e.getValue().bytes());
            }
            dpo.check(system, letters);
            assertThat(letters).as("dead letters: one per bad record, nothing else").hasSize(cases.size() + 1);

            operatorCommands(system, output, cases, expected, target);
            assertThat(system.deadServices()).as("processes that exited during the run").isEmpty();
            sigtermEndsChatTemplateOnASpinningRecord(system);
        }
    }

    /**
     * SIGTERM ends chat-template by itself while it is on a record whose template work would run for hours:
     * the record's time budget stops that work, so the stream thread lets go and the service shuts down
     * (issue 11, item 2). The moment is observed, not guessed: its liveness check counts a record in process.
     */
    private static void sigtermEndsChatTemplateOnASpinningRecord(LocalSystem system) throws Exception {
        String spinning = "{\"messages\": [{\"role\": \"user\", \"content\": \"%s " + SPIN_MARKER
                + ".\"}, {\"role\": \"assistant\", \"content\": \"Spinning.\"}]}\n";
        new IngestClient(system.ingestUri()).post(Stage.SFT,
                (spinning.formatted("Once more") + spinning.formatted("And again")).getBytes(StandardCharsets.UTF_8));
        URI live = system.serviceUri(PipelineService.CHAT_TEMPLATE).resolve("/q/health/live");
        HttpClient http = HttpClient.newHttpClient();
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        while (recordsInProcess(http, live) == 0) {
            assertThat(System.nanoTime()).as("chat-template on a spinning record within %s (logs in %s)", TIMEOUT, system.logDir())
                    .isLessThan(deadline);
            Thread.sleep(20);
        }
        ManagedProcess chatTemplate = system.service(PipelineService.CHAT_TEMPLATE).process();
        assertThat(chatTemplate.stop(Duration.ofSeconds(30)))
                .as("chat-template ended by itself within 30 s of SIGTERM while on a spinning record (log %s)", chatTemplate.log()).isTrue();
        assertThat(chatTemplate.exitValue()).as("chat-template's exit status after SIGTERM").isIn(0, 143);
    }

    /** The {@code in_process} figure of the stuck-record liveness check. */
    private static int recordsInProcess(HttpClient http, URI live) throws Exception {
        JsonNode health = new ObjectMapper().readTree(http.send(HttpRequest.newBuilder(live).GET().build(), HttpResponse.BodyHandlers.ofString()).body());
        for (JsonNode check : health.path("checks")) {
            if (check.path("name").asText().equals("records in process")) {
                return check.path("data").path("in_process").asInt();
            }
        }
        throw new AssertionError("no 'records in process' check in " + health);
    }

    /**
     * {@code ./millrace trace} and {@code ./millrace dlq} on this run: a batch traced back to the posted
     * lines of its records; every dead letter listed; the INVALID_JSON line exported, fixed and
     * re-submitted, after which it is in a batch; loss-mask's NO_TRAINABLE_TOKENS letter re-submitted
     * unchanged by {@code --offset}, which passes chat-template's duplicate drop (its id was seen) and
     * is rejected again by loss-mask: a second dead letter for the same record.
     */
    private static void operatorCommands(LocalSystem system, PipelineChecks.Output output, List<Case> cases, Expectations expected, Path target)
            throws Exception {
        ObjectMapper json = new ObjectMapper();
        String bootstrap = system.bootstrapServers();
        Batch batch = output.batches().get(0);
        Cli trace = Cli.run("trace", batch.getBatchId(), "--bootstrap", bootstrap, "--json");
        assertThat(trace.code()).as(trace.err()).isZero();
        assertThat(trace.lines()).as("one line per row of %s (unpacked: one record per real row)", batch.getBatchId()).hasSize(B);
        for (String l : trace.lines()) {
            JsonNode n = json.readTree(l);
            if (n.path("filler").asBoolean()) {
                continue;
            }
            Line line = expected.goodById().get(n.path("record_id").asText());
            assertThat(line).as("a posted good line for %s", l).isNotNull();
            assertThat(n.path("source").path("kind").asText()).isEqualTo("http");
            assertThat(n.path("source").path("line").asLong()).as("source line of %s", n.path("record_id").asText()).isEqualTo(line.number());
            assertThat(n.path("raw").path("topic").asText()).isEqualTo(system.topics().raw(Stage.SFT));
        }

        Cli list = Cli.run("dlq", "--bootstrap", bootstrap, "--json");
        assertThat(list.code()).as(list.err()).isZero();
        List<String> listed = new ArrayList<>();
        for (String l : list.lines()) {
            listed.add(json.readTree(l).path("reason").asText());
        }
        List<String> sent = new ArrayList<>(cases.stream().map(c -> c.reason().name()).toList());
        sent.add(Reason.DPO_PROMPT_MISMATCH.name());
        assertThat(listed).containsExactlyInAnyOrderElementsOf(sent);

        Cli export = Cli.run("dlq", "export", "--bootstrap", bootstrap, "--reason", "INVALID_JSON");
        assertThat(export.code()).as(export.err()).isZero();
        Case invalid = cases.stream().filter(c -> c.reason() == Reason.INVALID_JSON).findFirst().orElseThrow();
        assertThat(export.out()).isEqualTo(new String(invalid.bytes(), StandardCharsets.UTF_8) + "\n");
        String fixedLine = export.out().strip() + "\"}, {\"role\": \"assistant\", \"content\": \"Fixed.\"}]}";
        Path fixed = Files.writeString(Files.createTempFile(target, "fixed-", ".jsonl"), fixedLine + "\n");
        Cli resubmit = Cli.run("dlq", "resubmit", "--stage", "sft", fixed.toString(), "--url", system.ingestUri().toString());
        assertThat(resubmit.code()).as(resubmit.err()).isZero();
        assertThat(resubmit.out()).contains("HTTP 200, accepted 1, rejected 0");
        String fixedId = Expectations.of(Files.readAllBytes(fixed), T).goodById().keySet().iterator().next();
        PipelineChecks.Output after = PipelineChecks.await(system, Stage.SFT, Set.of(fixedId), TIMEOUT);
        assertThat(after.batches().stream().flatMap(b -> b.getRowsList().stream()).flatMap(r -> r.getRecordsList().stream())
                .filter(r -> r.getRecordId().equals(fixedId))).as("rows holding the fixed record").hasSize(1);

        List<JsonNode> tooLong = lossMaskNoTrainable(bootstrap, json);
        assertThat(tooLong).hasSize(1);
        String recordId = tooLong.get(0).path("record_id").asText();
        Cli again = Cli.run("dlq", "resubmit", "--bootstrap", bootstrap, "--offset", tooLong.get(0).path("position").asText(),
                "--url", system.ingestUri().toString());
        assertThat(again.code()).as(again.err()).isZero();
        assertThat(again.out()).contains("?resubmit=true", "HTTP 200, accepted 1, rejected 0");
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        while (tooLong.size() < 2 && System.nanoTime() < deadline) {
            Thread.sleep(500);
            tooLong = lossMaskNoTrainable(bootstrap, json);
        }
        assertThat(tooLong).as("loss-mask's NO_TRAINABLE_TOKENS letters after the unchanged resubmit (logs in %s)", system.logDir())
                .extracting(n -> n.path("record_id").asText()).containsExactly(recordId, recordId);
    }

    private static List<JsonNode> lossMaskNoTrainable(String bootstrap, ObjectMapper json) throws Exception {
        Cli list = Cli.run("dlq", "--bootstrap", bootstrap, "--reason", "NO_TRAINABLE_TOKENS", "--json");
        assertThat(list.code()).as(list.err()).isZero();
        List<JsonNode> out = new ArrayList<>();
        for (String l : list.lines()) {
            JsonNode n = json.readTree(l);
            if (n.path("service").asText().equals("loss-mask")) {
                out.add(n);
            }
        }
        return out;
    }

    /** One in-process run of the CLI, standard output and error captured. */
    record Cli(int code, String out, String err) {
        static Cli run(String... args) {
            java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
            java.io.ByteArrayOutputStream err = new java.io.ByteArrayOutputStream();
            int code = Millrace.run(args, new java.io.PrintStream(out, true, StandardCharsets.UTF_8), new java.io.PrintStream(err, true, StandardCharsets.UTF_8));
            return new Cli(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        }

        List<String> lines() {
            return out.lines().toList();
        }
    }

    /** The DPO part: good pairs and the pair whose prompts differ, as posted, and ingest's answer. */
    record DpoRun(List<byte[]> lines, long mismatchLine, Set<String> goodIds, IngestClient.Answer answer) {
        /**
         * Ingest rejected exactly the mismatched pair, which is exactly one dead letter with its bytes;
         * every good pair reaches exactly one row of the DPO batches (chosen and rejected rows aligned).
         */
        void check(LocalSystem system, List<DeadLetter> letters) {
            assertThat(answer.errors()).extracting(e -> e.line() + " " + e.reason()).containsExactly(mismatchLine + " DPO_PROMPT_MISMATCH");
            long good = lines.size() - 1;
            assertThat(answer.accepted()).isEqualTo(good);
            List<DeadLetter> mine = letters.stream().filter(d -> d.getStage() == WireStage.DPO).toList();
            assertThat(mine).as("DPO dead letters").hasSize(1);
            assertThat(mine.get(0).getReason()).isEqualTo(Reason.DPO_PROMPT_MISMATCH.name());
            assertThat(mine.get(0).getService()).isEqualTo("ingest");
            assertThat(mine.get(0).getSource().getLine()).isEqualTo(mismatchLine);
            assertThat(mine.get(0).getOriginal().toByteArray()).isEqualTo(lines.get((int) mismatchLine - 1));

            Map<String, Integer> rowsPerId = new LinkedHashMap<>();
            long deadline = System.nanoTime() + TIMEOUT.toNanos();
            try (PipelineOutput output = new PipelineOutput(system.bootstrapServers(), system.topics().batches(Stage.DPO), system.topics().dlq())) {
                while (rowsPerId.size() < good || output.quietFor().compareTo(PipelineChecks.SETTLE) < 0) {
                    assertThat(System.nanoTime()).as("all %d good DPO pairs in batches within %s (logs in %s)", good, TIMEOUT, system.logDir())
                            .isLessThan(deadline);
                    output.poll(Duration.ofMillis(500));
                    rowsPerId.clear();
                    for (PipelineOutput.Read<Batch> read : output.batches()) {
                        Batch b = read.value();
                        assertThat(b.getRejectedRowsCount()).as("rejected rows of %s", b.getBatchId()).isEqualTo(b.getRowsCount());
                        for (int i = 0; i < b.getRowsCount(); i++) {
                            BatchRow chosen = b.getRows(i);
                            if (chosen.getFiller()) {
                                continue;
                            }
                            assertThat(b.getRejectedRows(i).getRecordsList()).as("row %d of %s: both sides of one pair", i, b.getBatchId())
                                    .isEqualTo(chosen.getRecordsList());
                            chosen.getRecordsList().forEach(r -> rowsPerId.merge(r.getRecordId(), 1, Integer::sum));
                        }
                    }
                }
            }
            assertThat(rowsPerId.keySet()).as("record ids in DPO batch rows").isEqualTo(goodIds);
            assertThat(rowsPerId).as("rows per good DPO record id").allSatisfy((id, n) -> assertThat(n).isEqualTo(1));
        }
    }

    /** Posts DPO sample pairs that are good at T (checked offline with core's DpoPreparer) with the mismatched pair among them. */
    private static DpoRun postDpo(LocalSystem system, Path folder) throws Exception {
        List<byte[]> lines = new ArrayList<>();
        Set<String> ids = new HashSet<>();
        try (var in = BadRecordPerReasonTest.class.getResourceAsStream("/millrace/samples/dpo.jsonl");
             TokenizerFolder tokenizer = TokenizerFolder.open(folder)) {
            assertThat(in).as("the bundled DPO sample").isNotNull();
            DpoPreparer preparer = new DpoPreparer(new SftPreparer(tokenizer, new SftOptions(Stage.DPO, T, null)));
            for (byte[] line : LossMaskKillTest.splitLines(in.readAllBytes())) {
                if (line.length < MAX_RECORD_BYTES && lines.size() < 6 && preparer.prepare(new RawLine(1, line)) instanceof Prepared.Pair pair
                        && ids.add(pair.recordId())) {
                    lines.add(line);
                }
            }
        }
        assertThat(lines).as("good DPO sample pairs").hasSizeGreaterThanOrEqualTo(3);
        lines.add(2, DPO_PROMPT_MISMATCH.getBytes(StandardCharsets.UTF_8));
        IngestClient.Answer answer = new IngestClient(system.ingestUri()).post(Stage.DPO, LossMaskKillTest.join(lines));
        return new DpoRun(lines, 3, ids, answer);
    }

    /** Writes the TOPIC cases to the topic their service reads; returns them by key. */
    private static Map<String, Case> writeStraightToTopics(LocalSystem system, List<Case> cases) throws Exception {
        Map<String, Case> byKey = new LinkedHashMap<>();
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, system.bootstrapServers(),
                ProducerConfig.ACKS_CONFIG, "all"), new StringSerializer(), new ByteArraySerializer())) {
            for (Case c : cases) {
                if (c.via() != Via.TOPIC) {
                    continue;
                }
                String topic;
                String key;
                if (c.reason() == Reason.TOKENIZER_MISMATCH) {
                    topic = system.topics().templated(Stage.SFT);
                    key = TemplatedRecord.parseFrom(c.bytes()).getRecordId();
                } else {
                    topic = system.topics().raw(Stage.SFT);
                    key = "malformed-message-record";
                }
                producer.send(new ProducerRecord<>(topic, key, c.bytes())).get();
                byKey.put(key, c);
            }
        }
        return byKey;
    }

    /** The record id inside a downstream dead letter's original (the message as it was on its input topic). */
    private static String inputRecordId(DeadLetter d) throws InvalidProtocolBufferException {
        String topic = d.getInput().getTopic();
        if (topic.endsWith(".raw")) {
            return RawRecord.parseFrom(d.getOriginal()).getRecordId();
        }
        if (topic.endsWith(".templated")) {
            return TemplatedRecord.parseFrom(d.getOriginal()).getRecordId();
        }
        return TokenizedRecord.parseFrom(d.getOriginal()).getRecordId();
    }

    /** A few hand-made conversations plus sample conversations that are good under this test's settings. */
    private static List<byte[]> goodLines(SftPreparer preparer) throws Exception {
        List<byte[]> lines = new ArrayList<>();
        lines.add(GOOD_SHORT.getBytes(StandardCharsets.UTF_8));
        lines.add("{\"conversations\": [{\"role\": \"user\", \"content\": \"把 good morning 翻译成中文\"}, {\"role\": \"assistant\", \"content\": \"早上好！\"}]}"
                .getBytes(StandardCharsets.UTF_8));
        for (byte[] line : LossMaskKillTest.splitLines(EndToEndTest.sample())) {
            if (lines.size() >= 20) {
                break;
            }
            if (line.length < MAX_RECORD_BYTES && preparer.prepare(new RawLine(1, line)) instanceof Prepared.Example) {
                lines.add(line);
            }
        }
        return lines;
    }

    /**
     * The bundled tokenizer with a template that raises on one marker, is not prefix-consistent on
     * another and spins on a third.
     */
    static Path testTokenizerFolder(Path dir) throws Exception {
        Path bundled = TokenizerFolder.bundledPath();
        Files.copy(bundled.resolve("tokenizer.json"), dir.resolve("tokenizer.json"));
        ObjectMapper json = new ObjectMapper();
        ObjectNode config = (ObjectNode) json.readTree(bundled.resolve("tokenizer_config.json").toFile());
        String template = "{% for m in messages %}{% if '" + RAISE_MARKER + "' in m['content'] %}"
                + "{{ raise_exception('this test template refuses " + RAISE_MARKER + "') }}{% endif %}"
                // 10^10 loop iterations: stopped by the record's time budget
                + "{% if '" + SPIN_MARKER + "' in m['content'] %}{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}"
                + "{% endfor %}{% endif %}{% endfor %}"
                // the conversation's length in front: a prefix of the conversation renders differently
                + "{% if '" + NOT_PREFIX_MARKER + "' in messages[0]['content'] %}{{ messages|length }}{% endif %}"
                + config.get("chat_template").asText();
        config.put("chat_template", template);
        json.writeValue(dir.resolve("tokenizer_config.json").toFile(), config);
        return dir;
    }

    private static Case ingest(Reason reason, String line) {
        return new Case(reason, "ingest", Via.INGEST, line.getBytes(StandardCharsets.UTF_8));
    }

    private static Case posted(Reason reason, String service, String line) {
        return new Case(reason, service, Via.POSTED_DOWNSTREAM, line.getBytes(StandardCharsets.UTF_8));
    }

    private static byte[] concat(String a, byte[] b, String c) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(a.getBytes(StandardCharsets.UTF_8));
        out.writeBytes(b);
        out.writeBytes(c.getBytes(StandardCharsets.UTF_8));
        return out.toByteArray();
    }
}
