package dev.millrace.core.template.jinja;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;

/** Splits a Jinja2 expression into tokens the way Jinja2's lexer does inside {{ }} and {% %}. */
final class Lexer {
    enum Kind { NAME, STRING, INTEGER, FLOAT, OP, EOF }

    record Token(Kind kind, String text, Object value, int pos) {
        boolean is(String op) {
            return kind == Kind.OP && text.equals(op);
        }

        boolean isName(String name) {
            return kind == Kind.NAME && text.equals(name);
        }

        @Override
        public String toString() {
            return kind == Kind.EOF ? "end of statement" : "'" + text + "'";
        }
    }

    private static final String[] OPERATORS = {"**", "//", "==", "!=", ">=", "<=", "+", "-", "*", "/", "%", "~", "[", "]",
        "(", ")", "{", "}", ">", "<", "=", ".", ":", "|", ",", ";"};

    private Lexer() {
    }

    static List<Token> tokenize(String source) {
        List<Token> out = new ArrayList<>();
        int i = 0;
        int n = source.length();
        while (i < n) {
            char c = source.charAt(i);
            if (Character.isWhitespace(c)) {
                i++;
                continue;
            }
            if (Character.isDigit(c)) {
                i = number(source, i, out);
                continue;
            }
            if (Character.isLetter(c) || c == '_') {
                int start = i;
                while (i < n && (Character.isLetterOrDigit(source.charAt(i)) || source.charAt(i) == '_')) {
                    i++;
                }
                out.add(new Token(Kind.NAME, source.substring(start, i), null, start));
                continue;
            }
            if (c == '\'' || c == '"') {
                int start = i;
                i++;
                while (i < n && source.charAt(i) != c) {
                    i += source.charAt(i) == '\\' ? 2 : 1;
                }
                if (i >= n) {
                    throw JinjaError.syntax("unexpected end of string");
                }
                i++;
                String raw = source.substring(start + 1, i - 1);
                out.add(new Token(Kind.STRING, source.substring(start, i), unescape(raw), start));
                continue;
            }
            boolean matched = false;
            for (String op : OPERATORS) {
                if (source.startsWith(op, i)) {
                    out.add(new Token(Kind.OP, op, null, i));
                    i += op.length();
                    matched = true;
                    break;
                }
            }
            if (!matched) {
                throw JinjaError.syntax("unexpected char " + PyText.repr(String.valueOf(c)) + " at " + i);
            }
        }
        out.add(new Token(Kind.EOF, "", null, n));
        return out;
    }

    private static int number(String s, int i, List<Token> out) {
        int start = i;
        int n = s.length();
        if (s.charAt(i) == '0' && i + 1 < n && "xXoObB".indexOf(s.charAt(i + 1)) >= 0) {
            int radix = switch (Character.toLowerCase(s.charAt(i + 1))) {
                case 'x' -> 16;
                case 'o' -> 8;
                default -> 2;
            };
            i += 2;
            int digits = i;
            while (i < n && (Character.digit(s.charAt(i), radix) >= 0 || s.charAt(i) == '_')) {
                i++;
            }
            BigInteger v = new BigInteger(s.substring(digits, i).replace("_", ""), radix);
            out.add(new Token(Kind.INTEGER, s.substring(start, i), PyValues.normInt(v), start));
            return i;
        }
        // Jinja2's float_re: digits, then (.digits)?e[+-]digits or .digits; not preceded by '.'
        boolean afterDot = start > 0 && s.charAt(start - 1) == '.';
        i = digits(s, i);
        int intEnd = i;
        boolean isFloat = false;
        if (!afterDot) {
            int j = i;
            if (j + 1 < n && s.charAt(j) == '.' && Character.isDigit(s.charAt(j + 1))) {
                j = digits(s, j + 1);
                isFloat = true;
            }
            int k = j;
            if (k < n && (s.charAt(k) == 'e' || s.charAt(k) == 'E')) {
                int m = k + 1;
                if (m < n && (s.charAt(m) == '+' || s.charAt(m) == '-')) {
                    m++;
                }
                if (m < n && Character.isDigit(s.charAt(m))) {
                    j = digits(s, m);
                    isFloat = true;
                }
            }
            if (isFloat) {
                i = j;
            }
        }
        String text = s.substring(start, isFloat ? i : intEnd);
        String clean = text.replace("_", "");
        if (isFloat) {
            out.add(new Token(Kind.FLOAT, text, Double.parseDouble(clean), start));
        } else {
            out.add(new Token(Kind.INTEGER, text, PyValues.normInt(new BigInteger(clean)), start));
        }
        return isFloat ? i : intEnd;
    }

    private static int digits(String s, int i) {
        while (i < s.length() && (Character.isDigit(s.charAt(i)) || (s.charAt(i) == '_' && i + 1 < s.length()
                && Character.isDigit(s.charAt(i + 1))))) {
            i++;
        }
        return i;
    }

    /** Python's unicode-escape decoding of a string literal's body (newlines normalised). */
    static String unescape(String raw) {
        raw = raw.replace("\r\n", "\n").replace('\r', '\n');
        if (raw.indexOf('\\') < 0) {
            return raw;
        }
        StringBuilder sb = new StringBuilder(raw.length());
        int i = 0;
        while (i < raw.length()) {
            char c = raw.charAt(i++);
            if (c != '\\' || i >= raw.length()) {
                sb.append(c);
                continue;
            }
            char e = raw.charAt(i++);
            switch (e) {
                case '\n' -> {
                }
                case '\\', '\'', '"' -> sb.append(e);
                case 'a' -> sb.append('\u0007');
                case 'b' -> sb.append('\b');
                case 'f' -> sb.append('\f');
                case 'n' -> sb.append('\n');
                case 'r' -> sb.append('\r');
                case 't' -> sb.append('\t');
                case 'v' -> sb.append('\u000b');
                case 'x', 'u', 'U' -> {
                    int len = e == 'x' ? 2 : e == 'u' ? 4 : 8;
                    if (i + len > raw.length()) {
                        throw JinjaError.syntax("truncated \\" + e + " escape in a string literal");
                    }
                    String hex = raw.substring(i, i + len);
                    try {
                        sb.appendCodePoint(Integer.parseInt(hex, 16));
                    } catch (IllegalArgumentException ex) {
                        throw JinjaError.syntax("truncated \\" + e + " escape in a string literal");
                    }
                    i += len;
                }
                case 'N' -> {
                    int close = raw.indexOf('}', i);
                    if (i >= raw.length() || raw.charAt(i) != '{' || close < 0) {
                        throw JinjaError.syntax("malformed \\N character escape");
                    }
                    try {
                        sb.appendCodePoint(Character.codePointOf(raw.substring(i + 1, close)));
                    } catch (IllegalArgumentException ex) {
                        throw JinjaError.syntax("unknown Unicode character name");
                    }
                    i = close + 1;
                }
                default -> {
                    if (e >= '0' && e <= '7') {
                        int v = e - '0';
                        for (int k = 0; k < 2 && i < raw.length() && raw.charAt(i) >= '0' && raw.charAt(i) <= '7'; k++) {
                            v = v * 8 + raw.charAt(i++) - '0';
                        }
                        sb.appendCodePoint(v);
                    } else {
                        sb.append('\\').append(e);
                    }
                }
            }
        }
        return sb.toString();
    }
}
