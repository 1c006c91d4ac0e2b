package dev.millrace.training;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.millrace.core.chat.Conversation;
import dev.millrace.core.tokenizer.TokenizerFolder;
import dev.millrace.training.checkpoint.Checkpoint;
import dev.millrace.training.checkpoint.CheckpointStore;
import dev.millrace.training.checkpoint.TrainerState;
import dev.millrace.training.generate.ChatAnswer;
import dev.millrace.training.generate.ChatModel;
import dev.millrace.training.checkpoint.CheckpointHash;
import dev.millrace.training.generate.GenerationSettings;
import dev.millrace.training.generate.Generator;
import dev.millrace.training.model.MiniMind;
import dev.millrace.training.model.ModelConfig;
import dev.millrace.training.train.AdamW;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Answering a conversation with a checkpoint of the tiny model over the bundled tokenizer and its ChatML template. */
class ChatModelTest {
    private static final Conversation QUESTION = new Conversation(List.of(
            Map.of("role", "user", "content", "What is a mill race?")), null);

    @TempDir
    static Path dir;
    private static Path checkpoint;
    private static TokenizerFolder bundled;
    private static ChatModel chat;

    @BeforeAll
    static void writeCheckpoint() throws Exception {
        bundled = TokenizerFolder.bundled();
        try (MiniMind model = MiniMind.initialise(ModelConfig.preset("tiny", bundled), 3);
                AdamW adamw = new AdamW(AdamW.Settings.defaults(), model.weights())) {
            TrainerState state = new TrainerState(0, 0, "dpo", bundled.fingerprint(), "tiny", Map.of(), List.of(), 0, 0, null);
            checkpoint = new CheckpointStore(dir, 1).write(0, d -> Checkpoint.write(d, model, adamw, state, bundled.path()));
        }
        chat = ChatModel.open(checkpoint);
    }

    @AfterAll
    static void close() {
        chat.close();
        bundled.close();
    }

    @Test
    void aGreedyAnswerContinuesTheRenderedPromptWithTheGenerationPromptAndIsDeterministic() throws Exception {
        ChatAnswer answer = chat.answer(QUESTION, chat.settings(12, 0, 1), 0);

        assertThat(answer.prompt()).isEqualTo("<|im_start|>system\nYou are a helpful assistant<|im_end|>\n"
                + "<|im_start|>user\nWhat is a mill race?<|im_end|>\n<|im_start|>assistant\n");
        assertThat(answer.promptIds()).containsExactly(bundled.tokenizer().ids(answer.prompt()));
        assertThat(answer.generation().tokens()).hasSizeBetween(0, 12);
        assertThat(answer.text()).isEqualTo(bundled.tokenizer().decode(answer.generation().tokens()));
        assertThat(answer.stoppedByItself()).isEqualTo(answer.generation().tokens().length < 12);
        ChatAnswer again = chat.answer(QUESTION, chat.settings(12, 0, 1), 99);
        assertThat(again.generation().tokens()).as("greedy ignores the seed").containsExactly(answer.generation().tokens());
    }

    @Test
    void aSeededAnswerIsTheSameFromAnotherLoadOfTheCheckpointAndSeedsDiffer() throws Exception {
        GenerationSettings sampling = chat.settings(16, 1.0, 1.0);
        ChatAnswer first = chat.answer(QUESTION, sampling, Generator.seedOf("prompt-7"));
        try (ChatModel replay = ChatModel.open(checkpoint)) {
            ChatAnswer replayed = replay.answer(QUESTION, sampling, Generator.seedOf("prompt-7"));
            assertThat(replayed.text()).isEqualTo(first.text());
            assertThat(replayed.generation()).usingRecursiveComparison().isEqualTo(first.generation());
        }
        Set<String> texts = new HashSet<>();
        for (String id : List.of("prompt-1", "prompt-2", "prompt-3", "prompt-4")) {
            texts.add(chat.answer(QUESTION, sampling, Generator.seedOf(id)).text());
        }
        assertThat(texts).as("answers of four seeds").hasSizeGreaterThan(1);
    }

    @Test
    void theModelIsNamedByItsContentAndUsesTheBundledTokenizer() throws Exception {
        assertThat(chat.id()).isEqualTo(CheckpointHash.of(checkpoint));
        assertThat(chat.endOfTurnId()).isEqualTo(bundled.addedTokenId("<|im_end|>")).isNotNegative();
        assertThat(chat.settings(8, 0.7, 0.9).endOfTurnId()).isEqualTo(chat.endOfTurnId());
        chat.requireTokenizerFingerprint(bundled.fingerprint());
        assertThatThrownBy(() -> chat.requireTokenizerFingerprint("0123456789abcdef"))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining(bundled.fingerprint());
    }
}
