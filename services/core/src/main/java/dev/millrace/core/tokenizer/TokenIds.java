package dev.millrace.core.tokenizer;

/**
 * The result of encoding one text: token ids and, per token, its [start, end) offsets in
 * Unicode code points of the text (not Java char indices).
 */
public record TokenIds(int[] ids, int[] startCodePoint, int[] endCodePoint) {
    public int length() {
        return ids.length;
    }
}
