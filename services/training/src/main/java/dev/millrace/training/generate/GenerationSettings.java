package dev.millrace.training.generate;

/**
 * How to continue a prompt.
 *
 * @param maxNewTokens the most tokens generated (the end-of-turn token, when it comes, not counted among them)
 * @param temperature 0: greedy (the most likely token, the lowest id on a tie); above 0: the logits are divided by it
 *     before sampling
 * @param topP nucleus sampling: only the most likely tokens whose probabilities sum to at least this are drawn
 *     from (1: all); ignored when greedy
 * @param endOfTurnId the token that ends the answer (ChatML's {@code <|im_end|>})
 */
public record GenerationSettings(int maxNewTokens, double temperature, double topP, int endOfTurnId) {
    public GenerationSettings {
        if (maxNewTokens < 1) {
            throw new IllegalArgumentException("max_new_tokens must be at least 1, got " + maxNewTokens);
        }
        if (!(temperature >= 0) || Double.isInfinite(temperature)) {
            throw new IllegalArgumentException("temperature must be 0 (greedy) or positive, got " + temperature);
        }
        if (!(topP > 0 && topP <= 1)) {
            throw new IllegalArgumentException("top_p must be in (0, 1], got " + topP);
        }
    }

    public static GenerationSettings greedy(int maxNewTokens, int endOfTurnId) {
        return new GenerationSettings(maxNewTokens, 0, 1, endOfTurnId);
    }

    public boolean isGreedy() {
        return temperature == 0;
    }
}
