package dev.millrace.ingest;

import java.io.IOException;
import java.io.InputStream;

/**
 * A request body read as a stream, at most {@code limit} bytes of it: past that it ends as if the
 * body did, and {@link #overLimit()} tells that it did not. Ingest reads a body line by line through
 * it, so the limit is known to be passed only once {@code limit} bytes were read and one more was
 * there (a body of exactly {@code limit} bytes is within it).
 */
final class LimitedBody extends InputStream {
    private final InputStream in;
    private final long limit;
    private long read;
    private boolean overLimit;

    LimitedBody(InputStream in, long limit) {
        this.in = in;
        this.limit = limit;
    }

    /** Whether the body went on past the limit (it then reads as ended at the limit). */
    boolean overLimit() {
        return overLimit;
    }

    /** How many bytes were read. */
    long bytesRead() {
        return read;
    }

    @Override
    public int read() throws IOException {
        byte[] one = new byte[1];
        return read(one, 0, 1) == -1 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        if (overLimit) {
            return -1;
        }
        if (len == 0) {
            return 0;
        }
        if (read == limit) {
            // At the limit: the body is within it only if it ends here.
            if (in.read() != -1) {
                overLimit = true;
            }
            return -1;
        }
        int n = in.read(b, off, (int) Math.min(len, limit - read));
        if (n > 0) {
            read += n;
        }
        return n;
    }

    /**
     * Reads and discards the rest of the body, up to the limit, so that an answer given before the body
     * was read reaches a client that writes its whole body before it reads (most do) on a connection that
     * is still whole.
     *
     * @return whether the body ended within the limit; if not, the answer should close the connection
     */
    boolean drain() {
        byte[] buffer = new byte[64 * 1024];
        try {
            while (read(buffer, 0, buffer.length) != -1) {
                // discarded
            }
            return !overLimit;
        } catch (IOException e) {
            return false; // the client is gone or stalled: the answer goes nowhere, or the connection must close
        }
    }

    /**
     * For a body past the limit: reads and discards up to {@code atMost} more bytes of it, so that a
     * client whose body ends a little past the limit has written it all and reads the answer on a whole
     * connection.
     *
     * @return whether the body ended within them; if not, the answer should close the connection
     */
    boolean discardPastLimit(long atMost) {
        byte[] buffer = new byte[64 * 1024];
        long discarded = 0;
        try {
            while (discarded < atMost) {
                int n = in.read(buffer, 0, (int) Math.min(buffer.length, atMost - discarded));
                if (n == -1) {
                    return true;
                }
                discarded += n;
            }
            return in.read() == -1;
        } catch (IOException e) {
            return false;
        }
    }
}
