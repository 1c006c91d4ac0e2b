package dev.millrace.core.prepare;

import dev.millrace.core.json.RawLine;

/** One stage's preparation of one input line; never throws for bad data (a bad line is {@link Prepared.Rejected}). */
public interface LinePreparer {
    Prepared prepare(RawLine line);
}
