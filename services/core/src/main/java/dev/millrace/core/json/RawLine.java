package dev.millrace.core.json;

/**
 * One input line exactly as read: its 1-based number and its bytes without the line end
 * ({@code \n} or {@code \r\n}). Kept as bytes so that a line that is not UTF-8 can still be
 * reported, and dead-lettered with its original bytes. A reader that bounds memory
 * ({@link LineReader#LineReader(java.io.InputStream, int)}) keeps only the first bytes of a long
 * line: {@code length} is then the line's true length and {@code blank} is decided on all of it.
 */
public record RawLine(long number, byte[] bytes, long length, boolean blank) {

    /** A whole line: its length and blankness come from its bytes. */
    public RawLine(long number, byte[] bytes) {
        this(number, bytes, bytes.length, isBlank(bytes));
    }

    /** Blank lines (nothing but ASCII whitespace) are skipped and produce nothing (docs/cli.md#prepare). */
    public boolean isBlank() {
        return blank;
    }

    /** Whether {@link #bytes} is only the start of the line. */
    public boolean cut() {
        return bytes.length < length;
    }

    static boolean isBlankByte(byte b) {
        return b == ' ' || b == '\t' || b == '\r' || b == '\n';
    }

    private static boolean isBlank(byte[] bytes) {
        for (byte b : bytes) {
            if (!isBlankByte(b)) {
                return false;
            }
        }
        return true;
    }
}
