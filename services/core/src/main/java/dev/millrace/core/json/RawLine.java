package dev.millrace.core.json;

/**
 * One input line exactly as read: its 1-based number and its bytes without the line end
 * ({@code \n} or {@code \r\n}). Kept as bytes so that a line that is not UTF-8 can still be
 * reported, and dead-lettered with its original bytes.
 */
public record RawLine(long number, byte[] bytes) {

    /** Blank lines (nothing but ASCII whitespace) are skipped and produce nothing (CLI.md). */
    public boolean isBlank() {
        for (byte b : bytes) {
            if (b != ' ' && b != '\t' && b != '\r' && b != '\n') {
                return false;
            }
        }
        return true;
    }
}
