package dev.millrace.streams;

import dev.millrace.core.mask.Span;
import dev.millrace.core.record.MalformedMessage;
import dev.millrace.core.prepare.SftPreparer;
import dev.millrace.proto.v1.RenderedSide;
import dev.millrace.proto.v1.TokenizedSide;
import java.util.ArrayList;
import java.util.List;

/** Assistant spans between core's records and the wire, with "unknown" kept distinct from "none". */
public final class WireSpans {
    private WireSpans() {
    }

    public static RenderedSide side(SftPreparer.TemplatedConversation rendered, int assistantMessages) {
        RenderedSide.Builder b = RenderedSide.newBuilder().setText(rendered.text()).setAssistantMessages(assistantMessages);
        if (rendered.assistantSpans() != null) {
            b.setAssistantSpansKnown(true);
            rendered.assistantSpans().forEach(s -> b.addAssistantSpans(toProto(s)));
        }
        return b.build();
    }

    public static TokenizedSide side(SftPreparer.Tokenized tokenized, int assistantMessages) {
        TokenizedSide.Builder b = TokenizedSide.newBuilder().setAssistantMessages(assistantMessages);
        for (int id : tokenized.ids()) {
            b.addIds(id);
        }
        if (tokenized.assistantTokenSpans() != null) {
            b.setAssistantTokenSpansKnown(true);
            tokenized.assistantTokenSpans().forEach(s -> b.addAssistantTokenSpans(toProto(s)));
        }
        return b.build();
    }

    /** The code-point spans of a rendered side, or null when they are unknown; {@link MalformedMessage} for a span that is not one. */
    public static List<Span> textSpans(RenderedSide side) {
        return side.getAssistantSpansKnown() ? fromProto(side.getAssistantSpansList()) : null;
    }

    /** The token spans of a tokenized side, or null when they are unknown; {@link MalformedMessage} for a span that is not one. */
    public static List<Span> tokenSpans(TokenizedSide side) {
        return side.getAssistantTokenSpansKnown() ? fromProto(side.getAssistantTokenSpansList()) : null;
    }

    private static dev.millrace.proto.v1.Span toProto(Span s) {
        return dev.millrace.proto.v1.Span.newBuilder().setStart(s.start()).setEnd(s.end()).build();
    }

    private static List<Span> fromProto(List<dev.millrace.proto.v1.Span> spans) {
        List<Span> out = new ArrayList<>(spans.size());
        for (dev.millrace.proto.v1.Span s : spans) {
            if (s.getStart() < 0 || s.getEnd() < s.getStart()) {
                throw new MalformedMessage("an assistant span [" + s.getStart() + ", " + s.getEnd() + ") ends before it starts or starts before 0");
            }
            out.add(new Span(s.getStart(), s.getEnd()));
        }
        return out;
    }
}
