package dev.millrace.training.generate;

import dev.millrace.core.chat.Conversation;
import dev.millrace.core.record.RecordRejected;
import dev.millrace.core.template.ChatTemplate;
import dev.millrace.core.tokenizer.TokenizerFolder;
import dev.millrace.training.checkpoint.Checkpoint;
import dev.millrace.training.checkpoint.CheckpointHash;
import dev.millrace.training.model.MiniMind;
import java.io.IOException;
import java.nio.file.Path;

/**
 * A trainer checkpoint loaded to answer conversations: the model, the tokenizer folder copied beside its weights
 * (tokenizer and chat template), and its identity ({@link CheckpointHash}). An answer is the conversation rendered with
 * the template and {@code add_generation_prompt=True}, tokenized, continued by a {@link Generator} and decoded.
 */
public final class ChatModel implements AutoCloseable {
    /** ChatML's end of an assistant turn; a template without it ends turns with the eos token. */
    private static final String IM_END = "<|im_end|>";

    private final Path checkpoint;
    private final String id;
    private final MiniMind model;
    private final TokenizerFolder tokenizer;
    private final ChatTemplate template;
    private final Generator generator;

    private ChatModel(Path checkpoint, String id, MiniMind model, TokenizerFolder tokenizer) {
        this.checkpoint = checkpoint;
        this.id = id;
        this.model = model;
        this.tokenizer = tokenizer;
        this.template = new ChatTemplate(tokenizer.config());
        this.generator = new Generator(model);
    }

    /** Loads a checkpoint directory of the trainer's format; fails if its tokenizer makes ids its model has no row for. */
    public static ChatModel open(Path checkpoint) throws IOException {
        String id = CheckpointHash.of(checkpoint);
        TokenizerFolder tokenizer = TokenizerFolder.open(checkpoint);
        MiniMind model;
        try {
            model = Checkpoint.loadModel(checkpoint);
        } catch (IOException | RuntimeException e) {
            tokenizer.close();
            throw e;
        }
        if (tokenizer.vocabSize() > model.config().vocabSize()) {
            model.close();
            tokenizer.close();
            throw new IOException(checkpoint + ": the tokenizer makes " + tokenizer.vocabSize() + " ids, the model has "
                    + model.config().vocabSize() + " embedding rows");
        }
        return new ChatModel(checkpoint, id, model, tokenizer);
    }

    /** The checkpoint's content hash (the teacher id). */
    public String id() {
        return id;
    }

    public Path checkpoint() {
        return checkpoint;
    }

    public String tokenizerFingerprint() {
        return tokenizer.fingerprint();
    }

    /**
     * Refuses a checkpoint whose tokenizer folder is not the pipeline's: its answers would be tokenized, and its
     * prompts rendered, unlike every other record.
     */
    public void requireTokenizerFingerprint(String pipelineFingerprint) {
        if (!tokenizer.fingerprint().equals(pipelineFingerprint)) {
            throw new IllegalStateException("checkpoint " + checkpoint + " has tokenizer fingerprint " + tokenizer.fingerprint()
                    + ", the pipeline uses " + pipelineFingerprint);
        }
    }

    /** {@code <|im_end|>} where the vocabulary has it, else the eos id. */
    public int endOfTurnId() {
        int imEnd = tokenizer.addedTokenId(IM_END);
        return imEnd >= 0 ? imEnd : tokenizer.eosId();
    }

    /** Settings that stop at this model's {@link #endOfTurnId()}; temperature 0 is greedy. */
    public GenerationSettings settings(int maxNewTokens, double temperature, double topP) {
        return new GenerationSettings(maxNewTokens, temperature, topP, endOfTurnId());
    }

    public TokenizerFolder tokenizer() {
        return tokenizer;
    }

    public MiniMind model() {
        return model;
    }

    /**
     * Answers the conversation's last turn. A template that cannot render the conversation rejects it as the
     * pipeline's chat-template step does (the same reasons).
     */
    public ChatAnswer answer(Conversation conversation, GenerationSettings settings, long seed) throws RecordRejected {
        String prompt = template.render(conversation, true);
        int[] promptIds = tokenizer.tokenizer().ids(prompt);
        Generation generation = generator.generate(promptIds, settings, seed);
        return new ChatAnswer(prompt, promptIds, generation, tokenizer.tokenizer().decode(generation.tokens()));
    }

    @Override
    public void close() {
        model.close();
        tokenizer.close();
    }
}
