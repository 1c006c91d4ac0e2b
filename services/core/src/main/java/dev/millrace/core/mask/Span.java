package dev.millrace.core.mask;

/** A half-open range [start, end) of characters (code points) or token indices. */
public record Span(int start, int end) {
    public Span {
        if (start < 0 || end < start) {
            throw new IllegalArgumentException("bad span [" + start + ", " + end + ")");
        }
    }

    public boolean isEmpty() {
        return start == end;
    }
}
