package dev.millrace.training.checkpoint;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.millrace.training.model.MiniMind;
import dev.millrace.training.model.ModelConfig;
import dev.millrace.training.train.AdamW;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The files of one checkpoint directory, laid out so Hugging Face tools load it as it is
 * ({@code AutoModelForCausalLM} and {@code AutoTokenizer} on the directory):
 * <ul>
 *   <li>{@code model.safetensors}: float32 weights under Llama names; tied, so no {@code lm_head.weight};
 *   <li>{@code config.json}: a {@code LlamaForCausalLM} config;
 *   <li>the tokenizer folder's files, copied beside them;
 *   <li>{@code optimizer.safetensors}: AdamW's moments ({@code exp_avg.<weight>}, {@code exp_avg_sq.<weight>});
 *   <li>{@code trainer_state.json}: {@link TrainerState}.
 * </ul>
 */
public final class Checkpoint {
    public static final String MODEL = "model.safetensors";
    public static final String CONFIG = "config.json";
    public static final String OPTIMIZER = "optimizer.safetensors";
    public static final String STATE = "trainer_state.json";
    /** Written by no one but us: a tokenizer folder's file of one of these names is not copied. */
    private static final Set<String> OURS = Set.of(MODEL, CONFIG, OPTIMIZER, STATE);
    private static final String LM_HEAD = "lm_head.weight";

    static final ObjectMapper JSON = new ObjectMapper()
            .setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
            .enable(SerializationFeature.INDENT_OUTPUT)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    private Checkpoint() {
    }

    /** Writes every file of a checkpoint into {@code dir} (an empty directory; {@link CheckpointStore} makes it atomic). */
    public static void write(Path dir, MiniMind model, AdamW optimizer, TrainerState state, Path tokenizerFolder) throws IOException {
        ModelConfig config = model.config();
        Map<String, long[]> shapes = MiniMind.shapes(config);
        Map<String, SafeTensors.Tensor> weights = new LinkedHashMap<>();
        model.values().forEach((name, values) -> weights.put(name, new SafeTensors.Tensor(shapes.get(name), values)));
        // transformers refuses a safetensors file whose metadata does not name its framework.
        SafeTensors.write(dir.resolve(MODEL), weights, Map.of("format", "pt"));

        Map<String, SafeTensors.Tensor> moments = new LinkedHashMap<>();
        optimizer.moments().forEach((name, values) -> moments.put(name, new SafeTensors.Tensor(shapes.get(name.substring(name.indexOf('.') + 1)), values)));
        AdamW.Settings s = optimizer.settings();
        SafeTensors.write(dir.resolve(OPTIMIZER), moments, Map.of(
                "format", "pt",
                "optimizer", "AdamW",
                "steps", Long.toString(optimizer.steps()),
                "betas", s.beta1() + "," + s.beta2(),
                "eps", Double.toString(s.eps()),
                "weight_decay", Double.toString(s.weightDecay())));

        JSON.writeValue(dir.resolve(CONFIG).toFile(), config.toConfigJson(JSON));
        JSON.writeValue(dir.resolve(STATE).toFile(), state);
        try (DirectoryStream<Path> files = Files.newDirectoryStream(tokenizerFolder)) {
            for (Path f : files) {
                String name = f.getFileName().toString();
                if (Files.isRegularFile(f) && !OURS.contains(name)) {
                    Files.copy(f, dir.resolve(name));
                }
            }
        }
    }

    public static ModelConfig readConfig(Path dir) throws IOException {
        Path file = dir.resolve(CONFIG);
        if (!Files.isRegularFile(file)) {
            throw new IOException(dir + " has no " + CONFIG);
        }
        return ModelConfig.fromConfigJson(JSON.readTree(file.toFile()), file);
    }

    /**
     * A model from a checkpoint directory, or from any Llama-format weights with tied embeddings
     * ({@code --init}): our own checkpoints, MiniMind's safetensors exports. An {@code lm_head.weight} is
     * accepted only when it equals the embedding; a rotary {@code inv_freq} buffer is ignored (it is derived).
     */
    public static MiniMind loadModel(Path dir) throws IOException {
        ModelConfig config = readConfig(dir);
        Path file = dir.resolve(MODEL);
        if (!Files.isRegularFile(file)) {
            throw new IOException(dir + " has no " + MODEL);
        }
        Map<String, SafeTensors.Tensor> tensors = new LinkedHashMap<>(SafeTensors.read(file));
        tensors.keySet().removeIf(name -> name.endsWith("rotary_emb.inv_freq"));
        SafeTensors.Tensor head = tensors.remove(LM_HEAD);
        SafeTensors.Tensor embedding = tensors.get(MiniMind.EMBED);
        if (head != null && embedding != null && !Arrays.equals(head.data(), embedding.data())) {
            throw new IOException(file + ": " + LM_HEAD + " differs from " + MiniMind.EMBED + "; MiniMind2 ties them");
        }
        Map<String, float[]> values = new LinkedHashMap<>();
        List<String> problems = new ArrayList<>();
        MiniMind.shapes(config).forEach((name, shape) -> {
            SafeTensors.Tensor t = tensors.remove(name);
            if (t == null) {
                problems.add("missing " + name);
            } else if (!Arrays.equals(t.shape(), shape)) {
                problems.add(name + " has shape " + Arrays.toString(t.shape()) + ", config.json says " + Arrays.toString(shape));
            } else {
                values.put(name, t.data());
            }
        });
        tensors.keySet().forEach(name -> problems.add("unexpected tensor " + name));
        if (!problems.isEmpty()) {
            throw new IOException(file + " does not fit its config.json: " + String.join("; ", problems.subList(0, Math.min(5, problems.size())))
                    + (problems.size() > 5 ? " (and " + (problems.size() - 5) + " more)" : ""));
        }
        return MiniMind.fromWeights(config, values);
    }

    /** Restores AdamW's moments and step count from a checkpoint. */
    public static void loadOptimizer(Path dir, AdamW optimizer) throws IOException {
        Path file = dir.resolve(OPTIMIZER);
        Map<String, float[]> moments = new LinkedHashMap<>();
        SafeTensors.read(file).forEach((name, t) -> moments.put(name, t.data()));
        String steps = SafeTensors.metadata(file).get("steps");
        if (steps == null) {
            throw new IOException(file + " does not say how many steps its moments have seen");
        }
        optimizer.restore(moments, Long.parseLong(steps));
    }

    public static TrainerState readState(Path dir) throws IOException {
        return JSON.readValue(dir.resolve(STATE).toFile(), TrainerState.class);
    }
}
