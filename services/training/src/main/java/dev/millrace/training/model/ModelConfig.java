package dev.millrace.training.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.millrace.core.tokenizer.TokenizerFolder;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Locale;

/**
 * The shape of a MiniMind2 model and the Hugging Face {@code config.json} that describes it. MiniMind2
 * is a Llama with tied embeddings, so the config is a {@code LlamaForCausalLM} one and standard tooling
 * loads the weights without MiniMind's code.
 */
public record ModelConfig(
        int vocabSize,
        int hidden,
        int layers,
        int heads,
        int kvHeads,
        int intermediate,
        double rmsNormEps,
        double ropeTheta,
        int maxPositions,
        int bosId,
        int eosId,
        int padId) {

    /** MiniMind2's constants. */
    public static final double RMS_NORM_EPS = 1e-5;
    public static final double ROPE_THETA = 1e6;
    public static final int MAX_POSITIONS = 32768;

    public ModelConfig {
        if (hidden % heads != 0) {
            throw new IllegalArgumentException("hidden " + hidden + " is not a multiple of heads " + heads);
        }
        if (heads % kvHeads != 0) {
            throw new IllegalArgumentException("heads " + heads + " is not a multiple of kv heads " + kvHeads);
        }
        if ((hidden / heads) % 2 != 0) {
            throw new IllegalArgumentException("head_dim " + hidden / heads + " is odd; rotary embeddings rotate halves");
        }
    }

    /** The presets, by name: {@code tiny} for tests and the demo, {@code minimind-26m} as MiniMind2-small. */
    public static ModelConfig preset(String name, int vocabSize, int bosId, int eosId, int padId) {
        return switch (name) {
            case "tiny" -> of(vocabSize, 64, 2, 4, 2, bosId, eosId, padId);
            case "minimind-26m" -> of(vocabSize, 512, 8, 8, 2, bosId, eosId, padId);
            default -> throw new IllegalArgumentException("unknown model preset '" + name + "' (tiny, minimind-26m)");
        };
    }

    /** A preset sized for a tokenizer folder: its vocabulary and its special tokens. */
    public static ModelConfig preset(String name, TokenizerFolder tokenizer) {
        return preset(name, tokenizer.vocabSize(), tokenizer.bosId(), tokenizer.eosId(), tokenizer.padId());
    }

    /** A MiniMind2 of the given size; the SwiGLU width is derived as MiniMind derives it. */
    public static ModelConfig of(int vocabSize, int hidden, int layers, int heads, int kvHeads, int bosId, int eosId, int padId) {
        return new ModelConfig(vocabSize, hidden, layers, heads, kvHeads, swigluWidth(hidden),
                RMS_NORM_EPS, ROPE_THETA, MAX_POSITIONS, bosId, eosId, padId);
    }

    /** {@code 64·ceil(⌊8·hidden/3⌋ / 64)}: two thirds of 4·hidden, rounded up to a multiple of 64 (1408 for 512). */
    public static int swigluWidth(int hidden) {
        int twoThirds = 8 * hidden / 3;
        return 64 * ((twoThirds + 63) / 64);
    }

    public int headDim() {
        return hidden / heads;
    }

    /** The {@code LlamaForCausalLM} config.json. */
    public ObjectNode toConfigJson(ObjectMapper json) {
        ObjectNode c = json.createObjectNode();
        c.putArray("architectures").add("LlamaForCausalLM");
        c.put("model_type", "llama");
        c.put("hidden_size", hidden);
        c.put("intermediate_size", intermediate);
        c.put("num_hidden_layers", layers);
        c.put("num_attention_heads", heads);
        c.put("num_key_value_heads", kvHeads);
        c.put("head_dim", headDim());
        c.put("rms_norm_eps", rmsNormEps);
        c.put("rope_theta", ropeTheta);
        c.put("max_position_embeddings", maxPositions);
        c.put("vocab_size", vocabSize);
        c.put("tie_word_embeddings", true);
        c.put("attention_bias", false);
        c.put("mlp_bias", false);
        c.put("hidden_act", "silu");
        c.put("bos_token_id", bosId);
        c.put("eos_token_id", eosId);
        c.put("pad_token_id", padId);
        c.put("torch_dtype", "float32");
        return c;
    }

    /**
     * Reads a Llama-style config.json (ours, MiniMind's own, or any Llama with tied embeddings); fails on
     * anything MiniMind2 is not (biases, another activation, untied embeddings, rope scaling).
     */
    public static ModelConfig fromConfigJson(JsonNode c, Path where) throws IOException {
        int hidden = required(c, "hidden_size", where);
        int heads = required(c, "num_attention_heads", where);
        int kvHeads = c.has("num_key_value_heads") ? c.get("num_key_value_heads").asInt() : heads;
        int layers = required(c, "num_hidden_layers", where);
        int vocab = required(c, "vocab_size", where);
        if (c.has("head_dim") && !c.get("head_dim").isNull() && c.get("head_dim").asInt() != hidden / heads) {
            throw new IOException(where + ": head_dim " + c.get("head_dim").asInt() + " is not hidden_size / num_attention_heads = " + hidden / heads);
        }
        if (!c.path("tie_word_embeddings").asBoolean(true)) {
            throw new IOException(where + ": tie_word_embeddings is false; MiniMind2 ties the LM head to the embedding");
        }
        if (c.path("attention_bias").asBoolean(false) || c.path("mlp_bias").asBoolean(false)) {
            throw new IOException(where + ": biases are not part of MiniMind2");
        }
        String act = c.path("hidden_act").asText("silu").toLowerCase(Locale.ROOT);
        if (!act.equals("silu") && !act.equals("swish")) {
            throw new IOException(where + ": hidden_act " + act + " is not silu");
        }
        if (c.path("use_moe").asBoolean(false)) {
            throw new IOException(where + ": use_moe is true; MiniMind2's mixture-of-experts variant is not supported");
        }
        JsonNode scaling = c.path("rope_scaling");
        if (!scaling.isMissingNode() && !scaling.isNull()) {
            throw new IOException(where + ": rope_scaling is not supported");
        }
        int intermediate = c.has("intermediate_size") && !c.get("intermediate_size").isNull()
                ? c.get("intermediate_size").asInt()
                : swigluWidth(hidden);
        return new ModelConfig(vocab, hidden, layers, heads, kvHeads, intermediate,
                c.path("rms_norm_eps").asDouble(RMS_NORM_EPS),
                c.path("rope_theta").asDouble(ROPE_THETA),
                c.path("max_position_embeddings").asInt(MAX_POSITIONS),
                tokenId(c, "bos_token_id"),
                tokenId(c, "eos_token_id"),
                tokenId(c, "pad_token_id"));
    }

    /** A special token id; Hugging Face allows a list of eos ids, of which the first is kept. */
    private static int tokenId(JsonNode c, String field) {
        JsonNode id = c.path(field);
        return id.isArray() ? id.path(0).asInt(-1) : id.asInt(-1);
    }

    private static int required(JsonNode c, String field, Path where) throws IOException {
        if (!c.hasNonNull(field)) {
            throw new IOException(where + ": config has no " + field);
        }
        return c.get(field).asInt();
    }
}
