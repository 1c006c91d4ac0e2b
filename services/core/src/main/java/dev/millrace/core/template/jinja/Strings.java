package dev.millrace.core.template.jinja;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/** Python {@code str} methods with CPython's semantics (whitespace set, split rules, code points). */
public final class Strings {
    private Strings() {
    }

    /** Python's {@code s.strip()}: CPython's whitespace removed from both ends. */
    public static String strip(String s) {
        return strip(s, null, true, true);
    }

    /** CPython's Py_UNICODE_ISSPACE. */
    static boolean isSpace(int c) {
        return (c >= 9 && c <= 13) || (c >= 28 && c <= 32) || c == 0x85 || c == 0xa0 || c == 0x1680
                || (c >= 0x2000 && c <= 0x200a) || c == 0x2028 || c == 0x2029 || c == 0x202f || c == 0x205f || c == 0x3000;
    }

    static Object call(String s, String name, Args a) {
        switch (name) {
            case "strip", "lstrip", "rstrip" -> {
                a.max(1);
                Object chars = a.opt(0, "chars", PyValues.NONE);
                return strip(s, chars == PyValues.NONE ? null : Args.string(chars, name + " arg"),
                        !name.equals("rstrip"), !name.equals("lstrip"));
            }
            case "startswith", "endswith" -> {
                Object prefix = a.required(0, "prefix");
                String sub = substring(s, a.opt(1, "start", PyValues.NONE), a.opt(2, "end", PyValues.NONE));
                if (prefix instanceof PyTuple t) {
                    for (Object p : t) {
                        if (matches(sub, Args.string(p, "tuple for " + name + " item"), name)) {
                            return true;
                        }
                    }
                    return false;
                }
                if (!(prefix instanceof String p)) {
                    throw JinjaError.type(name + " first arg must be str or a tuple of str, not " + PyValues.typeName(prefix));
                }
                return matches(sub, p, name);
            }
            case "split", "rsplit" -> {
                a.max(2);
                Object sep = a.opt(0, "sep", PyValues.NONE);
                long max = Args.integer(a.opt(1, "maxsplit", -1L), "maxsplit");
                if (sep == PyValues.NONE) {
                    return name.equals("split") ? splitWhitespace(s, max) : rsplitWhitespace(s, max);
                }
                String sp = Args.string(sep, "must be str or None, not");
                if (sp.isEmpty()) {
                    throw JinjaError.value("empty separator");
                }
                return name.equals("split") ? split(s, sp, max) : rsplit(s, sp, max);
            }
            case "splitlines" -> {
                return splitlines(s, PyValues.truth(a.opt(0, "keepends", false)));
            }
            case "upper" -> {
                return Methods.upper(s);
            }
            case "lower", "casefold" -> {
                return Methods.lower(s);
            }
            case "title" -> {
                return title(s);
            }
            case "capitalize" -> {
                return capitalize(s);
            }
            case "swapcase" -> {
                StringBuilder sb = new StringBuilder();
                s.codePoints().forEach(c -> sb.appendCodePoint(Character.isUpperCase(c) ? Character.toLowerCase(c)
                        : Character.isLowerCase(c) ? Character.toUpperCase(c) : c));
                return sb.toString();
            }
            case "replace" -> {
                String old = Args.string(a.required(0, "old"), "replace() argument 1");
                String rep = Args.string(a.required(1, "new"), "replace() argument 2");
                long count = Args.integer(a.opt(2, "count", -1L), "count");
                return replace(s, old, rep, count);
            }
            case "find", "rfind", "index", "rindex" -> {
                String sub = Args.string(a.required(0, "sub"), "must be str, not");
                int[] cps = s.codePoints().toArray();
                int[] range = range(cps.length, a.opt(1, "start", PyValues.NONE), a.opt(2, "end", PyValues.NONE));
                String hay = new String(cps, range[0], Math.max(0, range[1] - range[0]));
                int at = name.startsWith("r") ? hay.lastIndexOf(sub) : hay.indexOf(sub);
                if (range[1] < range[0] || at < 0) {
                    if (name.endsWith("index")) {
                        throw JinjaError.value("substring not found");
                    }
                    return -1L;
                }
                return (long) (range[0] + hay.codePointCount(0, at));
            }
            case "count" -> {
                String sub = Args.string(a.required(0, "sub"), "must be str, not");
                String hay = substring(s, a.opt(1, "start", PyValues.NONE), a.opt(2, "end", PyValues.NONE));
                if (sub.isEmpty()) {
                    return (long) hay.codePointCount(0, hay.length()) + 1;
                }
                long n = 0;
                for (int i = hay.indexOf(sub); i >= 0; i = hay.indexOf(sub, i + sub.length())) {
                    n++;
                }
                return n;
            }
            case "join" -> {
                StringBuilder sb = new StringBuilder();
                List<Object> items = PyValues.iterate(a.required(0, "iterable"));
                for (int i = 0; i < items.size(); i++) {
                    if (!(items.get(i) instanceof String item)) {
                        throw JinjaError.type("sequence item " + i + ": expected str instance, " + PyValues.typeName(items.get(i)) + " found");
                    }
                    if (i > 0) {
                        sb.append(s);
                    }
                    sb.append(item);
                }
                return sb.toString();
            }
            case "removeprefix" -> {
                String p = Args.string(a.required(0, "prefix"), "removeprefix() argument");
                return s.startsWith(p) ? s.substring(p.length()) : s;
            }
            case "removesuffix" -> {
                String p = Args.string(a.required(0, "suffix"), "removesuffix() argument");
                return !p.isEmpty() && s.endsWith(p) ? s.substring(0, s.length() - p.length()) : s;
            }
            case "partition", "rpartition" -> {
                String sep = Args.string(a.required(0, "sep"), "must be str, not");
                if (sep.isEmpty()) {
                    throw JinjaError.value("empty separator");
                }
                int at = name.equals("partition") ? s.indexOf(sep) : s.lastIndexOf(sep);
                if (at < 0) {
                    return name.equals("partition") ? PyTuple.of(s, "", "") : PyTuple.of("", "", s);
                }
                return PyTuple.of(s.substring(0, at), sep, s.substring(at + sep.length()));
            }
            case "center", "ljust", "rjust" -> {
                long width = Args.integer(a.required(0, "width"), "width");
                String fill = Args.string(a.opt(1, "fillchar", " "), "fill character");
                if (fill.codePointCount(0, fill.length()) != 1) {
                    throw JinjaError.type("The fill character must be exactly one character long");
                }
                return pad(s, width, fill, name);
            }
            case "zfill" -> {
                long width = Args.integer(a.required(0, "width"), "width");
                int n = s.codePointCount(0, s.length());
                if (width <= n) {
                    return s;
                }
                String zeros = "0".repeat((int) (width - n));
                if (!s.isEmpty() && (s.charAt(0) == '+' || s.charAt(0) == '-')) {
                    return s.charAt(0) + zeros + s.substring(1);
                }
                return zeros + s;
            }
            case "isalnum", "isalpha", "isdigit", "isdecimal", "isnumeric", "isspace", "isascii", "isprintable",
                 "islower", "isupper", "istitle", "isidentifier" -> {
                return predicate(s, name);
            }
            case "expandtabs" -> {
                long tab = Args.integer(a.opt(0, "tabsize", 8L), "tabsize");
                StringBuilder sb = new StringBuilder();
                int col = 0;
                for (int i = 0; i < s.length(); i++) {
                    char c = s.charAt(i);
                    if (c == '\t') {
                        if (tab > 0) {
                            int spaces = (int) (tab - col % tab);
                            sb.append(" ".repeat(spaces));
                            col += spaces;
                        }
                    } else {
                        sb.append(c);
                        col = (c == '\n' || c == '\r') ? 0 : col + 1;
                    }
                }
                return sb.toString();
            }
            case "format" -> {
                return Format.braces(s, a.positional, a.keywords);
            }
            default -> throw JinjaError.unsupported("str." + name + "()");
        }
    }

    private static boolean matches(String s, String p, String name) {
        return name.equals("startswith") ? s.startsWith(p) : s.endsWith(p);
    }

    /** s[start:end] by code points, with None meaning the string's own bound. */
    private static String substring(String s, Object start, Object end) {
        if (start == PyValues.NONE && end == PyValues.NONE) {
            return s;
        }
        int[] cps = s.codePoints().toArray();
        int[] r = range(cps.length, start, end);
        return r[1] <= r[0] ? "" : new String(cps, r[0], r[1] - r[0]);
    }

    private static int[] range(int length, Object start, Object end) {
        int st = start == PyValues.NONE ? 0 : clamp(Args.integer(start, "start"), length);
        int en = end == PyValues.NONE ? length : clamp(Args.integer(end, "end"), length);
        return new int[] {st, en};
    }

    private static int clamp(long i, int length) {
        if (i < 0) {
            i = Math.max(0, i + length);
        }
        return (int) Math.min(i, length);
    }

    static String strip(String s, String chars, boolean left, boolean right) {
        int[] cps = s.codePoints().toArray();
        int[] strip = chars == null ? null : chars.codePoints().toArray();
        int i = 0;
        int j = cps.length;
        if (left) {
            while (i < j && stripped(cps[i], strip)) {
                i++;
            }
        }
        if (right) {
            while (j > i && stripped(cps[j - 1], strip)) {
                j--;
            }
        }
        return new String(cps, i, j - i);
    }

    private static boolean stripped(int c, int[] chars) {
        if (chars == null) {
            return isSpace(c);
        }
        for (int x : chars) {
            if (x == c) {
                return true;
            }
        }
        return false;
    }

    static List<Object> split(String s, String sep, long max) {
        List<Object> out = new ArrayList<>();
        int from = 0;
        while (max < 0 || out.size() < max) {
            int at = s.indexOf(sep, from);
            if (at < 0) {
                break;
            }
            out.add(s.substring(from, at));
            from = at + sep.length();
        }
        out.add(s.substring(from));
        return out;
    }

    static List<Object> rsplit(String s, String sep, long max) {
        List<Object> out = new ArrayList<>();
        int to = s.length();
        while (max < 0 || out.size() < max) {
            int at = s.lastIndexOf(sep, to - sep.length());
            if (at < 0 || to - sep.length() < 0) {
                break;
            }
            out.add(s.substring(at + sep.length(), to));
            to = at;
        }
        out.add(s.substring(0, to));
        Collections.reverse(out);
        return out;
    }

    static List<Object> splitWhitespace(String s, long max) {
        List<Object> out = new ArrayList<>();
        int[] cps = s.codePoints().toArray();
        int i = 0;
        int n = cps.length;
        while (true) {
            while (i < n && isSpace(cps[i])) {
                i++;
            }
            if (i == n) {
                break;
            }
            if (max >= 0 && out.size() == max) {
                out.add(new String(cps, i, n - i));
                break;
            }
            int start = i;
            while (i < n && !isSpace(cps[i])) {
                i++;
            }
            out.add(new String(cps, start, i - start));
        }
        return out;
    }

    static List<Object> rsplitWhitespace(String s, long max) {
        List<Object> out = new ArrayList<>();
        int[] cps = s.codePoints().toArray();
        int j = cps.length;
        while (true) {
            while (j > 0 && isSpace(cps[j - 1])) {
                j--;
            }
            if (j == 0) {
                break;
            }
            if (max >= 0 && out.size() == max) {
                out.add(new String(cps, 0, j));
                break;
            }
            int end = j;
            while (j > 0 && !isSpace(cps[j - 1])) {
                j--;
            }
            out.add(new String(cps, j, end - j));
        }
        Collections.reverse(out);
        return out;
    }

    private static boolean isLineBreak(int c) {
        return c == '\n' || c == '\r' || c == 0x0b || c == 0x0c || c == 0x1c || c == 0x1d || c == 0x1e || c == 0x85
                || c == 0x2028 || c == 0x2029;
    }

    static List<String> splitlines(String s, boolean keepends) {
        List<String> out = new ArrayList<>();
        int i = 0;
        int start = 0;
        while (i < s.length()) {
            char c = s.charAt(i);
            if (isLineBreak(c)) {
                int end = i;
                i++;
                if (c == '\r' && i < s.length() && s.charAt(i) == '\n') {
                    i++;
                }
                out.add(s.substring(start, keepends ? i : end));
                start = i;
            } else {
                i++;
            }
        }
        if (start < s.length()) {
            out.add(s.substring(start));
        }
        return out;
    }

    static String replace(String s, String old, String rep, long count) {
        if (count < 0) {
            return s.replace(old, rep);
        }
        StringBuilder sb = new StringBuilder();
        if (old.isEmpty()) {
            int[] cps = s.codePoints().toArray();
            long done = 0;
            for (int i = 0; i <= cps.length; i++) {
                if (done < count) {
                    sb.append(rep);
                    done++;
                }
                if (i < cps.length) {
                    sb.appendCodePoint(cps[i]);
                }
            }
            return sb.toString();
        }
        int from = 0;
        long done = 0;
        while (done < count) {
            int at = s.indexOf(old, from);
            if (at < 0) {
                break;
            }
            sb.append(s, from, at).append(rep);
            from = at + old.length();
            done++;
        }
        return sb.append(s.substring(from)).toString();
    }

    static boolean isCased(int c) {
        return Character.isUpperCase(c) || Character.isLowerCase(c) || Character.isTitleCase(c);
    }

    /** Python str.title(). */
    static String title(String s) {
        StringBuilder sb = new StringBuilder();
        boolean previousCased = false;
        for (int c : s.codePoints().toArray()) {
            if (previousCased) {
                sb.append(new String(Character.toChars(c)).toLowerCase(java.util.Locale.ROOT));
            } else {
                sb.append(titleCase(c));
            }
            previousCased = isCased(c);
        }
        return sb.toString();
    }

    static String titleCase(int c) {
        int t = Character.toTitleCase(c);
        if (t != c) {
            return new String(Character.toChars(t));
        }
        return new String(Character.toChars(c)).toUpperCase(java.util.Locale.ROOT);
    }

    /** Python str.capitalize(): first character title-cased, the rest lower-cased. */
    static String capitalize(String s) {
        if (s.isEmpty()) {
            return s;
        }
        int first = s.codePointAt(0);
        return titleCase(first) + s.substring(Character.charCount(first)).toLowerCase(java.util.Locale.ROOT);
    }

    private static String pad(String s, long width, String fill, String how) {
        int n = s.codePointCount(0, s.length());
        if (width <= n) {
            return s;
        }
        int marg = (int) (width - n);
        int left;
        if (how.equals("ljust")) {
            left = 0;
        } else if (how.equals("rjust")) {
            left = marg;
        } else {
            left = marg / 2 + (marg & (int) width & 1);
        }
        return fill.repeat(left) + s + fill.repeat(marg - left);
    }

    private static boolean predicate(String s, String name) {
        int[] cps = s.codePoints().toArray();
        switch (name) {
            case "isascii" -> {
                for (int c : cps) {
                    if (c > 0x7f) {
                        return false;
                    }
                }
                return true;
            }
            case "isprintable" -> {
                for (int c : cps) {
                    if (!PyText.isPrintable(c)) {
                        return false;
                    }
                }
                return true;
            }
            case "islower", "isupper" -> {
                boolean cased = false;
                for (int c : cps) {
                    if (name.equals("islower") ? (Character.isUpperCase(c) || Character.isTitleCase(c)) : (Character.isLowerCase(c) || Character.isTitleCase(c))) {
                        return false;
                    }
                    cased |= isCased(c);
                }
                return cased;
            }
            case "istitle" -> {
                boolean cased = false;
                boolean previousCased = false;
                for (int c : cps) {
                    if (Character.isUpperCase(c) || Character.isTitleCase(c)) {
                        if (previousCased) {
                            return false;
                        }
                        previousCased = true;
                        cased = true;
                    } else if (Character.isLowerCase(c)) {
                        if (!previousCased) {
                            return false;
                        }
                        previousCased = true;
                        cased = true;
                    } else {
                        previousCased = false;
                    }
                }
                return cased;
            }
            case "isidentifier" -> {
                if (cps.length == 0 || !(Character.isUnicodeIdentifierStart(cps[0]) || cps[0] == '_')) {
                    return false;
                }
                for (int c : cps) {
                    if (!(Character.isUnicodeIdentifierPart(c) || c == '_') || Character.isIdentifierIgnorable(c)) {
                        return false;
                    }
                }
                return true;
            }
            default -> {
                if (cps.length == 0) {
                    return false;
                }
                for (int c : cps) {
                    boolean ok = switch (name) {
                        case "isalnum" -> Character.isLetter(c) || Character.isDigit(c) || Character.getType(c) == Character.LETTER_NUMBER
                                || Character.getType(c) == Character.OTHER_NUMBER;
                        case "isalpha" -> Character.isLetter(c);
                        case "isdigit" -> Character.isDigit(c) || Character.getType(c) == Character.OTHER_NUMBER && Character.getNumericValue(c) >= 0;
                        case "isdecimal" -> Character.getType(c) == Character.DECIMAL_DIGIT_NUMBER;
                        case "isnumeric" -> Character.isDigit(c) || Character.getType(c) == Character.LETTER_NUMBER
                                || Character.getType(c) == Character.OTHER_NUMBER;
                        case "isspace" -> isSpace(c);
                        default -> false;
                    };
                    if (!ok) {
                        return false;
                    }
                }
                return true;
            }
        }
    }
}
