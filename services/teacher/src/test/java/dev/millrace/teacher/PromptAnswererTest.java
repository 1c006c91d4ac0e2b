package dev.millrace.teacher;

import static org.assertj.core.api.Assertions.assertThat;

import dev.millrace.core.chat.Conversation;
import dev.millrace.core.json.PlainJson;
import dev.millrace.core.json.StrictJson;
import dev.millrace.core.record.RecordId;
import dev.millrace.core.record.Stage;
import dev.millrace.core.tokenizer.TokenizerFolder;
import dev.millrace.proto.v1.DeadLetter;
import dev.millrace.proto.v1.RawRecord;
import dev.millrace.proto.v1.Source;
import dev.millrace.proto.v1.TopicOffset;
import dev.millrace.proto.v1.WireStage;
import dev.millrace.training.checkpoint.Checkpoint;
import dev.millrace.training.checkpoint.CheckpointStore;
import dev.millrace.training.checkpoint.TrainerState;
import dev.millrace.training.generate.ChatAnswer;
import dev.millrace.training.generate.ChatModel;
import dev.millrace.training.generate.Generator;
import dev.millrace.training.model.MiniMind;
import dev.millrace.training.model.ModelConfig;
import dev.millrace.training.train.AdamW;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Prompts as ingest writes them, answered by a tiny checkpoint (random weights: it rarely ends a turn by itself). */
class PromptAnswererTest {
    static final TopicOffset AT = TopicOffset.newBuilder().setTopic("millrace.distill.prompts").setPartition(1).setOffset(17).build();

    @TempDir
    static Path dir;
    static Path checkpoint;
    static ChatModel chat;

    @BeforeAll
    static void writeCheckpoint() throws Exception {
        checkpoint = tinyCheckpoint(dir, 5);
        chat = ChatModel.open(checkpoint);
    }

    @AfterAll
    static void close() {
        chat.close();
    }

    /** A tiny model of random weights over the bundled tokenizer, written as the trainer writes checkpoints. */
    static Path tinyCheckpoint(Path root, long seed) throws Exception {
        try (TokenizerFolder bundled = TokenizerFolder.bundled();
                MiniMind model = MiniMind.initialise(ModelConfig.preset("tiny", bundled), seed);
                AdamW adamw = new AdamW(AdamW.Settings.defaults(), model.weights())) {
            TrainerState state = new TrainerState(0, 0, "dpo", bundled.fingerprint(), "tiny", Map.of(), List.of(), 0, 0, null);
            return new CheckpointStore(root, 1).write(0, d -> Checkpoint.write(d, model, adamw, state, bundled.path()));
        }
    }

    /** A prompt as ingest writes it to distill.prompts. */
    static RawRecord prompt(Conversation conversation) {
        Map<String, Object> normalised = conversation.normalised();
        return RawRecord.newBuilder().setRecordId(RecordId.of(Stage.DISTILL, normalised)).setStage(WireStage.DISTILL).setFormat("openai")
                .setNormalisedJson(RecordId.canonicalJson(normalised)).setSource(Source.newBuilder().setKind("http").setName("req-1").setLine(3))
                .setIngestedAtMs(1_700_000_000_000L).build();
    }

    static Conversation question(String text) {
        return new Conversation(List.of(Map.of("role", "system", "content", "Be brief."), Map.of("role", "user", "content", text)), null);
    }

    private static PromptAnswerer answerer(int maxNewTokens, OnMaxNewTokens policy) {
        return new PromptAnswerer(chat, new PromptAnswerer.Settings(maxNewTokens, 1.0, 0.9, policy, 2048));
    }

    @Test
    void anAnswerIsTheConversationWithTheModelsReplyAsIngestWouldWriteItWithTheTeacherId() throws Exception {
        Conversation question = question("What is a mill race?");
        RawRecord prompt = prompt(question);
        PromptAnswerer.Outcome outcome = answerer(12, OnMaxNewTokens.CLOSE).answer(prompt.toByteArray(), AT);

        assertThat(outcome).isInstanceOf(PromptAnswerer.Answered.class);
        PromptAnswerer.Answered answered = (PromptAnswerer.Answered) outcome;
        // The model's own answer to the prompt, drawn with the seed of the prompt's record id.
        ChatAnswer expected = chat.answer(question, chat.settings(12, 1.0, 0.9), Generator.seedOf(prompt.getRecordId()));
        RawRecord record = answered.record();
        @SuppressWarnings("unchecked")
        Map<String, Object> normalised = (Map<String, Object>) PlainJson.toPlain(StrictJson.parse(record.getNormalisedJson()));
        Conversation conversation = Conversation.fromNormalised(normalised);
        assertThat(conversation.size()).isEqualTo(3);
        assertThat(conversation.messages().subList(0, 2)).isEqualTo(question.messages());
        assertThat(conversation.messages().get(2)).isEqualTo(Map.of("role", "assistant", "content", expected.text()));
        assertThat(record.getNormalisedJson()).isEqualTo(RecordId.canonicalJson(conversation.normalised()));
        assertThat(record.getRecordId()).isEqualTo(RecordId.of(Stage.DISTILL, conversation.normalised())).isNotEqualTo(prompt.getRecordId());
        assertThat(record.getStage()).isEqualTo(WireStage.DISTILL);
        assertThat(record.getTeacherId()).isEqualTo(chat.id()).hasSize(64);
        assertThat(record.getFormat()).isEqualTo("openai");
        assertThat(record.getSource()).isEqualTo(Source.newBuilder().setKind("prompt").setName("millrace.distill.prompts-1").setLine(17).build());
        assertThat(record.getIngestedAtMs()).isEqualTo(prompt.getIngestedAtMs());
        assertThat(answered.generatedTokens()).isEqualTo(expected.generation().tokens().length);
        assertThat(answered.closedAtMaxNewTokens()).isEqualTo(!expected.stoppedByItself());

        PromptAnswerer.Outcome again = answerer(12, OnMaxNewTokens.CLOSE).answer(prompt.toByteArray(), AT);
        assertThat(((PromptAnswerer.Answered) again).record().toByteArray()).as("a replay writes the same bytes").isEqualTo(record.toByteArray());
    }

    @Test
    void anAnswerCutAtMaxNewTokensIsADeadLetterUnderDropAndClosedUnderClose() throws Exception {
        // One token leaves no room for an end-of-turn token after a word: find a prompt whose first token is not one.
        RawRecord prompt = null;
        for (int i = 0; prompt == null && i < 50; i++) {
            RawRecord candidate = prompt(question("Question number " + i + "?"));
            ChatAnswer a = chat.answer(question("Question number " + i + "?"), chat.settings(1, 1.0, 0.9), Generator.seedOf(candidate.getRecordId()));
            if (!a.stoppedByItself()) {
                prompt = candidate;
            }
        }
        assertThat(prompt).as("a prompt the tiny model does not end at once").isNotNull();

        PromptAnswerer.Outcome dropped = answerer(1, OnMaxNewTokens.DROP).answer(prompt.toByteArray(), AT);
        assertThat(dropped).isInstanceOf(PromptAnswerer.Rejected.class);
        DeadLetter letter = ((PromptAnswerer.Rejected) dropped).letter();
        assertThat(letter.getReason()).isEqualTo("TEACHER_MAX_NEW_TOKENS");
        assertThat(letter.getMessage()).contains("max-new-tokens (1)").contains("on-max-new-tokens=drop");
        assertThat(letter.getService()).isEqualTo("teacher");
        assertThat(letter.getStage()).isEqualTo(WireStage.DISTILL);
        assertThat(letter.getRecordId()).isEqualTo(prompt.getRecordId());
        assertThat(letter.getOriginal().toByteArray()).isEqualTo(prompt.toByteArray());
        assertThat(letter.getSource()).isEqualTo(prompt.getSource());
        assertThat(letter.getInput()).isEqualTo(AT);

        PromptAnswerer.Outcome closed = answerer(1, OnMaxNewTokens.CLOSE).answer(prompt.toByteArray(), AT);
        assertThat(closed).isInstanceOf(PromptAnswerer.Answered.class);
        assertThat(((PromptAnswerer.Answered) closed).closedAtMaxNewTokens()).isTrue();
        assertThat(((PromptAnswerer.Answered) closed).generatedTokens()).isEqualTo(1);
    }

    @Test
    void aMalformedPromptIsADeadLetterWithItsBytes() {
        byte[] notProtobuf = {(byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff};
        DeadLetter letter = ((PromptAnswerer.Rejected) answerer(8, OnMaxNewTokens.CLOSE).answer(notProtobuf, AT)).letter();
        assertThat(letter.getReason()).isEqualTo("MALFORMED_MESSAGE");
        assertThat(letter.getOriginal().toByteArray()).isEqualTo(notProtobuf);
        assertThat(letter.getSource().getName()).isEqualTo("millrace.distill.prompts-1");

        RawRecord answeredAlready = prompt(new Conversation(List.of(Map.of("role", "user", "content", "Hi"), Map.of("role", "assistant", "content", "Hello")),
                null));
        DeadLetter notAPrompt = ((PromptAnswerer.Rejected) answerer(8, OnMaxNewTokens.CLOSE).answer(answeredAlready.toByteArray(), AT)).letter();
        assertThat(notAPrompt.getReason()).isEqualTo("MALFORMED_MESSAGE");
        assertThat(notAPrompt.getMessage()).contains("end in a user turn");
        assertThat(notAPrompt.getRecordId()).isEqualTo(answeredAlready.getRecordId());

        RawRecord notJson = prompt(question("x")).toBuilder().setNormalisedJson("{\"messages\": [").build();
        assertThat(((PromptAnswerer.Rejected) answerer(8, OnMaxNewTokens.CLOSE).answer(notJson.toByteArray(), AT)).letter().getReason())
                .isEqualTo("INVALID_JSON");
        assertThat(((PromptAnswerer.Rejected) answerer(8, OnMaxNewTokens.CLOSE).answer(null, AT)).letter().getReason()).isEqualTo("MALFORMED_MESSAGE");
    }

    @Test
    void aPromptLongerThanMaxPromptTokensIsADeadLetterBeforeAnythingIsGenerated() {
        RawRecord prompt = prompt(question("word ".repeat(200)));
        PromptAnswerer answerer = new PromptAnswerer(chat, new PromptAnswerer.Settings(8, 0, 1, OnMaxNewTokens.CLOSE, 64));
        PromptAnswerer.Rejected rejected = (PromptAnswerer.Rejected) answerer.answer(prompt.toByteArray(), AT);
        assertThat(rejected.letter().getReason()).isEqualTo("RECORD_TOO_LARGE");
        assertThat(rejected.letter().getMessage()).contains("over the teacher's limit of 64").contains("millrace.teacher.max-prompt-tokens");
        assertThat(rejected.generatedTokens()).isZero();
    }

    @Test
    void aPromptTheTemplateRefusesIsADeadLetterWithTheTemplatesReason() throws Exception {
        Path folder = Files.createDirectories(dir.resolve("raising-tokenizer"));
        Path bundled = TokenizerFolder.bundledPath();
        Files.copy(bundled.resolve("tokenizer.json"), folder.resolve("tokenizer.json"));
        ObjectMapper json = new ObjectMapper();
        ObjectNode config = (ObjectNode) json.readTree(bundled.resolve("tokenizer_config.json").toFile());
        config.put("chat_template", "{% for m in messages %}{% if 'RAISE-IN-TEMPLATE' in m['content'] %}"
                + "{{ raise_exception('this test template refuses RAISE-IN-TEMPLATE') }}{% endif %}{% endfor %}" + config.get("chat_template").asText());
        json.writeValue(folder.resolve("tokenizer_config.json").toFile(), config);
        Path raising;
        try (TokenizerFolder tokenizer = TokenizerFolder.open(folder);
                MiniMind model = MiniMind.initialise(ModelConfig.preset("tiny", tokenizer), 1);
                AdamW adamw = new AdamW(AdamW.Settings.defaults(), model.weights())) {
            TrainerState state = new TrainerState(0, 0, "dpo", tokenizer.fingerprint(), "tiny", Map.of(), List.of(), 0, 0, null);
            raising = new CheckpointStore(dir.resolve("raising"), 1).write(0, d -> Checkpoint.write(d, model, adamw, state, folder));
        }
        try (ChatModel refusing = ChatModel.open(raising)) {
            PromptAnswerer answerer = new PromptAnswerer(refusing, new PromptAnswerer.Settings(4, 0, 1, OnMaxNewTokens.CLOSE, 2048));
            RawRecord prompt = prompt(question("Please RAISE-IN-TEMPLATE now."));
            DeadLetter letter = ((PromptAnswerer.Rejected) answerer.answer(prompt.toByteArray(), AT)).letter();
            assertThat(letter.getReason()).isEqualTo("TEMPLATE_ERROR");
            assertThat(letter.getMessage()).contains("this test template refuses RAISE-IN-TEMPLATE");
            assertThat(letter.getOriginal().toByteArray()).isEqualTo(prompt.toByteArray());
            assertThat(answerer.answer(prompt(question("A fine question.")).toByteArray(), AT)).isInstanceOf(PromptAnswerer.Answered.class);
        }
    }
}
