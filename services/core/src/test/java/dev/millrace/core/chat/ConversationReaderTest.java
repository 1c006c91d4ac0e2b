package dev.millrace.core.chat;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.millrace.core.json.StrictJson;
import dev.millrace.core.record.Reason;
import dev.millrace.core.record.RecordRejected;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ConversationReaderTest {

    private static Conversation read(String singleQuoted, InputFormat forced) throws RecordRejected {
        return ConversationReader.read(StrictJson.parse(singleQuoted.replace('\'', '"')), forced);
    }

    private static RecordRejected rejection(String singleQuoted, InputFormat forced) {
        return catchThrowableOfType(RecordRejected.class, () -> read(singleQuoted, forced));
    }

    @Test
    void openAiRecordLevelToolsBecomeTheConversationTools() throws Exception {
        Conversation c = read("{'messages': [{'role': 'user', 'content': 'q'}, {'role': 'assistant', 'content': 'a'}],"
                + " 'tools': [{'type': 'function', 'function': {'name': 'f'}}]}", null);

        assertThat(c.tools()).isEqualTo(List.of(Map.of("type", "function", "function", Map.of("name", "f"))));
    }

    @Test
    void openAiNullToolsAreNoTools() throws Exception {
        assertThat(read("{'messages': [{'role': 'user', 'content': 'q'}, {'role': 'assistant', 'content': 'a'}], 'tools': null}", null)
                .tools()).isNull();
    }

    @Test
    void miniMindRecordsAreReadFromConversations() throws Exception {
        Conversation c = read("{'conversations': [{'content': 'q'}, {'content': 'a'}]}", null);

        assertThat(c.size()).isEqualTo(2);
        assertThat(c.isAssistant(1)).isTrue();
    }

    @Test
    void errorsNameTheInputField() {
        assertThat(rejection("{'messages': [{'role': 'user'}]}", null).getMessage()).contains("messages[0]");
        assertThat(rejection("{'conversations': [{'role': 'user'}]}", null).getMessage()).contains("conversations[0]");
    }

    @Test
    void aForcedFormatWhoseFieldIsMissingIsMissingField() {
        RecordRejected e = rejection("{'messages': [{'role': 'user', 'content': 'q'}, {'role': 'assistant', 'content': 'a'}]}",
                InputFormat.MINIMIND);

        assertThat(e.reason()).isEqualTo(Reason.MISSING_FIELD);
        assertThat(e.getMessage()).contains("conversations");
    }

    @Test
    void aPretrainTextRecordIsNotAConversation() {
        assertThat(rejection("{'text': 'once'}", null).reason()).isEqualTo(Reason.UNKNOWN_FORMAT);
    }

    @Test
    void shareGptAndAlpacaAreReadAsConversations() throws Exception {
        // Until issue 4 these were rejected as "not supported yet".
        Conversation shareGpt = read("{'conversations': [{'from': 'human', 'value': 'q'}, {'from': 'gpt', 'value': 'a'}]}", null);
        Conversation alpaca = read("{'instruction': 'q', 'output': 'a'}", null);

        assertThat(shareGpt).isEqualTo(alpaca);
        assertThat(shareGpt.messages()).extracting(m -> m.get("role")).containsExactly("user", "assistant");
    }

    @Test
    void aDpoPairIsNotAConversation() {
        RecordRejected e = rejection("{'chosen': [{'role': 'user', 'content': 'q'}, {'role': 'assistant', 'content': 'a'}],"
                + " 'rejected': [{'role': 'user', 'content': 'q'}, {'role': 'assistant', 'content': 'b'}]}", null);

        assertThat(e.reason()).isEqualTo(Reason.UNKNOWN_FORMAT);
        assertThat(e.getMessage()).contains("sft stage expects").contains("conversations");
    }

    @Test
    void openAiToolsGivenOnTheRecordAndTheSystemMessageMustAgree() throws Exception {
        String messages = "'messages': [{'role': 'system', 'content': 's', 'tools': [{'name': 'f'}]},"
                + " {'role': 'user', 'content': 'q'}, {'role': 'assistant', 'content': 'a'}]";

        assertThat(read("{" + messages + ", 'tools': [{'name': 'f'}]}", null).tools()).isEqualTo(List.of(Map.of("name", "f")));
        RecordRejected e = rejection("{" + messages + ", 'tools': [{'name': 'g'}]}", null);
        assertThat(e.reason()).isEqualTo(Reason.UNKNOWN_FORMAT);
        assertThat(e.getMessage()).contains("tools").contains("differ");
    }

    @Test
    void openAiToolsGivenAsAJsonStringAreParsed() throws Exception {
        assertThat(read("{'messages': [{'role': 'user', 'content': 'q'}, {'role': 'assistant', 'content': 'a'}],"
                + " 'tools': '[{\\'name\\': \\'f\\'}]'}", null).tools()).isEqualTo(List.of(Map.of("name", "f")));
    }

    @Test
    void openAiToolsThatAreNotAListAreWrongType() {
        RecordRejected e = rejection("{'messages': [{'role': 'user', 'content': 'q'}, {'role': 'assistant', 'content': 'a'}],"
                + " 'tools': {'name': 'f'}}", null);

        assertThat(e.reason()).isEqualTo(Reason.WRONG_TYPE);
        assertThat(e.getMessage()).contains("tools");
    }
}
