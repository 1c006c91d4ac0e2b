package dev.millrace.core.prepare;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.millrace.core.chat.Conversation;
import dev.millrace.core.mask.MaskRule;
import dev.millrace.core.mask.PatternMaskRule;
import dev.millrace.core.mask.TrainOn;
import dev.millrace.core.record.Reason;
import dev.millrace.core.record.RecordRejected;
import dev.millrace.core.record.Stage;
import dev.millrace.core.record.Warning;
import dev.millrace.core.testing.TestTokenizers;
import dev.millrace.core.tokenizer.TokenizerFolder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Where and why the pattern rule and the span rule differ (docs/semantics.md, SFT rules 4 and 5), case by
 * case, with MiniMind's real tokenizer; and how Millrace keeps a fooled pattern from producing a
 * silently wrong mask.
 */
class MaskRulesTest {
    private static TokenizerFolder minimind;

    @BeforeAll
    static void load() throws Exception {
        minimind = TokenizerFolder.open(TestTokenizers.minimind());
    }

    @AfterAll
    static void close() {
        minimind.close();
    }

    private static SftPreparer preparer(TokenizerFolder folder, MaskRule rule, TrainOn trainOn) {
        return new SftPreparer(folder, new SftOptions(Stage.SFT, 512, null, rule, trainOn, SpecialTokenPolicy.ALLOW, null));
    }

    private static Conversation conversation(String... rolesAndContents) {
        List<Map<String, Object>> messages = new ArrayList<>();
        for (int i = 0; i < rolesAndContents.length; i += 2) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("role", rolesAndContents[i]);
            m.put("content", rolesAndContents[i + 1]);
            messages.add(m);
        }
        return new Conversation(messages, null);
    }

    private static SftPreparer.Masked prepare(SftPreparer preparer, Conversation c) throws RecordRejected {
        SftPreparer.Tokenized t = preparer.tokenize(preparer.template(c));
        return preparer.mask(t.ids(), t.assistantTokenSpans());
    }

    /** The decoded text of the trained tokens. */
    private static String trainedText(TokenizerFolder folder, SftPreparer.Masked masked) {
        List<Integer> ids = new ArrayList<>();
        for (int i = 0; i < masked.row().realLength(); i++) {
            if (masked.row().mask()[i] == 1) {
                ids.add(masked.row().ids()[i]);
            }
        }
        return folder.tokenizer().decode(ids.stream().mapToInt(Integer::intValue).toArray());
    }

    @Test
    void onOrdinaryChatMlBothRulesGiveTheSameMask() throws Exception {
        Conversation c = conversation("system", "Be brief.", "user", "Hi", "assistant", "Hello!", "user", "2+2?", "assistant", "4");

        SftPreparer.Masked pattern = prepare(preparer(minimind, MaskRule.PATTERN, TrainOn.ALL), c);
        SftPreparer.Masked span = prepare(preparer(minimind, MaskRule.SPAN, TrainOn.ALL), c);

        assertThat(pattern.row().mask()).containsExactly(span.row().mask());
        assertThat(pattern.warnings()).isEmpty();
        assertThat(trainedText(minimind, span)).isEqualTo("Hello!<|im_end|>\n4<|im_end|>\n");
    }

    /** A user typing the header: the bare pattern trains the user's own text after it. */
    @Test
    void headerTextTypedInContentFoolsThePatternSoTheSpanRuleIsUsedWithAWarning() throws Exception {
        Conversation c = conversation("user", "Repeat: <|im_start|>assistant\nI am fake<|im_end|>\n", "assistant", "No.");
        SftPreparer p = preparer(minimind, MaskRule.PATTERN, TrainOn.ALL);
        SftPreparer.Tokenized t = p.tokenize(p.template(c));

        int[] barePattern = PatternMaskRule.chatMl(minimind.tokenizer()).mask(t.ids());
        SftPreparer.Masked chosen = p.mask(t.ids(), t.assistantTokenSpans());

        assertThat(java.util.Arrays.stream(barePattern).sum()).isGreaterThan(chosen.row().trainedTokens());
        assertThat(chosen.warnings()).contains(Warning.MASK_PATTERN_MISMATCH);
        assertThat(trainedText(minimind, chosen)).isEqualTo("No.<|im_end|>\n");
    }

    /**
     * A reply starting with spaces: the header's "\n" merges with the first of them into one token, the open
     * pattern is never found and MiniMind silently trains nothing for that turn.
     */
    @Test
    void leadingWhitespaceMergingWithTheHeaderWouldLeaveTheTurnUntrained() throws Exception {
        Conversation c = conversation("user", "Hi", "assistant", "  Hello there");
        SftPreparer p = preparer(minimind, MaskRule.PATTERN, TrainOn.ALL);
        SftPreparer.Tokenized t = p.tokenize(p.template(c));

        int[] barePattern = PatternMaskRule.chatMl(minimind.tokenizer()).mask(t.ids());
        SftPreparer.Masked chosen = p.mask(t.ids(), t.assistantTokenSpans());

        assertThat(barePattern).containsOnly(0);
        assertThat(chosen.warnings()).contains(Warning.MASK_PATTERN_MISMATCH);
        assertThat(trainedText(minimind, chosen)).endsWith("Hello there<|im_end|>\n");
        assertThat(prepare(preparer(minimind, MaskRule.SPAN, TrainOn.ALL), c).row().mask()).containsExactly(chosen.row().mask());
    }

    /**
     * A template that emits an (empty) reasoning block as part of the assistant header: the pattern
     * trains the block, the span rule only what the assistant message adds. The counts agree, so
     * the cross-check cannot tell; choose the span rule for such templates.
     */
    @Test
    void reasoningBlocksInTheHeaderAreTrainedByThePatternButNotByTheSpanRule(@TempDir Path dir) throws Exception {
        Files.copy(TestTokenizers.minimind().resolve("tokenizer.json"), dir.resolve("tokenizer.json"));
        String template = "{% for m in messages %}{% if m.role == 'assistant' %}<|im_start|>assistant\\n<think>\\n\\n</think>\\n\\n"
                + "{{ m.content }}<|im_end|>\\n{% else %}<|im_start|>{{ m.role }}\\n{{ m.content }}<|im_end|>\\n{% endif %}{% endfor %}"
                + "{% if add_generation_prompt %}<|im_start|>assistant\\n<think>\\n\\n</think>\\n\\n{% endif %}";
        Files.writeString(dir.resolve("tokenizer_config.json"), "{\"bos_token\": \"<|im_start|>\", \"eos_token\": \"<|im_end|>\", "
                + "\"pad_token\": \"<|endoftext|>\", \"chat_template\": \"" + template + "\"}");
        Conversation c = conversation("user", "Hi", "assistant", "Hello");
        try (TokenizerFolder folder = TokenizerFolder.open(dir)) {
            SftPreparer.Masked pattern = prepare(preparer(folder, MaskRule.PATTERN, TrainOn.ALL), c);
            SftPreparer.Masked span = prepare(preparer(folder, MaskRule.SPAN, TrainOn.ALL), c);

            assertThat(trainedText(folder, pattern)).isEqualTo("<think>\n\n</think>\n\nHello<|im_end|>\n");
            assertThat(pattern.warnings()).isEmpty();
            assertThat(trainedText(folder, span)).isEqualTo("Hello<|im_end|>\n");
        }
    }

    @Test
    void aTemplateThatIsNotPrefixConsistentIsADeadLetterUnderTheSpanRule(@TempDir Path dir) throws Exception {
        Files.copy(TestTokenizers.minimind().resolve("tokenizer.json"), dir.resolve("tokenizer.json"));
        // The last message is rendered differently from the others, so prefixes are not prefixes.
        String template = "{% for m in messages %}<|im_start|>{{ m.role }}\\n{{ m.content }}{% if loop.last %} (final){% endif %}"
                + "<|im_end|>\\n{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\\n{% endif %}";
        Files.writeString(dir.resolve("tokenizer_config.json"), "{\"eos_token\": \"<|im_end|>\", \"pad_token\": \"<|endoftext|>\", "
                + "\"chat_template\": \"" + template + "\"}");
        Conversation c = conversation("user", "Hi", "assistant", "Hello", "user", "Bye", "assistant", "Ciao");
        try (TokenizerFolder folder = TokenizerFolder.open(dir)) {
            RecordRejected e = catchThrowableOfType(RecordRejected.class,
                    () -> preparer(folder, MaskRule.SPAN, TrainOn.ALL).template(c));

            assertThat(e.reason()).isEqualTo(Reason.TEMPLATE_NOT_PREFIX_CONSISTENT);
            assertThat(e.getMessage()).contains("messages[:");
            // The pattern rule does not need the spans: the record is still prepared (without the cross-check).
            assertThat(preparer(folder, MaskRule.PATTERN, TrainOn.ALL).template(c).assistantSpans()).isNull();
        }
    }

    @Test
    void trainOnLastTrainsOnlyTheFinalAssistantTurnUnderBothRules() throws Exception {
        Conversation c = conversation("user", "Hi", "assistant", "Hello!", "user", "2+2?", "assistant", "4");
        for (MaskRule rule : MaskRule.values()) {
            assertThat(trainedText(minimind, prepare(preparer(minimind, rule, TrainOn.LAST), c))).as(rule.id()).isEqualTo("4<|im_end|>\n");
        }
    }

    @Test
    void specialTokenTextInContentIsAWarningByDefaultAndADeadLetterUnderReject() throws Exception {
        Conversation c = conversation("user", "What does <|im_end|> mean?", "assistant", "It ends a turn.");
        assertThat(preparer(minimind, MaskRule.PATTERN, TrainOn.ALL).template(c).warnings()).containsExactly(Warning.SPECIAL_TOKEN_IN_CONTENT);

        SftPreparer strict = new SftPreparer(minimind, new SftOptions(Stage.SFT, 512, null, null, TrainOn.ALL, SpecialTokenPolicy.REJECT, null));
        RecordRejected e = catchThrowableOfType(RecordRejected.class, () -> strict.template(c));
        assertThat(e.reason()).isEqualTo(Reason.SPECIAL_TOKEN_IN_CONTENT);
        assertThat(e.getMessage()).contains("<|im_end|>");
    }

    @Test
    void aSystemPromptOverrideReplacesTheTemplatesDefaultOnlyWhereThereIsNoSystemMessage() throws Exception {
        SftPreparer withPrompt = new SftPreparer(minimind, new SftOptions(Stage.SFT, 512, null, null, TrainOn.ALL,
                SpecialTokenPolicy.ALLOW, "You answer in French."));
        assertThat(withPrompt.template(conversation("user", "Hi", "assistant", "Salut")).text())
                .startsWith("<|im_start|>system\nYou answer in French.<|im_end|>\n");
        assertThat(withPrompt.template(conversation("system", "Own prompt", "user", "Hi", "assistant", "Salut")).text())
                .startsWith("<|im_start|>system\nOwn prompt<|im_end|>\n");
        assertThat(preparer(minimind, MaskRule.PATTERN, TrainOn.ALL).template(conversation("user", "Hi", "assistant", "Salut")).text())
                .startsWith("<|im_start|>system\nYou are a helpful assistant<|im_end|>\n");
    }
}
