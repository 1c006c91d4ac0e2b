package dev.millrace.cli.ingest;

/**
 * Consecutive lines of one file, as one request body: the lines joined with {@code \n} (blank lines
 * included, so the service numbers them as the file does).
 *
 * @param firstLine the 1-based number of the body's first line in the file
 * @param lines how many lines the body holds
 * @param records how many of them are not blank (the service reads each as a record)
 * @param body the NDJSON body
 */
public record Chunk(long firstLine, int lines, int records, byte[] body) {
}
