package dev.millrace.core.prepare;

import dev.millrace.core.chat.InputFormat;
import dev.millrace.core.chat.RecordReader;
import dev.millrace.core.chat.TextRecord;
import dev.millrace.core.json.RawLine;
import dev.millrace.core.json.StrictJson;
import dev.millrace.core.mask.Row;
import dev.millrace.core.record.Reason;
import dev.millrace.core.record.RecordId;
import dev.millrace.core.record.RecordRejected;
import dev.millrace.core.record.Stage;
import dev.millrace.core.tokenizer.TokenizerFolder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The pretrain path (docs/semantics.md#pretrain): {@code ids = [bos] + encode(text)[: T - added] + [eos]},
 * right-padded to T; every real position is trained, padding never (decided by position, so a pad
 * id equal to eos still trains the eos). Truncation keeps room for the tokens that are added.
 */
public final class PretrainPreparer implements LinePreparer {
    private final TokenizerFolder folder;
    private final int seqLen;
    private final InputFormat format;
    private final Wrap wrap;
    private final boolean split;
    private final String bosText;
    private final String eosText;

    /** @throws IllegalArgumentException when the wrapping needs a bos or eos token the tokenizer lacks */
    public PretrainPreparer(TokenizerFolder folder, int seqLen, InputFormat format, Wrap wrap) {
        this(folder, seqLen, format, wrap, false);
    }

    /**
     * @param split a text longer than T becomes consecutive windows of T tokens instead of being
     *              truncated ({@code --pretrain-overflow split})
     */
    public PretrainPreparer(TokenizerFolder folder, int seqLen, InputFormat format, Wrap wrap, boolean split) {
        if (seqLen < 2) {
            throw new IllegalArgumentException("--seq-len must be at least 2");
        }
        this.folder = folder;
        this.seqLen = seqLen;
        this.format = format;
        this.wrap = wrap;
        this.split = split;
        this.bosText = folder.config().specialTokens().get("bos_token");
        this.eosText = folder.config().specialTokens().get("eos_token");
        if (wrap != Wrap.NEVER && (folder.bosId() < 0 || folder.eosId() < 0)) {
            throw new IllegalArgumentException("--wrap " + wrap.id() + " needs bos and eos tokens, and the tokenizer in "
                    + folder.path() + " lacks one; use --wrap never");
        }
    }

    @Override
    public Prepared prepare(RawLine line) {
        try {
            TextRecord record = RecordReader.read(StrictJson.parse(line.bytes()), Stage.PRETRAIN, format).asText();
            String id = RecordId.of(Stage.PRETRAIN, record.normalised());
            List<Row> rows = rows(wrap(record.text()));
            if (rows.size() > 1) {
                return new Prepared.Windows(line.number(), id, record.text(), rows);
            }
            return new Prepared.Example(line.number(), id, record.text(), rows.get(0), List.of());
        } catch (RecordRejected e) {
            return new Prepared.Rejected(line.number(), e.reason(), e.getMessage());
        }
    }

    /**
     * The whole wrapped sequence of a text, untruncated: {@code [bos] + encode(text) + [eos]} as
     * {@code --wrap} decides. The tokenize step makes it; {@link #rows} turns it into rows.
     *
     * @param ids the wrapped sequence
     * @param eosAdded whether the wrap appended eos (truncation keeps an added eos as the last token)
     */
    public record Wrapped(int[] ids, boolean eosAdded) {
    }

    /** Step 1 (tokenize): encodes the text and adds bos/eos as {@code --wrap} decides. */
    public Wrapped wrap(String text) {
        boolean bos = wrap == Wrap.ALWAYS || (wrap == Wrap.AUTO && !text.startsWith(bosText));
        boolean eos = wrap == Wrap.ALWAYS || (wrap == Wrap.AUTO && !text.endsWith(eosText));
        int[] body = folder.tokenizer().ids(text);
        int[] all = new int[(bos ? 1 : 0) + body.length + (eos ? 1 : 0)];
        if (bos) {
            all[0] = folder.bosId();
        }
        System.arraycopy(body, 0, all, bos ? 1 : 0, body.length);
        if (eos) {
            all[all.length - 1] = folder.eosId();
        }
        return new Wrapped(all, eos);
    }

    /**
     * Step 2 (loss-mask): the rows of one wrapped text, every real position trained. Truncate
     * (default): one row, {@code [bos] + body[: T - added] + [eos]}. Split: consecutive windows of T
     * tokens; a last window of a single token is dropped, since the first token of a row is never a
     * target and it would train nothing.
     *
     * @throws RecordRejected NO_TRAINABLE_TOKENS when there is nothing to train (empty text, no wrap)
     */
    public List<Row> rows(Wrapped wrapped) throws RecordRejected {
        int[] all = wrapped.ids();
        if (all.length == 0) {
            throw new RecordRejected(Reason.NO_TRAINABLE_TOKENS, "the text is empty and --wrap never adds nothing to train");
        }
        if (!split) {
            int[] ids = all;
            if (all.length > seqLen && wrapped.eosAdded()) {
                ids = Arrays.copyOf(all, seqLen);
                ids[seqLen - 1] = all[all.length - 1];
            }
            return List.of(trainedEverywhere(ids));
        }
        List<Row> rows = new ArrayList<>();
        for (int start = 0; start < all.length; start += seqLen) {
            int end = Math.min(all.length, start + seqLen);
            if (end - start < 2 && start > 0) {
                break;
            }
            rows.add(trainedEverywhere(Arrays.copyOfRange(all, start, end)));
        }
        return rows;
    }

    /** The row of T ids for one text, with its mask (1 on every real position), truncated to T. */
    public Row row(String text) throws RecordRejected {
        return truncating().rows(wrap(text)).get(0);
    }

    /** The rows of one text: one truncated row, or its windows when this preparer splits. */
    public List<Row> windows(String text) throws RecordRejected {
        return rows(wrap(text));
    }

    private PretrainPreparer truncating() {
        return split ? new PretrainPreparer(folder, seqLen, format, wrap, false) : this;
    }

    /** Whether a text longer than T becomes windows ({@code --pretrain-overflow split}). */
    public boolean splits() {
        return split;
    }

    private Row trainedEverywhere(int[] ids) {
        int[] mask = new int[ids.length];
        Arrays.fill(mask, 1);
        return Row.fit(ids, mask, seqLen, folder.padId());
    }
}
