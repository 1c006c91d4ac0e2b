package dev.millrace.core.prepare;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import dev.millrace.core.json.RawLine;
import dev.millrace.core.mask.MaskRule;
import dev.millrace.core.mask.TrainOn;
import dev.millrace.core.record.Reason;
import dev.millrace.core.record.Stage;
import dev.millrace.core.tokenizer.TokenizerFolder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 11, item 2: one conversation of thousands of short messages (a few hundred KB, under every
 * size limit) must not stall preparation: it is rejected at once with a reason, and the records
 * around it are prepared.
 */
class LongRecordTest {
    private static TokenizerFolder bundled;

    @BeforeAll
    static void load() throws Exception {
        bundled = TokenizerFolder.bundled();
    }

    @AfterAll
    static void close() {
        bundled.close();
    }

    /** A conversation of {@code messages} short messages, user and assistant in turn. */
    static String conversation(int messages) {
        StringBuilder sb = new StringBuilder("{\"messages\": [");
        for (int i = 0; i < messages; i++) {
            if (i > 0) {
                sb.append(", ");
            }
            String role = i % 2 == 0 ? "user" : "assistant";
            sb.append("{\"role\": \"").append(role).append("\", \"content\": \"message number ").append(i)
                    .append(" of a very long chat\"}");
        }
        return sb.append("]}").toString();
    }

    private static RawLine line(long number, String json) {
        return new RawLine(number, json.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void aConversationOfFiveThousandShortMessagesIsRejectedQuicklyBetweenGoodRecords() {
        String longOne = conversation(5_000);
        assertThat(longOne.length()).isBetween(200_000, 400_000);
        SftPreparer preparer = new SftPreparer(bundled, new SftOptions(Stage.SFT, 512, null));

        // A generous bound on "it finished": the quadratic span rule needs minutes here.
        List<Prepared> out = assertTimeoutPreemptively(Duration.ofSeconds(60), () -> List.of(
                preparer.prepare(line(1, conversation(4))),
                preparer.prepare(line(2, longOne)),
                preparer.prepare(line(3, conversation(2)))));

        assertThat(out.get(0)).isInstanceOf(Prepared.Example.class);
        assertThat(out.get(2)).isInstanceOf(Prepared.Example.class);
        assertThat(out.get(1)).isInstanceOf(Prepared.Rejected.class);
        Prepared.Rejected rejected = (Prepared.Rejected) out.get(1);
        assertThat(rejected.line()).isEqualTo(2);
        assertThat(rejected.reason()).isEqualTo(Reason.TOO_MANY_MESSAGES);
        assertThat(rejected.message()).contains("5000 messages").contains("max-messages=1000");
    }

    @Test
    void underARaisedLimitTheBundledTemplateSpansFiveThousandMessagesFromOneRender() {
        SftOptions options = new SftOptions(Stage.SFT, 512, null, MaskRule.SPAN, TrainOn.ALL, SpecialTokenPolicy.ALLOW, null,
                PartialRenderPolicy.REJECT, new RecordBounds(10_000, Duration.ofSeconds(50)));
        SftPreparer preparer = new SftPreparer(bundled, options);

        // A generous bound on "it finished"; the prefix renders alone need minutes here.
        Prepared out = assertTimeoutPreemptively(Duration.ofSeconds(60), () -> preparer.prepare(line(1, conversation(5_000))));

        assertThat(out).isInstanceOf(Prepared.Example.class);
        assertThat(((Prepared.Example) out).row().trainedTokens()).isPositive();
    }

    @Test
    void theLimitIsASettingAndAConversationAtItIsPrepared() {
        SftOptions options = new SftOptions(Stage.SFT, 512, null).withBounds(new RecordBounds(4, RecordBounds.DEFAULT_TIME_BUDGET));
        SftPreparer preparer = new SftPreparer(bundled, options);

        assertThat(preparer.prepare(line(1, conversation(4)))).isInstanceOf(Prepared.Example.class);
        Prepared five = preparer.prepare(line(2, conversation(6)));
        assertThat(five).isInstanceOf(Prepared.Rejected.class);
        assertThat(((Prepared.Rejected) five).reason()).isEqualTo(Reason.TOO_MANY_MESSAGES);
        assertThat(((Prepared.Rejected) five).message()).contains("6 messages").contains("max-messages=4");
    }

    @Test
    void aDpoSideOverTheLimitIsRejectedNamingTheSide() {
        SftOptions options = new SftOptions(Stage.DPO, 512, null).withBounds(new RecordBounds(3, RecordBounds.DEFAULT_TIME_BUDGET));
        String prompt = "{\"role\": \"user\", \"content\": \"q\"}, {\"role\": \"assistant\", \"content\": \"a\"},"
                + " {\"role\": \"user\", \"content\": \"more\"}, ";
        String pair = "{\"chosen\": [" + prompt + "{\"role\": \"assistant\", \"content\": \"c\"}], \"rejected\": [" + prompt
                + "{\"role\": \"assistant\", \"content\": \"d\"}]}";

        Prepared out = new DpoPreparer(new SftPreparer(bundled, options)).prepare(line(1, pair));

        assertThat(out).isInstanceOf(Prepared.Rejected.class);
        assertThat(((Prepared.Rejected) out).reason()).isEqualTo(Reason.TOO_MANY_MESSAGES);
        assertThat(((Prepared.Rejected) out).message()).startsWith("chosen: the conversation has 4 messages");
    }

    /** A tokenizer folder with the bundled vocabulary and {@code template} as its chat template. */
    static TokenizerFolder withTemplate(Path dir, String template) throws Exception {
        Files.copy(TokenizerFolder.bundledPath().resolve("tokenizer.json"), dir.resolve("tokenizer.json"));
        Files.writeString(dir.resolve("tokenizer_config.json"), "{\"eos_token\": \"<|im_end|>\", \"pad_token\": \"<|endoftext|>\", "
                + "\"chat_template\": \"" + template.replace("\"", "\\\"").replace("\n", "\\n") + "\"}");
        return TokenizerFolder.open(dir);
    }

    @Test
    void aTemplateThatWouldRunForHoursStopsAtTheBudgetAsADeadLetterAndTheNextRecordIsPrepared(@TempDir Path dir) throws Exception {
        // 10^15 loop iterations when the first message says "spin"; a plain render otherwise.
        String template = "{% for m in messages %}{% if m['content'] == 'spin' %}{% for i in range(100000) %}"
                + "{% for j in range(100000) %}{% endfor %}{% endfor %}{% endif %}"
                + "{{ m['role'] }}: {{ m['content'] }}\n{% endfor %}{% if add_generation_prompt %}assistant: {% endif %}";
        try (TokenizerFolder folder = withTemplate(dir, template)) {
            SftOptions options = new SftOptions(Stage.SFT, 512, null, MaskRule.SPAN, TrainOn.ALL, SpecialTokenPolicy.ALLOW, null,
                    PartialRenderPolicy.REJECT, new RecordBounds(RecordBounds.DEFAULT_MAX_MESSAGES, Duration.ofMillis(1500)));
            SftPreparer preparer = new SftPreparer(folder, options);

            List<Prepared> out = assertTimeoutPreemptively(Duration.ofSeconds(60), () -> List.of(
                    preparer.prepare(line(1, "{\"messages\": [{\"role\": \"user\", \"content\": \"spin\"},"
                            + " {\"role\": \"assistant\", \"content\": \"ok\"}]}")),
                    preparer.prepare(line(2, conversation(4)))));

            assertThat(out.get(0)).isInstanceOf(Prepared.Rejected.class);
            Prepared.Rejected rejected = (Prepared.Rejected) out.get(0);
            assertThat(rejected.reason()).isEqualTo(Reason.RECORD_TIME_BUDGET_EXCEEDED);
            assertThat(rejected.message()).contains("record-time-budget-ms=1500");
            assertThat(out.get(1)).isInstanceOf(Prepared.Example.class);
        }
    }

    @Test
    void aBudgetBreachInsideASpanRulePrefixRenderIsNotMistakenForATemplateProblem(@TempDir Path dir) throws Exception {
        // Spins only on the prefix render with add_generation_prompt (the span rule's), not on the full render.
        String template = "{% for m in messages %}{{ m['role'] }}: {{ m['content'] }}\n{% endfor %}"
                + "{% if add_generation_prompt %}{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}"
                + "assistant: {% endif %}";
        try (TokenizerFolder folder = withTemplate(dir, template)) {
            for (MaskRule rule : MaskRule.values()) {
                SftOptions options = new SftOptions(Stage.SFT, 512, null, rule, TrainOn.ALL, SpecialTokenPolicy.ALLOW, null,
                        PartialRenderPolicy.REJECT, new RecordBounds(RecordBounds.DEFAULT_MAX_MESSAGES, Duration.ofSeconds(1)));

                Prepared out = assertTimeoutPreemptively(Duration.ofSeconds(60),
                        () -> new SftPreparer(folder, options).prepare(line(1, conversation(2))));

                assertThat(out).as(rule.name()).isInstanceOf(Prepared.Rejected.class);
                assertThat(((Prepared.Rejected) out).reason()).as(rule.name()).isEqualTo(Reason.RECORD_TIME_BUDGET_EXCEEDED);
                assertThat(((Prepared.Rejected) out).message()).contains("record-time-budget-ms=1000").contains("add_generation_prompt=True");
            }
        }
    }
}
