package dev.millrace.core.template.jinja;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.List;
import java.util.Map;

/** Python's {@code str % args} and {@code str.format(...)} for the common conversions. */
final class Format {
    private Format() {
    }

    static String percent(String format, Object args) {
        List<?> positional = args instanceof PyTuple t ? t : List.of(args);
        Map<?, ?> named = args instanceof Map<?, ?> m ? m : null;
        StringBuilder out = new StringBuilder();
        int next = 0;
        int i = 0;
        while (i < format.length()) {
            char c = format.charAt(i++);
            if (c != '%') {
                out.append(c);
                continue;
            }
            if (i >= format.length()) {
                throw JinjaError.value("incomplete format");
            }
            Object value;
            if (format.charAt(i) == '(') {
                int close = format.indexOf(')', i);
                if (close < 0 || named == null) {
                    throw JinjaError.type("format requires a mapping");
                }
                value = PyValues.getKey(named, format.substring(i + 1, close));
                if (value == PyValues.MISSING) {
                    throw new JinjaError("KeyError", PyText.repr(format.substring(i + 1, close)));
                }
                i = close + 1;
            } else {
                value = null;
            }
            StringBuilder flags = new StringBuilder();
            while (i < format.length() && "-+ 0#".indexOf(format.charAt(i)) >= 0) {
                flags.append(format.charAt(i++));
            }
            int width = 0;
            while (i < format.length() && Character.isDigit(format.charAt(i))) {
                width = width * 10 + format.charAt(i++) - '0';
            }
            int precision = -1;
            if (i < format.length() && format.charAt(i) == '.') {
                i++;
                precision = 0;
                while (i < format.length() && Character.isDigit(format.charAt(i))) {
                    precision = precision * 10 + format.charAt(i++) - '0';
                }
            }
            if (i >= format.length()) {
                throw JinjaError.value("incomplete format");
            }
            char conv = format.charAt(i++);
            if (conv == '%') {
                out.append('%');
                continue;
            }
            if (value == null) {
                if (named != null && !(args instanceof PyTuple)) {
                    value = args;
                } else {
                    if (next >= positional.size()) {
                        throw JinjaError.type("not enough arguments for format string");
                    }
                    value = positional.get(next++);
                }
            }
            String body = convert(conv, value, precision, flags.toString());
            boolean left = flags.indexOf("-") >= 0;
            boolean zero = flags.indexOf("0") >= 0 && !left && "sr".indexOf(conv) < 0;
            int len = body.codePointCount(0, body.length());
            if (len < width) {
                String pad = (zero ? "0" : " ").repeat(width - len);
                if (left) {
                    body = body + pad;
                } else if (zero && (body.startsWith("-") || body.startsWith("+"))) {
                    body = body.charAt(0) + pad + body.substring(1);
                } else {
                    body = pad + body;
                }
            }
            out.append(body);
        }
        if (named == null && next < positional.size()) {
            throw JinjaError.type("not all arguments converted during string formatting");
        }
        return out.toString();
    }

    private static String convert(char conv, Object value, int precision, String flags) {
        String sign = flags.indexOf('+') >= 0 ? "+" : flags.indexOf(' ') >= 0 ? " " : "";
        switch (conv) {
            case 's' -> {
                String s = PyText.str(value);
                return precision >= 0 && precision < s.length() ? s.substring(0, precision) : s;
            }
            case 'r', 'a' -> {
                return PyText.repr(value);
            }
            case 'd', 'i', 'u' -> {
                if (!PyValues.isNumber(value)) {
                    throw JinjaError.type("%" + conv + " format: a real number is required, not " + PyValues.typeName(value));
                }
                Object n = value instanceof Double d ? PyValues.normInt(new BigDecimal(d).setScale(0, RoundingMode.DOWN).toBigInteger()) : PyValues.toBig(value);
                String s = n.toString();
                return s.startsWith("-") ? s : sign + s;
            }
            case 'f', 'F', 'e', 'E', 'g', 'G' -> {
                if (!PyValues.isNumber(value)) {
                    throw JinjaError.type("must be real number, not " + PyValues.typeName(value));
                }
                double d = PyValues.toDouble(value);
                int p = precision < 0 ? 6 : precision;
                String s;
                if (conv == 'f' || conv == 'F') {
                    s = new BigDecimal(d).setScale(p, RoundingMode.HALF_EVEN).toPlainString();
                } else {
                    s = String.format(java.util.Locale.ROOT, "%" + (precision < 0 ? "" : "." + p) + conv, d);
                }
                return s.startsWith("-") ? s : sign + s;
            }
            case 'x', 'X', 'o' -> {
                if (!PyValues.isInt(value)) {
                    throw JinjaError.type("%" + conv + " format: an integer is required, not " + PyValues.typeName(value));
                }
                String s = PyValues.toBig(value).toString(conv == 'o' ? 8 : 16);
                return conv == 'X' ? s.toUpperCase(java.util.Locale.ROOT) : s;
            }
            case 'c' -> {
                if (value instanceof String s && s.codePointCount(0, s.length()) == 1) {
                    return s;
                }
                return new String(Character.toChars((int) PyValues.toIndex(value, "%c")));
            }
            default -> throw JinjaError.value("unsupported format character '" + conv + "'");
        }
    }

    /** str.format with {}, {0}, {name} and {!r}/{!s}; format specs other than empty are refused. */
    static String braces(String format, List<Object> args, Map<String, Object> kwargs) {
        StringBuilder out = new StringBuilder();
        int auto = 0;
        int i = 0;
        while (i < format.length()) {
            char c = format.charAt(i);
            if (c == '{' && i + 1 < format.length() && format.charAt(i + 1) == '{') {
                out.append('{');
                i += 2;
            } else if (c == '}' && i + 1 < format.length() && format.charAt(i + 1) == '}') {
                out.append('}');
                i += 2;
            } else if (c == '{') {
                int close = format.indexOf('}', i);
                if (close < 0) {
                    throw JinjaError.value("Single '{' encountered in format string");
                }
                String field = format.substring(i + 1, close);
                String conversion = null;
                int bang = field.indexOf('!');
                if (bang >= 0) {
                    conversion = field.substring(bang + 1);
                    field = field.substring(0, bang);
                }
                if (field.contains(":")) {
                    String spec = field.substring(field.indexOf(':') + 1);
                    field = field.substring(0, field.indexOf(':'));
                    if (!spec.isEmpty()) {
                        throw JinjaError.unsupported("format spec '" + spec + "' in str.format");
                    }
                }
                Object value;
                if (field.isEmpty()) {
                    if (auto >= args.size()) {
                        throw new JinjaError("IndexError", "Replacement index " + auto + " out of range for positional args tuple");
                    }
                    value = args.get(auto++);
                } else if (field.chars().allMatch(Character::isDigit)) {
                    int k = Integer.parseInt(field);
                    if (k >= args.size()) {
                        throw new JinjaError("IndexError", "Replacement index " + k + " out of range for positional args tuple");
                    }
                    value = args.get(k);
                } else {
                    if (!kwargs.containsKey(field)) {
                        throw new JinjaError("KeyError", PyText.repr(field));
                    }
                    value = kwargs.get(field);
                }
                out.append("r".equals(conversion) ? PyText.repr(value) : PyText.str(value));
                i = close + 1;
            } else if (c == '}') {
                throw JinjaError.value("Single '}' encountered in format string");
            } else {
                out.append(c);
                i++;
            }
        }
        return out.toString();
    }
}
