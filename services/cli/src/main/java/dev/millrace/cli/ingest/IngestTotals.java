package dev.millrace.cli.ingest;

/** Running totals of an ingest run. {@code accepted} includes distill prompts. */
public final class IngestTotals {
    private long files;
    private long records;
    private long accepted;
    private long rejected;
    private long prompts;

    void file() {
        files++;
    }

    void add(long records, IngestClient.Answer answer) {
        this.records += records;
        this.accepted += answer.accepted();
        this.rejected += answer.rejected();
        this.prompts += answer.prompts();
    }

    public long files() {
        return files;
    }

    public long records() {
        return records;
    }

    public long accepted() {
        return accepted;
    }

    public long rejected() {
        return rejected;
    }

    public long prompts() {
        return prompts;
    }

    /** The summary line of standard output. */
    public String summary() {
        return "files=" + files + " records=" + records + " accepted=" + accepted + " rejected=" + rejected;
    }
}
