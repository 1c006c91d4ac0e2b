package dev.millrace.core.chat;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.fasterxml.jackson.databind.JsonNode;
import dev.millrace.core.json.StrictJson;
import dev.millrace.core.record.Reason;
import dev.millrace.core.record.RecordRejected;
import dev.millrace.core.record.Stage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;

class InputFormatTest {

    private static JsonNode json(String singleQuoted) throws RecordRejected {
        return StrictJson.parse(singleQuoted.replace('\'', '"'));
    }

    private static InputFormat detect(String singleQuoted) throws RecordRejected {
        return InputFormat.detect(json(singleQuoted));
    }

    private static RecordRejected rejection(String singleQuoted) {
        return catchThrowableOfType(RecordRejected.class, () -> detect(singleQuoted));
    }

    @Test
    void conversationsWithRoleContentMessagesIsMiniMind() throws Exception {
        assertThat(detect("{'conversations': [{'role': 'user', 'content': 'q'}, {'role': 'assistant', 'content': 'a'}]}"))
                .isEqualTo(InputFormat.MINIMIND);
    }

    @Test
    void conversationsWithoutRolesIsMiniMind() throws Exception {
        assertThat(detect("{'conversations': [{'content': 'q'}, {'content': 'a'}]}")).isEqualTo(InputFormat.MINIMIND);
    }

    @Test
    void conversationsWithFromValueMessagesIsShareGpt() throws Exception {
        assertThat(detect("{'conversations': [{'from': 'human', 'value': 'q'}, {'from': 'gpt', 'value': 'a'}]}"))
                .isEqualTo(InputFormat.SHAREGPT);
    }

    @Test
    void aFirstMessageWithFromValueAndRoleIsMiniMind() throws Exception {
        assertThat(detect("{'conversations': [{'from': 'human', 'value': 'q', 'role': 'user', 'content': 'q'}]}"))
                .isEqualTo(InputFormat.MINIMIND);
    }

    @Test
    void anEmptyConversationsListIsMiniMindSoThatItIsRejectedAsEmptyLater() throws Exception {
        assertThat(detect("{'conversations': []}")).isEqualTo(InputFormat.MINIMIND);
    }

    @Test
    void shareGptIsDetectedFromAnyTurnNotOnlyTheFirst() throws Exception {
        // A first turn without "value" is still ShareGPT, so the error is about "value", not "content".
        assertThat(detect("{'conversations': [{'from': 'human'}, {'from': 'gpt', 'value': 'a'}]}")).isEqualTo(InputFormat.SHAREGPT);
        assertThat(detect("{'conversations': [{'value': 'q'}, {'from': 'gpt', 'value': 'a'}]}")).isEqualTo(InputFormat.SHAREGPT);
    }

    @Test
    void anyTurnWithARoleMakesItMiniMind() throws Exception {
        assertThat(detect("{'conversations': [{'from': 'human', 'value': 'q'}, {'role': 'assistant', 'content': 'a'}]}"))
                .isEqualTo(InputFormat.MINIMIND);
    }

    @Test
    void conversationsThatIsNotAListIsMiniMindSoThatItIsRejectedAsWrongTypeLater() throws Exception {
        assertThat(detect("{'conversations': 'q'}")).isEqualTo(InputFormat.MINIMIND);
    }

    @Test
    void promptChosenRejectedIsDpo() throws Exception {
        assertThat(detect("{'prompt': 'q', 'chosen': 'a', 'rejected': 'b'}")).isEqualTo(InputFormat.DPO);
        assertThat(detect("{'prompt': 'q', 'chosen': 'a', 'rejected': 'b', 'system': 's'}")).isEqualTo(InputFormat.DPO);
    }

    @Test
    void halfOfATwoKeyShapeIsNamedInTheMessage() {
        assertThat(rejection("{'chosen': []}").getMessage()).contains("\"chosen\" without \"rejected\"");
        assertThat(rejection("{'prompt': 'q', 'rejected': 'b'}").getMessage()).contains("\"rejected\" without \"chosen\"");
        assertThat(rejection("{'instruction': 'do', 'input': 'x'}").getMessage()).contains("\"instruction\" without \"output\"");
        assertThat(rejection("{'output': 'done'}").getMessage()).contains("\"output\" without \"instruction\"");
    }

    @Test
    void anAmbiguousRecordAsksForTheFormat() {
        assertThat(rejection("{'instruction': 'q', 'output': 'a', 'text': 't'}").getMessage())
                .contains("alpaca").contains("text").contains("--format");
    }

    @Test
    void eachStageHasItsFormats() {
        assertThat(InputFormat.forStage(Stage.PRETRAIN)).containsExactly(InputFormat.TEXT);
        assertThat(InputFormat.forStage(Stage.DPO)).containsExactly(InputFormat.DPO);
        assertThat(InputFormat.forStage(Stage.SFT))
                .containsExactly(InputFormat.MINIMIND, InputFormat.OPENAI, InputFormat.SHAREGPT, InputFormat.ALPACA);
        assertThat(InputFormat.forStage(Stage.DISTILL)).isEqualTo(InputFormat.forStage(Stage.SFT));
        assertThat(InputFormat.TEXT.fits(Stage.SFT)).isFalse();
        assertThat(InputFormat.ALPACA.fits(Stage.DISTILL)).isTrue();
    }

    @Test
    void messagesIsOpenAi() throws Exception {
        assertThat(detect("{'messages': [{'role': 'user', 'content': 'q'}], 'tools': []}")).isEqualTo(InputFormat.OPENAI);
    }

    @Test
    void instructionAndOutputIsAlpaca() throws Exception {
        assertThat(detect("{'instruction': 'do', 'output': 'done'}")).isEqualTo(InputFormat.ALPACA);
        assertThat(detect("{'instruction': 'do', 'input': 'x', 'output': 'done', 'system': 's', 'history': []}"))
                .isEqualTo(InputFormat.ALPACA);
    }

    @Test
    void textIsPretrainText() throws Exception {
        assertThat(detect("{'text': 'once upon a time'}")).isEqualTo(InputFormat.TEXT);
    }

    @Test
    void chosenAndRejectedIsDpo() throws Exception {
        assertThat(detect("{'chosen': [], 'rejected': []}")).isEqualTo(InputFormat.DPO);
    }

    @Test
    void extraUnrelatedKeysDoNotStopDetection() throws Exception {
        assertThat(detect("{'id': 7, 'source': 'web', 'conversations': [{'role': 'user', 'content': 'q'}]}"))
                .isEqualTo(InputFormat.MINIMIND);
    }

    @Test
    void unknownKeysAreUnknownFormatNamingTheKeys() {
        RecordRejected e = rejection("{'prompt': 'q', 'completion': 'a'}");

        assertThat(e.reason()).isEqualTo(Reason.UNKNOWN_FORMAT);
        assertThat(e.getMessage()).contains("prompt").contains("completion").contains("conversations");
    }

    @Test
    void anEmptyObjectIsUnknownFormat() {
        assertThat(rejection("{}").reason()).isEqualTo(Reason.UNKNOWN_FORMAT);
    }

    @Test
    void halfOfAShapeIsUnknownFormat() {
        assertThat(rejection("{'instruction': 'do', 'input': 'x'}").reason()).isEqualTo(Reason.UNKNOWN_FORMAT);
        assertThat(rejection("{'chosen': []}").reason()).isEqualTo(Reason.UNKNOWN_FORMAT);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', quoteCharacter = '"', value = {
        "[1, 2]        | array",
        "'just text'   | string",
        "42            | number",
        "null          | null",
        "true          | boolean"})
    void aLineThatIsNotAnObjectIsUnknownFormat(String line, String kind) {
        RecordRejected e = rejection(line);

        assertThat(e).isNotNull();
        assertThat(e.reason()).isEqualTo(Reason.UNKNOWN_FORMAT);
        assertThat(e.getMessage()).contains(kind).contains("not an object");
    }

    @Test
    void keysOfTwoShapesAreAmbiguousAndNamedNotGuessed() {
        RecordRejected e = rejection("{'conversations': [{'role': 'user', 'content': 'q'}], 'messages': []}");

        assertThat(e.reason()).isEqualTo(Reason.UNKNOWN_FORMAT);
        assertThat(e.getMessage()).contains("conversations").contains("messages").contains("minimind").contains("openai");
    }

    @Test
    void textBesideMessagesIsAmbiguous() {
        RecordRejected e = rejection("{'text': 't', 'messages': []}");

        assertThat(e.reason()).isEqualTo(Reason.UNKNOWN_FORMAT);
        assertThat(e.getMessage()).contains("text").contains("openai");
    }

    @ParameterizedTest
    @EnumSource(InputFormat.class)
    void idsRoundTrip(InputFormat format) {
        assertThat(InputFormat.fromId(format.id())).isEqualTo(format);
        assertThat(format.id()).isEqualTo(format.id().toLowerCase());
    }

    @Test
    void anUnknownFormatIdIsAnError() {
        assertThatThrownBy(() -> InputFormat.fromId("jsonl")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("jsonl");
    }
}
