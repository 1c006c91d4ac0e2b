package dev.millrace.cli.ops;

/**
 * Shows the first bytes of a dead letter's original on one line: UTF-8 text as it is, control
 * characters, backslashes and bytes that are not UTF-8 escaped ({@code \n}, {@code \\}, {@code \xNN}).
 */
public final class EscapedPrefix {
    private EscapedPrefix() {
    }

    /** The first {@code max} bytes of {@code bytes}, escaped, with "…" when there are more. */
    public static String of(byte[] bytes, int max) {
        StringBuilder s = new StringBuilder();
        int end = Math.min(bytes.length, max);
        int i = 0;
        while (i < end) {
            int b = bytes[i] & 0xff;
            int len = sequenceLength(bytes, i, end);
            if (len > 1) {
                s.append(new String(bytes, i, len, java.nio.charset.StandardCharsets.UTF_8));
                i += len;
                continue;
            }
            switch (b) {
                case '\n' -> s.append("\\n");
                case '\r' -> s.append("\\r");
                case '\t' -> s.append("\\t");
                case '\\' -> s.append("\\\\");
                default -> {
                    if (b >= 0x20 && b < 0x7f) {
                        s.append((char) b);
                    } else {
                        s.append(String.format("\\x%02x", b));
                    }
                }
            }
            i++;
        }
        if (bytes.length > max) {
            s.append('…');
        }
        return s.toString();
    }

    /** Length of a valid multi-byte UTF-8 sequence at {@code i} (2-4), else 1. */
    private static int sequenceLength(byte[] bytes, int i, int end) {
        int b = bytes[i] & 0xff;
        int len = b >= 0xc2 && b <= 0xdf ? 2 : b >= 0xe0 && b <= 0xef ? 3 : b >= 0xf0 && b <= 0xf4 ? 4 : 1;
        if (len == 1 || i + len > end) {
            return 1;
        }
        for (int k = 1; k < len; k++) {
            if ((bytes[i + k] & 0xc0) != 0x80) {
                return 1;
            }
        }
        // Overlong 3/4-byte forms, surrogates and code points past U+10FFFF are not UTF-8.
        int b1 = bytes[i + 1] & 0xff;
        if ((b == 0xe0 && b1 < 0xa0) || (b == 0xed && b1 >= 0xa0) || (b == 0xf0 && b1 < 0x90) || (b == 0xf4 && b1 >= 0x90)) {
            return 1;
        }
        return len;
    }
}
