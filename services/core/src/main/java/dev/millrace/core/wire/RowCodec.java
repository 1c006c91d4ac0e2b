package dev.millrace.core.wire;

import com.google.protobuf.ByteString;
import dev.millrace.core.mask.Row;
import dev.millrace.core.record.Warning;
import dev.millrace.proto.v1.BatchRow;
import dev.millrace.proto.v1.RecordRef;
import java.util.List;

/**
 * Rows on the wire: ids as packed varints, the unshifted mask as T bits (bit k of byte k/8 is
 * m[k], least significant bit first), so a 512-position mask takes 64 bytes.
 */
public final class RowCodec {
    private RowCodec() {
    }

    public static BatchRow toProto(Row row, List<RecordRef> records, List<Warning> warnings) {
        BatchRow.Builder b = BatchRow.newBuilder()
                .setLossMask(packMask(row.mask()))
                .setNonpadTokens(row.realLength())
                .setTrainedTokens(row.trainedTokens())
                .addAllRecords(records);
        for (int id : row.ids()) {
            b.addInputIds(id);
        }
        warnings.forEach(w -> b.addWarnings(w.name()));
        return b.build();
    }

    /** A row that only completes a batch: all padding, all-zero mask, flagged. */
    public static BatchRow filler(int seqLen, int padId) {
        return filler(seqLen, padId, false);
    }

    /**
     * A filler row; in a packed batch it also carries T segment and position ids, all 0 (padding), as every
     * row of a packed batch does, so a reader builds its {@code [B, T]} arrays without special cases.
     */
    public static BatchRow filler(int seqLen, int padId, boolean packed) {
        BatchRow.Builder b = BatchRow.newBuilder()
                .setFiller(true)
                .setLossMask(packMask(new int[seqLen]));
        for (int i = 0; i < seqLen; i++) {
            b.addInputIds(padId);
            if (packed) {
                b.addSegmentIds(0).addPositionIds(0);
            }
        }
        return b.build();
    }

    public static ByteString packMask(int[] mask) {
        byte[] bits = new byte[(mask.length + 7) / 8];
        for (int k = 0; k < mask.length; k++) {
            if (mask[k] != 0) {
                bits[k >> 3] |= (byte) (1 << (k & 7));
            }
        }
        return ByteString.copyFrom(bits);
    }

    public static int[] unpackMask(ByteString bits, int seqLen) {
        if (bits.size() != (seqLen + 7) / 8) {
            throw new IllegalArgumentException("mask has " + bits.size() + " bytes, expected " + (seqLen + 7) / 8 + " for T=" + seqLen);
        }
        int[] mask = new int[seqLen];
        for (int k = 0; k < seqLen; k++) {
            mask[k] = (bits.byteAt(k >> 3) >> (k & 7)) & 1;
        }
        return mask;
    }

    public static int[] ids(BatchRow row) {
        int[] ids = new int[row.getInputIdsCount()];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = row.getInputIds(i);
        }
        return ids;
    }
}
