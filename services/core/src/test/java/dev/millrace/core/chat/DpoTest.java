package dev.millrace.core.chat;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.millrace.core.json.LineReader;
import dev.millrace.core.json.RawLine;
import dev.millrace.core.json.StrictJson;
import dev.millrace.core.record.Reason;
import dev.millrace.core.record.RecordId;
import dev.millrace.core.record.RecordRejected;
import dev.millrace.core.record.Stage;
import dev.millrace.core.testing.SharedData;
import java.io.InputStream;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** DPO records, both shapes, and the shared-prompt rule of docs/semantics.md#dpo. */
class DpoTest {

    private static final String Q = "{'role': 'user', 'content': 'q'}";
    private static final String A = "{'role': 'assistant', 'content': 'good'}";
    private static final String B = "{'role': 'assistant', 'content': 'bad'}";

    private static RecordReader.Result result(String singleQuoted) throws RecordRejected {
        return RecordReader.read(StrictJson.parse(singleQuoted.replace('\'', '"')), Stage.DPO, null);
    }

    private static DpoPair read(String singleQuoted) throws RecordRejected {
        return result(singleQuoted).asDpoPair();
    }

    private static RecordRejected rejection(String singleQuoted) {
        return catchThrowableOfType(RecordRejected.class, () -> read(singleQuoted));
    }

    private static Map<String, Object> msg(String role, String content) {
        return Map.of("role", role, "content", content);
    }

    // --- message-list shape ------------------------------------------------------------------

    @Test
    void messageListsAreReadAsTwoConversations() throws Exception {
        RecordReader.Result r = result("{'chosen': [" + Q + ", " + A + "], 'rejected': [" + Q + ", " + B + "]}");
        DpoPair pair = r.asDpoPair();

        assertThat(r.format()).isEqualTo(InputFormat.DPO);
        assertThat(pair.chosen().messages()).containsExactly(msg("user", "q"), msg("assistant", "good"));
        assertThat(pair.rejected().messages()).containsExactly(msg("user", "q"), msg("assistant", "bad"));
        assertThat(pair.prompt()).containsExactly(msg("user", "q"));
    }

    @Test
    void theNormalisedFormHoldsEachSideNormalised() throws Exception {
        DpoPair pair = read("{'chosen': [" + Q + ", " + A + "], 'rejected': [" + Q + ", " + B + "]}");

        assertThat(pair.normalised()).isEqualTo(Map.of(
                "chosen", Map.of("messages", List.of(msg("user", "q"), msg("assistant", "good"))),
                "rejected", Map.of("messages", List.of(msg("user", "q"), msg("assistant", "bad")))));
        assertThat(DpoPair.fromNormalised(pair.normalised())).isEqualTo(pair);
    }

    @Test
    void aSharedMultiTurnPromptIsAccepted() throws Exception {
        String prompt = "{'role': 'system', 'content': 's'}, " + Q + ", {'role': 'assistant', 'content': 'first'}, {'role': 'user', 'content': 'q2'}";
        DpoPair pair = read("{'chosen': [" + prompt + ", " + A + "], 'rejected': [" + prompt + ", " + B + "]}");

        assertThat(pair.prompt()).hasSize(4);
    }

    @Test
    void positionalRolesWorkOnEachSide() throws Exception {
        DpoPair pair = read("{'chosen': [{'content': 'q'}, {'content': 'good'}], 'rejected': [{'content': 'q'}, {'content': 'bad'}]}");

        assertThat(pair.chosen().messages()).containsExactly(msg("user", "q"), msg("assistant", "good"));
    }

    @Test
    void eachSideIsCheckedLikeAConversationNamingTheSide() {
        RecordRejected role = rejection("{'chosen': [" + Q + ", " + A + "], 'rejected': [" + Q + ", {'role': 'bot', 'content': 'x'}]}");
        RecordRejected content = rejection("{'chosen': [" + Q + ", {'role': 'assistant', 'content': 5}], 'rejected': [" + Q + ", " + B + "]}");
        RecordRejected empty = rejection("{'chosen': [], 'rejected': [" + Q + ", " + B + "]}");
        RecordRejected type = rejection("{'chosen': {'a': 1}, 'rejected': [" + Q + ", " + B + "]}");

        assertThat(role.reason()).isEqualTo(Reason.UNKNOWN_ROLE);
        assertThat(role.getMessage()).contains("rejected[1]");
        assertThat(content.reason()).isEqualTo(Reason.WRONG_TYPE);
        assertThat(content.getMessage()).contains("chosen[1].content");
        assertThat(empty.reason()).isEqualTo(Reason.EMPTY_CONVERSATION);
        assertThat(empty.getMessage()).contains("chosen");
        assertThat(type.reason()).isEqualTo(Reason.WRONG_TYPE);
        assertThat(type.getMessage()).contains("\"chosen\"").contains("an object");
    }

    @Test
    void aSideWithoutAnAssistantMessageIsNoTrainableTokens() {
        RecordRejected e = rejection("{'chosen': [" + Q + ", " + A + "], 'rejected': [" + Q + "]}");

        assertThat(e.reason()).isEqualTo(Reason.NO_TRAINABLE_TOKENS);
        assertThat(e.getMessage()).contains("rejected");
    }

    // --- the shared-prompt rule --------------------------------------------------------------

    @Test
    void differentPromptsAreDpoPromptMismatchNamingWhere() {
        RecordRejected e = rejection("{'chosen': [" + Q + ", " + A + "], 'rejected': [{'role': 'user', 'content': 'other'}, " + B + "]}");

        assertThat(e.reason()).isEqualTo(Reason.DPO_PROMPT_MISMATCH);
        assertThat(e.getMessage()).contains("chosen[0]").contains("rejected[0]").contains("\"content\"").contains("\"q\"").contains("\"other\"");
    }

    @Test
    void aDifferenceInAnEarlierAssistantTurnIsAMismatch() {
        String c = Q + ", {'role': 'assistant', 'content': 'first'}, {'role': 'user', 'content': 'q2'}, " + A;
        String r = Q + ", {'role': 'assistant', 'content': 'FIRST'}, {'role': 'user', 'content': 'q2'}, " + B;
        RecordRejected e = rejection("{'chosen': [" + c + "], 'rejected': [" + r + "]}");

        assertThat(e.reason()).isEqualTo(Reason.DPO_PROMPT_MISMATCH);
        assertThat(e.getMessage()).contains("chosen[1]").contains("rejected[1]");
    }

    @Test
    void aDifferenceInAnExtraKeyIsAMismatchNamingTheKey() {
        RecordRejected e = rejection("{'chosen': [{'role': 'user', 'content': 'q', 'name': 'ann'}, " + A + "], 'rejected': [" + Q + ", " + B + "]}");

        assertThat(e.reason()).isEqualTo(Reason.DPO_PROMPT_MISMATCH);
        assertThat(e.getMessage()).contains("\"name\"").contains("(absent)");
    }

    @Test
    void promptsOfDifferentLengthAreAMismatch() {
        String longer = Q + ", {'role': 'assistant', 'content': 'first'}, {'role': 'user', 'content': 'q2'}, " + A;
        RecordRejected e = rejection("{'chosen': [" + longer + "], 'rejected': [" + Q + ", " + B + "]}");

        assertThat(e.reason()).isEqualTo(Reason.DPO_PROMPT_MISMATCH);
        assertThat(e.getMessage()).contains("chosen has 3").contains("rejected has 1");
    }

    @Test
    void messagesAfterTheLastAssistantMessageAreNotPartOfThePrompt() throws Exception {
        DpoPair pair = read("{'chosen': [" + Q + ", " + A + ", {'role': 'user', 'content': 'thanks'}], 'rejected': [" + Q + ", " + B + "]}");

        assertThat(pair.prompt()).containsExactly(msg("user", "q"));
    }

    @Test
    void differentToolsAreAMismatch() {
        String sys = "{'role': 'system', 'content': 's', 'tools': '[{\\'name\\': \\'%s\\'}]'}";
        RecordRejected e = rejection("{'chosen': [" + sys.formatted("f") + ", " + Q + ", " + A + "], 'rejected': ["
                + sys.formatted("g") + ", " + Q + ", " + B + "]}");

        assertThat(e.reason()).isEqualTo(Reason.DPO_PROMPT_MISMATCH);
        assertThat(e.getMessage()).contains("tools");
    }

    @Test
    void theConstructorEnforcesTheSameRule() throws Exception {
        Conversation good = read("{'chosen': [" + Q + ", " + A + "], 'rejected': [" + Q + ", " + B + "]}").chosen();
        Conversation other = new Conversation(List.of(msg("user", "x"), msg("assistant", "y")), null);

        assertThatThrownBy(() -> new DpoPair(good, other)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("prompts differ");
        assertThat(catchThrowableOfType(RecordRejected.class, () -> DpoPair.of(good, other)).reason()).isEqualTo(Reason.DPO_PROMPT_MISMATCH);
    }

    // --- prompt + string shape -----------------------------------------------------------------

    @Test
    void aStringPromptAndStringRepliesGiveTheSamePairAsMessageLists() throws Exception {
        DpoPair strings = read("{'prompt': 'q', 'chosen': 'good', 'rejected': 'bad'}");
        DpoPair lists = read("{'chosen': [" + Q + ", " + A + "], 'rejected': [" + Q + ", " + B + "]}");

        assertThat(strings).isEqualTo(lists);
        assertThat(RecordId.canonicalJson(strings.normalised())).isEqualTo(RecordId.canonicalJson(lists.normalised()));
        assertThat(RecordId.of(Stage.DPO, strings.normalised())).isEqualTo(RecordId.of(Stage.DPO, lists.normalised()));
    }

    @Test
    void aMessageListPromptWithStringRepliesGivesTheSamePairAsFullLists() throws Exception {
        String prompt = "{'role': 'system', 'content': 's'}, " + Q + ", {'role': 'assistant', 'content': 'first'}, {'role': 'user', 'content': 'q2'}";
        DpoPair strings = read("{'prompt': [" + prompt + "], 'chosen': 'good', 'rejected': 'bad'}");
        DpoPair lists = read("{'chosen': [" + prompt + ", " + A + "], 'rejected': [" + prompt + ", " + B + "]}");

        assertThat(strings.normalised()).isEqualTo(lists.normalised());
    }

    @Test
    void aSystemFieldGivesTheSamePairAsASystemMessage() throws Exception {
        DpoPair field = read("{'system': 's', 'prompt': 'q', 'chosen': 'good', 'rejected': 'bad'}");
        DpoPair message = read("{'chosen': [{'role': 'system', 'content': 's'}, " + Q + ", " + A + "],"
                + " 'rejected': [{'role': 'system', 'content': 's'}, " + Q + ", " + B + "]}");
        DpoPair onLists = read("{'system': 's', 'chosen': [" + Q + ", " + A + "], 'rejected': [" + Q + ", " + B + "]}");

        assertThat(field).isEqualTo(message).isEqualTo(onLists);
    }

    @Test
    void aSystemGivenTwiceIsRoleOrder() {
        RecordRejected e = rejection("{'system': 's', 'prompt': [{'role': 'system', 'content': 's'}, " + Q + "], 'chosen': 'good', 'rejected': 'bad'}");

        assertThat(e.reason()).isEqualTo(Reason.ROLE_ORDER);
        assertThat(e.getMessage()).contains("prompt[0]");
    }

    @Test
    void recordToolsApplyToBothSides() throws Exception {
        DpoPair pair = read("{'prompt': 'q', 'chosen': 'good', 'rejected': 'bad', 'tools': [{'name': 'f'}]}");

        assertThat(pair.chosen().tools()).isEqualTo(List.of(Map.of("name", "f")));
        assertThat(pair.rejected().tools()).isEqualTo(pair.chosen().tools());
    }

    @Test
    void stringRepliesWithoutAPromptAreMissingField() {
        RecordRejected e = rejection("{'chosen': 'good', 'rejected': 'bad'}");

        assertThat(e.reason()).isEqualTo(Reason.MISSING_FIELD);
        assertThat(e.getMessage()).contains("\"prompt\"");
    }

    @Test
    void listRepliesBesideAPromptAreWrongTypeSayingWhy() {
        RecordRejected e = rejection("{'prompt': 'q', 'chosen': [" + A + "], 'rejected': 'bad'}");

        assertThat(e.reason()).isEqualTo(Reason.WRONG_TYPE);
        assertThat(e.getMessage()).contains("\"chosen\"").contains("must be a string").contains("a list");
    }

    @ParameterizedTest(name = "prompt {0}")
    @CsvSource(delimiter = '|', quoteCharacter = '"', value = {"3 | a number", "null | null", "{} | an object"})
    void aPromptOfTheWrongTypeIsWrongType(String prompt, String typeName) {
        RecordRejected e = rejection("{'prompt': " + prompt + ", 'chosen': 'good', 'rejected': 'bad'}");

        assertThat(e.reason()).isEqualTo(Reason.WRONG_TYPE);
        assertThat(e.getMessage()).contains("\"prompt\"").contains(typeName);
    }

    @Test
    void aPromptListEndingWithAnAssistantMessageIsRoleOrderNamingTheReply() {
        RecordRejected e = rejection("{'prompt': [" + Q + ", " + A + "], 'chosen': 'good', 'rejected': 'bad'}");

        assertThat(e.reason()).isEqualTo(Reason.ROLE_ORDER);
        assertThat(e.getMessage()).contains("chosen").contains("second assistant");
    }

    @Test
    void aForcedDpoRecordWithoutRejectedIsMissingField() {
        RecordRejected e = catchThrowableOfType(RecordRejected.class, () -> RecordReader.read(
                StrictJson.parse("{\"chosen\": [{\"role\": \"user\", \"content\": \"q\"}]}"), Stage.DPO, InputFormat.DPO));

        assertThat(e.reason()).isEqualTo(Reason.MISSING_FIELD);
        assertThat(e.getMessage()).contains("\"rejected\"");
    }

    // --- conformance -------------------------------------------------------------------------

    @Test
    void conformanceBadLine11IsDpoPromptMismatch() throws Exception {
        byte[] line11 = null;
        try (InputStream in = Files.newInputStream(SharedData.conformance("bad.jsonl"))) { // line 3 is not UTF-8: read bytes
            LineReader lines = new LineReader(in);
            while (lines.hasNext()) {
                RawLine line = lines.next();
                if (line.number() == 11) {
                    line11 = line.bytes();
                }
            }
        }
        byte[] bytes = line11;
        RecordRejected e = catchThrowableOfType(RecordRejected.class,
                () -> RecordReader.read(StrictJson.parse(bytes), Stage.DPO, null));

        assertThat(e.reason()).isEqualTo(Reason.DPO_PROMPT_MISMATCH);
        assertThat(e.getMessage()).contains("chosen[0]").contains("rejected[0]").contains("Australia").contains("Austria");
    }

    @Test
    void everyConformanceDpoLineReads() throws Exception {
        List<DpoPair> pairs = new ArrayList<>();
        try (InputStream in = Files.newInputStream(SharedData.conformance("dpo-512.input.jsonl"))) {
            LineReader lines = new LineReader(in);
            while (lines.hasNext()) {
                RawLine line = lines.next();
                RecordReader.Result r = RecordReader.read(StrictJson.parse(line.bytes()), Stage.DPO, null);
                assertThat(r.format()).as("line " + line.number()).isEqualTo(InputFormat.DPO);
                pairs.add(r.asDpoPair());
            }
        }
        assertThat(pairs).hasSize(10);
        assertThat(pairs).allSatisfy(p -> assertThat(p.prompt()).isNotEmpty());
    }
}
