package dev.millrace.core.template.jinja;

/**
 * Rewrites a template source so that Jinjava's tokenizer sees what Jinja2's lexer sees, for the three
 * things Jinjava's scanner does differently:
 * <ul>
 *   <li>{@code lstrip_blocks}: Jinja2 strips the whitespace before {@code {%} and {@code {#} only when
 *       it is all that precedes the tag on its line (and never for {@code {%+}); Jinjava strips it
 *       anywhere. Done here instead (Jinjava's own option is off).</li>
 *   <li>comments: removed here with Jinja2's whitespace rules ({@code {#-}, {@code -#}}, lstrip, and
 *       trim_blocks eating one newline after {@code #}}).</li>
 *   <li>{@code }}} inside an expression that closes a dict literal ({@code {{ {'a': {}} }}}): Jinja2
 *       balances braces, Jinjava ends the expression there; a space is inserted between the braces.</li>
 * </ul>
 * Raw blocks and string literals inside tags are left untouched.
 */
final class SourcePrep {
    private SourcePrep() {
    }

    static String apply(String src) {
        StringBuilder out = new StringBuilder(src.length());
        int i = 0;
        int n = src.length();
        boolean trimNextNewline = false;
        boolean stripNextWhitespace = false;
        while (i < n) {
            int open = nextOpen(src, i);
            // copy data up to the next tag start
            String data = src.substring(i, open < 0 ? n : open);
            boolean runAtLineStart = i == 0 || src.charAt(i - 1) == '\n';
            if (stripNextWhitespace) {
                String stripped = Strings.strip(data, null, true, false);
                String removed = data.substring(0, data.length() - stripped.length());
                if (!removed.isEmpty()) {
                    runAtLineStart = removed.endsWith("\n");
                }
                data = stripped;
                stripNextWhitespace = false;
            } else if (trimNextNewline && data.startsWith("\n")) {
                data = data.substring(1);
                runAtLineStart = true;
            }
            trimNextNewline = false;
            if (open < 0) {
                out.append(data);
                break;
            }
            char kind = src.charAt(open + 1);
            boolean plus = open + 2 < n && src.charAt(open + 2) == '+';
            boolean minus = open + 2 < n && src.charAt(open + 2) == '-';
            boolean lineStart = (kind == '%' || kind == '#') && !plus && !minus && onlyIndentBefore(data, runAtLineStart);
            if (lineStart) {
                int cut = data.length();
                while (cut > 0 && isIndent(data.charAt(cut - 1))) {
                    cut--;
                }
                data = data.substring(0, cut);
            }
            if (kind == '#') {
                int close = src.indexOf("#}", open + 2);
                if (close < 0) {
                    throw JinjaError.syntax("unexpected end of template, missing end of comment tag");
                }
                if (minus) {
                    data = Strings.strip(data, null, false, true);
                }
                out.append(data);
                boolean closeMinus = close > open + 2 && src.charAt(close - 1) == '-';
                i = close + 2;
                if (closeMinus) {
                    stripNextWhitespace = true;
                } else {
                    trimNextNewline = true;
                }
                continue;
            }
            out.append(data);
            int close = tagEnd(src, open, kind, out);
            if (kind == '%' && isRawStart(src, open, close)) {
                int endRaw = findEndRaw(src, close);
                out.append(src, close, endRaw);
                close = endRaw;
            }
            i = close;
        }
        return out.toString();
    }

    private static boolean isIndent(char c) {
        return c == ' ' || c == '\t' || c == '\f' || c == '\u000b';
    }

    /** Whether the data before the tag, on the tag's line, is only spaces and tabs. */
    private static boolean onlyIndentBefore(String data, boolean runAtLineStart) {
        int k = data.length() - 1;
        while (k >= 0 && isIndent(data.charAt(k))) {
            k--;
        }
        return k >= 0 ? data.charAt(k) == '\n' : runAtLineStart;
    }

    private static int nextOpen(String src, int from) {
        int i = src.indexOf('{', from);
        while (i >= 0 && i + 1 < src.length()) {
            char c = src.charAt(i + 1);
            if (c == '{' || c == '%' || c == '#') {
                return i;
            }
            i = src.indexOf('{', i + 1);
        }
        return -1;
    }

    /**
     * Copies a {{ }} or {% %} tag to {@code out} (dropping a lstrip-disabling '+', spacing out "}}"
     * that closes a dict) and returns the index after it.
     */
    private static int tagEnd(String src, int open, char kind, StringBuilder out) {
        int n = src.length();
        char closeChar = kind == '{' ? '}' : '%';
        int i = open + 2;
        out.append(src, open, open + 2);
        if (i < n && src.charAt(i) == '+' && kind == '%') {
            i++; // {%+ : lstrip already handled (not stripped); Jinjava does not know '+'
        }
        int depth = 0;
        while (i < n) {
            char c = src.charAt(i);
            if (c == '\'' || c == '"') {
                int j = i + 1;
                while (j < n && src.charAt(j) != c) {
                    j += src.charAt(j) == '\\' ? 2 : 1;
                }
                j = Math.min(j + 1, n);
                out.append(src, i, j);
                i = j;
                continue;
            }
            if (c == '{' || c == '[' || c == '(') {
                depth++;
            } else if ((c == '}' || c == ']' || c == ')') && depth > 0) {
                depth--;
                out.append(c);
                i++;
                if (c == '}' && i < n && src.charAt(i) == '}' && kind == '{' && depth >= 0) {
                    out.append(' ');
                }
                continue;
            } else if (depth == 0 && c == closeChar && i + 1 < n && src.charAt(i + 1) == '}') {
                out.append(src, i, i + 2);
                return i + 2;
            } else if (depth == 0 && c == '-' && i + 2 < n && src.charAt(i + 1) == closeChar && src.charAt(i + 2) == '}') {
                out.append(src, i, i + 3);
                return i + 3;
            }
            out.append(c);
            i++;
        }
        return n;
    }

    private static boolean isRawStart(String src, int open, int close) {
        String inner = src.substring(open + 2, close - 2);
        inner = Strings.strip(inner, "-+ \t\n", true, true);
        return inner.equals("raw");
    }

    /** The index of the {% endraw %} tag that closes a raw block starting at {@code from}. */
    private static int findEndRaw(String src, int from) {
        int i = from;
        while (true) {
            int open = src.indexOf("{%", i);
            if (open < 0) {
                return src.length();
            }
            int close = src.indexOf("%}", open + 2);
            if (close < 0) {
                return src.length();
            }
            String inner = Strings.strip(src.substring(open + 2, close), "-+ \t\n", true, true);
            if (inner.equals("endraw")) {
                return open;
            }
            i = open + 2;
        }
    }
}
