package dev.millrace.core.tokenizer;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.djl.huggingface.tokenizers.jni.CharSpan;
import java.io.IOException;
import java.nio.file.Path;

/**
 * DJL's HuggingFace tokenizer, set up so it never changes the ids behind our back: no added
 * special tokens (they come only from the template or the stage rules), no truncation (DJL's
 * default silently cuts at 512), no padding. Truncation and padding are Millrace's, by position.
 */
public final class Tokenizer implements AutoCloseable {
    private final HuggingFaceTokenizer hf;

    Tokenizer(Path tokenizerJson) throws IOException {
        this.hf = HuggingFaceTokenizer.builder()
                .optTokenizerPath(tokenizerJson)
                .optAddSpecialTokens(false)
                .optTruncation(false)
                .optPadding(false)
                .build();
    }

    public TokenIds encode(String text) {
        Encoding e = hf.encode(text);
        long[] raw = e.getIds();
        CharSpan[] spans = e.getCharTokenSpans();
        int n = raw.length;
        int[] ids = new int[n];
        int[] start = new int[n];
        int[] end = new int[n];
        for (int i = 0; i < n; i++) {
            ids[i] = Math.toIntExact(raw[i]);
            CharSpan s = spans[i];
            start[i] = s == null ? -1 : s.getStart();
            end[i] = s == null ? -1 : s.getEnd();
        }
        return new TokenIds(ids, start, end);
    }

    /** The ids of a text, without offsets. */
    public int[] ids(String text) {
        return encode(text).ids();
    }

    /** The text of a sequence of ids (special tokens included). */
    public String decode(int[] ids) {
        long[] raw = new long[ids.length];
        for (int i = 0; i < ids.length; i++) {
            raw[i] = ids[i];
        }
        return hf.decode(raw, false);
    }

    /** The text of one token as the tokenizer decodes it (for human-readable tables). */
    public String decode(int id) {
        return hf.decode(new long[] {id}, false);
    }

    @Override
    public void close() {
        hf.close();
    }
}
