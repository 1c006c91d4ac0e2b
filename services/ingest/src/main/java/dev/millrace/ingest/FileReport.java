package dev.millrace.ingest;

import com.fasterxml.jackson.annotation.JsonInclude;

/**
 * What became of one dropped file, written beside it as {@code <name>.report.json}. Rejected lines
 * (dead letters) do not make a file fail; {@code failed} means the file could not be read to its end
 * or the broker did not acknowledge a chunk, and then {@code error} says why. The counts cover what
 * was acknowledged before that.
 *
 * @param file the path the file was dropped as (the {@code source.name} of its records and dead letters)
 * @param lines lines read, blank ones included
 * @param accepted records produced (distill prompts included)
 * @param prompts of those, distill prompts produced to distill.prompts (distill only, else left out)
 * @param rejected dead letters produced
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
record FileReport(String file, String stage, String status, long lines, long accepted, Long prompts, long rejected,
                  String error) {
    static final String DONE = "done";
    static final String FAILED = "failed";

    boolean failed() {
        return FAILED.equals(status);
    }
}
