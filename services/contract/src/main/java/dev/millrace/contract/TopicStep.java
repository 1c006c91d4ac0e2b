package dev.millrace.contract;

/**
 * A step of a stage's path through the pipeline, each with its topic
 * {@code <prefix>.<stage>.<step>}: raw records from ingest, templated by chat-template, tokenized by
 * tokenize, batches from loss-mask.
 */
public enum TopicStep {
    RAW("raw"),
    TEMPLATED("templated"),
    TOKENIZED("tokenized"),
    BATCHES("batches");

    private final String id;

    TopicStep(String id) {
        this.id = id;
    }

    /** The last part of the topic name. */
    public String id() {
        return id;
    }
}
