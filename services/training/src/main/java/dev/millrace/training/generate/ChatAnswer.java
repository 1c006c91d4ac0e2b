package dev.millrace.training.generate;

/**
 * A model's answer to a conversation.
 *
 * @param prompt the conversation rendered with the template and the generation prompt, as the model read it
 * @param promptIds its token ids
 * @param generation the generated ids (without the end-of-turn token) and why generation stopped
 * @param text the generated ids decoded
 */
public record ChatAnswer(String prompt, int[] promptIds, Generation generation, String text) {
    public boolean stoppedByItself() {
        return generation.stoppedByItself();
    }
}
