package dev.millrace.core.record;

/**
 * A message on an internal topic, or a normalised record read back from one, that lacks what its
 * type requires (a foreign producer, version skew). It is the input's fault, not this code's: a
 * step turns it into a {@link Reason#MALFORMED_MESSAGE} dead letter. Kept apart from
 * {@link IllegalArgumentException} so that a programming error is never mistaken for bad input
 * (that one becomes {@link Reason#UNEXPECTED_ERROR}).
 */
public final class MalformedMessage extends RuntimeException {

    public MalformedMessage(String message) {
        super(message, null, false, false); // the input's fault, not a bug: no stack trace
    }
}
