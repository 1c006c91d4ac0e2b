package dev.millrace.core.template.jinja;

/**
 * One render of a whole conversation cut where {@link PrefixSplit} says a prefix render can be read
 * off it: {@code render(messages[:n], g)} is {@code pre + loop[:iterationEnds[n-1]] + post(g)} for
 * every n from 1 to the number of messages.
 *
 * @param pre what the template renders before its loop over {@code messages}
 * @param loop what the loop renders over all the messages
 * @param iterationEnds the length of {@code loop} after each message's iteration, one per message
 * @param postWithoutPrompt what comes after the loop with {@code add_generation_prompt=False}
 * @param postWithPrompt what comes after the loop with {@code add_generation_prompt=True}
 */
public record RenderPieces(String pre, String loop, int[] iterationEnds, String postWithoutPrompt, String postWithPrompt) {
    /** {@code pre + loop + postWithoutPrompt}: the render of the whole conversation. */
    public int length() {
        return pre.length() + loop.length() + postWithoutPrompt.length();
    }
}
