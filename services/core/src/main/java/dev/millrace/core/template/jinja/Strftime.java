package dev.millrace.core.template.jinja;

import java.time.ZonedDateTime;
import java.time.format.TextStyle;
import java.util.Locale;

/** Python's {@code datetime.strftime} (C locale) for the directives chat templates use. */
public final class Strftime {
    private Strftime() {
    }

    public static String format(ZonedDateTime t, String format) {
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < format.length(); i++) {
            char c = format.charAt(i);
            if (c != '%' || i + 1 == format.length()) {
                out.append(c);
                continue;
            }
            char d = format.charAt(++i);
            boolean unpadded = false;
            if (d == '-' && i + 1 < format.length()) {
                unpadded = true;
                d = format.charAt(++i);
            }
            String v = switch (d) {
                case 'Y' -> String.valueOf(t.getYear());
                case 'y' -> two(t.getYear() % 100);
                case 'm' -> two(t.getMonthValue());
                case 'd' -> two(t.getDayOfMonth());
                case 'e' -> String.format("%2d", t.getDayOfMonth());
                case 'j' -> String.format("%03d", t.getDayOfYear());
                case 'H' -> two(t.getHour());
                case 'I' -> two((t.getHour() + 11) % 12 + 1);
                case 'M' -> two(t.getMinute());
                case 'S' -> two(t.getSecond());
                case 'f' -> String.format("%06d", t.getNano() / 1000);
                case 'p' -> t.getHour() < 12 ? "AM" : "PM";
                case 'B' -> t.getMonth().getDisplayName(TextStyle.FULL, Locale.ENGLISH);
                case 'b', 'h' -> t.getMonth().getDisplayName(TextStyle.SHORT, Locale.ENGLISH);
                case 'A' -> t.getDayOfWeek().getDisplayName(TextStyle.FULL, Locale.ENGLISH);
                case 'a' -> t.getDayOfWeek().getDisplayName(TextStyle.SHORT, Locale.ENGLISH);
                case 'w' -> String.valueOf(t.getDayOfWeek().getValue() % 7);
                case 'u' -> String.valueOf(t.getDayOfWeek().getValue());
                case 'Z' -> t.getZone().getDisplayName(TextStyle.SHORT, Locale.ENGLISH);
                case 'F' -> t.getYear() + "-" + two(t.getMonthValue()) + "-" + two(t.getDayOfMonth());
                case 'D' -> two(t.getMonthValue()) + "/" + two(t.getDayOfMonth()) + "/" + two(t.getYear() % 100);
                case 'T' -> two(t.getHour()) + ":" + two(t.getMinute()) + ":" + two(t.getSecond());
                case '%' -> "%";
                default -> null;
            };
            if (v == null) {
                out.append('%');
                if (unpadded) {
                    out.append('-');
                }
                out.append(d);
            } else {
                if (unpadded && v.length() > 1) {
                    String stripped = v.replaceFirst("^[0 ]+(?=.)", "");
                    v = stripped;
                }
                out.append(v);
            }
        }
        return out.toString();
    }

    private static String two(int v) {
        return v < 10 ? "0" + v : String.valueOf(v);
    }
}
