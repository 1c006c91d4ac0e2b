package dev.millrace.training.generate;

/**
 * What a prompt was continued with.
 *
 * @param tokens the generated ids, without the end-of-turn token
 * @param finish why generation stopped
 */
public record Generation(int[] tokens, Finish finish) {
    public enum Finish {
        /** The model produced the end-of-turn token by itself. */
        END_OF_TURN,
        /** {@code max_new_tokens} were generated without an end-of-turn token. */
        MAX_NEW_TOKENS
    }

    public boolean stoppedByItself() {
        return finish == Finish.END_OF_TURN;
    }
}
