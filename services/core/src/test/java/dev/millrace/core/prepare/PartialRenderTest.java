package dev.millrace.core.prepare;

import static org.assertj.core.api.Assertions.assertThat;

import dev.millrace.core.json.RawLine;
import dev.millrace.core.mask.TrainOn;
import dev.millrace.core.record.Reason;
import dev.millrace.core.record.Stage;
import dev.millrace.core.record.Warning;
import dev.millrace.core.tokenizer.TokenizerFolder;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * docs/semantics.md, SFT rule 9: a record the chat template renders only part of is not trained on
 * silently. The bundled template ignores {@code tool_calls} and {@code tool} messages.
 */
class PartialRenderTest {
    private static final String TOOL_USE = """
            {"messages": [{"role": "user", "content": "Weather in Paris?"},\
             {"role": "assistant", "content": "Let me check.", "tool_calls": [{"type": "function",\
             "function": {"name": "get_weather", "arguments": {"city": "Paris"}}}]},\
             {"role": "tool", "content": "{\\"temp_c\\": 22}"},\
             {"role": "assistant", "content": "It is 22 degrees in Paris."}]}""";
    private static final String PLAIN = """
            {"messages": [{"role": "system", "content": "  Be brief.  "}, {"role": "user", "content": "Hi"},\
             {"role": "assistant", "content": "Hello!"}]}""";

    private static TokenizerFolder bundled;

    @BeforeAll
    static void load() throws Exception {
        bundled = TokenizerFolder.bundled();
    }

    @AfterAll
    static void close() {
        bundled.close();
    }

    private static Prepared prepare(Stage stage, PartialRenderPolicy policy, String line) {
        SftOptions options = new SftOptions(stage, 512, null, null, TrainOn.ALL, SpecialTokenPolicy.ALLOW, null, policy);
        SftPreparer sft = new SftPreparer(bundled, options);
        LinePreparer preparer = stage == Stage.DPO ? new DpoPreparer(sft) : sft;
        return preparer.prepare(new RawLine(7, line.getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    void aToolUseRecordTheTemplateCannotRenderIsADeadLetterNamingTheMessage() {
        Prepared out = prepare(Stage.SFT, PartialRenderPolicy.REJECT, TOOL_USE);

        assertThat(out).isInstanceOf(Prepared.Rejected.class);
        Prepared.Rejected rejected = (Prepared.Rejected) out;
        assertThat(rejected.line()).isEqualTo(7);
        assertThat(rejected.reason()).isEqualTo(Reason.TEMPLATE_DROPPED_CONTENT);
        assertThat(rejected.message()).startsWith("messages[1].tool_calls[0]: the function name \"get_weather\"")
                .contains("partial-render=reject");
    }

    @Test
    void theDefaultIsReject() {
        assertThat(new SftOptions(Stage.SFT, 512, null).partialRender()).isEqualTo(PartialRenderPolicy.REJECT);
        assertThat(new SftOptions(Stage.SFT, 512, null, null, TrainOn.ALL, null, null, null).partialRender())
                .isEqualTo(PartialRenderPolicy.REJECT);
    }

    @Test
    void underAcceptTheRecordIsPreparedAsRenderedWithAWarning() {
        Prepared out = prepare(Stage.SFT, PartialRenderPolicy.ACCEPT, TOOL_USE);

        assertThat(out).isInstanceOf(Prepared.Example.class);
        Prepared.Example example = (Prepared.Example) out;
        assertThat(example.text()).doesNotContain("get_weather").contains("Let me check.").contains("It is 22 degrees in Paris.");
        assertThat(example.warnings()).contains(Warning.TEMPLATE_DROPPED_CONTENT);
    }

    @Test
    void aConversationTheTemplateRendersWhollyIsUnaffected() {
        Prepared out = prepare(Stage.SFT, PartialRenderPolicy.REJECT, PLAIN);

        assertThat(out).isInstanceOf(Prepared.Example.class);
        assertThat(((Prepared.Example) out).warnings()).doesNotContain(Warning.TEMPLATE_DROPPED_CONTENT);
        assertThat(((Prepared.Example) out).text()).isEqualTo(
                ((Prepared.Example) prepare(Stage.SFT, PartialRenderPolicy.ACCEPT, PLAIN)).text());
    }

    @Test
    void aDpoSideTheTemplateCannotRenderRejectsThePairNamingTheSide() {
        String pair = """
                {"chosen": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"}],\
                 "rejected": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Let me look.",\
                 "tool_calls": [{"type": "function", "function": {"name": "lookup_greeting", "arguments": {}}}]}]}""";

        Prepared out = prepare(Stage.DPO, PartialRenderPolicy.REJECT, pair);

        assertThat(out).isInstanceOf(Prepared.Rejected.class);
        assertThat(((Prepared.Rejected) out).reason()).isEqualTo(Reason.TEMPLATE_DROPPED_CONTENT);
        assertThat(((Prepared.Rejected) out).message()).startsWith("rejected: messages[1].tool_calls[0]");
        assertThat(prepare(Stage.DPO, PartialRenderPolicy.ACCEPT, pair)).isInstanceOf(Prepared.Pair.class);
    }
}
