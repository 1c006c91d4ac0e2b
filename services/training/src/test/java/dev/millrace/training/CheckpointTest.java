package dev.millrace.training;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.millrace.core.tokenizer.TokenizerFolder;
import dev.millrace.training.checkpoint.BatchRanges;
import dev.millrace.training.checkpoint.Checkpoint;
import dev.millrace.training.checkpoint.CheckpointStore;
import dev.millrace.training.checkpoint.SafeTensors;
import dev.millrace.training.checkpoint.TrainerState;
import dev.millrace.training.model.MiniMind;
import dev.millrace.training.model.ModelConfig;
import dev.millrace.training.train.AdamW;
import dev.millrace.training.train.BatchTensors;
import dev.millrace.training.train.LrSchedule;
import dev.millrace.training.train.Trainer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CheckpointTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    private static TrainerState state(long step) {
        return new TrainerState(step, 0, "pretrain", "fp", "tiny", Map.of(), List.of(new BatchRanges.Range("pretrain-p0-00000000", "pretrain-p0-00000004", 5)),
                1234, 1, null);
    }

    private static Path write(CheckpointStore store, long step, MiniMind model, AdamW adamw) throws IOException {
        return store.write(step, d -> Checkpoint.write(d, model, adamw, state(step), TokenizerFolder.bundledPath()));
    }

    @Test
    void aCheckpointIsAHuggingFaceLlamaDirectory() throws IOException {
        try (MiniMind model = MiniMind.initialise(TestBatches.tiny(), 1); AdamW adamw = new AdamW(AdamW.Settings.defaults(), model.weights())) {
            Path checkpoint = write(new CheckpointStore(dir, 3), 7, model, adamw);

            assertThat(checkpoint.getFileName().toString()).isEqualTo("step-00000007");
            try (Stream<Path> files = Files.list(checkpoint)) {
                assertThat(files.map(f -> f.getFileName().toString())).containsExactlyInAnyOrder(
                        "model.safetensors", "config.json", "optimizer.safetensors", "trainer_state.json",
                        "tokenizer.json", "tokenizer_config.json");
            }
            Map<String, SafeTensors.Tensor> weights = SafeTensors.read(checkpoint.resolve("model.safetensors"));
            assertThat(weights.keySet()).containsExactlyElementsOf(MiniMind.shapes(model.config()).keySet());
            assertThat(weights).containsKeys("model.embed_tokens.weight", "model.layers.1.self_attn.k_proj.weight",
                    "model.layers.0.mlp.down_proj.weight", "model.layers.1.post_attention_layernorm.weight", "model.norm.weight");
            assertThat(weights).doesNotContainKey("lm_head.weight");
            assertThat(weights.get("model.layers.0.self_attn.k_proj.weight").shape()).containsExactly(32, 64); // [out, in], 2 KV heads of 16
            assertThat(weights.get("model.layers.0.mlp.gate_proj.weight").shape()).containsExactly(192, 64);
            assertThat(SafeTensors.metadata(checkpoint.resolve("model.safetensors"))).containsEntry("format", "pt");

            JsonNode config = JSON.readTree(checkpoint.resolve("config.json").toFile());
            assertThat(config.get("architectures").get(0).asText()).isEqualTo("LlamaForCausalLM");
            assertThat(config.get("model_type").asText()).isEqualTo("llama");
            Map<String, Object> expected = new LinkedHashMap<>();
            expected.put("hidden_size", 64);
            expected.put("intermediate_size", 192);
            expected.put("num_hidden_layers", 2);
            expected.put("num_attention_heads", 4);
            expected.put("num_key_value_heads", 2);
            expected.put("head_dim", 16);
            expected.put("rms_norm_eps", 1e-5);
            expected.put("rope_theta", 1e6);
            expected.put("max_position_embeddings", 32768);
            expected.put("vocab_size", 4096);
            expected.put("tie_word_embeddings", true);
            expected.put("attention_bias", false);
            expected.put("mlp_bias", false);
            expected.put("hidden_act", "silu");
            expected.put("bos_token_id", 1);
            expected.put("eos_token_id", 2);
            expected.put("pad_token_id", 0);
            expected.put("torch_dtype", "float32");
            expected.forEach((field, value) -> assertThat(JSON.convertValue(config.get(field), Object.class)).as(field).isEqualTo(value));

            JsonNode state = JSON.readTree(checkpoint.resolve("trainer_state.json").toFile());
            assertThat(state.get("step").asLong()).isEqualTo(7);
            assertThat(state.get("tokenizer_fingerprint").asText()).isEqualTo("fp");
            assertThat(state.get("batch_ranges").get(0).get("to").asText()).isEqualTo("pretrain-p0-00000004");
            assertThat(Checkpoint.readState(checkpoint)).isEqualTo(state(7));

            // The copied tokenizer is the same tokenizer (same fingerprint).
            try (TokenizerFolder copy = TokenizerFolder.open(checkpoint); TokenizerFolder bundled = TokenizerFolder.bundled()) {
                assertThat(copy.fingerprint()).isEqualTo(bundled.fingerprint());
            }
        }
    }

    @Test
    void aLoadedCheckpointIsTheSameModel() throws IOException {
        BatchTensors batch = BatchTensors.from(TestBatches.randomUnpacked(4, 1, 16, 2, 4096).get(0));
        try (MiniMind model = TestBatches.sharpModel(TestBatches.tiny(), 2); AdamW adamw = new AdamW(AdamW.Settings.defaults(), model.weights())) {
            Path checkpoint = write(new CheckpointStore(dir, 1), 1, model, adamw);
            try (MiniMind loaded = Checkpoint.loadModel(checkpoint); NDManager scratch = NDManager.newBaseManager()) {
                assertThat(loaded.config()).isEqualTo(model.config());
                assertThat(loaded.forward(scratch, batch.input()).toFloatArray())
                        .containsExactly(model.forward(scratch, batch.input()).toFloatArray());
            }
        }
    }

    @Test
    void resumingFromACheckpointContinuesExactly() throws IOException {
        List<BatchTensors> batches = TestBatches.randomUnpacked(6, 5, 16, 2, 4096).stream().map(BatchTensors::from).toList();
        Trainer.Settings settings = Trainer.Settings.defaults(LrSchedule.cosine(1e-2, 5));
        CheckpointStore store = new CheckpointStore(dir, 2);
        List<Double> uninterrupted = new ArrayList<>();
        Path checkpoint;
        try (MiniMind model = MiniMind.initialise(TestBatches.tiny(), 3); AdamW adamw = new AdamW(AdamW.Settings.defaults(), model.weights())) {
            Trainer trainer = new Trainer(model, adamw, settings, 0);
            for (int i = 0; i < 3; i++) {
                trainer.add(batches.get(i));
            }
            checkpoint = write(store, trainer.steps(), model, adamw);
            for (int i = 3; i < 5; i++) {
                uninterrupted.add(trainer.add(batches.get(i)).orElseThrow().loss());
            }
        }
        try (MiniMind model = Checkpoint.loadModel(checkpoint); AdamW adamw = new AdamW(AdamW.Settings.defaults(), model.weights())) {
            Checkpoint.loadOptimizer(checkpoint, adamw);
            assertThat(adamw.steps()).isEqualTo(3);
            Trainer trainer = new Trainer(model, adamw, settings, Checkpoint.readState(checkpoint).step());
            List<Double> resumed = new ArrayList<>();
            for (int i = 3; i < 5; i++) {
                Trainer.StepResult step = trainer.add(batches.get(i)).orElseThrow();
                assertThat(step.step()).isEqualTo(i + 1);
                resumed.add(step.loss());
            }
            assertThat(resumed).containsExactlyElementsOf(uninterrupted);
        }
    }

    @Test
    void initAcceptsATiedLmHeadAndRefusesWhatDoesNotFit() throws IOException {
        try (MiniMind model = MiniMind.initialise(TestBatches.tiny(), 1); AdamW adamw = new AdamW(AdamW.Settings.defaults(), model.weights())) {
            Path checkpoint = write(new CheckpointStore(dir.resolve("ok"), 1), 1, model, adamw);
            Map<String, SafeTensors.Tensor> weights = SafeTensors.read(checkpoint.resolve("model.safetensors"));
            SafeTensors.Tensor embedding = weights.get(MiniMind.EMBED);

            Path tied = copyWith(checkpoint, "tied", weights, w -> w.put("lm_head.weight", embedding));
            try (MiniMind loaded = Checkpoint.loadModel(tied)) {
                assertThat(loaded.parameterCount()).isEqualTo(model.parameterCount());
            }

            float[] other = embedding.data().clone();
            other[5] += 1;
            Path untied = copyWith(checkpoint, "untied", weights, w -> w.put("lm_head.weight", new SafeTensors.Tensor(embedding.shape(), other)));
            assertThatThrownBy(() -> Checkpoint.loadModel(untied)).hasMessageContaining("lm_head.weight differs");

            Path missing = copyWith(checkpoint, "missing", weights, w -> w.remove("model.layers.1.mlp.up_proj.weight"));
            assertThatThrownBy(() -> Checkpoint.loadModel(missing)).hasMessageContaining("missing model.layers.1.mlp.up_proj.weight");

            Path extra = copyWith(checkpoint, "extra", weights, w -> w.put("model.layers.2.input_layernorm.weight", weights.get(MiniMind.FINAL_NORM)));
            assertThatThrownBy(() -> Checkpoint.loadModel(extra)).hasMessageContaining("unexpected tensor model.layers.2.input_layernorm.weight");

            Path reshaped = copyWith(checkpoint, "reshaped", weights, w -> w.put(MiniMind.FINAL_NORM, new SafeTensors.Tensor(new long[] {1, 64}, new float[64])));
            assertThatThrownBy(() -> Checkpoint.loadModel(reshaped)).hasMessageContaining("model.norm.weight has shape [1, 64]");
        }
    }

    @Test
    void aCheckpointAppearsWholeOrNotAtAllAndOnlyTheNewestAreKept() throws IOException {
        Path root = dir.resolve("checkpoints");
        Files.createDirectories(root.resolve(".tmp-step-00000009-123")); // a write that crashed
        Files.writeString(root.resolve(".tmp-step-00000009-123/model.safetensors"), "half");
        CheckpointStore store = new CheckpointStore(root, 2);
        assertThat(root.resolve(".tmp-step-00000009-123")).doesNotExist();

        try (MiniMind model = MiniMind.initialise(TestBatches.tiny(), 1); AdamW adamw = new AdamW(AdamW.Settings.defaults(), model.weights())) {
            assertThatThrownBy(() -> store.write(5, d -> {
                Files.writeString(d.resolve("model.safetensors"), "partial");
                throw new IOException("disk full");
            })).hasMessage("disk full");
            assertThat(store.list()).isEmpty();
            try (Stream<Path> left = Files.list(root)) {
                assertThat(left).isEmpty();
            }

            for (long step : new long[] {10, 20, 30, 100_000_000L}) {
                write(store, step, model, adamw);
            }
            assertThat(store.list()).extracting(CheckpointStore::step).containsExactly(30L, 100_000_000L);
            assertThat(store.newest()).map(CheckpointStore::step).contains(100_000_000L);
            assertThatThrownBy(() -> write(store, 30, model, adamw)).hasMessageContaining("already exists");
        }
    }

    @Test
    void batchRangesCollapseConsecutiveBatchesOfAPartition() {
        BatchRanges ranges = new BatchRanges();
        ranges.addAll(List.of("sft-p0-00000003", "sft-p0-00000004", "sft-p0-00000005", "sft-p1-00000006", "sft-p1-00000007", "sft-p0-00000009"));
        assertThat(ranges.ranges()).containsExactly(
                new BatchRanges.Range("sft-p0-00000003", "sft-p0-00000005", 3),
                new BatchRanges.Range("sft-p1-00000006", "sft-p1-00000007", 2),
                new BatchRanges.Range("sft-p0-00000009", "sft-p0-00000009", 1));
    }

    @Test
    void configJsonRoundTripsAndForeignLlamaConfigsAreChecked() throws IOException {
        ModelConfig config = ModelConfig.preset("minimind-26m", 6400, 1, 2, 0);
        assertThat(config.intermediate()).isEqualTo(1408);
        assertThat(config.headDim()).isEqualTo(64);
        assertThat(MiniMind.shapes(config).values().stream().mapToLong(s -> java.util.Arrays.stream(s).reduce(1, Math::multiplyExact)).sum())
                .as("parameters of minimind-26m over MiniMind's 6400-token vocabulary").isEqualTo(25_829_888L);
        Path file = dir.resolve("config.json");
        assertThat(ModelConfig.fromConfigJson(config.toConfigJson(JSON), file)).isEqualTo(config);

        var untied = config.toConfigJson(JSON).put("tie_word_embeddings", false);
        assertThatThrownBy(() -> ModelConfig.fromConfigJson(untied, file)).hasMessageContaining("tie_word_embeddings");
        var gelu = config.toConfigJson(JSON).put("hidden_act", "gelu");
        assertThatThrownBy(() -> ModelConfig.fromConfigJson(gelu, file)).hasMessageContaining("gelu");
    }

    private Path copyWith(Path checkpoint, String name, Map<String, SafeTensors.Tensor> weights,
                          java.util.function.Consumer<Map<String, SafeTensors.Tensor>> change) throws IOException {
        Path copy = dir.resolve(name);
        Files.createDirectories(copy);
        Files.copy(checkpoint.resolve("config.json"), copy.resolve("config.json"));
        Map<String, SafeTensors.Tensor> changed = new LinkedHashMap<>(weights);
        change.accept(changed);
        SafeTensors.write(copy.resolve("model.safetensors"), changed, Map.of("format", "pt"));
        return copy;
    }
}
