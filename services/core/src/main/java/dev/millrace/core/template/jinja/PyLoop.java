package dev.millrace.core.template.jinja;

import java.util.List;
import java.util.Objects;

/** Jinja2's {@code loop} object inside {@code {% for %}}. */
final class PyLoop {
    private final List<Object> items;
    int index0 = -1;
    private Object lastChanged = Undefined.ANONYMOUS;
    private boolean changedCalled;

    PyLoop(List<Object> items) {
        this.items = items;
    }

    Object attribute(String name) {
        int length = items.size();
        return switch (name) {
            case "index0" -> (long) index0;
            case "index" -> (long) index0 + 1;
            case "revindex" -> (long) (length - index0);
            case "revindex0" -> (long) (length - index0 - 1);
            case "first" -> index0 == 0;
            case "last" -> index0 == length - 1;
            case "length" -> (long) length;
            case "depth" -> 1L;
            case "depth0" -> 0L;
            case "previtem" -> index0 > 0 ? items.get(index0 - 1) : Undefined.because("there is no previous item");
            case "nextitem" -> index0 + 1 < length ? items.get(index0 + 1) : Undefined.because("there is no next item");
            case "cycle", "changed" -> new BoundMethod(this, name);
            default -> Undefined.attribute(this, name);
        };
    }

    Object call(String name, List<Object> args) {
        if (name.equals("cycle")) {
            if (args.isEmpty()) {
                throw JinjaError.type("no items for cycling given");
            }
            return args.get(index0 % args.size());
        }
        if (name.equals("changed")) {
            List<Object> value = List.copyOf(args.stream().map(a -> a == null ? Undefined.ANONYMOUS : a).toList());
            boolean changed = !changedCalled || !Objects.equals(PyText.repr(value), PyText.repr(lastChanged));
            changedCalled = true;
            lastChanged = value;
            return changed;
        }
        throw Undefined.attribute(this, name).error();
    }

    @Override
    public String toString() {
        return "<LoopContext " + (index0 + 1) + "/" + items.size() + ">";
    }
}
