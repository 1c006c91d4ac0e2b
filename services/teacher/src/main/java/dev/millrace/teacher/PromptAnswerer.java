package dev.millrace.teacher;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.millrace.contract.DeadLetters;
import dev.millrace.core.chat.Conversation;
import dev.millrace.core.json.PlainJson;
import dev.millrace.core.json.StrictJson;
import dev.millrace.core.record.MalformedMessage;
import dev.millrace.core.record.Reason;
import dev.millrace.core.record.RecordId;
import dev.millrace.core.record.RecordRejected;
import dev.millrace.core.record.Stage;
import dev.millrace.core.template.ChatTemplate;
import dev.millrace.core.wire.StageCodec;
import dev.millrace.proto.v1.DeadLetter;
import dev.millrace.proto.v1.RawRecord;
import dev.millrace.proto.v1.Source;
import dev.millrace.proto.v1.TopicOffset;
import dev.millrace.proto.v1.WireStage;
import dev.millrace.training.generate.ChatAnswer;
import dev.millrace.training.generate.ChatModel;
import dev.millrace.training.generate.GenerationSettings;
import dev.millrace.training.generate.Generator;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Answers one distill prompt as it lies on {@code <prefix>.distill.prompts} (a {@link RawRecord} as ingest writes it:
 * a conversation that ends in a user turn) with a {@link ChatModel}: the answered conversation as a raw distill
 * record, as ingest would write it had it been sent with {@code ?teacher=<id>}, or a dead letter. Plain Java, no
 * Kafka: {@link TeacherLoop} moves its results. Deterministic: the answer is drawn with the seed of the prompt's
 * record id and nothing in the record depends on the clock, so a replay writes the same bytes.
 */
public final class PromptAnswerer {
    /** The {@code service} of its dead letters. */
    public static final String SERVICE = "teacher";
    /** The {@link Source#getKind()} of an answer: its source is the prompt it answers ({@code <topic>-<partition>}, offset as line). */
    public static final String SOURCE_KIND = "prompt";

    /** How prompts are answered. */
    public record Settings(int maxNewTokens, double temperature, double topP, OnMaxNewTokens onMaxNewTokens, int maxPromptTokens) {
    }

    /** What became of one prompt. */
    public sealed interface Outcome permits Answered, Rejected {
    }

    /**
     * An answer to write to {@code <prefix>.distill.raw}, keyed by its record id.
     *
     * @param closedAtMaxNewTokens it reached max-new-tokens without an end-of-turn token and was closed (policy close)
     */
    public record Answered(RawRecord record, int generatedTokens, boolean closedAtMaxNewTokens, double seconds) implements Outcome {
    }

    /** A dead letter for {@code <prefix>.dlq}; generatedTokens is what was generated before it was refused (0 if nothing). */
    public record Rejected(DeadLetter letter, int generatedTokens, double seconds) implements Outcome {
    }

    private final ChatModel chat;
    private final Settings settings;
    private final GenerationSettings generation;
    private final ChatTemplate template;

    public PromptAnswerer(ChatModel chat, Settings settings) {
        this.chat = chat;
        this.settings = settings;
        this.generation = chat.settings(settings.maxNewTokens(), settings.temperature(), settings.topP());
        this.template = new ChatTemplate(chat.tokenizer().config());
    }

    public Settings settings() {
        return settings;
    }

    /**
     * Answers the prompt {@code value} read at {@code input}. Never throws for a bad prompt: what cannot be answered is
     * a dead letter with the prompt's bytes.
     */
    public Outcome answer(byte[] value, TopicOffset input) {
        long t0 = System.nanoTime();
        RawRecord prompt = null;
        try {
            if (value == null) {
                throw new MalformedMessage("the message has no value (a tombstone)");
            }
            prompt = RawRecord.parseFrom(value);
            Conversation conversation = conversation(prompt);
            int promptTokens = chat.tokenizer().tokenizer().ids(template.render(conversation, true)).length;
            int positions = chat.model().config().maxPositions();
            if (promptTokens > settings.maxPromptTokens() || (long) promptTokens + settings.maxNewTokens() > positions) {
                throw new RecordRejected(Reason.RECORD_TOO_LARGE, "the prompt renders to " + promptTokens + " tokens, over the teacher's limit of "
                        + Math.min(settings.maxPromptTokens(), positions - settings.maxNewTokens())
                        + " (millrace.teacher.max-prompt-tokens, and the model's " + positions + " positions less max-new-tokens)");
            }
            ChatAnswer answer = chat.answer(conversation, generation, Generator.seedOf(prompt.getRecordId()));
            int generated = answer.generation().tokens().length;
            boolean closed = !answer.stoppedByItself();
            if (closed && settings.onMaxNewTokens() == OnMaxNewTokens.DROP) {
                return new Rejected(letter(Reason.TEACHER_MAX_NEW_TOKENS, "the answer reached max-new-tokens (" + settings.maxNewTokens()
                        + ") without an end-of-turn token; millrace.teacher.on-max-new-tokens=drop", value, prompt, input), generated, seconds(t0));
            }
            return new Answered(answered(prompt, conversation, answer.text(), input), generated, closed, seconds(t0));
        } catch (InvalidProtocolBufferException e) {
            return new Rejected(letter(Reason.MALFORMED_MESSAGE, "the message is not a RawRecord: " + e.getMessage(), value, null, input), 0, seconds(t0));
        } catch (MalformedMessage e) {
            return new Rejected(letter(Reason.MALFORMED_MESSAGE, e.getMessage(), value, prompt, input), 0, seconds(t0));
        } catch (RecordRejected e) {
            return new Rejected(letter(e.reason(), e.getMessage(), value, prompt, input), 0, seconds(t0));
        } catch (RuntimeException | StackOverflowError e) {
            // A bug, or input no rule foresaw: this prompt becomes a dead letter with its bytes, and the teacher goes on.
            return new Rejected(letter(Reason.UNEXPECTED_ERROR, "answering the prompt failed in a way no rule foresees (a bug to report): "
                    + e.getClass().getName() + ": " + e.getMessage() + " (read from " + input.getTopic() + "-" + input.getPartition() + "@"
                    + input.getOffset() + ")", value, prompt, input), 0, seconds(t0));
        }
    }

    /** The prompt's conversation: a distill record whose messages end in a user turn. */
    private static Conversation conversation(RawRecord prompt) throws RecordRejected {
        if (prompt.getStage() != WireStage.DISTILL) {
            throw new MalformedMessage("a distill prompt has stage DISTILL, this one " + prompt.getStage());
        }
        if (prompt.getRecordId().isEmpty()) {
            throw new MalformedMessage("the prompt has no record_id (its answer is seeded from it)");
        }
        if (!(PlainJson.toPlain(StrictJson.parse(prompt.getNormalisedJson())) instanceof Map<?, ?> normalised)) {
            throw new MalformedMessage("normalised_json is not a JSON object");
        }
        @SuppressWarnings("unchecked")
        Conversation conversation = Conversation.fromNormalised((Map<String, Object>) normalised);
        if (conversation.size() == 0 || !"user".equals(conversation.role(conversation.size() - 1))) {
            throw new MalformedMessage("a distill prompt's messages end in a user turn; this one's "
                    + (conversation.size() == 0 ? "are empty" : "end in a " + conversation.role(conversation.size() - 1) + " turn"));
        }
        return conversation;
    }

    /** The answered conversation as ingest writes a distill record: id from its normalised JSON, the teacher's id. */
    private RawRecord answered(RawRecord prompt, Conversation conversation, String text, TopicOffset input) {
        List<Map<String, Object>> messages = new ArrayList<>(conversation.messages());
        Map<String, Object> reply = new LinkedHashMap<>();
        reply.put("role", "assistant");
        reply.put("content", text);
        messages.add(reply);
        Map<String, Object> normalised = new Conversation(messages, conversation.tools()).normalised();
        return RawRecord.newBuilder()
                .setRecordId(RecordId.of(Stage.DISTILL, normalised))
                .setStage(StageCodec.toWire(Stage.DISTILL))
                .setFormat(prompt.getFormat())
                .setNormalisedJson(RecordId.canonicalJson(normalised))
                .setSource(Source.newBuilder().setKind(SOURCE_KIND).setName(input.getTopic() + "-" + input.getPartition()).setLine(input.getOffset()))
                // The prompt's: nothing in an answer depends on the clock, so a replay after a crash writes the same bytes.
                .setIngestedAtMs(prompt.getIngestedAtMs())
                .setTeacherId(chat.id())
                .setResubmitted(prompt.getResubmitted())
                .build();
    }

    private static DeadLetter letter(Reason reason, String message, byte[] value, RawRecord prompt, TopicOffset input) {
        Source source = prompt != null && prompt.hasSource() ? prompt.getSource() : null;
        String recordId = prompt != null && !prompt.getRecordId().isEmpty() ? prompt.getRecordId() : null;
        if (recordId == null && source == null) {
            // The dead letter's key is its source when it has no record id: say where it was read.
            source = Source.newBuilder().setKind("topic").setName(input.getTopic() + "-" + input.getPartition()).setLine(input.getOffset()).build();
        }
        return DeadLetters.of(SERVICE, Stage.DISTILL, reason, message, value, source, recordId, input);
    }

    private static double seconds(long since) {
        return (System.nanoTime() - since) / 1e9;
    }
}
