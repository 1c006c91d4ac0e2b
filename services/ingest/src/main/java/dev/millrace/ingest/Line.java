package dev.millrace.ingest;

/**
 * One input line as {@link BoundedLineReader} gives it: its 1-based number, its first bytes (all of
 * them unless the line is longer than the reader keeps), its full length without the line end, and
 * whether it is blank (nothing but ASCII whitespace, as core's {@code RawLine.isBlank}).
 */
record Line(long number, byte[] bytes, long length, boolean blank) {

    /** Whether {@link #bytes} is only the start of the line. */
    boolean cut() {
        return bytes.length < length;
    }
}
